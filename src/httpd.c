/*
 * httpd: the listener. Routing is by path prefix in one generic callback so
 * that /metrics and /metrics/job/... can live side by side. Request bodies
 * are capped by evhttp (413), and every reply is complete and small.
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

#include "api.h"
#include "addr.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "pushrecv.h"
#include "rwbridge.h"
#include "xmalloc.h"

#define HTTPD_MAX_BODY	(16u << 20)

struct httpd {
	struct rwbridge		*rw;
	struct evhttp		*http;
	struct buf		 scratch;
};

/* Tell whether addr is a loopback address. */
bool
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
static const char *
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

/* Reply with a JSON error. */
void
httpd_error(struct evhttp_request *req, int code, const char *fmt, ...)
{
	struct buf	 b;
	char		 msg[512];
	const char	*p;
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	buf_init(&b);
	buf_printf(&b, "{\"status\":\"error\",\"error\":\"");
	for (p = msg; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_printf(&b, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			buf_printf(&b, "\\u%04x", (unsigned char)*p);
		else
			buf_putc(&b, (uint8_t)*p);
	}
	buf_printf(&b, "\"}\n");
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

/* Check the bearer token of a request. */
bool
httpd_authorized(struct rwbridge *rw, struct evhttp_request *req, bool write)
{
	const char	*h;
	const char	*token = rw->cfg->api_token;

	if (token == NULL || *token == '\0') {
		if (write && !httpd_addr_is_loopback(rw->cfg->listen)) {
			httpd_error(req, 403, "writes are refused on a "
			    "non-loopback listener without a token: set "
			    "--api-token-file");
			return (false);
		}
		return (true);
	}
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0 ||
	    !httpd_token_eq(h + 7, token)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer realm=\"rwbridge\"");
		httpd_error(req, 401, h == NULL ? "missing bearer token" :
		    "wrong bearer token");
		return (false);
	}
	return (true);
}

/* Reply with plain text. */
static void
httpd_text(struct evhttp_request *req, int code, const char *text)
{
	struct buf	b;

	buf_init(&b);
	buf_append(&b, text, strlen(text));
	httpd_reply(req, code, httpd_reason(code), "text/plain; charset=utf-8",
	    &b);
	buf_free(&b);
}

/* Route a request. */
static void
httpd_cb(struct evhttp_request *req, void *arg)
{
	struct httpd	*h = arg;
	const char	*uri, *path;
	struct evhttp_uri *u;
	enum evhttp_cmd_type cmd;

	cmd = evhttp_request_get_command(req);
	uri = evhttp_request_get_uri(req);
	u = evhttp_uri_parse_with_flags(uri, EVHTTP_URI_NONCONFORMANT);
	if (u == NULL || (path = evhttp_uri_get_path(u)) == NULL) {
		httpd_error(req, 400, "malformed request URI");
		goto done;
	}
	if (strcmp(path, "/metrics") == 0) {
		if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
			httpd_error(req, 405, "use GET on /metrics");
			goto done;
		}
		buf_reset(&h->scratch);
		metrics_render(h->rw, &h->scratch);
		httpd_reply(req, 200, "OK",
		    "text/plain; version=0.0.4; charset=utf-8", &h->scratch);
	} else if (strcmp(path, "/-/healthy") == 0)
		httpd_text(req, 200, "rwbridge is Healthy.\n");
	else if (strcmp(path, "/-/ready") == 0) {
		if (h->rw->ready && !h->rw->stopping)
			httpd_text(req, 200, "rwbridge is Ready.\n");
		else
			httpd_text(req, 503, "rwbridge is not ready.\n");
	} else if (strncmp(path, "/api/v1/targets", 15) == 0 &&
	    (path[15] == '\0' || path[15] == '/'))
		api_handle(h->rw, req, path + 15, u);
	else if (strncmp(path, "/metrics/job", 12) == 0 &&
	    (path[12] == '\0' || path[12] == '/'))
		pushrecv_handle(h->rw, req, uri);
	else if (strcmp(path, "/") == 0)
		httpd_text(req, 200, "rwbridge " RWBRIDGE_VERSION "\n"
		    "/metrics /-/healthy /-/ready /api/v1/targets "
		    "/metrics/job/<job>\n");
	else
		httpd_error(req, 404, "no such path: %s", path);
done:
	if (u != NULL)
		evhttp_uri_free(u);
}

/* Listen on addr. */
struct httpd *
httpd_new(struct rwbridge *rw, const char *addr, char *err, size_t errlen)
{
	struct httpd	*h;
	char		 host[256];
	int		 port;

	if (!addr_split(addr, host, sizeof host, &port)) {
		snprintf(err, errlen, "listen address \"%s\" is not host:port",
		    addr);
		return (NULL);
	}
	h = xcalloc(1, sizeof *h);
	h->rw = rw;
	buf_init(&h->scratch);
	h->http = evhttp_new(rw->base);
	evhttp_set_max_body_size(h->http, HTTPD_MAX_BODY);
	evhttp_set_timeout(h->http, 30);
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_POST | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(h->http, httpd_cb, h);
	if (evhttp_bind_socket_with_handle(h->http, host, (ev_uint16_t)port) ==
	    NULL) {
		snprintf(err, errlen, "cannot listen on %s: address in use or "
		    "not available", addr);
		httpd_free(h);
		return (NULL);
	}
	return (h);
}

/* Stop listening. */
void
httpd_free(struct httpd *h)
{
	if (h == NULL)
		return;
	evhttp_free(h->http);
	buf_free(&h->scratch);
	free(h);
}
