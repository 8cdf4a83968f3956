/*
 * pushrecv: Pushgateway-compatible ingest on rwbridge's listener. PUT, POST
 * and DELETE on /metrics/job/<job>{/<label>/<value>} with Pushgateway's
 * semantics; pushed groups are forwarded through the pipeline with their
 * grouping labels and a push_time_seconds series. A push is checked in
 * full before it is answered (400 invalid, 413 over a cap, 429 too many
 * groups). The receiver owns its groups and borrows the config and the
 * pipeline.
 */
#ifndef RWBRIDGE_PUSHRECV_H
#define RWBRIDGE_PUSHRECV_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>

#include "config.h"
#include "pipeline.h"

struct pushrecv;
struct series_pool;

/* The groups' scrape caches keep their series in pool (borrowed). */
struct pushrecv	*pushrecv_new(struct event_base *, const struct config *,
		     struct pipeline *, struct series_pool *);
void		 pushrecv_free(struct pushrecv *);
/* The httpd route handler for /metrics/job (arg: the receiver). */
void		 pushrecv_handle_cb(struct evhttp_request *, const char *,
		     const struct evhttp_uri *, void *);
/* Pushes received; of them rejected (4xx); groups held. */
uint64_t	 pushrecv_requests(const struct pushrecv *);
uint64_t	 pushrecv_rejected(const struct pushrecv *);
size_t		 pushrecv_groups(const struct pushrecv *);

/* One held group as pushrecv_foreach_group shows it (borrowed). */
struct pushrecv_group_info {
	const char	*key;		/* name NUL value NUL ..., job first */
	size_t		 keylen;
	int64_t		 push_ms;	/* the last push */
	int64_t		 ttl_ms;	/* 0: never expires */
};

/* Visit every held group, in the order they were first pushed. */
void		 pushrecv_foreach_group(const struct pushrecv *,
		     void (*)(void *, const struct pushrecv_group_info *),
		     void *);

#endif
