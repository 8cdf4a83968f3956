/*
 * libFuzzer harness: ingest with its series cache across consecutive pages,
 * derivations on, as one target is scraped. The first byte picks the format
 * (even: text, odd: OpenMetrics); the rest is a run of pages separated by
 * NUL bytes, ingested one after the other a second apart, so the cache, the
 * series-key hints and the stale markers see pages that change.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "derive.h"
#include "ingest.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct label	target[] = {
	{ "instance", 8, "127.0.0.1:8000", 14 },
	{ "job", 3, "vllm", 4 },
};

/* Ingest each NUL-separated page in turn. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct derive	*d;
	struct derive_config	 dc;
	struct derive_target	*dt;
	struct ingest		 ig;
	struct ingest_out	 o;
	const char		*page, *end, *nul;
	enum pt_format		 fmt;
	int64_t			 ts = 1700000000000;
	char			 err[256];

	if (size == 0)
		return (0);
	if (d == NULL) {
		log_set_level(LOG_LEVEL_ERROR);
		derive_config_default(&dc);
		d = derive_new(&dc);
	}
	fmt = data[0] & 1 ? PT_FORMAT_OPENMETRICS : PT_FORMAT_TEXT;
	dt = derive_target_new(d, "fuzz");
	ingest_out_init(&o);
	ingest_init(&ig, target, sizeof target / sizeof target[0], dt, NULL);
	page = (const char *)data + 1;
	end = (const char *)data + size;
	for (;;) {
		nul = memchr(page, '\0', (size_t)(end - page));
		ingest_out_reset(&o);
		(void)ingest_page(&ig, page, (size_t)((nul ? nul : end) -
		    page), fmt, ts, &o, err, sizeof err);
		ts += 1000;
		if (nul == NULL)
			break;
		page = nul + 1;
	}
	ingest_out_reset(&o);
	ingest_free(&ig, ts, &o);
	ingest_out_free(&o);
	derive_target_free(dt);
	return (0);
}
