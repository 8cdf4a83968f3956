/*
 * httpc: the curl multi glue. The socket callback adds or changes a libevent
 * event for each socket curl wants watched; the timer callback only arms one
 * timer; every curl_multi_socket_action is followed by draining
 * curl_multi_info_read, and CURLOPT_PRIVATE points at the httpc_req.
 */
#include <stdlib.h>

#include <event2/event_struct.h>

#include "httpc.h"
#include "log.h"
#include "timer.h"
#include "xmalloc.h"

struct httpc {
	struct event_base	*base;
	CURLM			*multi;
	struct event		 timer;
	int			 running;
};

struct httpc_sock {
	struct event	 ev;
	struct httpc	*h;
	curl_socket_t	 fd;
};

/* Hand finished transfers to their owners. */
static void
httpc_drain(struct httpc *h)
{
	CURLMsg			*msg;
	struct httpc_req	*req;
	int			 left;
	CURLcode		 result;

	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		req = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &req);
		result = msg->data.result;
		curl_multi_remove_handle(h->multi, msg->easy_handle);
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
	struct httpc	*h = arg;
	int		 action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(h->multi, fd, action, &h->running);
	/*
	 * No evtimer_del when nothing runs, unlike hiperfifo: a done callback
	 * may start the next transfer, and the timer curl just armed for it
	 * must stay. curl disarms it through httpc_timer_cb itself.
	 */
	httpc_drain(h);
}

/* Tell curl its timeout expired. */
static void
httpc_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpc	*h = arg;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0,
	    &h->running);
	httpc_drain(h);
}

/* Arm the one timer curl asks for. */
static int
httpc_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct httpc	*h = arg;

	if (timeout_ms < 0) {
		evtimer_del(&h->timer);
		return (0);
	}
	timer_arm_ms(&h->timer, timeout_ms);
	return (0);
}

/* Watch, re-watch or forget a socket as curl asks. */
static int
httpc_socket_cb(CURL *easy, curl_socket_t fd, int what, void *arg,
    void *sockp)
{
	struct httpc		*h = arg;
	struct httpc_sock	*s = sockp;
	short			 kind;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_del(&s->ev);
			free(s);
			curl_multi_assign(h->multi, fd, NULL);
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
		s->h = h;
		s->fd = fd;
		curl_multi_assign(h->multi, fd, s);
	} else
		event_del(&s->ev);
	event_assign(&s->ev, h->base, fd, kind, httpc_event_cb, h);
	event_add(&s->ev, NULL);
	return (0);
}

/* Create the multi handle on base. */
struct httpc *
httpc_new(struct event_base *base)
{
	struct httpc	*h;

	h = xcalloc(1, sizeof *h);
	h->base = base;
	h->multi = curl_multi_init();
	if (h->multi == NULL)
		fatal("curl_multi_init failed", NULL);
	evtimer_assign(&h->timer, base, httpc_timeout_cb, h);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, httpc_socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, httpc_timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 8L);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 1024L);
	return (h);
}

/* Free the multi handle; owners must have cancelled their requests. */
void
httpc_free(struct httpc *h)
{
	if (h == NULL)
		return;
	evtimer_del(&h->timer);
	curl_multi_cleanup(h->multi);
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
}

/* Start a transfer. */
int
httpc_start(struct httpc *h, struct httpc_req *req)
{
	CURLMcode	rc;

	curl_easy_setopt(req->easy, CURLOPT_PRIVATE, req);
	rc = curl_multi_add_handle(h->multi, req->easy);
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
	curl_multi_remove_handle(h->multi, req->easy);
	req->active = 0;
}
