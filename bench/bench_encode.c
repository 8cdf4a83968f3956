/*
 * bench_encode: what one remote-write request costs to build. The workload
 * is a vLLM-like fleet: 2000 series of 5 to 8 labels (counters, gauges and
 * histogram buckets over 20 instances). It times, per sample, the fast path
 * (rwenc_series around cached label bytes, into a reused buffer), the same
 * request packed by protobuf-c from prebuilt structs, and snappy; per series,
 * the first-sight path (labels_finish and rwenc_labels). Figures only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "labels.h"
#include "remote.pb-c.h"
#include "rwenc.h"

#define NSERIES		2000
#define NINST		20
#define MAXLAB		8

struct bseries {
	char		*kv[2 * MAXLAB];	/* scraped name, value */
	size_t		 nkv;
	struct buf	 lab;		/* encoded final labels */
};

static const char *families[] = {
	"vllm:num_requests_running", "vllm:num_requests_waiting",
	"vllm:gpu_cache_usage_perc", "vllm:prompt_tokens_total",
	"vllm:generation_tokens_total", "vllm:num_preemptions_total",
};

static const char *buckets[] = {
	"0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1",
	"0.25", "0.5", "0.75", "1.0", "2.5", "5.0", "7.5", "10.0", "20.0",
	"40.0", "80.0", "+Inf",
};

static const char *histograms[] = {
	"vllm:time_to_first_token_seconds_bucket",
	"vllm:e2e_request_latency_seconds_bucket",
};

static const char *reasons[] = { "stop", "length", "abort" };

/* Return monotonic time in nanoseconds. */
static double
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e9 + (double)ts.tv_nsec);
}

/* Add a scraped label to s. */
static void
bs_add(struct bseries *s, const char *name, const char *value)
{
	s->kv[s->nkv++] = strdup(name);
	s->kv[s->nkv++] = strdup(value);
}

/* Build the workload's scraped label sets (series per instance: 100). */
static void
make_series(struct bseries *s)
{
	size_t	i, k, f;
	char	eng[8];

	for (i = 0; i < NSERIES; i++) {
		memset(&s[i], 0, sizeof s[i]);
		buf_init(&s[i].lab);
		k = i % 100;
		snprintf(eng, sizeof eng, "%zu", k % 2);
		if (k < 12) {
			f = k % (sizeof families / sizeof families[0]);
			bs_add(&s[i], "__name__", families[f]);
			bs_add(&s[i], "engine", eng);
			bs_add(&s[i], "model_name",
			    "meta-llama/Llama-3.1-8B-Instruct");
		} else if (k < 52) {
			bs_add(&s[i], "__name__", histograms[(k - 12) / 20]);
			bs_add(&s[i], "engine", "0");
			bs_add(&s[i], "le", buckets[(k - 12) % 20]);
			bs_add(&s[i], "model_name",
			    "meta-llama/Llama-3.1-8B-Instruct");
		} else {
			bs_add(&s[i], "__name__",
			    "vllm:request_generation_tokens_bucket");
			bs_add(&s[i], "engine", "0");
			bs_add(&s[i], "finished_reason", reasons[(k - 52) % 3]);
			bs_add(&s[i], "le", buckets[(k - 52) % 16]);
			bs_add(&s[i], "model_name",
			    "meta-llama/Llama-3.1-8B-Instruct");
		}
	}
}

/* Finish and encode every series' labels; return ns per series. */
static double
encode_labels(struct bseries *s, struct labels *l, double *avg_labels)
{
	struct label	tl[3];
	char		inst[32], err[128];
	size_t		i, j, total = 0;
	double		t0;

	tl[0].name = "job";
	tl[0].name_len = 3;
	tl[0].value = "vllm";
	tl[0].value_len = 4;
	tl[1].name = "instance";
	tl[1].name_len = 8;
	tl[2].name = "cluster";
	tl[2].name_len = 7;
	tl[2].value = "rollout-a";
	tl[2].value_len = 9;
	t0 = now_ns();
	for (i = 0; i < NSERIES; i++) {
		snprintf(inst, sizeof inst, "10.0.%zu.%zu:8000",
		    (i / 100) / 8, (i / 100) % 8 + 10);
		tl[1].value = inst;
		tl[1].value_len = strlen(inst);
		labels_reset(l);
		for (j = 0; j < s[i].nkv; j += 2)
			labels_add(l, s[i].kv[j], strlen(s[i].kv[j]),
			    s[i].kv[j + 1], strlen(s[i].kv[j + 1]));
		if (!labels_finish(l, tl, 3, err, sizeof err)) {
			fprintf(stderr, "labels_finish: %s\n", err);
			exit(1);
		}
		buf_reset(&s[i].lab);
		rwenc_labels(&s[i].lab, l->v, l->n);
		total += l->n;
	}
	*avg_labels = (double)total / NSERIES;
	return ((now_ns() - t0) / NSERIES);
}

