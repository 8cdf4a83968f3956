/*
 * bench_pipeline: what one scraped sample costs on its way through rwbridge,
 * on the real vLLM and SGLang captures. Stages, each timed alone over many
 * scrapes of the same page (the steady state, the scrape cache warm):
 *   parse	promtext alone (MB/s and ns per sample)
 *   ingest	parse + cache lookup + TimeSeries record
 *   derive	the same with the derivations on (their extra cost)
 *   relabel	ingest with a 5-rule metric_relabel_configs dropping the
 *		noise families (per scraped sample, and per sample kept)
 *   snappy	compressing the records of a scrape
 *   queue	appending the compressed batch to the on-disk queue
 * and the bytes per sample of a compressed request and on disk. Figures
 * only, never assertions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "derive.h"
#include "ingest.h"
#include "log.h"
#include "promtext.h"
#include "queue.h"
#include "relabel.h"
#include "rwenc.h"
#include "xmalloc.h"

static const char *files[] = {
	"vllm-v1-deepseek.prom", "vllm-v0-qwen3.prom", "sglang-2024.prom"
};

/* Monotonic time in seconds. */
static double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/* Read a whole file. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*s;
	long	 n;

	f = fopen(path, "r");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = xmalloc((size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		exit(1);
	fclose(f);
	*len = (size_t)n;
	return (s);
}

/* Parse the page n times; return the samples of one page. */
static size_t
run_parse(const char *page, size_t len, int n)
{
	struct promtext	p;
	struct pt_item	it;
	char		err[256];
	size_t		samples = 0;
	int		i;

	for (i = 0; i < n; i++) {
		samples = 0;
		promtext_init(&p, page, len, PT_FORMAT_TEXT);
		while (promtext_next(&p, &it, err, sizeof err) != PT_EOF)
			if (it.kind == PT_SAMPLE)
				samples++;
	}
	return (samples);
}

/* The noise families of an engine's page, dropped in five rules. */
static const char noise_rules[] =
    "[{\"source_labels\":[\"__name__\"],\"regex\":\"python_gc_.*\","
    "\"action\":\"drop\"},"
    "{\"source_labels\":[\"__name__\"],\"regex\":\"python_info\","
    "\"action\":\"drop\"},"
    "{\"source_labels\":[\"__name__\"],\"regex\":\"process_.*\","
    "\"action\":\"drop\"},"
    "{\"source_labels\":[\"__name__\"],\"regex\":\"http_.*\","
    "\"action\":\"drop\"},"
    "{\"source_labels\":[\"__name__\"],\"regex\":\".*_created\","
    "\"action\":\"drop\"}]";

/* Ingest the page n times into one target; the records of the last. */
static void
run_ingest(const char *page, size_t len, int n, struct derive_target *dt,
    struct relabel *rl, struct ingest_out *o)
{
	static const struct label tl[] = {
		{ "instance", 8, "10.0.0.5:8000", 13 },
		{ "job", 3, "rollout", 7 },
	};
	struct ingest		ig;
	struct ingest_opts	opts;
	char			err[256];
	int			i;

	ingest_init(&ig, tl, 2, dt, NULL);
	memset(&opts, 0, sizeof opts);
	opts.metric_relabel = rl;
	opts.honor_timestamps = true;
	ingest_configure(&ig, &opts);
	for (i = 0; i < n; i++) {
		ingest_out_reset(o);
		if (!ingest_page(&ig, page, len, PT_FORMAT_TEXT,
		    1700000000000 + 15000 * (int64_t)i, o, err, sizeof err)) {
			fprintf(stderr, "ingest: %s\n", err);
			exit(1);
		}
	}
	ingest_free(&ig, 0, NULL);
}

