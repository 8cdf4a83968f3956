/*
 * httpc: libcurl's multi socket interface driven by a libevent event_base,
 * in the shape of curl's hiperfifo example, so nothing ever blocks the loop.
 * Transfers run in a few lanes, a multi handle each, and a request keeps the
 * lane of its first start, so its keep-alive connection is found again: at
 * the end of every transfer libcurl walks every connection its multi handle
 * keeps, and lanes keep that walk short however many targets there are.
 * Callers own their easy handles (set CURLOPT_PRIVATE to nothing: httpc uses
 * it) and the httpc_req that ties a handle to its completion callback; the
 * request must be zeroed before its first start and stay alive until its
 * callback runs.
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
	unsigned	 lane;		/* httpc's: 0 until the first start */
};

struct httpc	*httpc_new(struct event_base *);
void		 httpc_free(struct httpc *);
/* Start a transfer; done runs from the loop when it ends. */
int		 httpc_start(struct httpc *, struct httpc_req *);
/* Abort a transfer without calling done (e.g. its owner is going away). */
void		 httpc_cancel(struct httpc *, struct httpc_req *);

/*
 * libcurl's receive buffer for scrapes (CURLOPT_BUFFERSIZE; libcurl's own
 * default is 16 KiB): a large page in fewer reads, and fewer polls between
 * them. libcurl allocates it per transfer and frees it when the transfer
 * ends, so it costs memory per scrape running, not per target (README,
 * Performance).
 */
#ifndef HTTPC_SCRAPE_BUFFER
#define HTTPC_SCRAPE_BUFFER	(64L << 10)
#endif
/* Remote-write bodies go out in pieces this big (UPLOAD_BUFFERSIZE). */
#define HTTPC_SEND_BUFFER	(512L << 10)

/* Set the options every easy handle of rwbridge shares. */
void		 httpc_easy_defaults(CURL *);

#endif
