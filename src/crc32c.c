/*
 * crc32c: CRC-32C (polynomial 0x1EDC6F41, reflected 0x82F63B78). On x86-64
 * CPUs with SSE4.2 the crc32 instruction does eight bytes in one step; else
 * eight bytes at a time with tables built on first use.
 */
#include <pthread.h>
#include <string.h>

#include "crc32c.h"

static uint32_t		crc32c_table[8][256];
static pthread_once_t	crc32c_once = PTHREAD_ONCE_INIT;

/* Build the slicing-by-8 tables. */
static void
crc32c_init(void)
{
	uint32_t	c;
	int		i, j, k;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc32c_table[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = crc32c_table[0][i];
		for (k = 1; k < 8; k++) {
			c = crc32c_table[0][c & 0xff] ^ (c >> 8);
			crc32c_table[k][i] = c;
		}
	}
}

/* Extend crc (0 to start) over len bytes of p, with the tables. */
uint32_t
crc32c_portable(uint32_t crc, const void *p, size_t len)
{
	const uint8_t	*b = p;
	uint32_t	 c = ~crc, lo, hi;

	pthread_once(&crc32c_once, crc32c_init);
	while (len > 0 && ((uintptr_t)b & 7) != 0) {
		c = crc32c_table[0][(c ^ *b++) & 0xff] ^ (c >> 8);
		len--;
	}
	while (len >= 8) {
		lo = c ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 |
		    (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
		hi = (uint32_t)b[4] | (uint32_t)b[5] << 8 |
		    (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
		c = crc32c_table[7][lo & 0xff] ^
		    crc32c_table[6][(lo >> 8) & 0xff] ^
		    crc32c_table[5][(lo >> 16) & 0xff] ^
		    crc32c_table[4][lo >> 24] ^
		    crc32c_table[3][hi & 0xff] ^
		    crc32c_table[2][(hi >> 8) & 0xff] ^
		    crc32c_table[1][(hi >> 16) & 0xff] ^
		    crc32c_table[0][hi >> 24];
		b += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = crc32c_table[0][(c ^ *b++) & 0xff] ^ (c >> 8);
	return (~c);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* Extend crc over len bytes of p with the SSE4.2 instruction. */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const void *p, size_t len)
{
	const uint8_t	*b = p;
	uint64_t	 c = ~crc, w;

	while (len >= 8) {
		memcpy(&w, b, sizeof w);
		c = __builtin_ia32_crc32di(c, w);
		b += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = __builtin_ia32_crc32qi((uint32_t)c, *b++);
	return (~(uint32_t)c);
}

/* Extend crc (0 to start) over len bytes of p. */
uint32_t
crc32c(uint32_t crc, const void *p, size_t len)
{
	static int	have = -1;

	if (have == -1)
		have = __builtin_cpu_supports("sse4.2") != 0;
	if (have)
		return (crc32c_sse42(crc, p, len));
	return (crc32c_portable(crc, p, len));
}
#else
/* Extend crc (0 to start) over len bytes of p. */
uint32_t
crc32c(uint32_t crc, const void *p, size_t len)
{
	return (crc32c_portable(crc, p, len));
}
#endif
