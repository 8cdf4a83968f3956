/*
 * httpd: the listener. Routing is a table of {prefix, match, policy,
 * handler, arg} filled by the callers and walked in one generic callback,
 * so that /metrics and /metrics/job/... can live side by side.
 *
 * evhttp (libevent 2.1) reads a whole request before any callback runs and
 * has no hook between the headers and the body for a server. So every
 * connection's bytes pass through a bufferevent filter of ours first (made
 * in evhttp's bevcb): it holds a request's head until it is complete (at
 * most HTTPD_MAX_HEADERS), finds its route, and checks the token and the
 * Content-Length there. A refused request reaches evhttp rewritten as a
 * body-less "GET / HTTP/1.0" that httpd_cb answers with the reason, and
 * the body that follows is dropped as it arrives, never buffered. Bodies
 * without a length (chunked) are cut when their encoded size passes the
 * route's limit. The filter's free callback tells when a connection is
 * gone, so the listener counts connections and pauses accepting at its cap
 * (the kernel queues the rest), as it does on EMFILE/ENFILE, resuming on
 * a timer: it never spins on accept. Each connection has one deadline,
 * armed when it opens and after each answer: a request that is not whole
 * within listen_request_timeout, however slowly it trickles, is cut.
 */
#include <sys/resource.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "addr.h"
#include "clock.h"
#include "httpd.h"
#include "log.h"
#include "xmalloc.h"

#define HTTPD_BEARER		"Bearer "
#define HTTPD_RESUME_MS		250	/* accept retried after EMFILE */
#define HTTPD_LOG_EVERY_MS	60000	/* repeated warnings: one a minute */
#define HTTPD_MIN_CONNS		8
#define HTTPD_REFUSED		"GET / HTTP/1.0\r\nConnection: close\r\n\r\n"

struct httpd_route {
	char			*prefix;
	size_t			 len;
	enum httpd_match	 match;
	struct httpd_policy	 policy;
	httpd_handler_fn	 fn;
	void			*arg;
};

/* Why a request was refused from its head. */
enum httpd_refusal {
	HTTPD_REF_UNAUTHORIZED,
	HTTPD_REF_FORBIDDEN,
	HTTPD_REF_BODY,
	HTTPD_REF_HEADERS,
	HTTPD_NREFUSALS
};

static const char *const httpd_refusal_names[] = {
	"unauthorized", "forbidden", "body_too_large", "headers_too_large"
};

/* Why a connection was cut. */
enum httpd_cut {
	HTTPD_CUT_IDLE,			/* deadline, no byte of a request */
	HTTPD_CUT_HEADERS,		/* deadline, in the head */
	HTTPD_CUT_BODY,			/* deadline, in the body */
	HTTPD_CUT_CHUNKED,		/* a chunked body passed the limit */
	HTTPD_NCUTS
};

static const char *const httpd_cut_names[] = {
	"deadline_idle", "deadline_headers", "deadline_body", "body_too_large"
};

/* Why accepting was paused. */
enum httpd_pause {
	HTTPD_PAUSE_CONNS,		/* at the connection cap */
	HTTPD_PAUSE_FDS,		/* EMFILE, ENFILE, ENOBUFS, ENOMEM */
	HTTPD_PAUSE_ERROR,		/* any other accept error */
	HTTPD_NPAUSES
};

static const char *const httpd_pause_names[] = {
	"connections", "fds", "error"
};

/* Where the filter is in a connection's byte stream. */
enum httpd_conn_state {
	HTTPD_C_HEAD,			/* holding a request's head */
	HTTPD_C_BODY,			/* passing remaining body bytes */
	HTTPD_C_RAW,			/* passing a body of unknown length */
	HTTPD_C_DISCARD			/* dropping everything */
};

struct httpd;

/* One accepted connection, seen through its filter. */
struct httpd_conn {
	struct httpd		*h;
	struct bufferevent	*bev;		/* the filter evhttp reads */
	struct bufferevent	*under;		/* the socket's */
	struct httpd_conn	*prev, *next;
	struct event		 deadline;
	struct event		 attach;	/* once evhttp made its evcon */
	struct event		 wev;		/* the socket is writable */
	struct event		 kick;		/* a reply waits in the filter */
	bool			 wev_set;
	bool			 closed;	/* evhttp freed the evcon */
	enum httpd_conn_state	 state;
	size_t			 scanned;	/* of the head, for its end */
	uint64_t		 remaining;	/* HTTPD_C_BODY */
	uint64_t		 raw;		/* HTTPD_C_RAW: bytes passed */
	uint64_t		 limit;		/* the route's body limit */
	bool			 busy;		/* bytes since the deadline */
	bool			 big;		/* a body over the default */
	bool			 cut;		/* cut on the next turn */
	int			 refused;	/* status to answer, or 0 */
	char			 reason[768];
};

