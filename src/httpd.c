/*
 * httpd: the listener. Routing is a table of {prefix, match, handler, arg}
 * filled by the callers and walked in one generic callback, so that
 * /metrics and /metrics/job/... can live side by side. Request bodies are
 * capped by evhttp (413), and every reply is complete and small.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "addr.h"
#include "httpd.h"
#include "log.h"
#include "xmalloc.h"

#define HTTPD_MAX_BODY		(16u << 20)
#define HTTPD_TIMEOUT_S		30
#define HTTPD_BEARER		"Bearer "

struct httpd_route {
	char			*prefix;
	size_t			 len;
	enum httpd_match	 match;
	httpd_handler_fn	 fn;
	void			*arg;
};

struct httpd {
	struct evhttp		*http;
	struct httpd_route	*routes;
	size_t			 nroutes;
};

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
    httpd_handler_fn fn, void *arg)
{
	struct httpd_route	*r;

	h->routes = xreallocarray(h->routes, h->nroutes + 1,
	    sizeof *h->routes);
	r = &h->routes[h->nroutes++];
	r->prefix = xstrdup(prefix);
	r->len = strlen(prefix);
	r->match = match;
	r->fn = fn;
	r->arg = arg;
}

/* Find the first route that matches path. */
bool
httpd_lookup(const struct httpd *h, const char *path, httpd_handler_fn *fn,
    void **arg, const char **rest)
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
		*fn = r->fn;
		*arg = r->arg;
		*rest = path + r->len;
		return (true);
	}
	return (false);
}

/* Route a request. */
static void
httpd_cb(struct evhttp_request *req, void *arg)
{
	struct httpd		*h = arg;
	struct evhttp_uri	*u;
	httpd_handler_fn	 fn;
	void			*fnarg;
	const char		*path, *rest;

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

/* Create the listener's evhttp, with no route and bound nowhere yet. */
struct httpd *
httpd_new(struct event_base *evbase)
{
	struct httpd	*h;

	h = xcalloc(1, sizeof *h);
	h->http = evhttp_new(evbase);
	evhttp_set_max_body_size(h->http, HTTPD_MAX_BODY);
	evhttp_set_timeout(h->http, HTTPD_TIMEOUT_S);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(h->http, httpd_cb, h);
	return (h);
}

/* Listen on addr. */
int
httpd_listen(struct httpd *h, const char *addr, char *err, size_t errlen)
{
	char	host[256];
	int	port;

	if (!addr_split(addr, host, sizeof host, &port)) {
		snprintf(err, errlen, "listen address \"%s\" is not host:port",
		    addr);
		return (-1);
	}
	if (evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)port) ==
	    NULL) {
		snprintf(err, errlen, "cannot listen on %s: address in use or "
		    "not available", addr);
		return (-1);
	}
	return (0);
}

/* Stop listening. */
void
httpd_free(struct httpd *h)
{
	size_t	i;

	if (h == NULL)
		return;
	evhttp_free(h->http);
	for (i = 0; i < h->nroutes; i++)
		free(h->routes[i].prefix);
	free(h->routes);
	free(h);
}
