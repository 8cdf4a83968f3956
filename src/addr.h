/*
 * addr: listen addresses as the command line writes them ("host:port",
 * "[v6]:port"). Pure; the caller owns the host buffer.
 */
#ifndef RWBRIDGE_ADDR_H
#define RWBRIDGE_ADDR_H

#include <stdbool.h>
#include <stddef.h>

/* Split addr into host (at most hostlen - 1 bytes) and a port 0-65535. */
bool	addr_split(const char *, char *, size_t, int *);

#endif