struct httpd {
	struct event_base	*base;
	const struct config	*cfg;
	struct evhttp		*http;
	struct evconnlistener	*lev;
	struct httpd		*next_httpd;	/* httpd_all */
	struct httpd_route	*routes;
	size_t			 nroutes;
	struct httpd_conn	*conns;
	size_t			 nconns;
	size_t			 max_conns;
	struct timeval		 timeout;
	struct event		 resume;
	bool			 paused_conns;
	bool			 paused_fds;
	int64_t			 warned_ms;	/* last fd warning */
	uint64_t		 unlogged;	/* pauses since it */
	int64_t			 cap_logged_ms;	/* last cap warning */
	uint64_t		 cap_logged;	/* cap pauses then */
	uint64_t		 refusals[HTTPD_NREFUSALS];
	uint64_t		 cuts[HTTPD_NCUTS];
	uint64_t		 pauses[HTTPD_NPAUSES];
	uint64_t		 accepted;
};

/*
 * evconnlistener's error callback gets evhttp's argument, not ours: this
 * list maps a listener back to its httpd.
 */
static struct httpd	*httpd_all;

/* Tell whether addr is a loopback address. */
static bool
httpd_addr_is_loopback(const char *addr)
{
	char		host[256];
	int		port;
	struct in_addr	a4;
	struct in6_addr	a6;

	if (!addr_split(addr, host, sizeof host, &port))
		return (false);
	if (strcmp(host, "localhost") == 0)
		return (true);
	if (inet_pton(AF_INET, host, &a4) == 1)
		return ((ntohl(a4.s_addr) >> 24) == 127);
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return (IN6_IS_ADDR_LOOPBACK(&a6));
	return (false);
}

/* Reply with a body. */
void
httpd_reply(struct evhttp_request *req, int code, const char *reason,
    const char *ctype, const struct buf *b)
{
	struct evbuffer	*out;

	out = evbuffer_new();
	if (b != NULL && b->len > 0)
		evbuffer_add(out, b->data, b->len);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", ctype);
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

/* The reason phrase of a status code. */
const char *
httpd_reason(int code)
{
	switch (code) {
	case 200:
		return ("OK");
	case 202:
		return ("Accepted");
	case 204:
		return ("No Content");
	case 400:
		return ("Bad Request");
	case 401:
		return ("Unauthorized");
	case 403:
		return ("Forbidden");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 413:
		return ("Payload Too Large");
	default:
		return ("Error");
	}
}

/* Append a JSON error document to b. */
void
httpd_error_json(struct buf *b, const char *msg)
{
	const char	*p;

	buf_printf(b, "{\"status\":\"error\",\"error\":\"");
	for (p = msg; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(b, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			buf_printf(b, "\\u%04x", (unsigned char)*p);
		else
			buf_putc(b, (uint8_t)*p);
	}
	buf_printf(b, "\"}\n");
}

/* Reply with a JSON error. */
void
httpd_error(struct evhttp_request *req, int code, const char *fmt, ...)
{
	struct buf	 b;
	char		 msg[512];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	buf_init(&b);
	httpd_error_json(&b, msg);
	httpd_reply(req, code, httpd_reason(code), "application/json", &b);
	buf_free(&b);
}

/* Compare two strings in time independent of where they differ. */
static bool
httpd_token_eq(const char *a, const char *b)
{
	size_t		la = strlen(a), lb = strlen(b), i;
	unsigned char	diff = la != lb;

	for (i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return (diff == 0);
}

/* Check an Authorization header against the config's token. */
int
httpd_check_auth(const struct config *cfg, const char *h, bool write,
    char *msg, size_t msglen)
{
	const char	*token = cfg->api_token;
	size_t		 blen = strlen(HTTPD_BEARER);

	if (token == NULL || *token == '\0') {
		if (write && !httpd_addr_is_loopback(cfg->listen)) {
			snprintf(msg, msglen, "writes are refused on a "
			    "non-loopback listener without a token: set "
			    "--api-token-file");
			return (403);
		}
		return (0);
	}
	if (h == NULL || strncasecmp(h, HTTPD_BEARER, blen) != 0 ||
	    !httpd_token_eq(h + blen, token)) {
		snprintf(msg, msglen, "%s", h == NULL ? "missing bearer token" :
		    "wrong bearer token");
		return (401);
	}
	return (0);
}

/* Check the bearer token of a request. */
bool
httpd_authorized(const struct config *cfg, struct evhttp_request *req,
    bool write)
{
	char	msg[256];
	int	code;

	code = httpd_check_auth(cfg, evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization"), write,
	    msg, sizeof msg);
	if (code == 0)
		return (true);
	if (code == 401)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer realm=\"rwbridge\"");
	httpd_error(req, code, "%s", msg);
	return (false);
}

/* Reply with plain text. */
void
httpd_text(struct evhttp_request *req, int code, const char *text)
{
	struct buf	b;

	buf_init(&b);
	buf_append(&b, text, strlen(text));
	httpd_reply(req, code, httpd_reason(code), "text/plain; charset=utf-8",
	    &b);
	buf_free(&b);
}

/* Add a route. */
void
httpd_route(struct httpd *h, const char *prefix, enum httpd_match match,
    const struct httpd_policy *policy, httpd_handler_fn fn, void *arg)
{
	struct httpd_route	*r;
	size_t			 max = 0, i;

	h->routes = xreallocarray(h->routes, h->nroutes + 1,
	    sizeof *h->routes);
	r = &h->routes[h->nroutes++];
	r->prefix = xstrdup(prefix);
	r->len = strlen(prefix);
	r->match = match;
	memset(&r->policy, 0, sizeof r->policy);
	if (policy != NULL)
		r->policy = *policy;
	if (r->policy.max_body == 0)
		r->policy.max_body = HTTPD_MAX_BODY_DEFAULT;
	r->fn = fn;
	r->arg = arg;
	/* evhttp's own limit stays the largest, as a backstop. */
	for (i = 0; i < h->nroutes; i++)
		if (h->routes[i].policy.max_body > max)
			max = h->routes[i].policy.max_body;
	evhttp_set_max_body_size(h->http, (ev_ssize_t)max);
}

/* The first route that matches path, or NULL. */
static const struct httpd_route *
httpd_find(const struct httpd *h, const char *path)
{
	const struct httpd_route	*r;
	size_t				 i;

	for (i = 0; i < h->nroutes; i++) {
		r = &h->routes[i];
		if (strncmp(path, r->prefix, r->len) != 0)
			continue;
		if (path[r->len] != '\0' &&
		    (r->match == HTTPD_EXACT || path[r->len] != '/'))
			continue;
		return (r);
	}
	return (NULL);
}

/* Find the first route that matches path. */
bool
httpd_lookup(const struct httpd *h, const char *path, httpd_handler_fn *fn,
    void **arg, const char **rest)
{
	const struct httpd_route	*r;

	r = httpd_find(h, path);
	if (r == NULL)
		return (false);
	*fn = r->fn;
	*arg = r->arg;
	*rest = path + r->len;
	return (true);
}

/* The connection whose filter is bev, or NULL. */
static struct httpd_conn *
httpd_conn_find(const struct httpd *h, const struct bufferevent *bev)
{
	struct httpd_conn	*c;

	for (c = h->conns; c != NULL; c = c->next)
		if (c->bev == bev)
			return (c);
	return (NULL);
}

/* Arm a connection's deadline for its next request. */
static void
httpd_conn_arm(struct httpd_conn *c)
{
	c->busy = false;
	evtimer_add(&c->deadline, &c->h->timeout);
}

/* Answer a request refused from its head. */
static void
httpd_refuse(struct httpd_conn *c, struct evhttp_request *req)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);

	if (c->refused == 401)
		evhttp_add_header(out, "WWW-Authenticate",
		    "Bearer realm=\"rwbridge\"");
	evhttp_add_header(out, "Connection", "close");
	httpd_error(req, c->refused, "%s", c->reason);
}

