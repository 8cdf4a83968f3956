/*
 * Allocation wrappers that exit on out-of-memory, so callers never check for
 * NULL. Memory returned is owned by the caller and released with free().
 */
#ifndef RWBRIDGE_XMALLOC_H
#define RWBRIDGE_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
