/*
 * Unit tests for derive: exposition text goes through promtext into derive
 * and the derived samples are collected and compared. Covers PromQL's
 * histogram_quantile interpolation on worked examples, windows over a ring
 * of snapshots, counter resets, every engine's KV-cache formula, the ITL name
 * variants, the real fixture captures, failed scrapes and fleet aggregates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derive.h"
#include "promtext.h"
#include "tap.h"

struct got {
	char		 name[96];
	char		 labels[256];
	double		 v;
	int64_t		 ts;
};

static struct got	got[1024];
static size_t		ngot;
static int		unsorted;

/* Collect one derived sample (a derive_emit_fn). */
static void
emit_cb(void *arg, const char *name, const struct label *l, size_t nl,
    double v, int64_t ts)
{
	struct got	*g;
	size_t		 i, n = 0, len;

	(void)arg;
	if (ngot == sizeof got / sizeof got[0])
		return;
	g = &got[ngot++];
	snprintf(g->name, sizeof g->name, "%s", name);
	g->labels[0] = '\0';
	for (i = 0; i < nl; i++) {
		n += (size_t)snprintf(g->labels + n, sizeof g->labels - n,
		    "%s%.*s=\"%.*s\"", i == 0 ? "" : ",", (int)l[i].name_len,
		    l[i].name, (int)l[i].value_len, l[i].value);
		if (n >= sizeof g->labels)
			n = sizeof g->labels - 1;
		if (i == 0)
			continue;
		len = l[i].name_len < l[i - 1].name_len ? l[i].name_len :
		    l[i - 1].name_len;
		if (memcmp(l[i - 1].name, l[i].name, len) >= 0)
			unsorted++;
	}
	g->v = v;
	g->ts = ts;
}

/* Find a collected sample; labels NULL matches any label set. */
static const struct got *
find(const char *name, const char *labels)
{
	size_t	i;

	for (i = 0; i < ngot; i++) {
		if (strcmp(got[i].name, name) == 0 &&
		    (labels == NULL || strcmp(got[i].labels, labels) == 0))
			return (&got[i]);
	}
	return (NULL);
}

/* Return a collected sample's value, NaN if it is absent. */
static double
val(const char *name, const char *labels)
{
	const struct got	*g = find(name, labels);

	return (g == NULL ? NAN : g->v);
}

/* Feed a page's samples to t; false on a parse error. */
static bool
feed_samples(struct derive_target *t, const char *text)
{
	struct promtext	p;
	struct pt_item	it;
	enum pt_kind	k;
	char		err[256];

	promtext_init(&p, text, strlen(text), PT_FORMAT_TEXT);
	for (;;) {
		k = promtext_next(&p, &it, err, sizeof err);
		if (k == PT_EOF)
			return (true);
		if (k == PT_ERROR) {
			ok(0, "parse: %s", err);
			return (false);
		}
		if (k == PT_SAMPLE)
			derive_sample(t, &it);
	}
}

/* Run one successful scrape of text at ts, collecting what it emits. */
static void
scrape(struct derive_target *t, int64_t ts, const char *text)
{
	ngot = 0;
	derive_begin(t, ts);
	if (feed_samples(t, text))
		derive_end(t, emit_cb, NULL);
	else
		derive_abort(t);
}

/* Run one scrape of text at ts that fails before its end. */
static void
scrape_fail(struct derive_target *t, int64_t ts, const char *text)
{
	ngot = 0;
	derive_begin(t, ts);
	feed_samples(t, text);
	derive_abort(t);
}

/* Run derive_fleet at ts, collecting what it emits. */
static void
fleet(struct derive *d, int64_t ts)
{
	ngot = 0;
	derive_fleet(d, ts, emit_cb, NULL);
}

/* Append a histogram's bucket lines to buf. */
static void
hist(char *buf, size_t len, const char *family, const char *labels,
    const double *le, const double *c, size_t n)
{
	size_t	i, off = strlen(buf);
	char	les[32];

	for (i = 0; i < n && off < len; i++) {
		if (isinf(le[i]))
			snprintf(les, sizeof les, "+Inf");
		else
			snprintf(les, sizeof les, "%.17g", le[i]);
		off += (size_t)snprintf(buf + off, len - off,
		    "%s_bucket{%s%sle=\"%s\"} %.17g\n", family, labels,
		    labels[0] != '\0' ? "," : "", les, c[i]);
	}
}

/* Make a derive with the default config and one target in job "j". */
static struct derive *
setup(struct derive_target **t)
{
	struct derive_config	cfg;
	struct derive		*d;

	derive_config_default(&cfg);
	d = derive_new(&cfg);
	*t = derive_target_new(d, "j");
	return (d);
}

static const double zero[8];

#define NQ	4
static const char *e2e_q[NQ] = {
	"rollout:e2e_latency_seconds:p50", "rollout:e2e_latency_seconds:p90",
	"rollout:e2e_latency_seconds:p99", "rollout:e2e_latency_seconds:p999"
};

/* Worked histogram_quantile examples over one 15s increase. */
static const struct qcase {
	const char	*name;
	size_t		 n;
	double		 le[6];
	double		 c[6];
	double		 want[NQ];	/* p50 p90 p99 p999; NaN: absent */
} qcases[] = {
	/*
	 * p50: rank 20 is in (0.1,0.5]: 0.1 + 0.4 * (20-10)/(30-10) = 0.3.
	 * p90: rank 36 in (0.5,1]: 0.5 + 0.5 * (36-30)/(40-30) = 0.8.
	 * p99: rank 39.6: 0.5 + 0.5 * 9.6/10 = 0.98; p999: 39.96 -> 0.998.
	 */
	{ "interpolation", 4, { 0.1, 0.5, 1, INFINITY }, { 10, 30, 40, 40 },
	  { 0.3, 0.8, 0.98, 0.998 } },
	/*
	 * First bucket's lower bound is 0: p50 rank 20 of 40 in (0,2]:
	 * 2 * 20/30 = 1.3333; p90 rank 36 in (2,4]: 2 + 2 * 6/10 = 3.2;
	 * p99 rank 39.6: 2 + 2 * 9.6/10 = 3.92; p999: 2 + 2 * 9.96/10.
	 */
	{ "first bucket from 0", 3, { 2, 4, INFINITY }, { 30, 40, 40 },
	  { 4.0 / 3, 3.2, 3.92, 3.992 } },
	/* Rank 5 of 10 is in the +Inf bucket: the last finite bound, 0.5. */
	{ "rank in +Inf", 3, { 0.1, 0.5, INFINITY }, { 1, 2, 10 },
	  { 0.5, 0.5, 0.5, 0.5 } },
	/*
	 * Counts 10, 8 are forced to 10, 10: p50 rank 10 in (0,1]:
	 * 1 * 10/10 = 1; p90 rank 18 in (2,3]: 2 + 1 * (18-10)/(20-10) =
	 * 2.8 (2.8333 without the fix-up).
	 */
	{ "monotonic fix-up", 4, { 1, 2, 3, INFINITY }, { 10, 8, 20, 20 },
	  { 1, 2.8, 2.98, 2.998 } },
	/* Upper bound 0: rank 5 in the first bucket gives 0; p90 0.8. */
	{ "first bound 0", 3, { 0, 1, INFINITY }, { 5, 10, 10 },
	  { 0, 0.8, 0.98, 0.998 } },
	{ "no data", 3, { 0.1, 1, INFINITY }, { 0, 0, 0 },
	  { NAN, NAN, NAN, NAN } },
	{ "no +Inf bucket", 2, { 1, 2 }, { 5, 10 },
	  { NAN, NAN, NAN, NAN } },
};

/* Check quantiles against the worked examples. */
static void
test_quantiles(void)
{
	const struct qcase	*qc;
	struct derive_target	*t;
	struct derive		*d;
	char			 buf[2048];
	size_t			 i, k;
	double			 v;

	for (i = 0; i < sizeof qcases / sizeof qcases[0]; i++) {
		qc = &qcases[i];
		d = setup(&t);
		buf[0] = '\0';
		hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds",
		    "model_name=\"m\"", qc->le, zero, qc->n);
		scrape(t, 0, buf);
		ok(find(e2e_q[0], NULL) == NULL, "%s: first scrape, no sample",
		    qc->name);
		buf[0] = '\0';
		hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds",
		    "model_name=\"m\"", qc->le, qc->c, qc->n);
		scrape(t, 15000, buf);
		for (k = 0; k < NQ; k++) {
			v = val(e2e_q[k], "model_name=\"m\",window=\"1m\"");
			if (isnan(qc->want[k]))
				ok(isnan(v), "%s: %s absent", qc->name,
				    e2e_q[k]);
			else
				is_double(v, qc->want[k], 1e-9, "%s: %s",
				    qc->name, e2e_q[k]);
		}
		if (i == 0) {
			is_double(val("rollout:e2e_latency:tail_ratio",
			    "model_name=\"m\",window=\"5m\""), 0.98 / 0.3,
			    1e-9, "%s: tail_ratio p99/p50", qc->name);
			ok(find(e2e_q[0], "model_name=\"m\",window=\"5m\"") !=
			    NULL, "%s: 5m window too", qc->name);
			ok(got[0].ts == 15000, "%s: stamped with scrape ts",
			    qc->name);
		}
		derive_free(d);
	}
}

