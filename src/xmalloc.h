/*
 * Allocation wrappers that exit on out-of-memory, so callers never check for
 * NULL. Memory returned is owned by the caller and released with free(),
 * except xbig_resize's, released with xbig_free.
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
/*
 * Resize a buffer that grows large and lives long, from old to new bytes
 * (p NULL when old is 0). Small ones come from malloc; from XBIG_MAP bytes
 * up, pages straight from the kernel, resized in place, so growing copies
 * nothing, only pages written count in RSS and shrinking gives pages back
 * (a malloc heap keeps freed middles resident).
 */
#define XBIG_MAP	(64 * 1024)
void	*xbig_resize(void *, size_t, size_t);
void	 xbig_free(void *, size_t);

#endif
