/*
 * check_metrics: validate a page with the same parser the scraper uses, so
 * a page that passes here is a page rwbridge will ingest. The format is
 * OpenMetrics when the page ends with "# EOF", the text format otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check_metrics.h"
#include "promtext.h"

#define CHECK_MAX_BYTES	(256u << 20)

/* Read all of f into b; false if it is too large or unreadable. */
static bool
check_read(FILE *f, struct buf *b)
{
	size_t	n;

	for (;;) {
		buf_reserve(b, 65536);
		n = fread(b->data + b->len, 1, b->cap - b->len, f);
		b->len += n;
		if (b->len > CHECK_MAX_BYTES)
			return (false);
		if (n == 0)
			return (!ferror(f));
	}
}

/* Tell whether the page ends with an OpenMetrics "# EOF" line. */
static bool
check_is_openmetrics(const struct buf *b)
{
	size_t	len = b->len;

	while (len > 0 && (b->data[len - 1] == '\n' ||
	    b->data[len - 1] == '\r'))
		len--;
	return (len >= 5 && memcmp(b->data + len - 5, "# EOF", 5) == 0 &&
	    (len == 5 || b->data[len - 6] == '\n'));
}

/* Check a file ("-" for stdin); return the exit status. */
int
check_metrics_run(const char *path, FILE *out, FILE *err)
{
	struct buf	 b;
	struct promtext	 p;
	struct pt_item	 it;
	enum pt_kind	 k;
	FILE		*f;
	char		 msg[320];
	const char	*name = strcmp(path, "-") == 0 ? "(stdin)" : path;
	size_t		 samples = 0, families = 0, helps = 0;
	int		 rc = 1;

	buf_init(&b);
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(err, "%s: %s\n", name, strerror(errno));
		goto done;
	}
	if (!check_read(f, &b)) {
		fprintf(err, "%s: cannot read (or larger than %u MiB)\n", name,
		    CHECK_MAX_BYTES >> 20);
		goto done;
	}
	promtext_init(&p, (const char *)b.data, b.len,
	    check_is_openmetrics(&b) ? PT_FORMAT_OPENMETRICS : PT_FORMAT_TEXT);
	for (;;) {
		k = promtext_next(&p, &it, msg, sizeof msg);
		if (k == PT_EOF)
			break;
		if (k == PT_ERROR) {
			/* "line N col M: what" becomes "file:N:M: what". */
			size_t	line = 0, col = 0;
			int	off = 0;

			if (sscanf(msg, "line %zu col %zu: %n", &line, &col,
			    &off) == 2 && off > 0)
				fprintf(err, "%s:%zu:%zu: %s\n", name, line, col,
				    msg + off);
			else
				fprintf(err, "%s: %s\n", name, msg);
			goto done;
		}
		if (k == PT_SAMPLE)
			samples++;
		else if (k == PT_TYPE)
			families++;
		else if (k == PT_HELP)
			helps++;
	}
	fprintf(out, "%s: %zu samples, %zu families, %zu with HELP\n", name,
	    samples, families, helps);
	rc = 0;
done:
	if (f != NULL && f != stdin)
		fclose(f);
	buf_free(&b);
	return (rc);
}
