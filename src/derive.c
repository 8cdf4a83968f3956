/*
 * derive: the series an operator of an LLM rollout fleet wants and the
 * engines do not give directly. Each scrape of a target is streamed through
 * derive_sample, which rejects most samples on their first bytes and folds
 * the rest into per-scrape accumulators; derive_end commits them and emits
 * KV-cache usage, load, token throughput and windowed latency quantiles.
 * Nothing the scrape in progress touches is committed before derive_end, so
 * derive_abort only has to drop the accumulators.
 *
 * Latency quantiles come from a ring of past cumulative bucket snapshots per
 * histogram label set. For a window w the increase is summed step by step
 * from the oldest snapshot taken at or after now - w to the newest, treating
 * a step in which any bucket went down as a counter reset (the step's
 * increase is then the new cumulative counts), like increase() without its
 * extrapolation. The quantile is PromQL's histogram_quantile on that
 * increase. Fleet aggregates per job sum the committed per-target values of
 * the targets whose last scrape succeeded.
 */
#include <sys/queue.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derive.h"
#include "series.h"
#include "xmalloc.h"

#define DERIVE_MAX_BUCKETS	256	/* per histogram label set */
#define DERIVE_MAX_GROUPS	64	/* label sets per histogram */
#define DERIVE_MAX_COUNTERS	64	/* label sets per token counter */
#define DERIVE_MAX_RANKS	64	/* vLLM-Ascend dp ranks */
#define DERIVE_MAX_SNAPSHOTS	4096	/* per histogram label set */
#define DERIVE_MAX_VALUE	256	/* longest model_name kept */
#define DERIVE_MAX_DP		32	/* longest dp value kept */
#define DERIVE_NQ		4	/* quantiles per histogram */

enum derive_src {
	SRC_KV_V1,		/* vllm:kv_cache_usage_perc */
	SRC_KV_V0,		/* vllm:gpu_cache_usage_perc */
	SRC_KV_SGLANG,		/* sglang:token_usage */
	SRC_SGLANG_USED,
	SRC_SGLANG_MAX,
	SRC_ASCEND_FREE,
	SRC_ASCEND_TOTAL,
	SRC_RUNNING,
	SRC_WAITING,
	SRC_PROMPT,
	SRC_GENERATION,
	SRC_HIST
};
#define SRC_NACC	(SRC_WAITING + 1)	/* sources summed as gauges */

enum derive_lat {
	LAT_E2E,
	LAT_TTFT,
	LAT_ITL,
	LAT_N
};

/* Counters whose rate is derived, indexed by src - SRC_PROMPT. */
#define CTR_N	2

struct derive_name {
	const char	*name;
	size_t		 len;
	enum derive_src	 src;
	int		 hist;		/* index in derive_hists */
};

/* Histogram families, in order of preference within each latency. */
static const struct {
	const char	*name;
	enum derive_lat	 lat;
} derive_hists[] = {
	{ "vllm:e2e_request_latency_seconds", LAT_E2E },
	{ "sglang:e2e_request_latency_seconds", LAT_E2E },
	{ "vllm:time_to_first_token_seconds", LAT_TTFT },
	{ "sglang:time_to_first_token_seconds", LAT_TTFT },
	{ "vllm:inter_token_latency_seconds", LAT_ITL },
	{ "vllm:time_per_output_token_seconds", LAT_ITL },
	{ "sglang:inter_token_latency_seconds", LAT_ITL },
	{ "sglang:time_per_output_token_seconds", LAT_ITL },
};
#define DERIVE_NHIST	(sizeof derive_hists / sizeof derive_hists[0])

#define DN(s)	s, sizeof s - 1
static const struct derive_name derive_names[] = {
	{ DN("vllm:kv_cache_usage_perc"), SRC_KV_V1, 0 },
	{ DN("vllm:gpu_cache_usage_perc"), SRC_KV_V0, 0 },
	{ DN("vllm:num_requests_running"), SRC_RUNNING, 0 },
	{ DN("vllm:num_requests_waiting"), SRC_WAITING, 0 },
	{ DN("vllm:prompt_tokens_total"), SRC_PROMPT, 0 },
	{ DN("vllm:generation_tokens_total"), SRC_GENERATION, 0 },
	{ DN("vllm_profiling_free_kvcache_blocks"), SRC_ASCEND_FREE, 0 },
	{ DN("vllm_profiling_total_kvcache_blocks"), SRC_ASCEND_TOTAL, 0 },
	{ DN("vllm:e2e_request_latency_seconds_bucket"), SRC_HIST, 0 },
	{ DN("vllm:time_to_first_token_seconds_bucket"), SRC_HIST, 2 },
	{ DN("vllm:inter_token_latency_seconds_bucket"), SRC_HIST, 4 },
	{ DN("vllm:time_per_output_token_seconds_bucket"), SRC_HIST, 5 },
	/* DERIVE_NVLLM: the sglang names follow. */
	{ DN("sglang:token_usage"), SRC_KV_SGLANG, 0 },
	{ DN("sglang:num_used_tokens"), SRC_SGLANG_USED, 0 },
	{ DN("sglang:max_total_num_tokens"), SRC_SGLANG_MAX, 0 },
	{ DN("sglang:num_running_reqs"), SRC_RUNNING, 0 },
	{ DN("sglang:num_queue_reqs"), SRC_WAITING, 0 },
	{ DN("sglang:prompt_tokens_total"), SRC_PROMPT, 0 },
	{ DN("sglang:generation_tokens_total"), SRC_GENERATION, 0 },
	{ DN("sglang:e2e_request_latency_seconds_bucket"), SRC_HIST, 1 },
	{ DN("sglang:time_to_first_token_seconds_bucket"), SRC_HIST, 3 },
	{ DN("sglang:inter_token_latency_seconds_bucket"), SRC_HIST, 6 },
	{ DN("sglang:time_per_output_token_seconds_bucket"), SRC_HIST, 7 },
};
#undef DN
#define DERIVE_NNAMES	(sizeof derive_names / sizeof derive_names[0])
#define DERIVE_NVLLM	12	/* derive_names[0..11] start with "vllm" */

