/*
 * addr: split "host:port" and "[v6]:port" listen addresses, shared by the
 * daemon's listener, its config check and the simulator.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

/* Split addr into host (at most hostlen - 1 bytes) and a port 0-65535. */
bool
addr_split(const char *addr, char *host, size_t hostlen, int *port)
{
	const char	*colon, *h = addr;
	size_t		 hl;
	char		*end;
	long		 p;

	colon = strrchr(addr, ':');
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