/* Return the value series i has in round r. */
static double
value_of(size_t i, size_t r)
{
	if (i % 100 < 12 && i % 3 == 2)
		return ((double)((i * 7 + r) % 1000) / 1000.0);
	return ((double)(i * 1000 + r * 17));
}

/*
 * Build protobuf-c structs for the same request; each label set is decoded
 * from its encoded bytes (a TimeSeries of labels only), so both paths agree.
 */
static Prometheus__WriteRequest *
make_pbc(struct bseries *s)
{
	Prometheus__WriteRequest	*wr;
	Prometheus__TimeSeries		*ts;
	Prometheus__Sample		*sm;
	size_t				 i;

	wr = calloc(1, sizeof *wr);
	prometheus__write_request__init(wr);
	wr->n_timeseries = NSERIES;
	wr->timeseries = calloc(NSERIES, sizeof *wr->timeseries);
	for (i = 0; i < NSERIES; i++) {
		ts = prometheus__time_series__unpack(NULL, s[i].lab.len,
		    s[i].lab.data);
		if (ts == NULL) {
			fprintf(stderr, "cannot decode labels of %zu\n", i);
			exit(1);
		}
		sm = calloc(1, sizeof *sm);
		prometheus__sample__init(sm);
		ts->n_samples = 1;
		ts->samples = calloc(1, sizeof *ts->samples);
		ts->samples[0] = sm;
		wr->timeseries[i] = ts;
	}
	return (wr);
}

int
main(int argc, char **argv)
{
	static struct bseries		 s[NSERIES];
	Prometheus__WriteRequest	*wr;
	struct labels			 l;
	struct buf			 req, z, pb;
	size_t				 rounds = 500, r, i, len, nsamp;
	bool				 same;
	int64_t				 ts0 = 1764010620000;
	double				 t0, fast, pbc, snap, unsnap;
	double				 lab, avg;

	if (argc > 1)
		rounds = strtoul(argv[1], NULL, 10);
	labels_init(&l);
	buf_init(&req);
	buf_init(&z);
	buf_init(&pb);
	make_series(s);
	encode_labels(s, &l, &avg);		/* warm up */
	lab = encode_labels(s, &l, &avg);
	nsamp = rounds * NSERIES;

	/* Fast path: one request per round into a reused buffer. */
	t0 = now_ns();
	for (r = 0; r < rounds; r++) {
		buf_reset(&req);
		for (i = 0; i < NSERIES; i++)
			rwenc_series(&req, s[i].lab.data, s[i].lab.len,
			    value_of(i, r), ts0 + (int64_t)r * 15000);
	}
	fast = (now_ns() - t0) / (double)nsamp;

	/* protobuf-c: set the samples, size and pack into a reused buffer. */
	wr = make_pbc(s);
	t0 = now_ns();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < NSERIES; i++) {
			wr->timeseries[i]->samples[0]->value = value_of(i, r);
			wr->timeseries[i]->samples[0]->timestamp = ts0 +
			    (int64_t)r * 15000;
		}
		len = prometheus__write_request__get_packed_size(wr);
		buf_reset(&pb);
		buf_reserve(&pb, len);
		pb.len = prometheus__write_request__pack(wr, pb.data);
	}
	pbc = (now_ns() - t0) / (double)nsamp;
	same = pb.len == req.len && memcmp(pb.data, req.data, req.len) == 0;

	/* Snappy of the last request, and back. */
	t0 = now_ns();
	for (r = 0; r < rounds; r++)
		rwenc_snappy(req.data, req.len, &z);
	snap = (now_ns() - t0) / (double)nsamp;
	t0 = now_ns();
	for (r = 0; r < rounds; r++)
		rwenc_unsnappy(z.data, z.len, &pb);
	unsnap = (now_ns() - t0) / (double)nsamp;

	printf("workload: %d series, %.1f labels avg, %zu rounds\n", NSERIES,
	    avg, rounds);
	printf("new series (labels_finish + rwenc_labels): %8.1f ns/series\n",
	    lab);
	printf("rwenc_series fast path:                    %8.2f ns/sample\n",
	    fast);
	printf("protobuf-c structs (size + pack):          %8.2f ns/sample\n",
	    pbc);
	printf("snappy compress:                           %8.2f ns/sample\n",
	    snap);
	printf("snappy decompress:                         %8.2f ns/sample\n",
	    unsnap);
	printf("fast path and protobuf-c bytes: %s\n", same ? "identical" :
	    "DIFFER");
	printf("request: %zu bytes, %.1f bytes/sample uncompressed; %zu "
	    "bytes, %.1f bytes/sample snappy (%.1fx)\n", req.len,
	    (double)req.len / NSERIES, z.len, (double)z.len / NSERIES,
	    (double)req.len / (double)z.len);

	prometheus__write_request__free_unpacked(wr, NULL);
	for (i = 0; i < NSERIES; i++) {
		for (r = 0; r < s[i].nkv; r++)
			free(s[i].kv[r]);
		buf_free(&s[i].lab);
	}
	labels_free(&l);
	buf_free(&req);
	buf_free(&z);
	buf_free(&pb);
	return (0);
}
