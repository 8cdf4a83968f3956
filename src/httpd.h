/*
 * httpd: rwbridge's own HTTP listener (libevent evhttp). It knows no route
 * itself: callers register {prefix, handler, arg} with httpd_route, as
 * libevent's own samples do with evhttp_set_cb, and the first route that
 * matches a request's path gets it. Each route also says what it accepts
 * before its handler runs (struct httpd_policy): the listener reads and
 * checks a request's headers itself, answers 401/403/413/431 without
 * reading the body, cuts a request that takes longer than the request
 * timeout, caps the connections it holds and pauses accepting when out of
 * file descriptors. The listener owns the evhttp and its connections; the
 * handlers' args stay the callers'.
 */
#ifndef RWBRIDGE_HTTPD_H
#define RWBRIDGE_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <event2/http.h>

#include "buf.h"
#include "config.h"

struct httpd;

/*
 * A route's handler: rest is the path after the prefix ("" or "/..."), u
 * the parsed request URI. It replies before returning.
 */
typedef void (*httpd_handler_fn)(struct evhttp_request *, const char *,
    const struct evhttp_uri *, void *);

/* How a route's prefix matches a path. */
enum httpd_match {
	HTTPD_EXACT,		/* the whole path */
	HTTPD_SUBTREE		/* the path, or the path and "/..." */
};

/* What a route accepts; checked from the headers, before the body. */
struct httpd_policy {
	bool	auth;		/* httpd_check_auth on the headers */
	size_t	max_body;	/* longer: 413; 0: HTTPD_MAX_BODY_DEFAULT */
};

#define HTTPD_MAX_BODY_DEFAULT	(1u << 20)	/* API and other routes */
#define HTTPD_MAX_BODY_PUSH	(16u << 20)	/* Pushgateway-style pushes */
#define HTTPD_MAX_HEADERS	(64u << 10)	/* request line and headers */
#define HTTPD_MAX_CONNS_DEFAULT	512
#define HTTPD_FD_RESERVE	64	/* plus 1/8 of the limit */

/*
 * Raise the soft RLIMIT_NOFILE to the hard limit (both logged); the soft
 * limit in force after it.
 */
long		 httpd_raise_fd_limit(void);
/*
 * A listener with no route, bound nowhere yet; cfg (borrowed) gives the
 * token, listen_max_connections and listen_request_timeout.
 */
struct httpd	*httpd_new(struct event_base *, const struct config *);
/* Listen on addr ("host:port"); -1 with the reason in err. */
int		 httpd_listen(struct httpd *, const char *, char *, size_t);
void		 httpd_free(struct httpd *);
/*
 * Add a route; routes are tried in the order they were added. The policy
 * is copied; NULL: no token, HTTPD_MAX_BODY_DEFAULT.
 */
void		 httpd_route(struct httpd *, const char *, enum httpd_match,
		     const struct httpd_policy *, httpd_handler_fn, void *);
/* The route a path goes to and its rest; NULL (404) if none. */
bool		 httpd_lookup(const struct httpd *, const char *,
		     httpd_handler_fn *, void **, const char **);

/* Append the listener's own metrics (connections, cuts, pauses) to b. */
void		 httpd_metrics(const struct httpd *, struct buf *);

/*
 * Check an Authorization header value (may be NULL) against the config's
 * token: 0 when allowed, else the status to reply (401, or 403 for a write
 * on a non-loopback listener without a token) with the message in msg.
 */
int		 httpd_check_auth(const struct config *, const char *, bool,
		     char *, size_t);
/* Check a request's bearer token; on failure reply and return false. */
bool		 httpd_authorized(const struct config *,
		     struct evhttp_request *, bool);
/* Reply with a body held in b. */
void		 httpd_reply(struct evhttp_request *, int, const char *,
		     const char *, const struct buf *);
/* Reply with plain text. */
void		 httpd_text(struct evhttp_request *, int, const char *);
/* Append a JSON error {"status":"error","error":msg} to b. */
void		 httpd_error_json(struct buf *, const char *);
/* Reply with a JSON error {"status":"error","error":msg}. */
void		 httpd_error(struct evhttp_request *, int, const char *, ...)
		     __attribute__((format(printf, 3, 4)));
/* The reason phrase of a status code. */
const char	*httpd_reason(int);

#endif