int
main(void)
{
	const char		*dir = getenv("FIXTURES");
	struct derive_config	 dc;
	struct derive		*d;
	struct derive_target	*dt;
	struct ingest_out	 o;
	struct queue		*q;
	struct queue_opts	 qo = { .fsync = QUEUE_FSYNC_NEVER };
	struct queue_meta	 m = { 0, 0, 0 };
	struct queue_stats	 qs;
	struct buf		 z;
	char			 path[512], qdir[] = "/tmp/bench_queue.XXXXXX";
	char			 err[256], cmd[600];
	char			*page;
	size_t			 len, samples, f;
	double			 t0, parse, ing, der, snap, qa, rel;
	struct relabel		*rl;
	size_t			 kept;
	int			 n = 2000, i;

	if (dir == NULL)
		dir = "../shared/fixtures";
	log_set_level(LOG_LEVEL_ERROR);
	derive_config_default(&dc);
	rl = relabel_parse_text(noise_rules, "rules", err, sizeof err);
	if (rl == NULL) {
		fprintf(stderr, "%s\n", err);
		return (1);
	}
	buf_init(&z);
	ingest_out_init(&o);
	printf("%-24s %8s %9s %9s %9s %9s %9s %9s %8s %8s %9s %6s %9s\n",
	    "page (ns/sample)", "samples", "parse", "MB/s", "ingest",
	    "+derive", "snappy", "queue", "B/wire", "B/disk", "relabel",
	    "kept", "/kept");
	for (f = 0; f < sizeof files / sizeof files[0]; f++) {
		snprintf(path, sizeof path, "%s/exposition/%s", dir, files[f]);
		page = slurp(path, &len);

		t0 = now();
		samples = run_parse(page, len, n);
		parse = (now() - t0) / n;

		t0 = now();
		run_ingest(page, len, n, NULL, NULL, &o);
		ing = (now() - t0) / n;

		t0 = now();
		run_ingest(page, len, n, NULL, rl, &o);
		rel = (now() - t0) / n;
		kept = o.n;

		d = derive_new(&dc);
		dt = derive_target_new(d, "rollout");
		t0 = now();
		run_ingest(page, len, n, dt, NULL, &o);
		der = (now() - t0) / n;
		derive_target_free(dt);
		derive_free(d);

		t0 = now();
		for (i = 0; i < n; i++)
			rwenc_snappy(o.rec.data, o.rec.len, &z);
		snap = (now() - t0) / n;

		if (mkdtemp(qdir) == NULL)
			return (1);
		q = queue_open(qdir, &qo, err, sizeof err);
		m.nsamples = (uint32_t)o.n;
		t0 = now();
		for (i = 0; i < n; i++)
			queue_append(q, z.data, z.len, &m, err, sizeof err);
		qa = (now() - t0) / n;
		queue_stats(q, &qs);
		queue_close(q);
		snprintf(cmd, sizeof cmd, "rm -rf %s", qdir);
		if (system(cmd) != 0)
			return (1);
		memcpy(qdir + strlen(qdir) - 6, "XXXXXX", 6);

		printf("%-24s %8zu %9.1f %9.0f %9.1f %9.1f %9.1f %9.1f %8.1f "
		    "%8.1f %9.1f %6zu %9.1f\n", files[f], samples,
		    parse * 1e9 / samples, len / parse / 1e6,
		    ing * 1e9 / samples, der * 1e9 / samples,
		    snap * 1e9 / o.n, qa * 1e9 / o.n, (double)z.len / o.n,
		    (double)qs.bytes / qs.pending_samples,
		    rel * 1e9 / samples, kept, kept > 0 ? rel * 1e9 / kept : 0);
		free(page);
	}
	printf("ingest: parse, scrape-cache lookup and one TimeSeries record "
	    "per sample; +derive: the same with derivations on;\nsnappy and "
	    "queue: per record of a scrape (samples plus up/scrape_* series); "
	    "B/wire: compressed request bytes per sample;\nB/disk: queue "
	    "bytes per sample with record headers.\nrelabel: ingest with 5 "
	    "metric_relabel_configs dropping python_gc_*, python_info, "
	    "process_*, http_*, *_created\n(per scraped sample; kept: "
	    "samples sent; /kept: the same time per sample sent).\n");
	relabel_free(rl);
	ingest_out_free(&o);
	buf_free(&z);
	return (0);
}
