/*
 * pushrecv: Pushgateway-compatible ingest on rwbridge's listener. PUT, POST
 * and DELETE on /metrics/job/<job>{/<label>/<value>} with Pushgateway's
 * semantics; pushed groups are forwarded through remote write with their
 * grouping labels and a push_time_seconds series.
 */
#ifndef RWBRIDGE_PUSHRECV_H
#define RWBRIDGE_PUSHRECV_H

#include <event2/http.h>

struct rwbridge;
struct pushrecv;

struct pushrecv	*pushrecv_new(struct rwbridge *);
void		 pushrecv_free(struct pushrecv *);
/* Handle a request to /metrics/job/...; uri is the raw request URI. */
void		 pushrecv_handle(struct rwbridge *, struct evhttp_request *,
		     const char *);

#endif