/* Check that each window uses only its own snapshots. */
static void
test_windows(void)
{
	static const double	 le[3] = { 1, 10, INFINITY };
	struct derive_target	*t;
	struct derive		*d;
	char			 buf[1024];
	double			 c[3];
	int			 k;

	d = setup(&t);
	for (k = 0; k <= 24; k++) {
		/* 10 requests per scrape, under 1s until k=8, then 1-10s. */
		c[0] = 10.0 * (k < 8 ? k : 8);
		c[1] = c[0] + 10.0 * (k > 8 ? k - 8 : 0);
		c[2] = c[1];
		buf[0] = '\0';
		hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds", "",
		    le, c, 3);
		scrape(t, (int64_t)k * 15000, buf);
		if (k == 0)
			ok(find(e2e_q[0], NULL) == NULL,
			    "window: one snapshot, no sample");
		if (k == 4) {
			/* Both windows from ts 0: 40 under 1s, rank 20. */
			is_double(val(e2e_q[0], "window=\"1m\""), 0.5, 1e-9,
			    "window: 1m at 60s");
			is_double(val(e2e_q[0], "window=\"5m\""), 0.5, 1e-9,
			    "window: 5m at 60s");
		}
		if (k == 12) {
			/* 1m from 120s (k=8): 40 in (1,10]: 1 + 9 * 20/40. */
			is_double(val(e2e_q[0], "window=\"1m\""), 5.5, 1e-9,
			    "window: 1m at 180s uses the last minute only");
			/* 5m from ts 0: 80 under 1s of 120, rank 60: 0.75. */
			is_double(val(e2e_q[0], "window=\"5m\""), 0.75, 1e-9,
			    "window: 5m at 180s");
		}
	}
	/*
	 * At 360s the 5m window starts at 60s (k=4): 40 under 1s, 160 in
	 * (1,10], rank 100: 1 + 9 * (100-40)/160 = 4.375.
	 */
	is_double(val(e2e_q[0], "window=\"5m\""), 4.375, 1e-9,
	    "window: 5m at 360s drops older snapshots");
	is_double(val(e2e_q[0], "window=\"1m\""), 5.5, 1e-9,
	    "window: 1m at 360s");
	derive_free(d);
}

/* Check custom windows' labels in Prometheus duration text. */
static void
test_window_labels(void)
{
	static const double	 le[2] = { 1, INFINITY };
	static const double	 c[2] = { 1, 2 };
	static const struct {
		int64_t		 ms;
		const char	*label;
	} w[] = {
		{ 30000, "window=\"30s\"" },
		{ 90000, "window=\"1m30s\"" },
		{ 3600000, "window=\"1h\"" },
		{ 500, "window=\"500ms\"" },
	};
	struct derive_config	 cfg;
	struct derive_target	*t;
	struct derive		*d;
	char			 buf[512];
	size_t			 i;

	derive_config_default(&cfg);
	cfg.nwindows = 4;
	for (i = 0; i < 4; i++)
		cfg.windows_ms[i] = w[i].ms;
	d = derive_new(&cfg);
	t = derive_target_new(d, "j");
	buf[0] = '\0';
	hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds", "", le,
	    zero, 2);
	scrape(t, 0, buf);
	buf[0] = '\0';
	hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds", "", le, c,
	    2);
	scrape(t, 400, buf);
	for (i = 0; i < 4; i++)
		ok(find(e2e_q[0], w[i].label) != NULL, "window label %s",
		    w[i].label);
	derive_free(d);
}

/* Check histogram counter resets, per label set. */
static void
test_hist_reset(void)
{
	static const double	 le[3] = { 1, 2, INFINITY };
	static const double	 s0[3] = { 100, 100, 100 };
	static const double	 s1[3] = { 110, 200, 200 };
	static const double	 s2[3] = { 5, 10, 10 };
	static const double	 e0[3][3] = {
		{ 0, 0, 0 }, { 10, 10, 10 }, { 4, 4, 4 } };
	static const double	 e1[3][3] = {
		{ 0, 0, 0 }, { 0, 10, 10 }, { 0, 20, 20 } };
	struct derive_target	*t;
	struct derive		*d;
	char			 buf[2048];
	int			 k;

	d = setup(&t);
	buf[0] = '\0';
	hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds", "", le, s0,
	    3);
	scrape(t, 0, buf);
	buf[0] = '\0';
	hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds", "", le, s1,
	    3);
	scrape(t, 15000, buf);
	buf[0] = '\0';
	hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds", "", le, s2,
	    3);
	scrape(t, 30000, buf);
	/*
	 * Steps (10,100,100) then reset (5,10,10): (15,110,110); p50 rank 55
	 * in (1,2]: 1 + (55-15)/(110-15) = 1.42105.
	 */
	is_double(val(e2e_q[0], "window=\"1m\""), 1 + 40.0 / 95, 1e-9,
	    "hist reset: new counts are the increase");
	derive_free(d);

	/*
	 * Two engines: engine 0 resets at the third scrape, engine 1 grows.
	 * Per series: (10,10,10)+(4,4,4) + (0,20,20) = (14,34,34), p50 rank 17
	 * in (1,2]: 1 + (17-14)/(34-14) = 1.15. (Summed first it would be
	 * 1.2667.)
	 */
	d = setup(&t);
	for (k = 0; k < 3; k++) {
		buf[0] = '\0';
		hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds",
		    "engine=\"0\"", le, e0[k], 3);
		hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds",
		    "engine=\"1\"", le, e1[k], 3);
		scrape(t, (int64_t)k * 15000, buf);
	}
	is_double(val(e2e_q[0], "window=\"1m\""), 1.15, 1e-9,
	    "hist reset: per label set");
	derive_free(d);

	/*
	 * Label sets with other bounds are re-bucketed onto the union of the
	 * bounds (0.5, 1, 2, +Inf): (10,20,20) at (1,2,+Inf) is 10 * 0.5/1 =
	 * 5 at 0.5, so (5,10,20,20); engine 2's 100 at 0.5 stays 100 above
	 * its last finite bound: (100,100,100,100). Sum (105,110,120,120):
	 * p50 rank 60 in (0,0.5]: 0.5 * 60/105; p90 rank 108 in (0.5,1]:
	 * 0.5 + 0.5 * 3/5 = 0.8.
	 */
	d = setup(&t);
	for (k = 0; k < 2; k++) {
		buf[0] = '\0';
		hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds",
		    "engine=\"0\"", le, e0[k], 3);
		hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds",
		    "engine=\"1\"", le, e1[k], 3);
		hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds",
		    "engine=\"2\"", (const double[]){ 0.5, INFINITY },
		    k == 0 ? zero : (const double[]){ 100, 100 }, 2);
		scrape(t, (int64_t)k * 15000, buf);
	}
	is_double(val(e2e_q[0], "window=\"1m\""), 0.5 * 60 / 105, 1e-9,
	    "label sets: p50 on the union of bounds");
	is_double(val(e2e_q[1], "window=\"1m\""), 0.8, 1e-9,
	    "label sets: p90 on the union of bounds");
	derive_free(d);
}

/* Check token rates, label sets summed, resets and failed scrapes. */
static void
test_rates(void)
{
	struct derive_target	*t;
	struct derive		*d;

	d = setup(&t);
	scrape(t, 0, "vllm:prompt_tokens_total{engine=\"0\"} 1000\n"
	    "vllm:prompt_tokens_total{engine=\"1\"} 500\n"
	    "vllm:generation_tokens_total{engine=\"0\"} 500\n");
	ok(find("rollout:prompt_tokens:rate", NULL) == NULL,
	    "rate: no previous scrape, no sample");
	scrape(t, 10000, "vllm:prompt_tokens_total{engine=\"0\"} 2000\n"
	    "vllm:prompt_tokens_total{engine=\"1\"} 600\n"
	    "vllm:generation_tokens_total{engine=\"0\"} 1500\n");
	/* (1000 + 100) / 10s. */
	is_double(val("rollout:prompt_tokens:rate", ""), 110, 1e-9,
	    "rate: prompt summed over engines");
	is_double(val("rollout:generation_tokens:rate", ""), 100, 1e-9,
	    "rate: generation");
	scrape(t, 20000, "vllm:prompt_tokens_total{engine=\"0\"} 300\n"
	    "vllm:prompt_tokens_total{engine=\"1\"} 700\n"
	    "vllm:generation_tokens_total{engine=\"0\"} 1500\n");
	/* Engine 0 reset: 300 + 100 over 10s. */
	is_double(val("rollout:prompt_tokens:rate", ""), 40, 1e-9,
	    "rate: counter reset counts the new value");
	is_double(val("rollout:generation_tokens:rate", ""), 0, 1e-9,
	    "rate: unchanged counter is 0");
	scrape_fail(t, 30000, "vllm:prompt_tokens_total{engine=\"0\"} 1e9\n");
	ok(ngot == 0, "abort: emits nothing");
	scrape(t, 40000, "vllm:prompt_tokens_total{engine=\"0\"} 500\n"
	    "vllm:prompt_tokens_total{engine=\"1\"} 900\n");
	/* Since the scrape at 20s: (200 + 200) / 20s. */
	is_double(val("rollout:prompt_tokens:rate", ""), 20, 1e-9,
	    "abort: rate from the last successful scrape");
	derive_free(d);

	d = setup(&t);
	scrape(t, 0, "sglang:prompt_tokens_total{model_name=\"x\"} 10\n"
	    "sglang:generation_tokens_total{model_name=\"x\"} 20\n");
	scrape(t, 2000, "sglang:prompt_tokens_total{model_name=\"x\"} 30\n"
	    "sglang:generation_tokens_total{model_name=\"x\"} 60\n");
	is_double(val("rollout:prompt_tokens:rate", "model_name=\"x\""), 10,
	    1e-9, "rate: sglang prompt");
	is_double(val("rollout:generation_tokens:rate", "model_name=\"x\""),
	    20, 1e-9, "rate: sglang generation");
	derive_free(d);
}

/* Check that a failed scrape leaves no trace in the histogram state. */
static void
test_abort_hist(void)
{
	static const double	 le[4] = { 0.1, 0.5, 1, INFINITY };
	static const double	 big[4] = { 1000, 1000, 1000, 1000 };
	static const double	 c[4] = { 10, 30, 40, 40 };
	struct derive_target	*t;
	struct derive		*d;
	char			 buf[1024];

	d = setup(&t);
	buf[0] = '\0';
	hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds", "", le,
	    zero, 4);
	scrape(t, 0, buf);
	buf[0] = '\0';
	hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds", "", le, big,
	    4);
	scrape_fail(t, 15000, buf);
	buf[0] = '\0';
	hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds", "", le, c,
	    4);
	scrape(t, 30000, buf);
	is_double(val(e2e_q[0], "window=\"1m\""), 0.3, 1e-9,
	    "abort: histogram snapshot not kept");
	derive_free(d);
}

