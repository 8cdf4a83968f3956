/*
 * crc32c: the Castagnoli CRC (iSCSI, ext4, LevelDB's log format) that the
 * send queue puts on every record. With the SSE4.2 crc32 instruction where
 * the CPU has it, else table-driven, slicing by 8; no state.
 */
#ifndef RWBRIDGE_CRC32C_H
#define RWBRIDGE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend crc (0 to start) over len bytes of p. */
uint32_t	crc32c(uint32_t, const void *, size_t);
/* The same with the tables only (tests check the two agree). */
uint32_t	crc32c_portable(uint32_t, const void *, size_t);

#endif