static const double derive_q[DERIVE_NQ] = { 0.5, 0.9, 0.99, 0.999 };
static const char *derive_qnames[LAT_N][DERIVE_NQ] = {
	{ "rollout:e2e_latency_seconds:p50", "rollout:e2e_latency_seconds:p90",
	  "rollout:e2e_latency_seconds:p99",
	  "rollout:e2e_latency_seconds:p999" },
	{ "rollout:ttft_seconds:p50", "rollout:ttft_seconds:p90",
	  "rollout:ttft_seconds:p99", "rollout:ttft_seconds:p999" },
	{ "rollout:itl_seconds:p50", "rollout:itl_seconds:p90",
	  "rollout:itl_seconds:p99", "rollout:itl_seconds:p999" },
};

/* A gauge summed over the label sets of one scrape. */
struct dacc {
	double		 sum;
	size_t		 n;
};

/* One vLLM-Ascend data-parallel rank in the scrape in progress. */
struct drank {
	char		 dp[DERIVE_MAX_DP];
	size_t		 dp_len;
	bool		 has_dp;
	struct dacc	 free;
	struct dacc	 total;
};

/* One label set of a token counter. */
struct dcounter {
	uint64_t	 key;		/* hash of the series text */
	double		 last;		/* at the last successful scrape */
	double		 cur;		/* in the scrape in progress */
	bool		 has_last;
	bool		 seen;
};

/* One label set (all labels but le) of a histogram. */
struct dgroup {
	uint64_t	 key;		/* hash of the labels but le */
	bool		 seen;		/* in the scrape in progress */
	bool		 bad;		/* too many buckets or bad values */
	size_t		 n;		/* buckets in the scrape in progress */
	size_t		 cap;
	double		*le;		/* sorted, unique */
	double		*cnt;

	/* Cumulative snapshots of successful scrapes, oldest first. */
	size_t		 nb;		/* buckets per snapshot */
	double		*bounds;
	double		*ring;		/* rcap snapshots of nb counts */
	int64_t		*ring_ts;
	size_t		 rhead;
	size_t		 rn;
	size_t		 rcap;
};

struct dhist {
	struct dgroup	*groups;
	size_t		 ngroups;
	size_t		 cap;
	bool		 seen;
};

/* A target's bucket increases per window, kept for the fleet. */
struct dlat {
	size_t		 nb;
	size_t		 cap;
	double		*bounds;
	double		*delta[DERIVE_MAX_WINDOWS];
	bool		 valid[DERIVE_MAX_WINDOWS];
};

struct derive_target {
	struct derive		*d;
	struct derive_job	*job;
	TAILQ_ENTRY(derive_target) entry;

	bool			 in_scrape;
	bool			 ok;		/* a scrape has succeeded */
	bool			 aborted;	/* the last scrape failed */
	int64_t			 ts;		/* scrape in progress */
	int64_t			 last_ts;	/* last successful scrape */

	/* Accumulators of the scrape in progress. */
	char			*model;
	size_t			 model_len;
	size_t			 model_cap;
	bool			 model_seen;
	struct dacc		 acc[SRC_NACC];
	struct drank		*ranks;
	size_t			 nranks;
	struct dcounter		*ctr[CTR_N];
	size_t			 nctr[CTR_N];
	size_t			 capctr[CTR_N];
	struct dhist		 hist[DERIVE_NHIST];

	/* Committed at the last successful scrape, for the fleet. */
	bool			 has_kv;
	double			 kv;
	bool			 has_running;
	bool			 has_waiting;
	double			 running;
	double			 waiting;
	bool			 has_rate[CTR_N];
	double			 rate[CTR_N];
	struct dlat		 lat[LAT_N];
};

struct derive_job {
	char			*name;
	TAILQ_HEAD(, derive_target) targets;
	TAILQ_ENTRY(derive_job)	 entry;
};

struct derive {
	struct derive_config	 cfg;
	int64_t			 maxw;		/* longest window */
	char			 wlabel[DERIVE_MAX_WINDOWS][32];
	TAILQ_HEAD(, derive_job) jobs;
	double			*scratch;	/* quantile fix-up */
	double			*fsum;		/* fleet bucket sums */
	size_t			 scap;
};

/* Where and how derived samples go. */
struct derive_out {
	derive_emit_fn		 fn;
	void			*arg;
	int64_t			 ts;
	const char		*job;
	const char		*model;
	size_t			 model_len;
};

/* Fill the defaults: on, windows of 1m and 5m, tail_k 5. */
void
derive_config_default(struct derive_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->enabled = true;
	cfg->nwindows = 2;
	cfg->windows_ms[0] = 60000;
	cfg->windows_ms[1] = 300000;
	cfg->tail_k = 5;
}

/* Write ms as Prometheus writes a duration ("1m", "1h30m", "500ms"). */
static void
derive_duration(char *buf, size_t len, int64_t ms)
{
	static const struct {
		const char	*unit;
		int64_t		 mult;
		bool		 exact;
	} units[] = {
		{ "y", 365LL * 24 * 3600 * 1000, true },
		{ "w", 7LL * 24 * 3600 * 1000, true },
		{ "d", 24LL * 3600 * 1000, false },
		{ "h", 3600LL * 1000, false },
		{ "m", 60LL * 1000, false },
		{ "s", 1000, false },
		{ "ms", 1, false },
	};
	size_t	i, n = 0;
	int64_t	v;

	buf[0] = '\0';
	if (ms <= 0) {
		snprintf(buf, len, "0s");
		return;
	}
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (units[i].exact && ms % units[i].mult != 0)
			continue;
		v = ms / units[i].mult;
		if (v <= 0 || n >= len)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%lld%s",
		    (long long)v, units[i].unit);
		ms -= v * units[i].mult;
	}
}