/* Route a request. */
static void
httpd_cb(struct evhttp_request *req, void *arg)
{
	struct httpd		*h = arg;
	struct httpd_conn	*c;
	struct evhttp_uri	*u;
	httpd_handler_fn	 fn;
	void			*fnarg;
	const char		*path, *rest;

	c = httpd_conn_find(h, evhttp_connection_get_bufferevent(
	    evhttp_request_get_connection(req)));
	if (c != NULL) {
		httpd_conn_arm(c);
		if (c->refused != 0) {
			httpd_refuse(c, req);
			return;
		}
		/* After a body of unknown length, where the next begins is
		 * unknown: close. */
		if (c->state == HTTPD_C_RAW)
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Connection", "close");
	}
	u = evhttp_uri_parse_with_flags(evhttp_request_get_uri(req),
	    EVHTTP_URI_NONCONFORMANT);
	if (u == NULL || (path = evhttp_uri_get_path(u)) == NULL)
		httpd_error(req, 400, "malformed request URI");
	else if (httpd_lookup(h, path, &fn, &fnarg, &rest))
		fn(req, rest, u, fnarg);
	else
		httpd_error(req, 404, "no such path: %s", path);
	if (u != NULL)
		evhttp_uri_free(u);
}

/* What the filter needs from a request's head. */
struct httpd_head {
	char		 method[16];
	char		 path[512];
	const char	*auth;		/* into the head; NUL-ended by us */
	int64_t		 length;	/* -1: none; -2: not a number */
	bool		 chunked;
};

/* Copy a header's value (trimmed) into a NUL-ended string in place. */
static const char *
httpd_head_value(char *v, char *end)
{
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		end--;
	*end = '\0';
	return (v);
}

