/*
 * file: whole-file reads. The buffer grows as the file is read, so a file
 * that grows or shrinks while it is read (a file_sd file being rewritten)
 * never overruns it, and the size limit holds whatever fstat said.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "file.h"
#include "xmalloc.h"

#define FILE_FIRST_CHUNK	8192

/* Read all of path, at most max bytes. */
int
file_read(const char *path, size_t max, char **bufp, size_t *lenp)
{
	char	*buf = NULL;
	size_t	 len = 0, cap = 0;
	ssize_t	 r;
	int	 fd, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return (-1);
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap == 0 ? FILE_FIRST_CHUNK : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + len, cap - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > max) {
		errno = EFBIG;
		goto fail;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return (0);

fail:
	saved = errno;
	close(fd);
	free(buf);
	errno = saved;
	return (-1);
}
