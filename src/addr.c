/*
 * addr: split "host:port" and "[v6]:port" addresses. addr_port_colon is the
 * split every address parser of the program uses (the listener, its config
 * check, the simulator, target addresses in tspec and URLs in config);
 * each caller keeps its own rules and messages for the parts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

/* The colon before the port: after a bracketed host, else the last. */
const char *
addr_port_colon(const char *s, size_t len)
{
	const char	*close;

	if (len > 0 && s[0] == '[') {
		close = memchr(s, ']', len);
		if (close == NULL || (size_t)(close - s) + 1 >= len ||
		    close[1] != ':')
			return (NULL);
		return (close + 1);
	}
	while (len > 0 && s[len - 1] != ':')
		len--;
	return (len > 0 ? s + len - 1 : NULL);
}

/* Split addr into host (at most hostlen - 1 bytes) and a port 0-65535. */
bool
addr_split(const char *addr, char *host, size_t hostlen, int *port)
{
	const char	*colon, *h = addr;
	size_t		 hl;
	char		*end;
	long		 p;

	colon = addr_port_colon(addr, strlen(addr));
	if (colon == NULL || colon == addr)
		return (false);
	hl = (size_t)(colon - addr);
	if (*h == '[') {
		if (hl < 2 || addr[hl - 1] != ']')
			return (false);
		h++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostlen)
		return (false);
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (*end != '\0' || end == colon + 1 || errno != 0 || p < 0 ||
	    p > 65535)
		return (false);
	*port = (int)p;
	return (true);
}
