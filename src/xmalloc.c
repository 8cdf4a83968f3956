/*
 * xmalloc: allocation that cannot fail. A daemon that runs out of memory has
 * no good way to continue, so we say so and exit rather than spreading NULL
 * checks through every caller.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* vasprintf */
#endif
#include <sys/mman.h>

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static void
oom(size_t size)
{
	fprintf(stderr, "level=error msg=\"out of memory\" bytes=%zu\n", size);
	abort();
}

/* Allocate size bytes. */
void *
xmalloc(size_t size)
{
	void	*p;

	if (size == 0)
		size = 1;
	p = malloc(size);
	if (p == NULL)
		oom(size);
	return (p);
}

/* Allocate a zeroed array of n elements. */
void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if (n == 0 || size == 0)
		n = size = 1;
	p = calloc(n, size);
	if (p == NULL)
		oom(n * size);
	return (p);
}

/* Resize p to size bytes. */
void *
xrealloc(void *p, size_t size)
{
	if (size == 0)
		size = 1;
	p = realloc(p, size);
	if (p == NULL)
		oom(size);
	return (p);
}

/* Resize p to an array of n elements, checking for overflow. */
void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		oom(SIZE_MAX);
	return (xrealloc(p, n * size));
}

/* Duplicate a string. */
char *
xstrdup(const char *s)
{
	return (xstrndup(s, strlen(s)));
}

/* Duplicate at most n bytes of s, always NUL-terminated. */
char *
xstrndup(const char *s, size_t n)
{
	char	*p;
	size_t	 len;

	len = strnlen(s, n);
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return (p);
}

/* Format into a newly allocated string; return its length. */
int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	return (n);
}

/* Round a mapped size up to 4 KiB pages (the kernel rounds to its own). */
static size_t
xbig_round(size_t size)
{
	return ((size + 4095) & ~(size_t)4095);
}

/* Resize a big buffer. */
void *
xbig_resize(void *p, size_t old, size_t size)
{
	void	*n;

	if (old < XBIG_MAP && size < XBIG_MAP)
		return (xrealloc(p, size));
	if (old >= XBIG_MAP && size >= XBIG_MAP) {
		n = mremap(p, xbig_round(old), xbig_round(size), MREMAP_MAYMOVE);
		if (n == MAP_FAILED)
			oom(size);
		return (n);
	}
	if (size < XBIG_MAP) {
		n = xmalloc(size);
		memcpy(n, p, size);
	} else {
		n = mmap(NULL, xbig_round(size), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (n == MAP_FAILED)
			oom(size);
		if (old > 0)
			memcpy(n, p, old);
	}
	xbig_free(p, old);
	return (n);
}

/* Free a big buffer of size bytes. */
void
xbig_free(void *p, size_t size)
{
	if (size >= XBIG_MAP)
		munmap(p, xbig_round(size));
	else
		free(p);
}