/* KV-cache usage per engine. */
static const struct kvcase {
	const char	*name;
	const char	*text;
	const char	*labels;	/* NULL: no sample at all */
	double		 want;
} kvcases[] = {
	{ "vllm v1 kv_cache_usage_perc",
	  "vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"m\"} 0.25\n",
	  "model_name=\"m\"", 0.25 },
	{ "vllm v0 gpu_cache_usage_perc",
	  "vllm:gpu_cache_usage_perc{model_name=\"m\"} 0.5\n",
	  "model_name=\"m\"", 0.5 },
	{ "sglang token_usage",
	  "sglang:token_usage{model_name=\"m\"} 0.28\n"
	  "sglang:num_used_tokens{model_name=\"m\"} 1\n"
	  "sglang:max_total_num_tokens{model_name=\"m\"} 2\n",
	  "model_name=\"m\"", 0.28 },
	{ "sglang used/max",
	  "sglang:num_used_tokens 250\nsglang:max_total_num_tokens 1000\n",
	  "", 0.25 },
	{ "ascend dp 0: 1 - 30/100",
	  "vllm_profiling_free_kvcache_blocks{dp=\"0\"} 30\n"
	  "vllm_profiling_total_kvcache_blocks{dp=\"0\"} 100\n"
	  "vllm_profiling_free_kvcache_blocks{dp=\"1\"} 100\n"
	  "vllm_profiling_total_kvcache_blocks{dp=\"1\"} 100\n",
	  "dp=\"0\"", 0.7 },
	{ "ascend dp 1: 1 - 100/100",
	  "vllm_profiling_free_kvcache_blocks{dp=\"0\"} 30\n"
	  "vllm_profiling_total_kvcache_blocks{dp=\"0\"} 100\n"
	  "vllm_profiling_free_kvcache_blocks{dp=\"1\"} 100\n"
	  "vllm_profiling_total_kvcache_blocks{dp=\"1\"} 100\n",
	  "dp=\"1\"", 0 },
	{ "ascend without dp",
	  "vllm_profiling_free_kvcache_blocks{model_name=\"m\"} 25\n"
	  "vllm_profiling_total_kvcache_blocks{model_name=\"m\"} 100\n",
	  "model_name=\"m\"", 0.75 },
	{ "clamped to 1", "vllm:kv_cache_usage_perc 1.5\n", "", 1 },
	{ "clamped to 0", "vllm:gpu_cache_usage_perc -0.5\n", "", 0 },
	{ "sglang max 0 skipped",
	  "sglang:num_used_tokens 5\nsglang:max_total_num_tokens 0\n",
	  NULL, 0 },
	{ "ascend total 0 skipped",
	  "vllm_profiling_free_kvcache_blocks 0\n"
	  "vllm_profiling_total_kvcache_blocks 0\n", NULL, 0 },
	{ "NaN skipped", "vllm:kv_cache_usage_perc NaN\n", NULL, 0 },
	{ "other prefixes ignored",
	  "xvllm:kv_cache_usage_perc 0.5\nvllm:kv_cache_usage_perc_x 0.5\n"
	  "sglang 1\nvllm 1\n", NULL, 0 },
};

/* Check each engine's KV-cache formula. */
static void
test_kv(void)
{
	const struct kvcase	*kc;
	struct derive_target	*t;
	struct derive		*d;
	size_t			 i;

	for (i = 0; i < sizeof kvcases / sizeof kvcases[0]; i++) {
		kc = &kvcases[i];
		d = setup(&t);
		scrape(t, 1000, kc->text);
		if (kc->labels == NULL)
			ok(find("rollout:kv_cache_usage:ratio", NULL) == NULL,
			    "kv %s: no sample", kc->name);
		else
			is_double(val("rollout:kv_cache_usage:ratio",
			    kc->labels), kc->want, 1e-12, "kv %s", kc->name);
		derive_free(d);
	}
}

/* Check each latency source name, ITL's v0/v1 variants among them. */
static void
test_names(void)
{
	static const double	 le[4] = { 0.1, 0.5, 1, INFINITY };
	static const double	 c[4] = { 10, 30, 40, 40 };
	static const struct {
		const char	*family;
		const char	*out;
	} nc[] = {
		{ "vllm:inter_token_latency_seconds",
		  "rollout:itl_seconds:p50" },
		{ "vllm:time_per_output_token_seconds",
		  "rollout:itl_seconds:p50" },
		{ "sglang:inter_token_latency_seconds",
		  "rollout:itl_seconds:p50" },
		{ "sglang:time_per_output_token_seconds",
		  "rollout:itl_seconds:p50" },
		{ "vllm:time_to_first_token_seconds",
		  "rollout:ttft_seconds:p50" },
		{ "sglang:time_to_first_token_seconds",
		  "rollout:ttft_seconds:p50" },
		{ "sglang:e2e_request_latency_seconds",
		  "rollout:e2e_latency_seconds:p50" },
	};
	struct derive_target	*t;
	struct derive		*d;
	char			 buf[1024];
	size_t			 i;

	for (i = 0; i < sizeof nc / sizeof nc[0]; i++) {
		d = setup(&t);
		buf[0] = '\0';
		hist(buf, sizeof buf, nc[i].family, "", le, zero, 4);
		scrape(t, 0, buf);
		buf[0] = '\0';
		hist(buf, sizeof buf, nc[i].family, "", le, c, 4);
		scrape(t, 15000, buf);
		is_double(val(nc[i].out, "window=\"1m\""), 0.3, 1e-9,
		    "name %s -> %s", nc[i].family, nc[i].out);
		derive_free(d);
	}
}

