/*
 * httpd: rwbridge's own HTTP listener (libevent evhttp): /metrics,
 * /-/healthy, /-/ready, the target registration API under /api/v1/targets
 * and Pushgateway-style pushes under /metrics/job/. It owns the evhttp and
 * dispatches to the modules that own each route.
 */
#ifndef RWBRIDGE_HTTPD_H
#define RWBRIDGE_HTTPD_H

#include <stdbool.h>

#include <event2/http.h>

#include "buf.h"

struct rwbridge;
struct httpd;

struct httpd	*httpd_new(struct rwbridge *, const char *, char *, size_t);
void		 httpd_free(struct httpd *);
/* Tell whether addr ("host:port") is a loopback address. */
bool		 httpd_addr_is_loopback(const char *);
/* Split "host:port" or "[v6]:port"; false if malformed. */
/*
 * Check the bearer token of a request; on failure reply (401, or 403 for a
 * write on a non-loopback listener without a token) and return false.
 */
bool		 httpd_authorized(struct rwbridge *, struct evhttp_request *,
		     bool);
/* Reply with a body held in b. */
void		 httpd_reply(struct evhttp_request *, int, const char *,
		     const char *, const struct buf *);
/* Reply with a JSON error {"status":"error","error":msg}. */
void		 httpd_error(struct evhttp_request *, int, const char *, ...)
		     __attribute__((format(printf, 3, 4)));

#endif