/*
 * Parse a request's head (p, n bytes, ending in an empty line; modified in
 * place) as far as the filter needs; false if it is not one (evhttp then
 * answers 400 itself).
 */
static bool
httpd_head_parse(char *p, size_t n, struct httpd_head *hd)
{
	char			*line, *eol, *end = p + n, *sp, *colon, *q;
	const char		*v;
	struct evhttp_uri	*u;
	unsigned long long	 len;

	memset(hd, 0, sizeof *hd);
	hd->length = -1;
	eol = memchr(p, '\n', n);
	sp = memchr(p, ' ', (size_t)(eol - p));
	if (sp == NULL || (size_t)(sp - p) >= sizeof hd->method)
		return (false);
	memcpy(hd->method, p, (size_t)(sp - p));
	q = memchr(sp + 1, ' ', (size_t)(eol - sp - 1));
	if (q == NULL)
		return (false);
	*q = '\0';
	u = evhttp_uri_parse_with_flags(sp + 1, EVHTTP_URI_NONCONFORMANT);
	if (u == NULL || evhttp_uri_get_path(u) == NULL ||
	    strlen(evhttp_uri_get_path(u)) >= sizeof hd->path) {
		if (u != NULL)
			evhttp_uri_free(u);
		return (false);
	}
	snprintf(hd->path, sizeof hd->path, "%s", evhttp_uri_get_path(u));
	evhttp_uri_free(u);
	for (line = eol + 1; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL || eol == line || (eol == line + 1 &&
		    *line == '\r'))
			break;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon == NULL)
			continue;
		*colon = '\0';
		/* The first of a repeated header counts, as in evhttp. */
		if (strcasecmp(line, "Authorization") == 0 && hd->auth == NULL)
			hd->auth = httpd_head_value(colon + 1, eol);
		else if (strcasecmp(line, "Transfer-Encoding") == 0) {
			v = httpd_head_value(colon + 1, eol);
			hd->chunked = strcasecmp(v, "chunked") == 0;
		} else if (strcasecmp(line, "Content-Length") == 0 &&
		    hd->length == -1) {
			v = httpd_head_value(colon + 1, eol);
			errno = 0;
			len = strtoull(v, &q, 10);
			hd->length = *v >= '0' && *v <= '9' && *q == '\0' &&
			    errno == 0 && len <= INT64_MAX ? (int64_t)len : -2;
		}
	}
	return (true);
}

/* Tell whether a method's request may carry a body, as evhttp does. */
static bool
httpd_method_has_body(const char *m)
{
	return (strcmp(m, "HEAD") != 0 && strcmp(m, "TRACE") != 0);
}

/* Refuse the request whose head the filter holds (sets c->refused). */
static void
httpd_conn_refuse(struct httpd_conn *c, int code, enum httpd_refusal why)
{
	c->refused = code;
	c->h->refusals[why]++;
	c->state = HTTPD_C_DISCARD;
}

/*
 * Decide on a whole head: route, token, Content-Length. On success set the
 * state for the body that follows.
 */
static void
httpd_conn_head(struct httpd_conn *c, char *p, size_t n)
{
	const struct httpd_route	*r;
	struct httpd_head		 hd;
	struct httpd_policy		 none = { false, HTTPD_MAX_BODY_DEFAULT };
	const struct httpd_policy	*pol = &none;
	char				 msg[160];
	bool				 write;
	int				 code;

	c->state = HTTPD_C_HEAD;
	if (!httpd_head_parse(p, n, &hd)) {
		/* Not a request: evhttp answers 400 and closes. */
		c->state = HTTPD_C_RAW;
		c->limit = 0;
		return;
	}
	r = httpd_find(c->h, hd.path);
	if (r != NULL)
		pol = &r->policy;
	c->limit = pol->max_body;
	write = strcmp(hd.method, "GET") != 0 && strcmp(hd.method, "HEAD") != 0;
	if (pol->auth) {
		code = httpd_check_auth(c->h->cfg, hd.auth, write, msg,
		    sizeof msg);
		if (code != 0) {
			snprintf(c->reason, sizeof c->reason, "%s", msg);
			httpd_conn_refuse(c, code, code == 401 ?
			    HTTPD_REF_UNAUTHORIZED : HTTPD_REF_FORBIDDEN);
			return;
		}
	}
	if (!httpd_method_has_body(hd.method))
		return;
	if (hd.chunked || hd.length == -2) {
		c->state = HTTPD_C_RAW;
		c->raw = 0;
		return;
	}
	if (hd.length > 0 && (uint64_t)hd.length > c->limit) {
		snprintf(c->reason, sizeof c->reason, "request body is %"
		    PRId64 " bytes, at most %" PRIu64 " for %s", hd.length,
		    c->limit, hd.path);
		httpd_conn_refuse(c, 413, HTTPD_REF_BODY);
		return;
	}
	if (hd.length > 0) {
		c->state = HTTPD_C_BODY;
		c->remaining = (uint64_t)hd.length;
		c->big = c->big || c->remaining > HTTPD_MAX_BODY_DEFAULT;
	}
}

