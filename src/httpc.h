/*
 * httpc: libcurl's multi socket interface driven by a libevent event_base,
 * in the shape of curl's hiperfifo example. Scrapes and remote-write sends
 * share one multi handle, so keep-alive connections are pooled and nothing
 * ever blocks the loop. Callers own their easy handles (set CURLOPT_PRIVATE
 * to nothing: httpc uses it) and the httpc_req that ties a handle to its
 * completion callback; the request must stay alive until the callback runs.
 */
#ifndef RWBRIDGE_HTTPC_H
#define RWBRIDGE_HTTPC_H

#include <curl/curl.h>
#include <event2/event.h>

struct httpc;
struct httpc_req;

typedef void (*httpc_done_fn)(struct httpc_req *, CURLcode);

struct httpc_req {
	CURL		*easy;
	httpc_done_fn	 done;
	void		*arg;
	int		 active;
};

struct httpc	*httpc_new(struct event_base *);
void		 httpc_free(struct httpc *);
/* Start a transfer; done runs from the loop when it ends. */
int		 httpc_start(struct httpc *, struct httpc_req *);
/* Abort a transfer without calling done (e.g. its owner is going away). */
void		 httpc_cancel(struct httpc *, struct httpc_req *);

#endif