/* Make a derive with a copy of cfg; bad windows are dropped. */
struct derive *
derive_new(const struct derive_config *cfg)
{
	struct derive	*d;
	size_t		 i, n;

	d = xcalloc(1, sizeof *d);
	d->cfg = *cfg;
	n = 0;
	for (i = 0; i < cfg->nwindows && i < DERIVE_MAX_WINDOWS; i++) {
		if (cfg->windows_ms[i] <= 0)
			continue;
		d->cfg.windows_ms[n] = cfg->windows_ms[i];
		derive_duration(d->wlabel[n], sizeof d->wlabel[n],
		    cfg->windows_ms[i]);
		if (cfg->windows_ms[i] > d->maxw)
			d->maxw = cfg->windows_ms[i];
		n++;
	}
	d->cfg.nwindows = n;
	if (!(d->cfg.tail_k > 0))
		d->cfg.tail_k = 5;
	TAILQ_INIT(&d->jobs);
	return (d);
}

/* Free a derive and any targets still in it. */
void
derive_free(struct derive *d)
{
	struct derive_job	*j;

	if (d == NULL)
		return;
	while (!TAILQ_EMPTY(&d->jobs)) {
		j = TAILQ_FIRST(&d->jobs);
		derive_target_free(TAILQ_FIRST(&j->targets));
	}
	free(d->scratch);
	free(d->fsum);
	free(d);
}

/* Make sure the scratch arrays hold n doubles. */
static void
derive_scratch(struct derive *d, size_t n)
{
	if (n <= d->scap)
		return;
	d->scratch = xreallocarray(d->scratch, n, sizeof *d->scratch);
	d->fsum = xreallocarray(d->fsum, n, sizeof *d->fsum);
	d->scap = n;
}

/* Add a target to job in d. */
struct derive_target *
derive_target_new(struct derive *d, const char *job)
{
	struct derive_target	*t;
	struct derive_job	*j;

	if (job == NULL)
		job = "";
	TAILQ_FOREACH(j, &d->jobs, entry) {
		if (strcmp(j->name, job) == 0)
			break;
	}
	if (j == NULL) {
		j = xcalloc(1, sizeof *j);
		j->name = xstrdup(job);
		TAILQ_INIT(&j->targets);
		TAILQ_INSERT_TAIL(&d->jobs, j, entry);
	}
	t = xcalloc(1, sizeof *t);
	t->d = d;
	t->job = j;
	TAILQ_INSERT_TAIL(&j->targets, t, entry);
	return (t);
}

/* Free one histogram label set. */
static void
derive_group_free(struct dgroup *g)
{
	free(g->le);
	free(g->cnt);
	free(g->bounds);
	free(g->ring);
	free(g->ring_ts);
}

/* Remove a target from its derive and free it. */
void
derive_target_free(struct derive_target *t)
{
	struct derive		*d;
	struct derive_job	*j;
	size_t			 i, k;

	if (t == NULL)
		return;
	d = t->d;
	j = t->job;
	TAILQ_REMOVE(&j->targets, t, entry);
	if (TAILQ_EMPTY(&j->targets)) {
		TAILQ_REMOVE(&d->jobs, j, entry);
		free(j->name);
		free(j);
	}
	for (i = 0; i < DERIVE_NHIST; i++) {
		for (k = 0; k < t->hist[i].ngroups; k++)
			derive_group_free(&t->hist[i].groups[k]);
		free(t->hist[i].groups);
	}
	for (i = 0; i < LAT_N; i++) {
		free(t->lat[i].bounds);
		for (k = 0; k < DERIVE_MAX_WINDOWS; k++)
			free(t->lat[i].delta[k]);
	}
	for (i = 0; i < CTR_N; i++)
		free(t->ctr[i]);
	free(t->ranks);
	free(t->model);
	free(t);
}

/* Start a scrape at ts; a scrape still in progress is forgotten. */
void
derive_begin(struct derive_target *t, int64_t ts)
{
	struct dhist	*h;
	size_t		 i, k;

	t->in_scrape = t->d->cfg.enabled;
	t->ts = ts;
	t->model_seen = false;
	memset(t->acc, 0, sizeof t->acc);
	t->nranks = 0;
	for (i = 0; i < CTR_N; i++) {
		for (k = 0; k < t->nctr[i]; k++)
			t->ctr[i][k].seen = false;
	}
	for (i = 0; i < DERIVE_NHIST; i++) {
		h = &t->hist[i];
		h->seen = false;
		for (k = 0; k < h->ngroups; k++) {
			h->groups[k].seen = false;
			h->groups[k].n = 0;
		}
	}
}

/* Forget the scrape in progress; committed state is untouched. */
void
derive_abort(struct derive_target *t)
{
	t->in_scrape = false;
	t->aborted = true;
}

/*
 * Iterate a sample's labels; a sample without braces has a NULL labels
 * pointer, which pt_label_next must not be given.
 */
static bool
derive_label_next(struct pt_str labels, size_t *pos, struct pt_label *lab)
{
	if (labels.len == 0)
		return (false);
	return (pt_label_next(labels, pos, lab));
}

/* Find a sample name among derive_names[from..to). */
static const struct derive_name *
derive_lookup(struct pt_str name, size_t from, size_t to)
{
	size_t	i;

	for (i = from; i < to; i++) {
		if (derive_names[i].len == name.len &&
		    memcmp(derive_names[i].name, name.p, name.len) == 0)
			return (&derive_names[i]);
	}
	return (NULL);
}

/* Keep the first model_name of the scrape. */
static void
derive_note_model(struct derive_target *t, const struct pt_label *lab)
{
	char		 buf[DERIVE_MAX_VALUE];
	const char	*v = lab->value.p;
	size_t		 n = lab->value.len;

	if (t->model_seen || n == 0 || n > sizeof buf)
		return;
	if (lab->escaped) {
		n = pt_unescape_value(lab->value, buf);
		v = buf;
	}
	if (n != t->model_len || memcmp(t->model, v, n) != 0) {
		if (n + 1 > t->model_cap) {
			t->model = xrealloc(t->model, n + 1);
			t->model_cap = n + 1;
		}
		memcpy(t->model, v, n);
		t->model[n] = '\0';
		t->model_len = n;
	}
	t->model_seen = true;
}

