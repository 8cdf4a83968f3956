/*
 * metrics: rwbridge's own metrics in the text exposition format, rendered
 * on each request to /metrics from the counters their owners keep. The
 * sources are borrowed; metrics_render appends to a caller-owned buffer.
 */
#ifndef RWBRIDGE_METRICS_H
#define RWBRIDGE_METRICS_H

#include <stdint.h>

#include <event2/http.h>

#include "api.h"
#include "buf.h"
#include "httpd.h"
#include "pipeline.h"
#include "pushrecv.h"
#include "targets.h"

/*
 * Where the figures come from (borrowed; api, pushrecv and httpd may be
 * NULL).
 */
struct metrics_sources {
	struct targets		*targets;
	struct pipeline		*pipeline;
	struct api		*api;
	struct pushrecv		*pushrecv;
	struct httpd		*httpd;
	int64_t			 start_ms;
};

/* The httpd route handler for /metrics (arg: a metrics_sources). */
void	metrics_handle_cb(struct evhttp_request *, const char *,
	    const struct evhttp_uri *, void *);

#endif