/*
 * Find the end of the head in src (the bytes after its empty line);
 * 0 if it is not there yet.
 */
static size_t
httpd_head_end(struct httpd_conn *c, struct evbuffer *src, char **head)
{
	size_t	 n = evbuffer_get_length(src), i;
	char	*p;

	if (n > HTTPD_MAX_HEADERS + 1)
		n = HTTPD_MAX_HEADERS + 1;
	p = (char *)evbuffer_pullup(src, (ev_ssize_t)n);
	for (i = c->scanned; i < n; i++) {
		if (p[i] != '\n' || i == 0)
			continue;
		if (p[i - 1] == '\n' ||
		    (i >= 2 && p[i - 1] == '\r' && p[i - 2] == '\n')) {
			*head = p;
			c->scanned = 0;
			return (i + 1);
		}
	}
	c->scanned = n;
	return (0);
}

/*
 * The connection's input filter: hold each head until it is whole, then
 * pass it (or the refusal) on, then the body as the head said.
 */
static enum bufferevent_filter_result
httpd_filter_in_cb(struct evbuffer *src, struct evbuffer *dst,
    ev_ssize_t lim, enum bufferevent_flush_mode mode, void *arg)
{
	struct httpd_conn	*c = arg;
	size_t			 n, end;
	char			*head, *copy;

	while ((n = evbuffer_get_length(src)) > 0) {
		c->busy = true;
		switch (c->state) {
		case HTTPD_C_HEAD:
			end = httpd_head_end(c, src, &head);
			if (end == 0 && n > HTTPD_MAX_HEADERS) {
				snprintf(c->reason, sizeof c->reason,
				    "request head exceeds %u bytes",
				    HTTPD_MAX_HEADERS);
				httpd_conn_refuse(c, 431, HTTPD_REF_HEADERS);
				evbuffer_add(dst, HTTPD_REFUSED,
				    strlen(HTTPD_REFUSED));
				break;
			}
			/* BEV_OK with bytes left would call us again. */
			if (end == 0)
				return (BEV_NEED_MORE);
			/* The parse cuts its copy; evhttp gets the bytes. */
			copy = xmalloc(end);
			memcpy(copy, head, end);
			httpd_conn_head(c, copy, end);
			free(copy);
			if (c->refused != 0) {
				evbuffer_add(dst, HTTPD_REFUSED,
				    strlen(HTTPD_REFUSED));
				break;
			}
			evbuffer_remove_buffer(src, dst, end);
			break;
		case HTTPD_C_BODY:
			if (n > c->remaining)
				n = (size_t)c->remaining;
			evbuffer_remove_buffer(src, dst, n);
			c->remaining -= n;
			if (c->remaining == 0)
				c->state = HTTPD_C_HEAD;
			break;
		case HTTPD_C_RAW:
			c->raw += n;
			if (c->raw > c->limit && c->limit > 0) {
				c->h->cuts[HTTPD_CUT_CHUNKED]++;
				c->state = HTTPD_C_DISCARD;
				c->cut = true;
				event_active(&c->deadline, EV_TIMEOUT, 1);
				break;
			}
			c->big = c->big || c->raw > HTTPD_MAX_BODY_DEFAULT;
			evbuffer_remove_buffer(src, dst, n);
			break;
		case HTTPD_C_DISCARD:
			evbuffer_drain(src, n);
			break;
		}
	}
	return (BEV_OK);
}

/* Resume accepting if nothing holds it paused. */
static void
httpd_accept_update(struct httpd *h)
{
	if (h->lev == NULL)
		return;
	if (h->paused_conns || h->paused_fds)
		evconnlistener_disable(h->lev);
	else
		evconnlistener_enable(h->lev);
}

/* Cut a connection at its deadline (or when its filter asked). */
static void
httpd_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpd_conn	*c = arg;

	if (c->closed)
		return;
	if (!c->cut)
		c->h->cuts[!c->busy ? HTTPD_CUT_IDLE : c->state ==
		    HTTPD_C_HEAD ? HTTPD_CUT_HEADERS : HTTPD_CUT_BODY]++;
	/* evhttp frees the connection; c goes in httpd_conn_free_cb. */
	bufferevent_trigger_event(c->bev, BEV_EVENT_READING |
	    BEV_EVENT_TIMEOUT, 0);
}

/* Forget a connection evhttp freed. */
static void
httpd_conn_free_cb(void *arg)
{
	struct httpd_conn	*c = arg;
	struct httpd		*h = c->h;

	evtimer_del(&c->deadline);
	evtimer_del(&c->attach);
	evtimer_del(&c->kick);
	if (c->wev_set)
		event_del(&c->wev);
	if (h == NULL) {
		/* Freed after its listener (httpd_free). */
		free(c);
		return;
	}
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	h->nconns--;
#ifdef __GLIBC__
	/* A large body was freed: give its pages back. */
	if (c->big)
		malloc_trim(0);
#endif
	free(c);
	if (h->paused_conns && h->nconns < h->max_conns) {
		h->paused_conns = false;
		httpd_accept_update(h);
	}
}

