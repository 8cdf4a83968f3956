/*
 * addr: the one place that finds where a "host:port" or "[v6]:port" splits,
 * for listen addresses, target addresses and the host part of URLs alike.
 * Pure; the caller owns the host buffer.
 */
#ifndef RWBRIDGE_ADDR_H
#define RWBRIDGE_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The colon before the port in len bytes at s: after the ']' of a
 * bracketed host, else the last ':'; NULL when there is none.
 */
const char	*addr_port_colon(const char *, size_t);
/* Split addr into host (at most hostlen - 1 bytes) and a port 0-65535. */
bool		 addr_split(const char *, char *, size_t, int *);

#endif
