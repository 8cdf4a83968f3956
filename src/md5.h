/*
 * md5: the MD5 digest (RFC 1321), only for relabeling's hashmod action,
 * which must pick the same shard as Prometheus does. Not for security.
 */
#ifndef RWBRIDGE_MD5_H
#define RWBRIDGE_MD5_H

#include <stddef.h>
#include <stdint.h>

/* Hash len bytes of p into the 16-byte digest out. */
void	 md5_sum(const void *, size_t, uint8_t [16]);

#endif
