/*
 * test_addr: where an address splits into host and port (the one split
 * every address parser uses) and addr_split's host and port. A failure
 * names the input and the differing value.
 */
#include <stdio.h>
#include <string.h>

#include "addr.h"

#include "tap.h"

struct acase {
	const char	*in;
	int		 colon;		/* offset of the port colon; -1: none */
	bool		 split;		/* addr_split accepts it */
	const char	*host;
	int		 port;
};

static const struct acase cases[] = {
	{ "127.0.0.1:9108", 9, true, "127.0.0.1", 9108 },
	{ "h:0", 1, true, "h", 0 },
	{ "[::1]:80", 5, true, "::1", 80 },
	{ "[fe80::1%eth0]:8000", 14, true, "fe80::1%eth0", 8000 },
	{ "::1:80", 3, true, "::1", 80 },
	{ "[::1]", -1, false, NULL, 0 },
	{ "[::1]x:80", -1, false, NULL, 0 },
	{ "host", -1, false, NULL, 0 },
	{ ":80", 0, false, NULL, 0 },
	{ "h:", 1, false, NULL, 0 },
	{ "h:65536", 1, false, NULL, 0 },
	{ "h:8x", 1, false, NULL, 0 },
	{ "[]:80", 2, false, NULL, 0 },
	{ "", -1, false, NULL, 0 },
};

int
main(void)
{
	const struct acase	*c;
	const char		*colon;
	char			 host[64];
	int			 port;
	size_t			 i;
	bool			 ok_;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = &cases[i];
		colon = addr_port_colon(c->in, strlen(c->in));
		is_int(colon == NULL ? -1 : (int)(colon - c->in), c->colon,
		    "\"%s\": port colon", c->in);
		port = -1;
		ok_ = addr_split(c->in, host, sizeof host, &port);
		is_int(ok_, c->split, "\"%s\": addr_split", c->in);
		if (!ok_ || !c->split)
			continue;
		is_str(host, c->host, "\"%s\": host", c->in);
		is_int(port, c->port, "\"%s\": port", c->in);
	}
	ok(!addr_split("verylonghostname:80", host, 8, &port),
	    "a host longer than the buffer is refused");
	return (tap_done());
}
