/*
 * buf: growable byte buffers. Growth doubles so appends are amortised O(1).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "buf.h"
#include "xmalloc.h"

/* Start empty; no memory until the first append. */
void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Release the memory. */
void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

/* Make room for n more bytes. */
void
buf_reserve(struct buf *b, size_t n)
{
	size_t	cap;

	if (b->cap - b->len >= n)
		return;
	cap = b->cap == 0 ? 256 : b->cap;
	while (cap - b->len < n)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

/* Append n bytes. */
void
buf_append(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* Append formatted text (without a terminating NUL). */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	buf_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/*
 * Append a float the way Prometheus's text format writes it. The range is
 * checked before the conversion to long long: converting 1e19 (or the Go
 * client's 1.8446744073709552e+19) would be undefined behaviour.
 */
void
buf_put_float(struct buf *b, double v)
{
	if (isnan(v))
		buf_append(b, "NaN", 3);
	else if (isinf(v))
		buf_append(b, v > 0 ? "+Inf" : "-Inf", 4);
	else if (fabs(v) < 1e15 && v == (double)(long long)v)
		buf_printf(b, "%lld", (long long)v);
	else
		buf_printf(b, "%.17g", v);
}