/* Find or add the vLLM-Ascend rank named dp. */
static struct drank *
derive_rank(struct derive_target *t, const char *dp, size_t len, bool has)
{
	struct drank	*r;
	size_t		 i;

	for (i = 0; i < t->nranks; i++) {
		r = &t->ranks[i];
		if (r->has_dp == has && r->dp_len == len &&
		    memcmp(r->dp, dp, len) == 0)
			return (r);
	}
	if (t->nranks == DERIVE_MAX_RANKS)
		return (NULL);
	if (t->ranks == NULL)
		t->ranks = xcalloc(DERIVE_MAX_RANKS, sizeof *t->ranks);
	r = &t->ranks[t->nranks++];
	memset(r, 0, sizeof *r);
	memcpy(r->dp, dp, len);
	r->dp_len = len;
	r->has_dp = has;
	return (r);
}

/* Fold a vLLM-Ascend free or total block count into its rank. */
static void
derive_ascend(struct derive_target *t, const struct pt_item *it,
    enum derive_src src)
{
	struct pt_label	 lab;
	struct drank	*r;
	char		 dp[DERIVE_MAX_DP];
	size_t		 pos = 0, len = 0;
	bool		 has = false;

	while (derive_label_next(it->labels, &pos, &lab)) {
		if (pt_str_eq(lab.name, "model_name"))
			derive_note_model(t, &lab);
		else if (pt_str_eq(lab.name, "dp")) {
			if (lab.value.len > sizeof dp)
				return;
			if (lab.escaped)
				len = pt_unescape_value(lab.value, dp);
			else {
				memcpy(dp, lab.value.p, lab.value.len);
				len = lab.value.len;
			}
			has = true;
		}
	}
	r = derive_rank(t, dp, len, has);
	if (r == NULL)
		return;
	if (src == SRC_ASCEND_FREE) {
		r->free.sum += it->value;
		r->free.n++;
	} else {
		r->total.sum += it->value;
		r->total.n++;
	}
}

/* Note a token counter's value in the scrape in progress. */
static void
derive_counter(struct derive_target *t, const struct pt_item *it, int c)
{
	struct dcounter	*e;
	uint64_t	 key;
	size_t		 i;

	key = series_hash(it->series.p, it->series.len);
	for (i = 0; i < t->nctr[c]; i++) {
		e = &t->ctr[c][i];
		if (e->key == key) {
			e->cur = it->value;
			e->seen = true;
			return;
		}
	}
	if (t->nctr[c] == DERIVE_MAX_COUNTERS)
		return;
	if (t->nctr[c] == t->capctr[c]) {
		t->capctr[c] = t->capctr[c] == 0 ? 4 : t->capctr[c] * 2;
		t->ctr[c] = xreallocarray(t->ctr[c], t->capctr[c],
		    sizeof *t->ctr[c]);
	}
	e = &t->ctr[c][t->nctr[c]++];
	memset(e, 0, sizeof *e);
	e->key = key;
	e->cur = it->value;
	e->seen = true;
}

/* Find or add the label set key of histogram h. */
static struct dgroup *
derive_group(struct dhist *h, uint64_t key)
{
	struct dgroup	*g;
	size_t		 i;

	for (i = 0; i < h->ngroups; i++) {
		if (h->groups[i].key == key)
			return (&h->groups[i]);
	}
	if (h->ngroups == DERIVE_MAX_GROUPS)
		return (NULL);
	if (h->ngroups == h->cap) {
		h->cap = h->cap == 0 ? 2 : h->cap * 2;
		h->groups = xreallocarray(h->groups, h->cap,
		    sizeof *h->groups);
	}
	g = &h->groups[h->ngroups++];
	memset(g, 0, sizeof *g);
	g->key = key;
	return (g);
}

/* Add one bucket to a label set, keeping buckets sorted by bound. */
static void
derive_bucket(struct dgroup *g, double le, double v)
{
	size_t	i;

	if (!g->seen) {
		g->seen = true;
		g->bad = false;
		g->n = 0;
	}
	if (g->bad)
		return;
	if (isnan(le) || !(v >= 0) || isinf(v) ||
	    g->n == DERIVE_MAX_BUCKETS) {
		g->bad = true;
		return;
	}
	if (g->n == g->cap) {
		g->cap = g->cap == 0 ? 16 : g->cap * 2;
		g->le = xreallocarray(g->le, g->cap, sizeof *g->le);
		g->cnt = xreallocarray(g->cnt, g->cap, sizeof *g->cnt);
	}
	i = g->n;
	while (i > 0 && g->le[i - 1] >= le)
		i--;
	if (i < g->n && g->le[i] == le) {
		g->cnt[i] = v;
		return;
	}
	memmove(g->le + i + 1, g->le + i, (g->n - i) * sizeof *g->le);
	memmove(g->cnt + i + 1, g->cnt + i, (g->n - i) * sizeof *g->cnt);
	g->le[i] = le;
	g->cnt[i] = v;
	g->n++;
}

/* Fold a histogram bucket sample into its label set. */
static void
derive_hist_sample(struct derive_target *t, const struct pt_item *it,
    int hi)
{
	struct pt_label	 lab;
	struct dgroup	*g;
	const char	*les = NULL, *lee = NULL, *end;
	uint64_t	 key;
	size_t		 pos = 0;
	double		 le = NAN;
	bool		 has_le = false;

	while (derive_label_next(it->labels, &pos, &lab)) {
		if (pt_str_eq(lab.name, "le")) {
			has_le = pt_parse_float(lab.value.p, lab.value.len,
			    &le);
			les = lab.name.p;
			lee = lab.value.p + lab.value.len;
			continue;
		}
		if (!t->model_seen && pt_str_eq(lab.name, "model_name"))
			derive_note_model(t, &lab);
	}
	if (!has_le)
		return;
	/*
	 * The label set less le: the raw text before and after the le label
	 * (pages keep their label order), hashed a word at a time.
	 */
	end = it->labels.p + it->labels.len;
	key = series_hash(it->labels.p, (size_t)(les - it->labels.p)) ^
	    series_hash(lee, (size_t)(end - lee)) * 0x9e3779b97f4a7c15ULL;
	g = derive_group(&t->hist[hi], key);
	if (g == NULL)
		return;
	t->hist[hi].seen = true;
	derive_bucket(g, le, it->value);
}

