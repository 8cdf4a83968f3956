/*
 * httpc: the curl multi glue. Each lane's socket callback adds or changes a
 * libevent event for each socket curl wants watched; its timer callback only
 * arms the lane's one timer; every curl_multi_socket_action is followed by
 * draining the lane's curl_multi_info_read, and CURLOPT_PRIVATE points at
 * the httpc_req.
 */
#include <stdlib.h>

#include <event2/event_struct.h>

#include "httpc.h"
#include "log.h"
#include "timer.h"
#include "xmalloc.h"

/*
 * Lanes, each a multi handle. libcurl 7.88 walks every connection of the
 * multi handle when a transfer is removed from it (curl_multi_remove_handle
 * looks for connect-only connections to close), so with one multi handle
 * each scrape cost time in proportion to the number of targets (README,
 * Performance). A lane is created when the first request is pinned to it.
 */
#define HTTPC_LANES	16

struct httpc_lane {
	struct event_base	*base;
	CURLM			*multi;
	struct event		 timer;
	int			 running;
};

struct httpc {
	struct event_base	*base;
	struct httpc_lane	*lanes[HTTPC_LANES];
	unsigned		 next;		/* the lane to pin next */
};

struct httpc_sock {
	struct event		 ev;
	struct httpc_lane	*l;
	curl_socket_t		 fd;
};

/* Hand a lane's finished transfers to their owners. */
static void
httpc_drain(struct httpc_lane *l)
{
	CURLMsg			*msg;
	struct httpc_req	*req;
	int			 left;
	CURLcode		 result;

	while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		req = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &req);
		result = msg->data.result;
		curl_multi_remove_handle(l->multi, msg->easy_handle);
		if (req == NULL)
			continue;
		req->active = 0;
		req->done(req, result);
	}
}

/* Tell curl a socket is ready. */
static void
httpc_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpc_lane	*l = arg;
	int			 action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(l->multi, fd, action, &l->running);
	/*
	 * No evtimer_del when nothing runs, unlike hiperfifo: a done callback
	 * may start the next transfer, and the timer curl just armed for it
	 * must stay. curl disarms it through httpc_timer_cb itself.
	 */
	httpc_drain(l);
}

/* Tell curl a lane's timeout expired. */
static void
httpc_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpc_lane	*l = arg;

	curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0,
	    &l->running);
	httpc_drain(l);
}

/* Arm the one timer curl asks for. */
static int
httpc_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct httpc_lane	*l = arg;

	if (timeout_ms < 0) {
		evtimer_del(&l->timer);
		return (0);
	}
	timer_arm_ms(&l->timer, timeout_ms);
	return (0);
}

/* Watch, re-watch or forget a socket as curl asks. */
static int
httpc_socket_cb(CURL *easy, curl_socket_t fd, int what, void *arg,
    void *sockp)
{
	struct httpc_lane	*l = arg;
	struct httpc_sock	*s = sockp;
	short			 kind;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_del(&s->ev);
			free(s);
			curl_multi_assign(l->multi, fd, NULL);
		}
		return (0);
	}
	kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		s->l = l;
		s->fd = fd;
		curl_multi_assign(l->multi, fd, s);
	} else
		event_del(&s->ev);
	event_assign(&s->ev, l->base, fd, kind, httpc_event_cb, l);
	event_add(&s->ev, NULL);
	return (0);
}

/* Create a lane: a multi handle on base. */
static struct httpc_lane *
httpc_lane_new(struct event_base *base)
{
	struct httpc_lane	*l;

	l = xcalloc(1, sizeof *l);
	l->base = base;
	l->multi = curl_multi_init();
	if (l->multi == NULL)
		fatal("curl_multi_init failed", NULL);
	evtimer_assign(&l->timer, base, httpc_timeout_cb, l);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, httpc_socket_cb);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, httpc_timer_cb);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
	curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, 1024L);
	return (l);
}

/* Create the glue on base; lanes come with their first requests. */
struct httpc *
httpc_new(struct event_base *base)
{
	struct httpc	*h;

	h = xcalloc(1, sizeof *h);
	h->base = base;
	return (h);
}

/* Free the lanes; owners must have cancelled their requests. */
void
httpc_free(struct httpc *h)
{
	size_t	i;

	if (h == NULL)
		return;
	for (i = 0; i < HTTPC_LANES; i++) {
		if (h->lanes[i] == NULL)
			continue;
		evtimer_del(&h->lanes[i]->timer);
		curl_multi_cleanup(h->lanes[i]->multi);
		free(h->lanes[i]);
	}
	free(h);
}

/* Set the options every easy handle of rwbridge shares. */
void
httpc_easy_defaults(CURL *easy)
{
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	/*
	 * No proxy, whatever http_proxy, HTTPS_PROXY or NO_PROXY say: as
	 * Prometheus, whose HTTP clients use them only when told to
	 * (proxy_from_environment). It also spares libcurl reading the
	 * environment on every transfer.
	 */
	curl_easy_setopt(easy, CURLOPT_PROXY, "");
	curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
	/*
	 * No DNS cache: a name is resolved for each new connection, as
	 * Prometheus does (addresses and localhost need no resolver). At the
	 * end of every transfer libcurl walks its whole cache, an entry per
	 * host and port the multi handle has seen, to prune it: with entries
	 * kept, each scrape cost time in proportion to the number of targets.
	 */
	curl_easy_setopt(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
}

/* The lane of a request, pinned (round robin) at its first start. */
static struct httpc_lane *
httpc_lane(struct httpc *h, struct httpc_req *req)
{
	if (req->lane == 0 || req->lane > HTTPC_LANES)
		req->lane = 1 + h->next++ % HTTPC_LANES;
	if (h->lanes[req->lane - 1] == NULL)
		h->lanes[req->lane - 1] = httpc_lane_new(h->base);
	return (h->lanes[req->lane - 1]);
}

/* Start a transfer. */
int
httpc_start(struct httpc *h, struct httpc_req *req)
{
	CURLMcode	rc;

	curl_easy_setopt(req->easy, CURLOPT_PRIVATE, req);
	rc = curl_multi_add_handle(httpc_lane(h, req)->multi, req->easy);
	if (rc != CURLM_OK) {
		log_error("curl_multi_add_handle failed", "err=%s",
		    curl_multi_strerror(rc));
		return (-1);
	}
	req->active = 1;
	return (0);
}

/* Abort a transfer; its callback will not run. */
void
httpc_cancel(struct httpc *h, struct httpc_req *req)
{
	if (!req->active)
		return;
	curl_multi_remove_handle(httpc_lane(h, req)->multi, req->easy);
	req->active = 0;
}
