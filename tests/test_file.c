/*
 * test_file: whole-file reads. Files of several sizes around the limit and
 * the first read chunk, a missing file and a directory; each case names the
 * size and checks the result, errno and the bytes read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"

#include "tap.h"

struct fcase {
	size_t	 size;		/* bytes written */
	size_t	 max;
	int	 rc;
	int	 err;		/* errno when rc is -1 */
};

static const struct fcase cases[] = {
	{ 0, 10, 0, 0 },
	{ 10, 10, 0, 0 },
	{ 11, 10, -1, EFBIG },
	{ 8192, 8192, 0, 0 },
	{ 8193, 8192, -1, EFBIG },
	{ 100000, 1 << 20, 0, 0 },
	{ 100000, 99999, -1, EFBIG },
};

int
main(void)
{
	char	 dir[] = "/tmp/test_file.XXXXXX", path[64], *buf, *data;
	size_t	 i, len, j;
	FILE	*f;
	int	 rc;

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return (1);
	}
	snprintf(path, sizeof path, "%s/f", dir);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		data = malloc(cases[i].size + 1);
		for (j = 0; j < cases[i].size; j++)
			data[j] = (char)('a' + j % 26);
		f = fopen(path, "w");
		fwrite(data, 1, cases[i].size, f);
		fclose(f);
		buf = NULL;
		errno = 0;
		rc = file_read(path, cases[i].max, &buf, &len);
		is_int(rc, cases[i].rc, "%zu bytes, max %zu: result",
		    cases[i].size, cases[i].max);
		if (rc != 0)
			is_int(errno, cases[i].err, "%zu bytes: errno",
			    cases[i].size);
		else {
			is_int((long long)len, (long long)cases[i].size,
			    "%zu bytes: length", cases[i].size);
			ok(memcmp(buf, data, len) == 0 && buf[len] == '\0',
			    "%zu bytes: contents, NUL-terminated",
			    cases[i].size);
		}
		free(buf);
		free(data);
	}
	unlink(path);
	is_int(file_read(path, 10, &buf, &len), -1, "missing: -1");
	is_int(errno, ENOENT, "missing: ENOENT");
	is_int(file_read(dir, 10, &buf, &len), -1, "a directory: -1");
	is_int(errno, EISDIR, "a directory: EISDIR");
	rmdir(dir);
	return (tap_done());
}
