/*
 * statushttp: the listener's handlers for the pages people read: / (links
 * to every page) and /targets (statuspage). The handler collects rows from
 * the registry, the pipeline's senders and the push receiver it borrows
 * through statushttp_sources, renders them and frees the rows.
 */
#ifndef RWBRIDGE_STATUSHTTP_H
#define RWBRIDGE_STATUSHTTP_H

#include <event2/http.h>

#include "pipeline.h"
#include "pushrecv.h"
#include "targets.h"

/* Where the rows come from (borrowed; pushrecv may be NULL). */
struct statushttp_sources {
	struct targets		*targets;
	struct pipeline		*pipeline;
	struct pushrecv		*pushrecv;
};

/* The httpd route handler for /targets (arg: a statushttp_sources). */
void	statushttp_targets_cb(struct evhttp_request *, const char *,
	    const struct evhttp_uri *, void *);
/* The httpd route handler for / (arg unused). */
void	statushttp_index_cb(struct evhttp_request *, const char *,
	    const struct evhttp_uri *, void *);

#endif