/* Read a fixture file; NULL if it cannot be read. */
static char *
slurp(const char *name)
{
	const char	*dir = getenv("FIXTURES");
	char		 path[1024], *buf;
	FILE		*f;
	long		 len;

	if (dir == NULL)
		dir = "../shared/fixtures";
	snprintf(path, sizeof path, "%s/exposition/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return (NULL);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)len + 1);
	if (buf != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return (buf);
}

/* The real captures and the values in them. */
static const struct fixture {
	const char	*file;
	const char	*labels;
	double		 kv;
	double		 running;
	double		 waiting;
	double		 asleep;	/* NaN: no sleep input */
	double		 preempt;	/* rate, unchanged; NaN: none */
} fixtures[] = {
	{ "vllm-v1-deepseek.prom", "model_name=\"DeepSeek-V3.1\"",
	  0.00021202162620592713, 1, 0, 0, 0 },
	{ "vllm-v0-qwen3.prom", "model_name=\"Qwen/Qwen3-0.6B\"", 0, 0, 0,
	  NAN, 0 },
	{ "sglang-2024.prom",
	  "model_name=\"meta-llama/Llama-3.1-8B-Instruct\"", 0.28, 162,
	  2826, NAN, NAN },
};
#define NFIXTURES	(sizeof fixtures / sizeof fixtures[0])

/* Feed the real captures through promtext and derive. */
static void
test_fixtures(void)
{
	const struct fixture	*fx;
	struct derive_target	*t[NFIXTURES];
	struct derive_config	 cfg;
	struct derive		*d;
	char			*text[NFIXTURES];
	char			 wl[256];
	size_t			 i;

	derive_config_default(&cfg);
	d = derive_new(&cfg);
	for (i = 0; i < NFIXTURES; i++) {
		fx = &fixtures[i];
		t[i] = derive_target_new(d, "rollout");
		text[i] = slurp(fx->file);
		if (!ok(text[i] != NULL, "fixture %s: read", fx->file))
			continue;
		scrape(t[i], 1000, text[i]);
		is_double(val("rollout:kv_cache_usage:ratio", fx->labels),
		    fx->kv, 1e-15, "fixture %s: kv_cache_usage:ratio",
		    fx->file);
		is_double(val("rollout:requests_running", fx->labels),
		    fx->running, 0, "fixture %s: requests_running",
		    fx->file);
		is_double(val("rollout:requests_waiting", fx->labels),
		    fx->waiting, 0, "fixture %s: requests_waiting",
		    fx->file);
		is_double(val("rollout:server_idle", fx->labels),
		    fx->running + fx->waiting == 0 ? 1 : 0, 0,
		    "fixture %s: server_idle", fx->file);
		if (isnan(fx->asleep))
			ok(find("rollout:server_asleep", NULL) == NULL,
			    "fixture %s: no sleep input, no server_asleep",
			    fx->file);
		else
			is_double(val("rollout:server_asleep", fx->labels),
			    fx->asleep, 0, "fixture %s: server_asleep",
			    fx->file);
		scrape(t[i], 16000, text[i]);
		is_double(val("rollout:prompt_tokens:rate", fx->labels), 0,
		    0, "fixture %s: unchanged counters, rate 0", fx->file);
		if (isnan(fx->preempt))
			ok(find("rollout:preemptions:rate", NULL) == NULL,
			    "fixture %s: no preemption counter, no rate",
			    fx->file);
		else {
			snprintf(wl, sizeof wl, "%s,window=\"1m\"",
			    fx->labels);
			is_double(val("rollout:preemptions:rate", wl),
			    fx->preempt, 0,
			    "fixture %s: unchanged preemptions, rate 0",
			    fx->file);
		}
		ok(find("rollout:prefix_cache_hit:ratio", NULL) == NULL &&
		    find("rollout:truncated_requests:ratio", NULL) == NULL &&
		    find("rollout:spec_decode_acceptance:ratio", NULL) == NULL,
		    "fixture %s: no queries, requests or drafts in the window, "
		    "no ratios", fx->file);
		ok(find(e2e_q[0], NULL) == NULL && find("rollout:ttft_"
		    "seconds:p50", NULL) == NULL, "fixture %s: no requests "
		    "in window, no quantile", fx->file);
	}
	fleet(d, 20000);
	is_double(val("rollout:servers:count", "job=\"rollout\""), NFIXTURES,
	    0, "fixtures fleet: servers");
	is_double(val("rollout:requests_running:sum", "job=\"rollout\""), 163,
	    0, "fixtures fleet: running sum");
	is_double(val("rollout:requests_waiting:sum", "job=\"rollout\""),
	    2826, 0, "fixtures fleet: waiting sum");
	is_double(val("rollout:kv_cache_usage:ratio_max", "job=\"rollout\""),
	    0.28, 1e-15, "fixtures fleet: kv max");
	is_double(val("rollout:kv_cache_usage:ratio_min", "job=\"rollout\""),
	    0, 1e-15, "fixtures fleet: kv min");
	is_double(val("rollout:idle_servers:count", "job=\"rollout\""), 1, 0,
	    "fixtures fleet: idle servers");
	is_double(val("rollout:idle_servers:ratio", "job=\"rollout\""),
	    1.0 / 3, 1e-12, "fixtures fleet: idle ratio");
	for (i = 0; i < NFIXTURES; i++)
		free(text[i]);
	derive_free(d);
}

/* Build one synthetic server page. */
static void
page(char *buf, size_t len, double kv, double run, double wait,
    double prompt, double gen, const double *le, const double *c, size_t n)
{
	snprintf(buf, len, "vllm:kv_cache_usage_perc{model_name=\"m\"} %g\n"
	    "vllm:num_requests_running{model_name=\"m\"} %g\n"
	    "vllm:num_requests_waiting{model_name=\"m\"} %g\n", kv, run,
	    wait);
	if (prompt >= 0)
		snprintf(buf + strlen(buf), len - strlen(buf),
		    "vllm:prompt_tokens_total{model_name=\"m\"} %g\n"
		    "vllm:generation_tokens_total{model_name=\"m\"} %g\n",
		    prompt, gen);
	hist(buf, len, "vllm:e2e_request_latency_seconds",
	    "model_name=\"m\"", le, c, n);
}

/* Check fleet aggregates per job. */
static void
test_fleet(void)
{
	static const double	 le[5] = { 1, 2, 4, 8, INFINITY };
	static const double	 ca[5] = { 10, 20, 20, 20, 20 };
	static const double	 cb[5] = { 10, 10, 10, 20, 20 };
	static const double	 lec[2] = { 0.5, INFINITY };
	static const double	 cc[2] = { 100, 100 };
	static const char	*jl = "job=\"rollout\"";
	static const char	*jw = "job=\"rollout\",window=\"1m\"";
	struct derive_target	*a, *b, *c, *dd, *e;
	struct derive_config	 cfg;
	struct derive		*d;
	char			 buf[4096];

	derive_config_default(&cfg);
	d = derive_new(&cfg);
	a = derive_target_new(d, "rollout");
	b = derive_target_new(d, "rollout");
	c = derive_target_new(d, "rollout");
	dd = derive_target_new(d, "rollout");
	e = derive_target_new(d, "other");

	fleet(d, 0);
	is_double(val("rollout:servers:count", jl), 0, 0,
	    "fleet: no scrape yet, no servers");
	ok(find("rollout:kv_cache_usage:ratio_mean", NULL) == NULL,
	    "fleet: no scrape yet, no kv");

	page(buf, sizeof buf, 0.2, 0, 0, 0, 0, le, zero, 5);
	scrape(a, 0, buf);
	page(buf, sizeof buf, 0.6, 3, 1, 0, 0, le, zero, 5);
	scrape(b, 0, buf);
	page(buf, sizeof buf, 0.4, 0, 0, -1, 0, lec, zero, 2);
	scrape(c, 0, buf);
	page(buf, sizeof buf, 1, 0, 0, -1, 0, le, zero, 5);
	scrape(dd, 0, buf);
	page(buf, sizeof buf, 0.5, 0, 0, -1, 0, le, zero, 5);
	scrape(e, 0, buf);

	page(buf, sizeof buf, 0.2, 0, 0, 150, 300, le, ca, 5);
	scrape(a, 15000, buf);
	page(buf, sizeof buf, 0.6, 3, 1, 300, 600, le, cb, 5);
	scrape(b, 15000, buf);
	page(buf, sizeof buf, 0.4, 0, 0, -1, 0, lec, cc, 2);
	scrape(c, 15000, buf);
	scrape_fail(dd, 15000, "vllm:kv_cache_usage_perc 1\n");

	fleet(d, 15500);
	is_double(val("rollout:servers:count", jl), 3, 0,
	    "fleet: servers, failed scrape left out");
	is_double(val("rollout:kv_cache_usage:ratio_mean", jl), 0.4, 1e-12,
	    "fleet: kv mean");
	is_double(val("rollout:kv_cache_usage:ratio_max", jl), 0.6, 1e-12,
	    "fleet: kv max");
	is_double(val("rollout:kv_cache_usage:ratio_min", jl), 0.2, 1e-12,
	    "fleet: kv min");
	is_double(val("rollout:kv_cache_usage:imbalance", jl), 0.4, 1e-12,
	    "fleet: kv imbalance");
	is_double(val("rollout:requests_running:sum", jl), 3, 0,
	    "fleet: running sum");
	is_double(val("rollout:requests_waiting:sum", jl), 1, 0,
	    "fleet: waiting sum");
	is_double(val("rollout:idle_servers:count", jl), 2, 0,
	    "fleet: idle servers");
	is_double(val("rollout:idle_servers:ratio", jl), 2.0 / 3, 1e-12,
	    "fleet: idle ratio while the fleet has work");
	is_double(val("rollout:busy_servers:count", jl), 1, 0,
	    "fleet: busy servers, the ratio's other part");
	/* (150 + 300) / 15s and (300 + 600) / 15s. */
	is_double(val("rollout:prompt_tokens:rate_sum", jl), 30, 1e-9,
	    "fleet: prompt rate sum");
	is_double(val("rollout:generation_tokens:rate_sum", jl), 60, 1e-9,
	    "fleet: generation rate sum");
	/*
	 * a + b = (20,30,30,40,40) at (1,2,4,8,+Inf); c has other bounds, so
	 * both go onto the union (0.5,1,2,4,8,+Inf): a + b is 20 * 0.5 = 10
	 * at 0.5, c is 100 at every bound (all of it at or below 0.5). Sum
	 * (110,120,130,130,140,140). p50 rank 70 in (0,0.5]: 0.5 * 70/110.
	 * p99 rank 138.6 in (4,8]: 4 + 4 * 8.6/10 = 7.44. Slow: k * median
	 * = 2.5 * 70/110 = 1.5909 lies in (1,2] with 10 requests: 10 *
	 * (2 - 1.5909) plus the 10 in (4,8].
	 */
	is_double(val(e2e_q[0], jw), 0.5 * 70 / 110, 1e-9,
	    "fleet: p50 over mismatched bounds, on their union");
	is_double(val(e2e_q[2], jw), 7.44, 1e-9, "fleet: p99");
	is_double(val("rollout:e2e_latency:tail_ratio", jw),
	    7.44 / (0.5 * 70 / 110), 1e-9, "fleet: tail ratio");
	is_double(val("rollout:slow_requests:count", jw),
	    10 * (2 - 2.5 * 70 / 110) + 10, 1e-9, "fleet: slow requests");
	ok(find("rollout:servers:count", jl) != NULL &&
	    find("rollout:servers:count", jl)->ts == 15500,
	    "fleet: stamped with the fleet ts");
	is_double(val("rollout:servers:count", "job=\"other\""), 1, 0,
	    "fleet: other job apart");
	is_double(val("rollout:idle_servers:count", "job=\"other\""), 1, 0,
	    "fleet: idle count with no work");
	ok(find("rollout:idle_servers:ratio", "job=\"other\"") == NULL,
	    "fleet: no idle ratio when the fleet has no work");

	page(buf, sizeof buf, 1, 0, 0, -1, 0, le, zero, 5);
	scrape(dd, 30000, buf);
	fleet(d, 30500);
	is_double(val("rollout:servers:count", jl), 4, 0,
	    "fleet: target back after a good scrape");
	is_double(val("rollout:kv_cache_usage:ratio_max", jl), 1, 0,
	    "fleet: its kv counts again");

	derive_target_free(c);
	derive_target_free(e);
	fleet(d, 31000);
	is_double(val("rollout:servers:count", jl), 3, 0,
	    "fleet: freed target left out");
	ok(find("rollout:servers:count", "job=\"other\"") == NULL,
	    "fleet: job gone with its last target");
	derive_target_free(NULL);
	derive_free(d);
	derive_free(NULL);
	ok(1, "free: NULL and targets still in a derive");
}

/*
 * Fleet quantiles over two bucket layouts, re-bucketed onto the union of
 * their bounds: a (10,20,20) at (1,2,+Inf), b (0,10,10) at (1.5,3,+Inf).
 * On (1,1.5,2,3,+Inf) a is (10,15,20,20,20) (its +Inf share stays at
 * +Inf), b is (0,0,10*0.5/1.5,10,10); the sum (10,15,23.33,30,30). p50
 * rank 15 in (1,1.5]: 1.5. p90 rank 27 in (2,3]: 2 + (27-23.33)/6.67.
 * The response-length maximum is the highest union bucket that gained.
 */
static void
test_rebucket(void)
{
	static const double	 la[3] = { 1, 2, INFINITY };
	static const double	 ca[3] = { 10, 20, 20 };
	static const double	 lb[3] = { 1.5, 3, INFINITY };
	static const double	 cb[3] = { 0, 10, 10 };
	static const char	*fam[2] = { "vllm:e2e_request_latency_seconds",
	    "vllm:request_generation_tokens" };
	static const char	*jw = "job=\"j\",window=\"1m\"";
	struct derive_target	*a, *b;
	struct derive		*d;
	char			 buf[2048];
	double			 b2 = 10 * 0.5 / 1.5;
	int			 k, f;

	d = setup(&a);
	b = derive_target_new(d, "j");
	for (k = 0; k < 2; k++) {
		buf[0] = '\0';
		for (f = 0; f < 2; f++)
			hist(buf, sizeof buf, fam[f], "", la, k ? ca : zero,
			    3);
		scrape(a, k * 15000, buf);
		buf[0] = '\0';
		for (f = 0; f < 2; f++)
			hist(buf, sizeof buf, fam[f], "", lb, k ? cb : zero,
			    3);
		scrape(b, k * 15000, buf);
	}
	fleet(d, 15500);
	is_double(val(e2e_q[0], jw), 1.5, 1e-9, "rebucket: fleet p50");
	is_double(val(e2e_q[1], jw), 2 + (27 - 20 - b2) / (30 - 20 - b2),
	    1e-9, "rebucket: fleet p90");
	is_double(val("rollout:generation_tokens:p50", jw), 1.5, 1e-9,
	    "rebucket: fleet response length p50");
	is_double(val("rollout:generation_tokens:max_bucket", jw), 3, 0,
	    "rebucket: fleet response length max_bucket");
	ok(find("rollout:generation_tokens:p999", NULL) == NULL,
	    "rebucket: no p999 of response length");
	derive_free(d);
}

/* One sleep case: a page and what server_asleep and server_idle say. */
static const struct sleepcase {
	const char	*name;
	const char	*page;
	double		 asleep;	/* NaN: no sample */
	double		 idle;
} sleepcases[] = {
	{ "vLLM awake, idle",
	  "vllm:num_requests_running 0\nvllm:num_requests_waiting 0\n"
	  "vllm:engine_sleep_state{engine=\"0\",sleep_state=\"awake\"} 1\n"
	  "vllm:engine_sleep_state{engine=\"0\",sleep_state=\"discard_all\"}"
	  " 0\n", 0, 1 },
	{ "vLLM asleep (level 1)",
	  "vllm:num_requests_running 0\nvllm:num_requests_waiting 0\n"
	  "vllm:engine_sleep_state{engine=\"0\",sleep_state=\"awake\"} 0\n"
	  "vllm:engine_sleep_state{engine=\"0\",sleep_state="
	  "\"weights_offloaded\"} 1\n", 1, 0 },
	{ "vLLM one of two engines asleep",
	  "vllm:num_requests_running 0\nvllm:num_requests_waiting 0\n"
	  "vllm:engine_sleep_state{engine=\"0\",sleep_state=\"awake\"} 0\n"
	  "vllm:engine_sleep_state{engine=\"1\",sleep_state=\"awake\"} 1\n",
	  0, 1 },
	{ "SGLang paused, nothing running",
	  "sglang:num_running_reqs 0\nsglang:num_queue_reqs 4\n"
	  "sglang:num_paused_reqs 7\n", 1, 0 },
	{ "SGLang paused but running",
	  "sglang:num_running_reqs 2\nsglang:num_queue_reqs 0\n"
	  "sglang:num_paused_reqs 7\n", 0, 0 },
	{ "SGLang nothing paused",
	  "sglang:num_running_reqs 0\nsglang:num_queue_reqs 0\n"
	  "sglang:num_paused_reqs 0\n", 0, 1 },
	{ "no sleep input",
	  "vllm:num_requests_running 0\nvllm:num_requests_waiting 0\n",
	  NAN, 1 },
};

/* Check rollout:server_asleep and that an asleep server is not idle. */
static void
test_sleep(void)
{
	const struct sleepcase	*sc;
	struct derive_target	*t;
	struct derive		*d;
	size_t			 i;
	double			 v;

	for (i = 0; i < sizeof sleepcases / sizeof sleepcases[0]; i++) {
		sc = &sleepcases[i];
		d = setup(&t);
		scrape(t, 0, sc->page);
		v = val("rollout:server_asleep", "");
		if (isnan(sc->asleep))
			ok(isnan(v), "sleep: %s: no server_asleep", sc->name);
		else
			is_double(v, sc->asleep, 0, "sleep: %s: server_asleep",
			    sc->name);
		is_double(val("rollout:server_idle", ""), sc->idle, 0,
		    "sleep: %s: server_idle", sc->name);
		fleet(d, 500);
		if (!isnan(sc->asleep))
			is_double(val("rollout:asleep_servers:count",
			    "job=\"j\""), sc->asleep, 0,
			    "sleep: %s: asleep_servers:count", sc->name);
		is_double(val("rollout:idle_servers:count", "job=\"j\""),
		    sc->idle, 0, "sleep: %s: idle_servers:count", sc->name);
		derive_free(d);
	}
}

/*
 * Windowed counter series: two scrapes 15 s apart, the second page's
 * counters given as increases over the first's (which has them at 100,
 * or omits the series for NaN). Values are num/den of the increases.
 */
static const struct ctrcase {
	const char	*name;
	const char	*page;		/* %g: the counters, by order */
	double		 inc[4];
	const char	*series;
	double		 want;		/* NaN: no sample */
} ctrcases[] = {
	{ "prefix hits (v1 names)",
	  "vllm:prefix_cache_queries_total{engine=\"0\"} %g\n"
	  "vllm:prefix_cache_hits_total{engine=\"0\"} %g\n",
	  { 400, 100 }, "rollout:prefix_cache_hit:ratio", 0.25 },
	{ "prefix hits (deprecated gpu_ names)",
	  "vllm:gpu_prefix_cache_queries_total %g\n"
	  "vllm:gpu_prefix_cache_hits_total %g\n",
	  { 200, 150 }, "rollout:prefix_cache_hit:ratio", 0.75 },
	{ "prefix hits: v1 names win over deprecated",
	  "vllm:prefix_cache_queries_total %g\n"
	  "vllm:prefix_cache_hits_total %g\n"
	  "vllm:gpu_prefix_cache_queries_total %g\n"
	  "vllm:gpu_prefix_cache_hits_total %g\n",
	  { 100, 10, 100, 90 }, "rollout:prefix_cache_hit:ratio", 0.1 },
	{ "prefix hits (SGLang cached / prompt tokens)",
	  "sglang:prompt_tokens_total %g\nsglang:cached_tokens_total %g\n",
	  { 1000, 600 }, "rollout:prefix_cache_hit:ratio", 0.6 },
	{ "prefix hits: no queries, no sample",
	  "vllm:prefix_cache_queries_total %g\n"
	  "vllm:prefix_cache_hits_total %g\n",
	  { 0, 0 }, "rollout:prefix_cache_hit:ratio", NAN },
	{ "prefix hits: hits missing, no sample",
	  "vllm:prefix_cache_queries_total %g\n",
	  { 100 }, "rollout:prefix_cache_hit:ratio", NAN },
	{ "truncated: length / all reasons",
	  "vllm:request_success_total{finished_reason=\"stop\"} %g\n"
	  "vllm:request_success_total{finished_reason=\"length\"} %g\n"
	  "vllm:request_success_total{finished_reason=\"abort\"} %g\n",
	  { 70, 20, 10 }, "rollout:truncated_requests:ratio", 0.2 },
	{ "truncated: none finished, no sample",
	  "vllm:request_success_total{finished_reason=\"stop\"} %g\n"
	  "vllm:request_success_total{finished_reason=\"length\"} %g\n",
	  { 0, 0 }, "rollout:truncated_requests:ratio", NAN },
	{ "truncated: no length series, no sample",
	  "vllm:request_success_total{finished_reason=\"stop\"} %g\n",
	  { 5 }, "rollout:truncated_requests:ratio", NAN },
	{ "truncated: zero is a value",
	  "vllm:request_success_total{finished_reason=\"stop\"} %g\n"
	  "vllm:request_success_total{finished_reason=\"length\"} %g\n",
	  { 8, 0 }, "rollout:truncated_requests:ratio", 0 },
	{ "preemptions per second (vLLM)",
	  "vllm:num_preemptions_total{engine=\"0\"} %g\n",
	  { 30 }, "rollout:preemptions:rate", 2 },
	{ "retractions per second (SGLang)",
	  "sglang:num_retracted_requests_total %g\n",
	  { 0 }, "rollout:preemptions:rate", 0 },
	{ "spec acceptance ratio (vLLM)",
	  "vllm:spec_decode_num_drafts_total %g\n"
	  "vllm:spec_decode_num_draft_tokens_total %g\n"
	  "vllm:spec_decode_num_accepted_tokens_total %g\n",
	  { 100, 300, 210 }, "rollout:spec_decode_acceptance:ratio", 0.7 },
	{ "spec mean acceptance length (vLLM): 1 + accepted / drafts",
	  "vllm:spec_decode_num_drafts_total %g\n"
	  "vllm:spec_decode_num_draft_tokens_total %g\n"
	  "vllm:spec_decode_num_accepted_tokens_total %g\n",
	  { 100, 300, 210 }, "rollout:spec_decode_acceptance_length:mean",
	  3.1 },
	{ "spec acceptance (SGLang gauge, weighted by tokens)",
	  "sglang:generation_tokens_total %g\n"
	  "sglang:spec_accept_rate 0.6\nsglang:spec_accept_length 2.8\n",
	  { 500 }, "rollout:spec_decode_acceptance:ratio", 0.6 },
	{ "spec length (SGLang gauge)",
	  "sglang:generation_tokens_total %g\n"
	  "sglang:spec_accept_rate 0.6\nsglang:spec_accept_length 2.8\n",
	  { 500 }, "rollout:spec_decode_acceptance_length:mean", 2.8 },
	{ "spec: no drafts, no sample",
	  "vllm:spec_decode_num_drafts_total %g\n"
	  "vllm:spec_decode_num_draft_tokens_total %g\n"
	  "vllm:spec_decode_num_accepted_tokens_total %g\n",
	  { 0, 0, 0 }, "rollout:spec_decode_acceptance:ratio", NAN },
};

/* Check the windowed counter series against worked cases. */
static void
test_counter_windows(void)
{
	const struct ctrcase	*cc;
	struct derive_target	*t;
	struct derive		*d;
	char			 buf[1024];
	size_t			 i;
	double			 v;

	for (i = 0; i < sizeof ctrcases / sizeof ctrcases[0]; i++) {
		cc = &ctrcases[i];
		d = setup(&t);
		snprintf(buf, sizeof buf, cc->page, 100.0, 100.0, 100.0,
		    100.0);
		scrape(t, 0, buf);
		ok(find(cc->series, NULL) == NULL, "%s: first scrape, none",
		    cc->name);
		snprintf(buf, sizeof buf, cc->page, 100 + cc->inc[0],
		    100 + cc->inc[1], 100 + cc->inc[2], 100 + cc->inc[3]);
		scrape(t, 15000, buf);
		v = val(cc->series, "window=\"1m\"");
		if (isnan(cc->want))
			ok(isnan(v), "%s: no %s", cc->name, cc->series);
		else
			is_double(v, cc->want, 1e-9, "%s: %s", cc->name,
			    cc->series);
		derive_free(d);
	}
}

/*
 * Window sums across a counter reset and the fleet's sums of numerators
 * and denominators: a's hits 10/100 then reset to 5/50 (counts from 0),
 * b's 90/100; fleet (15 + 90) / (150 + 100).
 */
static void
test_counter_fleet(void)
{
	static const char	*pg = "vllm:prefix_cache_queries_total %g\n"
	    "vllm:prefix_cache_hits_total %g\n"
	    "vllm:num_preemptions_total %g\n";
	struct derive_target	*a, *b;
	struct derive		*d;
	char			 buf[512];

	d = setup(&a);
	b = derive_target_new(d, "j");
	snprintf(buf, sizeof buf, pg, 1000.0, 500.0, 0.0);
	scrape(a, 0, buf);
	snprintf(buf, sizeof buf, pg, 1100.0, 510.0, 3.0);
	scrape(a, 10000, buf);
	snprintf(buf, sizeof buf, pg, 50.0, 5.0, 3.0);
	scrape(a, 20000, buf);
	is_double(val("rollout:prefix_cache_hit:ratio", "window=\"1m\""),
	    15.0 / 150, 1e-12, "counter reset: counted from 0 in the window");
	is_double(val("rollout:preemptions:rate", "window=\"1m\""),
	    3.0 / 20, 1e-12,
	    "counter reset: preemptions over the 20 s the steps span");
	snprintf(buf, sizeof buf, pg, 0.0, 0.0, 0.0);
	scrape(b, 0, buf);
	snprintf(buf, sizeof buf, pg, 100.0, 90.0, 1.0);
	scrape(b, 20000, buf);
	fleet(d, 20500);
	is_double(val("rollout:prefix_cache_hit:ratio",
	    "job=\"j\",window=\"1m\""), 105.0 / 250, 1e-12,
	    "fleet: prefix hit ratio from summed counters");
	is_double(val("rollout:preemptions:rate_sum",
	    "job=\"j\",window=\"1m\""), 0.15 + 0.05, 1e-12,
	    "fleet: preemption rates summed");
	derive_free(d);
}

/* One scrape of a wave scenario: a server's load and finished count. */
struct wstep {
	int64_t		 ts;
	double		 run[2];	/* per server; < 0: asleep */
	double		 done[2];	/* e2e _count */
};

/* A page for one server of a wave step. */
static void
wave_page(char *buf, size_t len, double run, double done)
{
	snprintf(buf, len, "vllm:num_requests_running %g\n"
	    "vllm:num_requests_waiting 0\n"
	    "vllm:engine_sleep_state{sleep_state=\"awake\"} %d\n"
	    "vllm:e2e_request_latency_seconds_count %g\n",
	    run < 0 ? 0 : run, run < 0 ? 0 : 1, done);
}

/*
 * A wave over two servers, scraped at 0, 1000, ..., fleet evaluated 500
 * ms after each scrape. Work from 1000 (both) to 5000 (a last); b idle at
 * 3000, asleep from 4000. Finished: 11 at 2000, 6 at 3000, 2 at 4000, 1
 * at 5000 (20). t50: the 10th is counted at 2000 (1 s); t90: the 18th at
 * 4000 (3 s); t99: the 20th at 5000 (4 s); duration 4 s, tail 1 s. Busy
 * server-seconds: 2 + 2 + 1 + 1 = 6 (evaluations at 1500..4500, each 1 s);
 * idle: b at 3500 only (asleep at 4500): 1.
 */
static const struct wstep wsteps[] = {
	{ 0,	{ 0, 0 },	{ 0, 0 } },
	{ 1000,	{ 3, 2 },	{ 0, 0 } },
	{ 2000,	{ 2, 1 },	{ 10, 1 } },
	{ 3000,	{ 1, 0 },	{ 16, 1 } },
	{ 4000,	{ 1, -1 },	{ 18, 1 } },
	{ 5000,	{ 0, -1 },	{ 19, 1 } },
	{ 6000,	{ 0, -1 },	{ 19, 1 } },
};

/* Check wave detection, its figures and the server-second counters. */
static void
test_waves(void)
{
	static const char	*jl = "job=\"j\"";
	struct derive_target	*t[2];
	struct derive		*d;
	char			 buf[512];
	size_t			 i, k;

	d = setup(&t[0]);
	t[1] = derive_target_new(d, "j");
	for (i = 0; i < sizeof wsteps / sizeof wsteps[0]; i++) {
		for (k = 0; k < 2; k++) {
			wave_page(buf, sizeof buf, wsteps[i].run[k],
			    wsteps[i].done[k]);
			scrape(t[k], wsteps[i].ts, buf);
		}
		fleet(d, wsteps[i].ts + 500);
		if (wsteps[i].ts == 4000) {
			is_double(val("rollout:wave_elapsed_seconds", jl), 3.5,
			    1e-9, "waves: elapsed while in progress");
			ok(find("rollout:wave_duration_seconds", jl) == NULL,
			    "waves: no finished wave yet");
		}
	}
	is_double(val("rollout:waves_total", jl), 1, 0, "waves: one ended");
	is_double(val("rollout:wave_duration_seconds", jl), 4, 1e-9,
	    "waves: duration");
	is_double(val("rollout:wave_requests", jl), 20, 0, "waves: requests");
	is_double(val("rollout:wave_completion_seconds:p50", jl), 1, 1e-9,
	    "waves: 50 %% done after");
	is_double(val("rollout:wave_completion_seconds:p90", jl), 3, 1e-9,
	    "waves: 90 %% done after");
	is_double(val("rollout:wave_completion_seconds:p99", jl), 4, 1e-9,
	    "waves: 99 %% done after");
	is_double(val("rollout:wave_tail_seconds", jl), 1, 1e-9,
	    "waves: tail = duration - t90");
	is_double(val("rollout:busy_server_seconds_total", jl), 6, 1e-9,
	    "waves: busy server-seconds");
	is_double(val("rollout:idle_server_seconds_total", jl), 1, 1e-9,
	    "waves: idle server-seconds, asleep not counted");
	ok(find("rollout:wave_elapsed_seconds", jl) == NULL,
	    "waves: no elapsed between waves");

	/* A fleet evaluation after a long gap accounts nothing. */
	wave_page(buf, sizeof buf, 1, 19);
	scrape(t[0], 7000, buf);
	fleet(d, 7500);
	is_double(val("rollout:busy_server_seconds_total", jl), 7, 1e-9,
	    "waves: a new wave's first second");
	scrape(t[0], 200000, buf);
	fleet(d, 200500);
	is_double(val("rollout:busy_server_seconds_total", jl), 7, 1e-9,
	    "waves: a gap over 60 s is not accounted");
	scrape(t[0], 201000, buf);
	fleet(d, 201500);
	is_double(val("rollout:busy_server_seconds_total", jl), 8, 1e-9,
	    "waves: counting resumes after the gap");
	derive_free(d);

	/* A wave already running when rwbridge starts is not reported. */
	d = setup(&t[0]);
	wave_page(buf, sizeof buf, 2, 0);
	scrape(t[0], 0, buf);
	fleet(d, 500);
	wave_page(buf, sizeof buf, 0, 5);
	scrape(t[0], 1000, buf);
	fleet(d, 1500);
	is_double(val("rollout:waves_total", jl), 0, 0,
	    "waves: one in progress at start is not counted");
	ok(find("rollout:wave_duration_seconds", jl) == NULL &&
	    find("rollout:wave_elapsed_seconds", NULL) == NULL,
	    "waves: nor has a duration or elapsed time");
	derive_free(d);

	/* No load input: no counters, no waves. */
	d = setup(&t[0]);
	scrape(t[0], 0, "vllm:kv_cache_usage_perc 0.5\n");
	fleet(d, 500);
	ok(find("rollout:idle_server_seconds_total", NULL) == NULL &&
	    find("rollout:waves_total", NULL) == NULL,
	    "waves: a page without running/waiting gives no counters");
	derive_free(d);
}

/*
 * A reset inside the window is summed step by step; once it has left the
 * window the increase is the newest snapshot minus the oldest in it. At
 * 60 s (window from 0): (1,2,2) after the reset + (2,2,2) + (2,4,4) +
 * (2,0,0) = (7,8,8), p50 4/7. At 90 s (from 30 s): (11,12,12) - (3,4,4)
 * = (8,8,8), p50 0.5, p99 0.99.
 */
static void
test_reset_leaves_window(void)
{
	static const double	 le[3] = { 1, 2, INFINITY };
	static const double	 c[7][3] = { { 10, 20, 20 }, { 1, 2, 2 },
	    { 3, 4, 4 }, { 5, 8, 8 }, { 7, 8, 8 }, { 9, 12, 12 },
	    { 11, 12, 12 } };
	struct derive_target	*t;
	struct derive		*d;
	char			 buf[1024];
	int			 k;

	d = setup(&t);
	for (k = 0; k < 7; k++) {
		buf[0] = '\0';
		hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds", "",
		    le, c[k], 3);
		scrape(t, (int64_t)k * 15000, buf);
		if (k == 4)
			is_double(val(e2e_q[0], "window=\"1m\""), 4.0 / 7, 1e-12,
			    "reset in the window: p50 step by step");
	}
	is_double(val(e2e_q[0], "window=\"1m\""), 0.5, 1e-12,
	    "reset out of the window: p50 of newest - oldest");
	is_double(val(e2e_q[2], "window=\"1m\""), 0.99, 1e-12,
	    "reset out of the window: p99 of newest - oldest");
	derive_free(d);
}

/*
 * A wave of 70,000 finish events, one per scrape 10 s apart: past 65,536
 * neighbours merge, keeping the later time, so the count stays exact and
 * the completion times err late by at most one scrape.
 */
static void
test_wave_events(void)
{
	static const char	*jl = "job=\"j\"";
	struct derive_target	*t;
	struct derive		*d;
	char			 buf[256];
	int			 k, n = 70000;
	double			 v;

	d = setup(&t);
	scrape(t, 0, "vllm:num_requests_running 0\n"
	    "vllm:num_requests_waiting 0\n"
	    "vllm:e2e_request_latency_seconds_count 0\n");
	fleet(d, 1);
	for (k = 1; k <= n + 1; k++) {
		snprintf(buf, sizeof buf, "vllm:num_requests_running %d\n"
		    "vllm:num_requests_waiting 0\n"
		    "vllm:e2e_request_latency_seconds_count %d\n",
		    k <= n ? 1 : 0, k <= n ? k - 1 : n);
		scrape(t, (int64_t)k * 10000, buf);
		if (k == 1)
			fleet(d, 10001);
	}
	fleet(d, (int64_t)(n + 1) * 10000 + 1);
	is_double(val("rollout:wave_requests", jl), n, 0,
	    "wave events: merged, the count is exact");
	/* The 35,000th finish is counted at the scrape at 35,001 * 10 s. */
	v = val("rollout:wave_completion_seconds:p50", jl);
	ok(v >= 350000 && v <= 350010, "wave events: p50 %.0f s late by at "
	    "most one scrape (from 350000)", v);
	is_double(val("rollout:wave_duration_seconds", jl), n * 10.0, 0,
	    "wave events: duration");
	derive_free(d);
}

/*
 * Fleet series split across cluster members: MERGE_N servers scraped by one
 * derive (one bridge) and by MERGE_M derives with member 0..MERGE_M-1
 * (server i in member i % MERGE_M), at the same times. What each member
 * writes, combined as contrib/rollout-cluster.rules.yml combines it, must
 * give the one bridge's fleet series: sums of the ratios' numerators and
 * denominators, the idle ratio from idle and busy counts, the max of the
 * response-length max_bucket, the summed window buckets and, from them and
 * their bounds, the slow requests, and the wave's start (min), end (max)
 * and requests (sum).
 */
#define MERGE_N		6
#define MERGE_M		3
#define MERGE_STEPS	9
#define MERGE_NB	5

/* Per step, which servers have a request running (a wave: steps 2-6). */
static const int merge_run[MERGE_STEPS][MERGE_N] = {
	{ 0, 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0, 0 }, { 1, 1, 1, 1, 0, 1 },
	{ 1, 1, 0, 1, 0, 1 }, { 1, 0, 0, 1, 0, 1 }, { 0, 0, 0, 1, 0, 1 },
	{ 0, 0, 0, 0, 0, 1 }, { 0, 0, 0, 0, 0, 0 }, { 0, 0, 0, 0, 0, 0 },
};
static const double merge_le[MERGE_NB] = { 0.5, 1, 2, 5, INFINITY };
static const char *merge_les[MERGE_NB] = { "0.5", "1", "2", "5", "+Inf" };
static const double merge_gle[MERGE_NB] = { 100, 200, 500, 1000, INFINITY };

/*
 * Server i's page at step k: counters and histograms grow by one step's
 * worth at each scrape after one that saw a request running (requests
 * finish only where they run).
 */
static void
merge_page(char *buf, size_t len, int i, int step)
{
	double	c[MERGE_NB], g[MERGE_NB], per[MERGE_NB], cum = 0, gcum = 0;
	size_t	b;
	int	j, k = 0;

	for (j = 1; j <= step; j++)
		k += merge_run[j - 1][i];

	/* Per-bucket requests per step; server 5 has a slow one. */
	per[0] = i % 3 + 1;
	per[1] = 2;
	per[2] = i;
	per[3] = i == 5 ? 2 : 0;
	per[4] = i == 4 ? 1 : 0;
	for (b = 0; b < MERGE_NB; b++) {
		cum += per[b] * k;
		c[b] = cum;
		gcum += (b <= (size_t)(i % 4) ? 1 : 0) * k;
		g[b] = gcum;
	}
	snprintf(buf, len, "vllm:num_requests_running %d\n"
	    "vllm:num_requests_waiting 0\n"
	    "vllm:engine_sleep_state{sleep_state=\"awake\"} 1\n"
	    "vllm:prefix_cache_queries_total %d\n"
	    "vllm:prefix_cache_hits_total %d\n"
	    "vllm:request_success_total{finished_reason=\"stop\"} %d\n"
	    "vllm:request_success_total{finished_reason=\"length\"} %d\n"
	    "vllm:spec_decode_num_drafts_total %d\n"
	    "vllm:spec_decode_num_draft_tokens_total %d\n"
	    "vllm:spec_decode_num_accepted_tokens_total %d\n"
	    "vllm:e2e_request_latency_seconds_count %g\n",
	    merge_run[step][i], 100 * k * (i + 1), 30 * k * (i % 3 + 1),
	    10 * k * (i + 1), k * (i % 2), 50 * k * (i + 1),
	    100 * k * (i + 1), 60 * k * (i % 4 + 1), cum);
	hist(buf, len, "vllm:e2e_request_latency_seconds", "", merge_le, c,
	    MERGE_NB);
	hist(buf, len, "vllm:request_generation_tokens", "", merge_gle, g,
	    MERGE_NB);
}

/* What each member emitted at its last fleet evaluation. */
static struct got	mgot[MERGE_M][1024];
static size_t		nmgot[MERGE_M];
static int		merge_compared;	/* checks with a value */

/* Member m's sample of name in window (NULL: none); NaN if absent. */
static double
merge_val(int m, const char *name, const char *le, const char *window)
{
	char	l[128];
	size_t	i;

	snprintf(l, sizeof l, "job=\"j\"%s%s%s,member=\"%d\"%s%s%s",
	    le != NULL ? ",le=\"" : "", le != NULL ? le : "",
	    le != NULL ? "\"" : "", m, window != NULL ? ",window=\"" : "",
	    window != NULL ? window : "", window != NULL ? "\"" : "");
	for (i = 0; i < nmgot[m]; i++) {
		if (strcmp(mgot[m][i].name, name) == 0 &&
		    strcmp(mgot[m][i].labels, l) == 0)
			return (mgot[m][i].v);
	}
	return (NAN);
}

/* Sum (op '+'), max ('>') or min ('<') over the members that have it. */
static double
merge_agg(char op, const char *name, const char *le, const char *window)
{
	double	v, r = NAN;
	int	m;

	for (m = 0; m < MERGE_M; m++) {
		v = merge_val(m, name, le, window);
		if (isnan(v))
			continue;
		if (isnan(r))
			r = v;
		else if (op == '+')
			r += v;
		else if (op == '>' ? v > r : v < r)
			r = v;
	}
	return (r);
}

/*
 * The slow requests as the rule computes them from the summed window
 * buckets, their bounds and the threshold 5 * p50: the requests above the
 * bucket holding it plus a linear share of that bucket; NaN inside a
 * non-empty +Inf bucket.
 */
static double
merge_slow(const char *window, double p50)
{
	const char	*bn = "rollout:e2e_latency_seconds:window_bucket";
	const char	*un = "rollout:e2e_latency_seconds:window_bucket_bound";
	double		 thr = 5 * p50, lo = 0, clo = 0, c, u;
	size_t		 b;

	for (b = 0; b < MERGE_NB; b++) {
		c = merge_agg('+', bn, merge_les[b], window);
		u = merge_agg('>', un, merge_les[b], window);
		if (u <= thr) {
			lo = u;
			clo = c;
			continue;
		}
		if (isinf(u))
			return (c - clo > 0 ? NAN : 0);
		return (merge_agg('+', bn, "+Inf", window) - c +
		    (c - clo) * (u - thr) / (u - lo));
	}
	return (NAN);
}

/* Check the merged parts against one bridge at one fleet evaluation. */
static void
merge_check(int k)
{
	/* Each ratio's series, and with _num and _den its parts. */
	static const char	*ratios[] = {
		"rollout:prefix_cache_hit:ratio",
		"rollout:truncated_requests:ratio",
		"rollout:spec_decode_acceptance:ratio",
		"rollout:spec_decode_acceptance_length:mean",
	};
	static const char	*windows[2] = { "1m", "5m" };
	char			 jw[64], jlw[96], part[2][96];
	double			 want, idle, busy;
	size_t			 i, w, b;

	for (w = 0; w < 2; w++) {
		snprintf(jw, sizeof jw, "job=\"j\",window=\"%s\"", windows[w]);
		for (i = 0; i < sizeof ratios / sizeof ratios[0]; i++) {
			snprintf(part[0], sizeof part[0], "%s_num", ratios[i]);
			snprintf(part[1], sizeof part[1], "%s_den", ratios[i]);
			want = val(ratios[i], jw);
			merge_compared += !isnan(want);
			is_double(merge_agg('+', part[0], NULL, windows[w]) /
			    merge_agg('+', part[1], NULL, windows[w]), want,
			    1e-12 * fabs(want),
			    "merge step %d %s: %s from summed parts", k,
			    windows[w], ratios[i]);
			is_double(merge_agg('+', part[0], NULL, windows[w]),
			    val(part[0], jw), 1e-9,
			    "merge step %d %s: %s summed", k, windows[w],
			    part[0]);
		}
		for (b = 0; b < MERGE_NB; b++) {
			snprintf(jlw, sizeof jlw,
			    "job=\"j\",le=\"%s\",window=\"%s\"", merge_les[b],
			    windows[w]);
			is_double(merge_agg('+',
			    "rollout:e2e_latency_seconds:window_bucket",
			    merge_les[b], windows[w]),
			    val("rollout:e2e_latency_seconds:window_bucket",
			    jlw), 0,
			    "merge step %d %s: e2e bucket le %s summed", k,
			    windows[w], merge_les[b]);
			is_double(merge_agg('>',
			    "rollout:e2e_latency_seconds:window_bucket_bound",
			    merge_les[b], windows[w]), isnan(val(
			    "rollout:e2e_latency_seconds:window_bucket", jlw)) ?
			    NAN : merge_le[b], 0,
			    "merge step %d %s: bound of le %s", k, windows[w],
			    merge_les[b]);
		}
		want = val("rollout:slow_requests:count", jw);
		merge_compared += !isnan(want);
		is_double(merge_slow(windows[w],
		    val("rollout:e2e_latency_seconds:p50", jw)), want,
		    1e-9 * fabs(want), "merge step %d %s: slow requests "
		    "from the summed buckets and bounds", k, windows[w]);
		is_double(merge_agg('>', "rollout:generation_tokens:max_bucket",
		    NULL, windows[w]),
		    val("rollout:generation_tokens:max_bucket", jw), 0,
		    "merge step %d %s: max_bucket is the members' max", k,
		    windows[w]);
	}
	merge_compared += !isnan(val("rollout:idle_servers:ratio",
	    "job=\"j\""));
	idle = merge_agg('+', "rollout:idle_servers:count", NULL, NULL);
	busy = merge_agg('+', "rollout:busy_servers:count", NULL, NULL);
	is_double(busy > 0 ? idle / (idle + busy) : NAN,
	    val("rollout:idle_servers:ratio", "job=\"j\""), 1e-12,
	    "merge step %d: idle ratio from idle and busy counts", k);
}

/* Check that the members' fleet parts rebuild one bridge's fleet. */
static void
test_merge(void)
{
	static const char	*jl = "job=\"j\"";
	struct derive_config	 cfg;
	struct derive		*one, *mem[MERGE_M];
	struct derive_target	*t1[MERGE_N], *tm[MERGE_N];
	char			 buf[4096];
	double			 start, end;
	int			 i, k, m;

	derive_config_default(&cfg);
	one = derive_new(&cfg);
	for (m = 0; m < MERGE_M; m++) {
		cfg.member = m;
		mem[m] = derive_new(&cfg);
	}
	for (i = 0; i < MERGE_N; i++) {
		t1[i] = derive_target_new(one, "j");
		tm[i] = derive_target_new(mem[i % MERGE_M], "j");
	}
	for (k = 0; k < MERGE_STEPS; k++) {
		for (i = 0; i < MERGE_N; i++) {
			merge_page(buf, sizeof buf, i, k);
			scrape(t1[i], (int64_t)k * 1000, buf);
			scrape(tm[i], (int64_t)k * 1000, buf);
		}
		for (m = 0; m < MERGE_M; m++) {
			fleet(mem[m], (int64_t)k * 1000 + 500);
			memcpy(mgot[m], got, ngot * sizeof got[0]);
			nmgot[m] = ngot;
		}
		fleet(one, (int64_t)k * 1000 + 500);
		if (k >= 1)
			merge_check(k);
	}
	ok(find("rollout:busy_servers:count", jl) != NULL,
	    "merge: one bridge writes busy_servers:count");
	/*
	 * Increases from step 3 on: 6 steps, 2 windows, 4 ratios and the
	 * slow requests; the fleet has work at 5 steps (idle ratio).
	 */
	is_int(merge_compared, 6 * 2 * 5 + 5,
	    "merge: every check with data compared values");
	ok(val("rollout:slow_requests:count", "job=\"j\",window=\"1m\"") > 0,
	    "merge: some requests were slow (%g)",
	    val("rollout:slow_requests:count", "job=\"j\",window=\"1m\""));
	start = merge_agg('<', "rollout:wave_start_timestamp_seconds", NULL,
	    NULL);
	end = merge_agg('>', "rollout:wave_end_timestamp_seconds", NULL,
	    NULL);
	is_double(start, val("rollout:wave_start_timestamp_seconds", jl), 0,
	    "merge: wave start is the members' earliest");
	is_double(end, val("rollout:wave_end_timestamp_seconds", jl), 0,
	    "merge: wave end is the members' latest");
	is_double(end - start, val("rollout:wave_duration_seconds", jl), 0,
	    "merge: wave duration is end - start");
	ok(merge_agg('>', "rollout:wave_start_timestamp_seconds", NULL,
	    NULL) <= merge_agg('<', "rollout:wave_end_timestamp_seconds",
	    NULL, NULL), "merge: the members' waves overlap (one wave)");
	is_double(merge_agg('+', "rollout:wave_requests", NULL, NULL),
	    val("rollout:wave_requests", jl), 0,
	    "merge: wave requests are the members' sum");
	is_double(val("rollout:wave_duration_seconds", jl), 5, 0,
	    "merge: the wave ran from 2 s to 7 s");
	derive_free(one);
	for (m = 0; m < MERGE_M; m++)
		derive_free(mem[m]);
}

/* The series a page without the inputs must not get (never 0). */
static void
test_missing(void)
{
	static const char	*absent[] = {
		"rollout:server_asleep", "rollout:prefix_cache_hit:ratio",
		"rollout:truncated_requests:ratio", "rollout:preemptions:rate",
		"rollout:spec_decode_acceptance:ratio",
		"rollout:spec_decode_acceptance_length:mean",
		"rollout:generation_tokens:p50",
		"rollout:generation_tokens:max_bucket",
		"rollout:queue_time_seconds:p50",
	};
	struct derive_target	*t;
	struct derive		*d;
	size_t			 i, k;

	d = setup(&t);
	for (k = 0; k < 3; k++)
		scrape(t, (int64_t)k * 15000,
		    "vllm:num_requests_running 1\nvllm:num_requests_waiting 0\n"
		    "vllm:kv_cache_usage_perc 0.5\n");
	for (i = 0; i < sizeof absent / sizeof absent[0]; i++)
		ok(find(absent[i], NULL) == NULL, "missing input: no %s",
		    absent[i]);
	derive_free(d);
}

/*
 * Windows' memory over long runs: scrapes every interval (jittered by up
 * to 30 %) for two windows; once a window has filled, the bytes held for
 * its snapshots and steps stay within a quarter and 8 snapshots more than
 * those in use, and do not change. A 5m window at 1s (301 snapshots) used
 * to keep the 512 its ring had doubled to, whose pages the ring's head
 * touched one by one for minutes. The window's +Inf increase at the end
 * checks the snapshots kept their order through the resizes.
 */
static const struct wmcase {
	const char	*name;
	int64_t		 window_ms;
	const char	*wlabel;
	int64_t		 interval_ms;
	bool		 jitter;
	bool		 exact;		/* under the snapshot cap: check value */
} wmcases[] = {
	{ "5m at 1s", 300000, "5m", 1000, false, true },
	{ "5m at 1s jittered", 300000, "5m", 1000, true, true },
	{ "1m at 1s", 60000, "1m", 1000, false, true },
	{ "5m at 250ms jittered", 300000, "5m", 250, true, true },
	{ "1m at 15s", 60000, "1m", 15000, false, true },
	{ "5m at 50ms (over the snapshot cap)", 300000, "5m", 50, true,
	  false },
};

#define WM_MAXK	12001
static double	wm_total[WM_MAXK];
static int64_t	wm_ts[WM_MAXK];

/* Scrape one case for two windows, checking the bound as it goes. */
static void
window_memory_case(const struct wmcase *c)
{
	static const double	 le[22] = { 0.05, 0.1, 0.2, 0.3, 0.5, 0.75,
	    1, 1.5, 2, 2.5, 5, 7.5, 10, 15, 20, 30, 40, 50, 60, 120, 240,
	    INFINITY };
	struct derive_config	 cfg;
	struct derive_target	*t;
	struct derive		*d;
	char			 buf[4096], lab[64];
	double			 cum[22] = { 0 }, n;
	size_t			 held, used, flat = 0, worst = 0, wused = 0;
	size_t			 moved = 0, kmoved = 0;
	size_t			 b, k, nk, base;
	uint32_t		 rnd = 1;
	int64_t			 jit;
	bool			 bounded = true, steady = true;

	derive_config_default(&cfg);
	cfg.nwindows = 1;
	cfg.windows_ms[0] = c->window_ms;
	d = derive_new(&cfg);
	t = derive_target_new(d, "j");
	nk = (size_t)(2 * c->window_ms / c->interval_ms) + 1;
	if (nk > WM_MAXK)
		nk = WM_MAXK;
	for (k = 0; k < nk; k++) {
		rnd = rnd * 1103515245 + 12345;
		jit = c->jitter ? (int64_t)((rnd >> 16) % 601) - 300 : 0;
		wm_ts[k] = (int64_t)k * c->interval_ms +
		    jit * c->interval_ms / 1000;
		/* k % 7 + 1 requests in bucket k % 22 and every one above. */
		n = (double)(k % 7 + 1);
		for (b = k % 22; b < 22; b++)
			cum[b] += n;
		wm_total[k] = cum[21];
		buf[0] = '\0';
		hist(buf, sizeof buf, "vllm:e2e_request_latency_seconds", "",
		    le, cum, 22);
		scrape(t, wm_ts[k], buf);
		if (wm_ts[k] < c->window_ms * 3 / 2)
			continue;
		held = derive_target_window_bytes(t, &used);
		if (flat == 0)
			flat = held;
		if (bounded && (double)held > (double)used * (1.25 + 8 /
		    ((double)c->window_ms / (double)c->interval_ms))) {
			bounded = false;
			worst = held;
			wused = used;
		}
		if (steady && held != flat) {
			steady = false;
			moved = held;
			kmoved = k;
		}
	}
	ok(bounded, "window memory %s: held at most 1.25x used and 8 "
	    "snapshots once full "
	    "(first over: %zu held, %zu used)", c->name, worst, wused);
	ok(steady, "window memory %s: held constant from 1.5 to 2 windows "
	    "(%zu bytes; first change: %zu at scrape %zu)", c->name, flat,
	    moved, kmoved);
	if (c->exact) {
		fleet(d, wm_ts[nk - 1]);
		for (base = 0; wm_ts[base] < wm_ts[nk - 1] - c->window_ms;
		    base++)
			;
		snprintf(lab, sizeof lab, "job=\"j\",le=\"+Inf\",window=\"%s\"",
		    c->wlabel);
		is_double(val("rollout:e2e_latency_seconds:window_bucket",
		    lab), wm_total[nk - 1] - wm_total[base], 0,
		    "window memory %s: +Inf increase over the window",
		    c->name);
	}
	derive_free(d);
}

/* Check the windows' memory stays bounded once they have filled. */
static void
test_window_memory(void)
{
	size_t	i;

	for (i = 0; i < sizeof wmcases / sizeof wmcases[0]; i++)
		window_memory_case(&wmcases[i]);
}

/* Check the defaults and that a disabled derive emits nothing. */
static void
test_config(void)
{
	struct derive_config	 cfg;
	struct derive_target	*t;
	struct derive		*d;

	derive_config_default(&cfg);
	ok(cfg.enabled, "config: enabled by default");
	is_int((long long)cfg.nwindows, 2, "config: two windows");
	is_int(cfg.windows_ms[0], 60000, "config: 1m window");
	is_int(cfg.windows_ms[1], 300000, "config: 5m window");
	is_double(cfg.tail_k, 5, 0, "config: tail_k");
	cfg.enabled = false;
	d = derive_new(&cfg);
	t = derive_target_new(d, "j");
	scrape(t, 0, "vllm:kv_cache_usage_perc 0.5\n");
	is_int((long long)ngot, 0, "disabled: nothing per target");
	fleet(d, 0);
	is_int((long long)ngot, 0, "disabled: nothing for the fleet");
	derive_free(d);
}

/* Run every test. */
int
main(void)
{
	test_config();
	test_quantiles();
	test_rebucket();
	test_sleep();
	test_counter_windows();
	test_counter_fleet();
	test_waves();
	test_wave_events();
	test_reset_leaves_window();
	test_missing();
	test_windows();
	test_window_labels();
	test_hist_reset();
	test_rates();
	test_abort_hist();
	test_kv();
	test_names();
	test_fixtures();
	test_fleet();
	test_merge();
	test_window_memory();
	is_int(unsorted, 0, "labels always sorted by name");
	return (tap_done());
}