/* Fold one sample of the scrape in progress into the accumulators. */
void
derive_sample(struct derive_target *t, const struct pt_item *it)
{
	const struct derive_name	*dn;
	struct pt_label			 lab;
	size_t				 pos = 0, from, to;

	if (it->name.len < 4)
		return;
	if (it->name.p[0] == 'v') {
		if (memcmp(it->name.p, "vllm", 4) != 0)
			return;
		from = 0;
		to = DERIVE_NVLLM;
	} else if (it->name.p[0] == 's') {
		if (it->name.len < 6 || memcmp(it->name.p, "sglang", 6) != 0)
			return;
		from = DERIVE_NVLLM;
		to = DERIVE_NNAMES;
	} else
		return;
	if (!t->in_scrape || it->kind != PT_SAMPLE || isnan(it->value))
		return;
	dn = derive_lookup(it->name, from, to);
	if (dn == NULL)
		return;

	switch (dn->src) {
	case SRC_HIST:
		derive_hist_sample(t, it, dn->hist);
		return;
	case SRC_ASCEND_FREE:
	case SRC_ASCEND_TOTAL:
		derive_ascend(t, it, dn->src);
		return;
	case SRC_PROMPT:
	case SRC_GENERATION:
		derive_counter(t, it, (int)(dn->src - SRC_PROMPT));
		break;
	default:
		t->acc[dn->src].sum += it->value;
		t->acc[dn->src].n++;
		break;
	}
	if (t->model_seen)
		return;
	while (derive_label_next(it->labels, &pos, &lab)) {
		if (pt_str_eq(lab.name, "model_name")) {
			derive_note_model(t, &lab);
			break;
		}
	}
}

/* Emit one sample; labels dp, job, model_name, window (sorted) if set. */
static void
derive_put(const struct derive_out *o, const char *name, const char *dp,
    size_t dp_len, const char *window, double v)
{
	struct label	l[4];
	size_t		n = 0;

	if (isnan(v))
		return;
	if (dp != NULL) {
		l[n].name = "dp";
		l[n].name_len = 2;
		l[n].value = dp;
		l[n++].value_len = dp_len;
	}
	if (o->job != NULL) {
		l[n].name = "job";
		l[n].name_len = 3;
		l[n].value = o->job;
		l[n++].value_len = strlen(o->job);
	}
	if (o->model != NULL) {
		l[n].name = "model_name";
		l[n].name_len = 10;
		l[n].value = o->model;
		l[n++].value_len = o->model_len;
	}
	if (window != NULL) {
		l[n].name = "window";
		l[n].name_len = 6;
		l[n].value = window;
		l[n++].value_len = strlen(window);
	}
	o->fn(o->arg, name, l, n, v, o->ts);
}

/* Clamp a usage ratio to [0, 1]. */
static double
derive_clamp(double v)
{
	if (v < 0)
		return (0);
	if (v > 1)
		return (1);
	return (v);
}

/* Commit and emit KV-cache usage from whichever source the server has. */
static void
derive_end_kv(struct derive_target *t, const struct derive_out *o)
{
	const struct dacc	*a = t->acc;
	struct drank		*r;
	double			 v = NAN, sum = 0;
	size_t			 i, n = 0;

	t->has_kv = false;
	if (a[SRC_KV_V1].n > 0)
		v = a[SRC_KV_V1].sum / (double)a[SRC_KV_V1].n;
	else if (a[SRC_KV_V0].n > 0)
		v = a[SRC_KV_V0].sum / (double)a[SRC_KV_V0].n;
	else if (a[SRC_KV_SGLANG].n > 0)
		v = a[SRC_KV_SGLANG].sum / (double)a[SRC_KV_SGLANG].n;
	else if (a[SRC_SGLANG_USED].n > 0 && a[SRC_SGLANG_MAX].n > 0 &&
	    a[SRC_SGLANG_MAX].sum > 0)
		v = a[SRC_SGLANG_USED].sum / a[SRC_SGLANG_MAX].sum;
	if (!isnan(v)) {
		t->kv = derive_clamp(v);
		t->has_kv = true;
		derive_put(o, "rollout:kv_cache_usage:ratio", NULL, 0, NULL,
		    t->kv);
		return;
	}
	for (i = 0; i < t->nranks; i++) {
		r = &t->ranks[i];
		if (r->free.n == 0 || r->total.n == 0 || !(r->total.sum > 0))
			continue;
		v = 1 - r->free.sum / r->total.sum;
		if (isnan(v))
			continue;
		v = derive_clamp(v);
		derive_put(o, "rollout:kv_cache_usage:ratio",
		    r->has_dp ? r->dp : NULL, r->dp_len, NULL, v);
		sum += v;
		n++;
	}
	if (n > 0) {
		t->kv = sum / (double)n;
		t->has_kv = true;
	}
}

/* Commit and emit running/waiting requests and idleness. */
static void
derive_end_load(struct derive_target *t, const struct derive_out *o)
{
	t->has_running = t->acc[SRC_RUNNING].n > 0;
	t->has_waiting = t->acc[SRC_WAITING].n > 0;
	t->running = t->acc[SRC_RUNNING].sum;
	t->waiting = t->acc[SRC_WAITING].sum;
	if (t->has_running)
		derive_put(o, "rollout:requests_running", NULL, 0, NULL,
		    t->running);
	if (t->has_waiting)
		derive_put(o, "rollout:requests_waiting", NULL, 0, NULL,
		    t->waiting);
	if (t->has_running || t->has_waiting)
		derive_put(o, "rollout:server_idle", NULL, 0, NULL,
		    t->running + t->waiting == 0 ? 1 : 0);
}

