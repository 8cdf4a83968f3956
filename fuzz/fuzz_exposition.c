/*
 * libFuzzer harness: the exposition parser. The first byte picks the format
 * (even: text 0.0.4, odd: OpenMetrics), the rest is the page. Every item is
 * taken apart as ingest would: labels iterated, values and HELP unescaped
 * into buffers of exactly the size the header promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Parse one page, visiting every label of every sample. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct promtext	 p;
	struct pt_item	 it;
	struct pt_label	 l;
	enum pt_kind	 k;
	enum pt_format	 fmt;
	char		 err[256], *dst;
	size_t		 pos, n;

	if (size == 0)
		return (0);
	fmt = data[0] & 1 ? PT_FORMAT_OPENMETRICS : PT_FORMAT_TEXT;
	promtext_init(&p, (const char *)data + 1, size - 1, fmt);
	while ((k = promtext_next(&p, &it, err, sizeof err)) != PT_EOF &&
	    k != PT_ERROR) {
		if (k == PT_HELP) {
			dst = malloc(it.text.len + 1);
			n = pt_unescape_help(it.text, dst);
			if (n > it.text.len)
				abort();
			free(dst);
		}
		if (k != PT_SAMPLE)
			continue;
		pos = 0;
		while (pt_label_next(it.labels, &pos, &l)) {
			dst = malloc(l.value.len + 1);
			n = pt_unescape_value(l.value, dst);
			if (n > l.value.len)
				abort();
			free(dst);
		}
	}
	return (0);
}