/* Stop a connection's events: evhttp is freeing it. */
static void
httpd_conn_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct httpd_conn	*c = arg;

	c->closed = true;
	evtimer_del(&c->deadline);
	evtimer_del(&c->kick);
	if (c->wev_set)
		event_del(&c->wev);
}

/*
 * Learn when evhttp frees the connection: its evcon is the filter's
 * callback argument once evhttp_get_request has made it.
 */
static void
httpd_attach_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpd_conn	*c = arg;
	void			*evcon = NULL;

	bufferevent_getcb(c->bev, NULL, NULL, NULL, &evcon);
	if (evcon != NULL)
		evhttp_connection_set_closecb(evcon, httpd_conn_close_cb, c);
}

/*
 * Write what waits in the filter: a filter moves its output on only when
 * data is added while writing is enabled, and evhttp adds a reply before
 * it enables writing. Also once the socket takes more.
 */
static void
httpd_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpd_conn	*c = arg;

	if (!c->closed)
		bufferevent_flush(c->bev, EV_WRITE, BEV_NORMAL);
}

/* Note a reply added to the filter's output: flush it on the next turn. */
static void
httpd_out_added_cb(struct evbuffer *b, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct httpd_conn	*c = arg;

	if (info->n_added > 0 && !c->closed)
		event_active(&c->kick, EV_TIMEOUT, 1);
}

/*
 * The connection's output filter: write straight to the socket. evhttp
 * frees a connection (and any bytes still in a bufferevent below the
 * filter) as soon as the filter's output is empty, so a reply leaves the
 * filter only into the kernel; what the socket does not take yet waits
 * here, and the write event brings it back.
 */
static enum bufferevent_filter_result
httpd_filter_out_cb(struct evbuffer *src, struct evbuffer *dst,
    ev_ssize_t lim, enum bufferevent_flush_mode mode, void *arg)
{
	struct httpd_conn	*c = arg;
	evutil_socket_t		 fd = bufferevent_getfd(c->under);
	int			 n;

	while (evbuffer_get_length(src) > 0) {
		n = evbuffer_write(src, fd);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR)) {
			if (!c->wev_set) {
				event_assign(&c->wev, c->h->base, fd, EV_WRITE,
				    httpd_flush_cb, c);
				c->wev_set = true;
			}
			event_add(&c->wev, NULL);
			return (BEV_NEED_MORE);
		}
		/* The peer is gone: nothing more can be sent. */
		evbuffer_drain(src, evbuffer_get_length(src));
	}
	return (BEV_OK);
}

/* Make the bufferevent of a connection evhttp accepted: our filter. */
static struct bufferevent *
httpd_bev_cb(struct event_base *base, void *arg)
{
	struct httpd		*h = arg;
	struct httpd_conn	*c;

	if (h->paused_fds) {
		h->paused_fds = false;
		/* Lines about descriptors: one a minute at most. */
		if (clock_now_ms() - h->warned_ms >= HTTPD_LOG_EVERY_MS) {
			log_info("accepting connections again", "pauses=%"
			    PRIu64, h->unlogged);
			h->warned_ms = clock_now_ms();
			h->unlogged = 0;
		}
	}
	c = xcalloc(1, sizeof *c);
	c->h = h;
	c->under = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (c->under == NULL)
		fatal("bufferevent_socket_new failed", NULL);
	c->bev = bufferevent_filter_new(c->under, httpd_filter_in_cb,
	    httpd_filter_out_cb, BEV_OPT_CLOSE_ON_FREE, httpd_conn_free_cb, c);
	if (c->bev == NULL)
		fatal("bufferevent_filter_new failed", NULL);
	evtimer_assign(&c->deadline, base, httpd_deadline_cb, c);
	httpd_conn_arm(c);
	evtimer_assign(&c->attach, base, httpd_attach_cb, c);
	event_active(&c->attach, EV_TIMEOUT, 1);
	evtimer_assign(&c->kick, base, httpd_flush_cb, c);
	evbuffer_add_cb(bufferevent_get_output(c->bev), httpd_out_added_cb, c);
	c->next = h->conns;
	if (h->conns != NULL)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
	h->accepted++;
	if (h->nconns >= h->max_conns && !h->paused_conns) {
		h->paused_conns = true;
		h->pauses[HTTPD_PAUSE_CONNS]++;
		httpd_accept_update(h);
		/* One line a minute at most, with the count since. */
		if (clock_now_ms() - h->cap_logged_ms >= HTTPD_LOG_EVERY_MS) {
			log_warn("connection cap reached, accepting paused "
			    "(the kernel queues new connections)", "max=%zu "
			    "pauses=%" PRIu64, h->max_conns,
			    h->pauses[HTTPD_PAUSE_CONNS] - h->cap_logged);
			h->cap_logged_ms = clock_now_ms();
			h->cap_logged = h->pauses[HTTPD_PAUSE_CONNS];
		}
	}
	return (c->bev);
}