/* Commit token counters and emit their rates since the last scrape. */
static void
derive_end_rates(struct derive_target *t, const struct derive_out *o)
{
	static const char	*names[CTR_N] = {
		"rollout:prompt_tokens:rate",
		"rollout:generation_tokens:rate"
	};
	struct dcounter		*e;
	double			 inc, dt;
	size_t			 i, k, n;
	bool			 any;

	dt = (double)(t->ts - t->last_ts) / 1000;
	for (i = 0; i < CTR_N; i++) {
		inc = 0;
		any = false;
		n = 0;
		for (k = 0; k < t->nctr[i]; k++) {
			e = &t->ctr[i][k];
			if (!e->seen)
				continue;
			if (e->has_last) {
				any = true;
				inc += e->cur < e->last ? e->cur :
				    e->cur - e->last;
			}
			e->last = e->cur;
			e->has_last = true;
			t->ctr[i][n++] = *e;
		}
		t->nctr[i] = n;
		t->has_rate[i] = any && t->ok && dt > 0;
		if (!t->has_rate[i])
			continue;
		t->rate[i] = inc / dt;
		derive_put(o, names[i], NULL, 0, NULL, t->rate[i]);
	}
}

/* Tell whether two bucket boundary lists are the same. */
static bool
derive_same_bounds(const double *a, size_t na, const double *b, size_t nb)
{
	size_t	i;

	if (na != nb)
		return (false);
	for (i = 0; i < na; i++) {
		if (a[i] != b[i])
			return (false);
	}
	return (true);
}

/* Return the counts of snapshot i (0 is the oldest). */
static double *
derive_snap(const struct dgroup *g, size_t i)
{
	return (g->ring + ((g->rhead + i) % g->rcap) * g->nb);
}

/* Return the time of snapshot i (0 is the oldest). */
static int64_t
derive_snap_ts(const struct dgroup *g, size_t i)
{
	return (g->ring_ts[(g->rhead + i) % g->rcap]);
}

/* Drop the oldest snapshot. */
static void
derive_snap_drop(struct dgroup *g)
{
	g->rhead = (g->rhead + 1) % g->rcap;
	g->rn--;
}

/* Double the ring, keeping snapshots in order. */
static void
derive_ring_grow(struct dgroup *g)
{
	double	*ring;
	int64_t	*ts;
	size_t	 cap, i;

	cap = g->rcap == 0 ? 8 : g->rcap * 2;
	ring = xreallocarray(NULL, cap, g->nb * sizeof *ring);
	ts = xreallocarray(NULL, cap, sizeof *ts);
	for (i = 0; i < g->rn; i++) {
		memcpy(ring + i * g->nb, derive_snap(g, i),
		    g->nb * sizeof *ring);
		ts[i] = derive_snap_ts(g, i);
	}
	free(g->ring);
	free(g->ring_ts);
	g->ring = ring;
	g->ring_ts = ts;
	g->rcap = cap;
	g->rhead = 0;
}

/*
 * Append the scrape's buckets of a label set to its snapshots. New
 * boundaries, a missing +Inf bucket or time going backwards start over;
 * snapshots older than the longest window are dropped.
 */
static void
derive_group_push(struct derive *d, struct dgroup *g, int64_t ts)
{
	double	*slot;

	if (g->bad || g->n < 2 || !isinf(g->le[g->n - 1]) ||
	    g->le[g->n - 1] < 0) {
		g->rn = 0;
		return;
	}
	if (!derive_same_bounds(g->bounds, g->nb, g->le, g->n)) {
		free(g->ring);
		free(g->ring_ts);
		g->ring = NULL;
		g->ring_ts = NULL;
		g->rcap = g->rn = g->rhead = 0;
		g->bounds = xreallocarray(g->bounds, g->n, sizeof *g->bounds);
		memcpy(g->bounds, g->le, g->n * sizeof *g->bounds);
		g->nb = g->n;
	}
	if (g->rn > 0 && ts <= derive_snap_ts(g, g->rn - 1)) {
		if (ts < derive_snap_ts(g, g->rn - 1))
			g->rn = 0;
		else
			g->rn--;
	}
	if (g->rn == g->rcap)
		derive_ring_grow(g);
	g->rn++;
	slot = derive_snap(g, g->rn - 1);
	memcpy(slot, g->cnt, g->nb * sizeof *slot);
	g->ring_ts[(g->rhead + g->rn - 1) % g->rcap] = ts;
	while (g->rn > 1 && derive_snap_ts(g, 0) < ts - d->maxw)
		derive_snap_drop(g);
	while (g->rn > DERIVE_MAX_SNAPSHOTS)
		derive_snap_drop(g);
}

/*
 * Add a label set's bucket increase over window w to out: from the oldest
 * snapshot at or after now - w to the newest, step by step, a step in which
 * any bucket went down counting as a reset. False if fewer than two
 * snapshots fall in the window.
 */
static bool
derive_group_delta(const struct dgroup *g, int64_t now, int64_t w,
    double *out)
{
	const double	*prev, *cur;
	size_t		 base, i, b;
	bool		 reset;

	if (g->rn < 2)
		return (false);
	for (base = 0; base < g->rn - 1; base++) {
		if (derive_snap_ts(g, base) >= now - w)
			break;
	}
	if (base >= g->rn - 1)
		return (false);
	for (i = base + 1; i < g->rn; i++) {
		prev = derive_snap(g, i - 1);
		cur = derive_snap(g, i);
		reset = false;
		for (b = 0; b < g->nb; b++) {
			if (cur[b] < prev[b])
				reset = true;
		}
		for (b = 0; b < g->nb; b++)
			out[b] += reset ? cur[b] : cur[b] - prev[b];
	}
	return (true);
}

/* Drop the label sets of h the scrape did not have. */
static void
derive_hist_sweep(struct dhist *h)
{
	size_t	i, n = 0;

	for (i = 0; i < h->ngroups; i++) {
		if (!h->groups[i].seen) {
			derive_group_free(&h->groups[i]);
			continue;
		}
		h->groups[n++] = h->groups[i];
	}
	h->ngroups = n;
}

/*
 * Commit a latency's increases per window: the label sets of h whose
 * boundaries agree with the first one's are summed; others are left out.
 */
