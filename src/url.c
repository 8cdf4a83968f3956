/*
 * url: take a URL apart into the parts rwbridge uses (scheme, host and
 * port, path, query) without copying. The host:port split is addr's, so
 * listen addresses, target addresses and URLs agree on where a port
 * starts; the default ports and the instance rule are Prometheus's.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "url.h"
#include "xmalloc.h"

/* The schemes rwbridge speaks and their default ports. */
static const struct {
	const char	*scheme;
	int		 port;
} url_schemes[] = {
	{ "http", 80 },
	{ "https", 443 },
};

#define URL_NSCHEMES	(sizeof url_schemes / sizeof url_schemes[0])

/* The default port of a scheme, 0 if unknown. */
int
url_default_port(const char *scheme, size_t len)
{
	size_t	i;

	for (i = 0; i < URL_NSCHEMES; i++)
		if (strlen(url_schemes[i].scheme) == len &&
		    memcmp(url_schemes[i].scheme, scheme, len) == 0)
			return (url_schemes[i].port);
	return (0);
}

/* True for http and https. */
bool
url_is_http(const struct url *u)
{
	return (url_default_port(u->scheme.p, u->scheme.len) != 0);
}

/* Parse a port of len digits at s into 1-65535. */
bool
url_parse_port(const char *s, size_t len, int *port)
{
	size_t	i;
	long	p = 0;

	if (len == 0 || len > 5)
		return (false);
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (false);
		p = p * 10 + (s[i] - '0');
	}
	if (p < 1 || p > 65535)
		return (false);
	*port = (int)p;
	return (true);
}

/* Split the authority [userinfo@]host[:port] at a, len bytes. */
static bool
url_authority(struct url *u, const char *a, size_t len, char *err,
    size_t errlen)
{
	const char	*colon, *at;

	at = NULL;
	for (colon = a; colon < a + len; colon++)
		if (*colon == '@')
			at = colon;
	if (at != NULL) {
		len -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	u->addr.p = a;
	u->addr.len = len;
	colon = addr_port_colon(a, len);
	u->host.p = a;
	u->host.len = colon != NULL ? (size_t)(colon - a) : len;
	if (u->host.len == 0 || (a[0] == '[' && u->host.len < 3)) {
		snprintf(err, errlen, "no host");
		return (false);
	}
	if (a[0] == '[' ? a[u->host.len - 1] != ']' :
	    memchr(a, ':', u->host.len) != NULL || memchr(a, ']',
	    u->host.len) != NULL) {
		snprintf(err, errlen, "bad host (an IPv6 one goes in [])");
		return (false);
	}
	if (colon == NULL) {
		u->port = url_default_port(u->scheme.p, u->scheme.len);
		return (true);
	}
	if (!url_parse_port(colon + 1, len - u->host.len - 1, &u->port)) {
		snprintf(err, errlen, "bad port");
		return (false);
	}
	u->has_port = true;
	return (true);
}

/* Parse a URL into its parts. */
bool
url_parse(const char *s, struct url *u, char *err, size_t errlen)
{
	const char	*p, *a;
	size_t		 alen;

	memset(u, 0, sizeof *u);
	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			snprintf(err, errlen, "space or control character");
			return (false);
		}
	}
	p = s;
	if (isalpha((unsigned char)*p))
		while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
		    *p == '.')
			p++;
	if (p == s || strncmp(p, "://", strlen("://")) != 0) {
		snprintf(err, errlen, "no scheme");
		return (false);
	}
	u->scheme.p = s;
	u->scheme.len = (size_t)(p - s);
	a = p + strlen("://");
	alen = strcspn(a, "/?#");
	if (!url_authority(u, a, alen, err, errlen))
		return (false);
	p = a + alen;
	u->path.p = p;
	u->path.len = *p == '/' ? strcspn(p, "?#") : 0;
	p += u->path.len;
	if (*p == '?') {
		u->query.p = p + 1;
		u->query.len = strcspn(p + 1, "#");
	}
	return (true);
}

/* Name host:port, the scheme's port if none is written. */
char *
url_instance(const struct url *u)
{
	char	*s;

	if (u->port == 0)
		s = xstrndup(u->host.p, u->host.len);
	else
		xasprintf(&s, "%.*s:%d", (int)u->host.len, u->host.p, u->port);
	return (s);
}

/* Add the scheme's default port to an address without one. */
char *
url_add_port(const char *addr, const char *scheme)
{
	char	*s;
	int	 port;

	port = url_default_port(scheme, strlen(scheme));
	if (addr_port_colon(addr, strlen(addr)) != NULL || port == 0)
		return (xstrdup(addr));
	xasprintf(&s, "%s:%d", addr, port);
	return (s);
}