/* Resume accepting after a pause for descriptors. */
static void
httpd_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpd	*h = arg;

	/* paused_fds stays set until an accept succeeds (httpd_bev_cb). */
	if (h->lev != NULL && !h->paused_conns)
		evconnlistener_enable(h->lev);
}

/* Pause accepting on an accept error; retry on a timer, never spin. */
static void
httpd_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct httpd	*h;
	struct timeval	 resume = { 0, HTTPD_RESUME_MS * 1000 };
	int		 err = EVUTIL_SOCKET_ERROR();
	int64_t		 now = clock_now_ms();
	bool		 fds;

	for (h = httpd_all; h != NULL && h->lev != lev; h = h->next_httpd)
		;
	if (h == NULL)
		return;
	fds = err == EMFILE || err == ENFILE || err == ENOBUFS ||
	    err == ENOMEM;
	h->pauses[fds ? HTTPD_PAUSE_FDS : HTTPD_PAUSE_ERROR]++;
	evconnlistener_disable(lev);
	/*
	 * One line when it starts failing, then one a minute at most with
	 * the pauses since (a connection ending and the next failing is no
	 * new episode worth a line).
	 */
	if (now - h->warned_ms >= HTTPD_LOG_EVERY_MS) {
		log_warn("accept failed, pausing the listener", "err=\"%s\" "
		    "pauses=%" PRIu64 " connections=%zu", strerror(err),
		    h->unlogged + 1, h->nconns);
		h->warned_ms = now;
		h->unlogged = 0;
	} else
		h->unlogged++;
	h->paused_fds = true;
	evtimer_add(&h->resume, &resume);
}

/* Raise the soft descriptor limit to the hard one. */
long
httpd_raise_fd_limit(void)
{
	struct rlimit	rl;
	rlim_t		soft;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		log_warn("getrlimit(RLIMIT_NOFILE) failed", "err=\"%s\"",
		    strerror(errno));
		return (-1);
	}
	soft = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			log_warn("cannot raise the descriptor limit",
			    "err=\"%s\"", strerror(errno));
			rl.rlim_cur = soft;
		}
	}
	log_info("file descriptor limit", "soft=%llu hard=%llu was=%llu",
	    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
	    (unsigned long long)soft);
	return (rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur);
}

/*
 * The connection cap: the configured one (or the default), lowered to
 * keep descriptors in reserve for the queues, scrapes and state files.
 */
static size_t
httpd_max_conns(const struct config *cfg)
{
	struct rlimit	rl;
	uint64_t	want = cfg != NULL && cfg->listen_max_connections > 0 ?
			    cfg->listen_max_connections :
			    HTTPD_MAX_CONNS_DEFAULT;
	uint64_t	room;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return ((size_t)want);
	room = rl.rlim_cur > HTTPD_FD_RESERVE + rl.rlim_cur / 8 ?
	    rl.rlim_cur - HTTPD_FD_RESERVE - rl.rlim_cur / 8 : 0;
	if (room < HTTPD_MIN_CONNS)
		room = HTTPD_MIN_CONNS;
	if (want > room) {
		if (cfg != NULL && cfg->listen_max_connections > 0)
			log_warn("listen_max_connections lowered to keep "
			    "descriptors in reserve", "wanted=%" PRIu64
			    " max=%" PRIu64 " fd_limit=%llu", want, room,
			    (unsigned long long)rl.rlim_cur);
		want = room;
	}
	return ((size_t)want);
}

/* Create the listener's evhttp, with no route and bound nowhere yet. */
struct httpd *
httpd_new(struct event_base *evbase, const struct config *cfg)
{
	struct httpd	*h;
	int64_t		 ms = cfg != NULL && cfg->listen_request_timeout_ms > 0 ?
			    cfg->listen_request_timeout_ms :
			    CONFIG_DEFAULT_REQUEST_TIMEOUT_MS;

	h = xcalloc(1, sizeof *h);
	h->base = evbase;
	h->cfg = cfg;
	h->cap_logged_ms = -HTTPD_LOG_EVERY_MS;
	h->warned_ms = -HTTPD_LOG_EVERY_MS;
	h->max_conns = httpd_max_conns(cfg);
	h->timeout.tv_sec = ms / 1000;
	h->timeout.tv_usec = (ms % 1000) * 1000;
	h->http = evhttp_new(evbase);
	evhttp_set_max_body_size(h->http, HTTPD_MAX_BODY_DEFAULT);
	/* The filter holds the real limit; evhttp's is a backstop. */
	evhttp_set_max_headers_size(h->http, 2 * HTTPD_MAX_HEADERS);
	/*
	 * No evhttp timeout: the deadline is the one clock on a connection
	 * (two would race to free it).
	 */
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(h->http, httpd_cb, h);
	evhttp_set_bevcb(h->http, httpd_bev_cb, h);
	evtimer_assign(&h->resume, evbase, httpd_resume_cb, h);
	h->next_httpd = httpd_all;
	httpd_all = h;
	return (h);
}