static void
derive_hist_windows(struct derive_target *t, struct dhist *h,
    struct dlat *l)
{
	struct derive	*d = t->d;
	struct dgroup	*g, *ref = NULL;
	size_t		 i, w;

	for (w = 0; w < DERIVE_MAX_WINDOWS; w++)
		l->valid[w] = false;
	for (i = 0; i < h->ngroups && ref == NULL; i++) {
		if (h->groups[i].rn > 0)
			ref = &h->groups[i];
	}
	if (ref == NULL)
		return;
	if (ref->nb > l->cap) {
		l->bounds = xreallocarray(l->bounds, ref->nb,
		    sizeof *l->bounds);
		for (w = 0; w < DERIVE_MAX_WINDOWS; w++)
			l->delta[w] = xreallocarray(l->delta[w], ref->nb,
			    sizeof *l->delta[w]);
		l->cap = ref->nb;
	}
	l->nb = ref->nb;
	memcpy(l->bounds, ref->bounds, l->nb * sizeof *l->bounds);
	for (w = 0; w < d->cfg.nwindows; w++) {
		memset(l->delta[w], 0, l->nb * sizeof *l->delta[w]);
		for (i = 0; i < h->ngroups; i++) {
			g = &h->groups[i];
			if (g->rn == 0 || !derive_same_bounds(g->bounds, g->nb,
			    l->bounds, l->nb))
				continue;
			if (derive_group_delta(g, t->ts, d->cfg.windows_ms[w],
			    l->delta[w]))
				l->valid[w] = true;
		}
	}
}

/* Tell whether a and b are equal within a relative tolerance eps. */
static bool
derive_almost_equal(double a, double b, double eps)
{
	double	sum, diff;

	if (a == b)
		return (true);
	sum = fabs(a) + fabs(b);
	diff = fabs(a - b);
	if (a == 0 || b == 0 || sum < DBL_MIN)
		return (diff < eps * DBL_MIN);
	return (diff / fmin(sum, DBL_MAX) < eps);
}

/*
 * Compute the q-quantile of cumulative buckets (sorted, unique bounds) as
 * PromQL's histogram_quantile does: the last bucket must be +Inf, counts
 * are forced monotonic, a rank in the +Inf bucket gives the second-to-last
 * bound, and the first bucket's lower bound is 0. NaN if there is no data.
 */
static double
derive_quantile(struct derive *d, double q, const double *le,
    const double *cnt, size_t n)
{
	double	*c, prev, rank, start = 0, count;
	size_t	 i, b;

	if (n < 2 || !isinf(le[n - 1]) || le[n - 1] < 0)
		return (NAN);
	derive_scratch(d, n);
	c = d->scratch;
	memcpy(c, cnt, n * sizeof *c);
	prev = c[0];
	for (i = 1; i < n; i++) {
		if (c[i] == prev)
			continue;
		if (derive_almost_equal(prev, c[i], 1e-12) || c[i] < prev) {
			c[i] = prev;
			continue;
		}
		prev = c[i];
	}
	if (c[n - 1] == 0 || isnan(c[n - 1]))
		return (NAN);
	rank = q * c[n - 1];
	for (b = 0; b < n - 1; b++) {
		if (c[b] >= rank)
			break;
	}
	if (b == n - 1)
		return (le[n - 2]);
	if (b == 0 && le[0] <= 0)
		return (le[0]);
	count = c[b];
	if (b > 0) {
		start = le[b - 1];
		count -= c[b - 1];
		rank -= c[b - 1];
	}
	return (start + (le[b] - start) * (rank / count));
}

/* Emit the quantiles (and e2e tail ratio) of one window; return p50. */
static double
derive_put_lat(struct derive *d, const struct derive_out *o, int lat,
    const double *le, const double *cnt, size_t n, const char *window)
{
	double	v[DERIVE_NQ];
	size_t	i;

	for (i = 0; i < DERIVE_NQ; i++) {
		v[i] = derive_quantile(d, derive_q[i], le, cnt, n);
		derive_put(o, derive_qnames[lat][i], NULL, 0, window, v[i]);
	}
	if (lat == LAT_E2E && v[0] > 0 && !isnan(v[2]))
		derive_put(o, "rollout:e2e_latency:tail_ratio", NULL, 0,
		    window, v[2] / v[0]);
	return (v[0]);
}

/* Snapshot every histogram and emit windowed latency quantiles. */
static void
derive_end_hists(struct derive_target *t, const struct derive_out *o)
{
	struct derive	*d = t->d;
	struct dhist	*h;
	struct dlat	*l;
	size_t		 i, k, w;
	int		 lat;

	for (i = 0; i < DERIVE_NHIST; i++) {
		h = &t->hist[i];
		derive_hist_sweep(h);
		for (k = 0; k < h->ngroups; k++)
			derive_group_push(d, &h->groups[k], t->ts);
	}
	for (lat = 0; lat < LAT_N; lat++) {
		l = &t->lat[lat];
		for (w = 0; w < DERIVE_MAX_WINDOWS; w++)
			l->valid[w] = false;
		for (i = 0; i < DERIVE_NHIST; i++) {
			if ((int)derive_hists[i].lat == lat && t->hist[i].seen)
				break;
		}
		if (i == DERIVE_NHIST)
			continue;
		derive_hist_windows(t, &t->hist[i], l);
		for (w = 0; w < d->cfg.nwindows; w++) {
			if (l->valid[w])
				derive_put_lat(d, o, lat, l->bounds,
				    l->delta[w], l->nb, d->wlabel[w]);
		}
	}
}

/* Commit a successful scrape and emit the target's derived series. */
void
derive_end(struct derive_target *t, derive_emit_fn fn, void *arg)
{
	struct derive_out	o;

	if (!t->in_scrape)
		return;
	t->in_scrape = false;
	memset(&o, 0, sizeof o);
	o.fn = fn;
	o.arg = arg;
	o.ts = t->ts;
	if (t->model_seen) {
		o.model = t->model;
		o.model_len = t->model_len;
	}
	derive_end_kv(t, &o);
	derive_end_load(t, &o);
	derive_end_rates(t, &o);
	derive_end_hists(t, &o);
	t->ok = true;
	t->aborted = false;
	t->last_ts = t->ts;
}

