/*
 * test_url: URLs taken apart (scheme, address, host, port, path, query),
 * the instance Prometheus derives, refusals with their reason, and addPort.
 * A failure names the input and the first differing part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

#include "tap.h"

struct ucase {
	const char	*in;
	const char	*err;		/* NULL: accepted */
	const char	*scheme;
	const char	*addr;
	const char	*host;
	int		 port;
	const char	*path;
	const char	*query;		/* NULL: none */
	const char	*instance;
};

static const struct ucase cases[] = {
	{ "http://10.0.0.5:8000/metrics", NULL, "http", "10.0.0.5:8000",
	  "10.0.0.5", 8000, "/metrics", NULL, "10.0.0.5:8000" },
	{ "http://h/metrics", NULL, "http", "h", "h", 80, "/metrics", NULL,
	  "h:80" },
	{ "https://h", NULL, "https", "h", "h", 443, "", NULL, "h:443" },
	{ "https://h:443", NULL, "https", "h:443", "h", 443, "", NULL,
	  "h:443" },
	{ "http://[::1]:9000/m?x=1&y=a%20b", NULL, "http", "[::1]:9000",
	  "[::1]", 9000, "/m", "x=1&y=a%20b", "[::1]:9000" },
	{ "http://[fe80::1]/metrics", NULL, "http", "[fe80::1]", "[fe80::1]",
	  80, "/metrics", NULL, "[fe80::1]:80" },
	{ "http://u:p@h:81/x#frag", NULL, "http", "h:81", "h", 81, "/x",
	  NULL, "h:81" },
	{ "http://h:1?q=1", NULL, "http", "h:1", "h", 1, "", "q=1", "h:1" },
	{ "http://h:1/p?", NULL, "http", "h:1", "h", 1, "/p", "", "h:1" },
	{ "ftp://h/x", NULL, "ftp", "h", "h", 0, "/x", NULL, "h" },
	{ "h:80", "no scheme", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "://h:80", "no scheme", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "1http://h", "no scheme", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "http:/h", "no scheme", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "http://", "no host", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "http://:80/x", "no host", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "http://[]:80", "no host", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "http://h:0", "bad port", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "http://h:", "bad port", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "http://h:65536", "bad port", NULL, NULL, NULL, 0, NULL, NULL,
	  NULL },
	{ "http://h:80x/", "bad port", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "http://h:000080", "bad port", NULL, NULL, NULL, 0, NULL, NULL,
	  NULL },
	{ "http://::1:80/", "bad host", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "http://[::1/", "bad host", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "http://[::1]x:80/", "bad host", NULL, NULL, NULL, 0, NULL, NULL,
	  NULL },
	{ "http://h :80/", "space", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "http://h:80/a\tb", "space", NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "", "no scheme", NULL, NULL, NULL, 0, NULL, NULL, NULL },
};

/* A part as a string, "(none)" when absent. */
static const char *
part(const struct url_part *p, char *buf, size_t len)
{
	if (p->p == NULL)
		return ("(none)");
	snprintf(buf, len, "%.*s", (int)p->len, p->p);
	return (buf);
}

/* Check one case. */
static void
check(const struct ucase *c)
{
	struct url	u;
	char		err[128], b[256], *s;
	bool		ok_;

	err[0] = '\0';
	ok_ = url_parse(c->in, &u, err, sizeof err);
	if (c->err != NULL) {
		ok(!ok_ && strstr(err, c->err) != NULL, "\"%s\": refused as "
		    "\"%s\" (%s)", c->in, c->err, ok_ ? "accepted" : err);
		return;
	}
	if (!ok(ok_, "\"%s\": parses (%s)", c->in, err))
		return;
	is_str(part(&u.scheme, b, sizeof b), c->scheme, "\"%s\": scheme",
	    c->in);
	is_str(part(&u.addr, b, sizeof b), c->addr, "\"%s\": address", c->in);
	is_str(part(&u.host, b, sizeof b), c->host, "\"%s\": host", c->in);
	is_int(u.port, c->port, "\"%s\": port", c->in);
	is_str(part(&u.path, b, sizeof b), c->path, "\"%s\": path", c->in);
	is_str(part(&u.query, b, sizeof b), c->query != NULL ? c->query :
	    "(none)", "\"%s\": query", c->in);
	s = url_instance(&u);
	is_str(s, c->instance, "\"%s\": instance", c->in);
	free(s);
}

static const struct {
	const char	*addr;
	const char	*scheme;
	const char	*out;
} add_port[] = {
	{ "h", "http", "h:80" },
	{ "h", "https", "h:443" },
	{ "h:9", "https", "h:9" },
	{ "[::1]", "https", "[::1]:443" },
	{ "[::1]:8", "http", "[::1]:8" },
	{ "h", "ftp", "h" },
};

int
main(void)
{
	struct url	u;
	char		err[64];
	size_t		i;
	char		*s;
	int		port;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check(&cases[i]);
	for (i = 0; i < sizeof add_port / sizeof add_port[0]; i++) {
		s = url_add_port(add_port[i].addr, add_port[i].scheme);
		is_str(s, add_port[i].out, "addPort(\"%s\", %s)",
		    add_port[i].addr, add_port[i].scheme);
		free(s);
	}
	ok(url_parse("https://h", &u, err, sizeof err) && url_is_http(&u),
	    "https is http");
	ok(url_parse("HTTP://h", &u, err, sizeof err) && !url_is_http(&u),
	    "HTTP (upper case) is not, as Prometheus");
	ok(url_parse_port("8080", 4, &port) && port == 8080, "port 8080");
	ok(!url_parse_port("0", 1, &port), "port 0 is refused");
	ok(!url_parse_port("", 0, &port), "an empty port is refused");
	ok(!url_parse_port("+80", 3, &port), "a signed port is refused");
	is_int(url_default_port("http", 4), 80, "http's port");
	is_int(url_default_port("gopher", 6), 0, "an unknown scheme's port");
	return (tap_done());
}
