/*
 * buf: a growable byte buffer, reused between scrapes and requests so that
 * the hot path does not allocate. The buffer owns its data; buf_free releases
 * it and buf_reset keeps the memory for the next use.
 */
#ifndef RWBRIDGE_BUF_H
#define RWBRIDGE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	uint8_t	*data;
	size_t	 len;
	size_t	 cap;
};

void	 buf_init(struct buf *);
void	 buf_free(struct buf *);
void	 buf_reserve(struct buf *, size_t);
void	 buf_append(struct buf *, const void *, size_t);
void	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Append a float as the exposition format writes it (NaN, +Inf, 0.25). */
void	 buf_put_float(struct buf *, double);

/* Forget the contents, keep the memory. */
static inline void
buf_reset(struct buf *b)
{
	b->len = 0;
}

/* Append one byte. */
static inline void
buf_putc(struct buf *b, uint8_t c)
{
	if (b->len == b->cap)
		buf_reserve(b, 1);
	b->data[b->len++] = c;
}

#endif