/*
 * Estimate how many requests of cumulative buckets took longer than thr:
 * whole buckets above it, plus a linear share of the bucket holding it.
 * NaN if thr falls in a non-empty +Inf bucket, where no share can be had.
 */
static double
derive_slow(const double *le, const double *cnt, size_t n, double thr)
{
	double	lo, c, slow = 0;
	size_t	i;

	for (i = 0; i < n; i++) {
		lo = i > 0 ? le[i - 1] : fmin(0, le[0]);
		c = cnt[i] - (i > 0 ? cnt[i - 1] : 0);
		if (!(c > 0) || le[i] <= thr)
			continue;
		if (lo >= thr)
			slow += c;
		else if (isinf(le[i]))
			return (NAN);
		else
			slow += c * (le[i] - thr) / (le[i] - lo);
	}
	return (slow);
}

/* Emit a job's fleet latency quantiles for one latency and window. */
static void
derive_fleet_lat(struct derive *d, struct derive_job *j,
    const struct derive_out *o, int lat, size_t w)
{
	struct derive_target	*t;
	const struct dlat	*l, *ref = NULL;
	double			 p50, slow;
	size_t			 b;

	TAILQ_FOREACH(t, &j->targets, entry) {
		if (!t->ok || t->aborted || !t->lat[lat].valid[w])
			continue;
		l = &t->lat[lat];
		if (ref == NULL) {
			ref = l;
			derive_scratch(d, l->nb);
			memset(d->fsum, 0, l->nb * sizeof *d->fsum);
		} else if (!derive_same_bounds(l->bounds, l->nb, ref->bounds,
		    ref->nb))
			continue;
		for (b = 0; b < l->nb; b++)
			d->fsum[b] += l->delta[w][b];
	}
	if (ref == NULL)
		return;
	/* Scratch already holds ref->nb, so fsum does not move below. */
	p50 = derive_put_lat(d, o, lat, ref->bounds, d->fsum, ref->nb,
	    d->wlabel[w]);
	if (lat != LAT_E2E || !(p50 > 0) || isinf(p50))
		return;
	slow = derive_slow(ref->bounds, d->fsum, ref->nb, d->cfg.tail_k * p50);
	derive_put(o, "rollout:slow_requests:count", NULL, 0, d->wlabel[w],
	    slow);
}

/* Emit one job's fleet aggregates. */
static void
derive_fleet_job(struct derive *d, struct derive_job *j,
    const struct derive_out *o)
{
	static const char	*rnames[CTR_N] = {
		"rollout:prompt_tokens:rate_sum",
		"rollout:generation_tokens:rate_sum"
	};
	struct derive_target	*t;
	double			 kvsum = 0, kvmin = 0, kvmax = 0;
	double			 running = 0, waiting = 0, rate[CTR_N] = { 0 };
	size_t			 nservers = 0, nkv = 0, nload = 0, nidle = 0;
	size_t			 nrun = 0, nwait = 0, nrate[CTR_N] = { 0 };
	size_t			 i, w;
	int			 lat;

	TAILQ_FOREACH(t, &j->targets, entry) {
		if (!t->ok || t->aborted)
			continue;
		nservers++;
		if (t->has_kv) {
			if (nkv == 0 || t->kv < kvmin)
				kvmin = t->kv;
			if (nkv == 0 || t->kv > kvmax)
				kvmax = t->kv;
			kvsum += t->kv;
			nkv++;
		}
		if (t->has_running) {
			running += t->running;
			nrun++;
		}
		if (t->has_waiting) {
			waiting += t->waiting;
			nwait++;
		}
		if (t->has_running || t->has_waiting) {
			nload++;
			if (t->running + t->waiting == 0)
				nidle++;
		}
		for (i = 0; i < CTR_N; i++) {
			if (t->has_rate[i]) {
				rate[i] += t->rate[i];
				nrate[i]++;
			}
		}
	}
	derive_put(o, "rollout:servers:count", NULL, 0, NULL,
	    (double)nservers);
	if (nkv > 0) {
		derive_put(o, "rollout:kv_cache_usage:ratio_mean", NULL, 0,
		    NULL, kvsum / (double)nkv);
		derive_put(o, "rollout:kv_cache_usage:ratio_max", NULL, 0,
		    NULL, kvmax);
		derive_put(o, "rollout:kv_cache_usage:ratio_min", NULL, 0,
		    NULL, kvmin);
		derive_put(o, "rollout:kv_cache_usage:imbalance", NULL, 0,
		    NULL, kvmax - kvmin);
	}
	if (nrun > 0)
		derive_put(o, "rollout:requests_running:sum", NULL, 0, NULL,
		    running);
	if (nwait > 0)
		derive_put(o, "rollout:requests_waiting:sum", NULL, 0, NULL,
		    waiting);
	if (nload > 0) {
		derive_put(o, "rollout:idle_servers:count", NULL, 0, NULL,
		    (double)nidle);
		if (running + waiting > 0)
			derive_put(o, "rollout:idle_servers:ratio", NULL, 0,
			    NULL, (double)nidle / (double)nload);
	}
	for (i = 0; i < CTR_N; i++) {
		if (nrate[i] > 0)
			derive_put(o, rnames[i], NULL, 0, NULL, rate[i]);
	}
	for (lat = 0; lat < LAT_N; lat++) {
		for (w = 0; w < d->cfg.nwindows; w++)
			derive_fleet_lat(d, j, o, lat, w);
	}
}

/* Emit fleet aggregates for every job, stamped with ts. */
void
derive_fleet(struct derive *d, int64_t ts, derive_emit_fn fn, void *arg)
{
	struct derive_job	*j;
	struct derive_out	 o;

	if (d == NULL || !d->cfg.enabled)
		return;
	memset(&o, 0, sizeof o);
	o.fn = fn;
	o.arg = arg;
	o.ts = ts;
	TAILQ_FOREACH(j, &d->jobs, entry) {
		o.job = j->name;
		derive_fleet_job(d, j, &o);
	}
}
