/*
 * url: the one parser of scrape and endpoint URLs for the whole program
 * (scheme://[userinfo@]host[:port][/path][?query][#fragment]), with IPv6
 * hosts in brackets, the scheme's default port, and the instance
 * ("host:port") Prometheus names a target by. Pure; a parsed url's parts
 * point into the caller's string, which must outlive it.
 */
#ifndef RWBRIDGE_URL_H
#define RWBRIDGE_URL_H

#include <stdbool.h>
#include <stddef.h>

/* A part of the parsed string; p is NULL when the part is absent. */
struct url_part {
	const char	*p;
	size_t		 len;
};

struct url {
	struct url_part	 scheme;	/* "http", as written */
	struct url_part	 addr;		/* host[:port] as written */
	struct url_part	 host;		/* brackets of an IPv6 host kept */
	struct url_part	 path;		/* from '/'; empty when none */
	struct url_part	 query;		/* after '?', up to '#' */
	int		 port;		/* as written, else the scheme's; 0 */
	bool		 has_port;	/* written in the URL */
};

/*
 * Parse s: a scheme, a non-empty host (an IPv6 one in brackets), a port
 * 1-65535 if written, no spaces or control characters. False, with the
 * reason in err ("bad port"), when s is not such a URL.
 */
bool	 url_parse(const char *, struct url *, char *, size_t);
/* Parse a port of len bytes: digits only, 1-65535. */
bool	 url_parse_port(const char *, size_t, int *);
/* True if the scheme is "http" or "https" (lowercase, as Prometheus). */
bool	 url_is_http(const struct url *);
/* The default port of a scheme of len bytes: 80, 443, or 0 if unknown. */
int	 url_default_port(const char *, size_t);
/*
 * The instance Prometheus derives from a target's address: host:port with
 * the scheme's default port when none is written. Returns a new string.
 */
char	*url_instance(const struct url *);
/*
 * Prometheus's addPort for a "host[:port]" address and a scheme: addr
 * itself when it has a port, else addr with the scheme's default port.
 * Returns a new string.
 */
char	*url_add_port(const char *, const char *);

#endif