/* Listen on addr. */
int
httpd_listen(struct httpd *h, const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage	ss;
	int			sslen = (int)sizeof ss;
	char			host[256], spec[300];
	int			port;

	if (!addr_split(addr, host, sizeof host, &port)) {
		snprintf(err, errlen, "listen address \"%s\" is not host:port",
		    addr);
		return (-1);
	}
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	snprintf(spec, sizeof spec, strchr(host, ':') != NULL ? "[%s]:%d" :
	    "%s:%d", host, port);
	memset(&ss, 0, sizeof ss);
	if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss,
	    &sslen) != 0) {
		snprintf(err, errlen, "listen address \"%s\" is not an IP "
		    "address and port", addr);
		return (-1);
	}
	h->lev = evconnlistener_new_bind(h->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    -1, (struct sockaddr *)&ss, sslen);
	if (h->lev == NULL) {
		snprintf(err, errlen, "cannot listen on %s: %s", addr,
		    strerror(errno));
		return (-1);
	}
	if (evhttp_bind_listener(h->http, h->lev) == NULL) {
		evconnlistener_free(h->lev);
		h->lev = NULL;
		snprintf(err, errlen, "cannot listen on %s", addr);
		return (-1);
	}
	evconnlistener_set_error_cb(h->lev, httpd_accept_error_cb);
	log_info("listener limits", "max_connections=%zu "
	    "request_timeout_ms=%lld max_header_bytes=%u", h->max_conns,
	    (long long)(h->timeout.tv_sec * 1000 + h->timeout.tv_usec / 1000),
	    HTTPD_MAX_HEADERS);
	return (0);
}

/* Append one labelled counter family. */
static void
httpd_metrics_family(struct buf *b, const char *name, const char *help,
    const char *label, const char *const *names, const uint64_t *v,
    size_t n)
{
	size_t	i;

	buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (i = 0; i < n; i++)
		buf_printf(b, "%s{%s=\"%s\"} %" PRIu64 "\n", name, label,
		    names[i], v[i]);
}

/* Append the listener's own metrics. */
void
httpd_metrics(const struct httpd *h, struct buf *b)
{
	buf_printf(b, "# HELP rwbridge_http_connections Connections the "
	    "listener holds.\n# TYPE rwbridge_http_connections gauge\n"
	    "rwbridge_http_connections %zu\n", h->nconns);
	buf_printf(b, "# HELP rwbridge_http_connections_max The connection "
	    "cap; past it accepting pauses.\n# TYPE "
	    "rwbridge_http_connections_max gauge\n"
	    "rwbridge_http_connections_max %zu\n", h->max_conns);
	buf_printf(b, "# HELP rwbridge_http_connections_accepted_total "
	    "Connections accepted.\n# TYPE "
	    "rwbridge_http_connections_accepted_total counter\n"
	    "rwbridge_http_connections_accepted_total %" PRIu64 "\n",
	    h->accepted);
	httpd_metrics_family(b, "rwbridge_http_requests_refused_total",
	    "Requests answered from their head, before any body was read.",
	    "reason", httpd_refusal_names, h->refusals, HTTPD_NREFUSALS);
	httpd_metrics_family(b, "rwbridge_http_connections_cut_total",
	    "Connections closed by the request deadline or a body limit.",
	    "reason", httpd_cut_names, h->cuts, HTTPD_NCUTS);
	httpd_metrics_family(b, "rwbridge_http_accept_pauses_total",
	    "Times accepting paused.", "reason", httpd_pause_names, h->pauses,
	    HTTPD_NPAUSES);
}

/* Stop listening. */
void
httpd_free(struct httpd *h)
{
	struct httpd		**pp;
	struct httpd_conn	 *c;
	size_t			  i;

	if (h == NULL)
		return;
	for (pp = &httpd_all; *pp != NULL; pp = &(*pp)->next_httpd)
		if (*pp == h) {
			*pp = h->next_httpd;
			break;
		}
	evtimer_del(&h->resume);
	/* evhttp_free frees the connections; their filters may go later. */
	for (c = h->conns; c != NULL; c = c->next) {
		evtimer_del(&c->deadline);
		evtimer_del(&c->attach);
		evtimer_del(&c->kick);
		c->h = NULL;
	}
	evhttp_free(h->http);
	for (i = 0; i < h->nroutes; i++)
		free(h->routes[i].prefix);
	free(h->routes);
	free(h);
}
