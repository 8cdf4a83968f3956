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
 * increase. Label sets, and servers in the fleet, whose bucket layouts
 * differ are re-bucketed onto the union of their bounds before summing.
 *
 * Counters (tokens, prefix cache, preemptions, finish reasons, spec
 * decoding, finished requests) become one step per successful scrape: each
 * label set's increase since the last one, summed per kind. Windows sum
 * the steps that start inside them; ratios keep numerator and denominator
 * so the fleet can sum both. Fleet aggregates per job sum the committed
 * per-target values of the targets whose last scrape succeeded; the fleet
 * evaluation also accounts idle and busy server-seconds and follows the
 * rollout waves (from no work to work and back), whose finished requests
 * are the scrapes' e2e _count increases. Beside each fleet series that is
 * not a plain sum the fleet also writes the parts it is made of (window
 * buckets and their bounds, ratio numerators and denominators, the KV sum
 * and count, the busy count, the last wave's start and end), so the
 * members of a cluster, each seeing part of the fleet, can be combined
 * into the whole fleet's series by contrib/rollout-cluster.rules.yml.
 */
#include <sys/queue.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "derive.h"
#include "duration.h"
#include "series.h"
#include "xmalloc.h"

#define DERIVE_MAX_BUCKETS	256	/* per histogram label set */
#define DERIVE_MAX_GROUPS	64	/* label sets per histogram */
#define DERIVE_MAX_COUNTERS	64	/* label sets per counter */
#define DERIVE_MAX_RANKS	64	/* vLLM-Ascend dp ranks */
#define DERIVE_MAX_SNAPSHOTS	4096	/* per histogram label set */
#define DERIVE_WAVE_NQ		3	/* wave completion quantiles */
#define DERIVE_MAX_VALUE	256	/* longest model_name kept */
#define DERIVE_MAX_DP		32	/* longest dp value kept */
#define DERIVE_MAX_EVENTS	65536	/* finish events per wave */
#define DERIVE_MAX_GAP_MS	60000	/* longest fleet step accounted */
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
	SRC_AWAKE,		/* vllm:engine_sleep_state, "awake" */
	SRC_PAUSED,		/* sglang:num_paused_reqs */
	SRC_SPEC_RATE,		/* sglang:spec_accept_rate */
	SRC_SPEC_LEN,		/* sglang:spec_accept_length */
	SRC_NACC,		/* the above are gauges summed per scrape */
	SRC_COUNTER,		/* a counter, by derive_name.idx */
	SRC_SUCCESS,		/* vllm:request_success_total */
	SRC_SLEEP,		/* vllm:engine_sleep_state */
	SRC_HIST
};

enum derive_lat {
	LAT_E2E,
	LAT_TTFT,
	LAT_ITL,
	LAT_GEN,		/* response length, tokens */
	LAT_QUEUE,
	LAT_N
};

/*
 * Counters. Per scrape each label set's increase since the last successful
 * scrape is summed per kind (a counter that went down counts from 0); the
 * sums go into a ring of steps from which windows are summed.
 */
enum derive_ctr {
	CTR_PROMPT,
	CTR_GENERATION,
	CTR_PC_QUERIES,		/* vllm:prefix_cache_queries_total */
	CTR_PC_HITS,
	CTR_PC_QUERIES_OLD,	/* vllm:gpu_prefix_cache_queries_total */
	CTR_PC_HITS_OLD,
	CTR_SGL_CACHED,		/* sglang:cached_tokens_total */
	CTR_PREEMPT,		/* preemptions, SGLang retractions */
	CTR_FINISHED,		/* request_success_total, every reason */
	CTR_LENGTH,		/* the same, finished_reason="length" */
	CTR_SPEC_DRAFTS,
	CTR_SPEC_DRAFT_TOKENS,
	CTR_SPEC_ACCEPTED,
	CTR_E2E_COUNT,		/* e2e_request_latency_seconds_count */
	CTR_N,
	/* Not counters: SGLang's gauges weighted by generated tokens. */
	W_SPEC_RATE = CTR_N,
	W_SPEC_LEN,
	W_SPEC,			/* the weight */
	STEP_N
};

/* Counters whose per-second rates are kept: CTR_PROMPT, CTR_GENERATION. */
#define DERIVE_NRATE	(CTR_GENERATION + 1)

/* Windowed ratios kept per target for the fleet. */
enum derive_ratio {
	RATIO_PREFIX,
	RATIO_TRUNC,
	RATIO_SPEC,
	RATIO_SPEC_LEN,
	RATIO_N
};

struct derive_name {
	const char	*name;
	size_t		 len;
	enum derive_src	 src;
	int		 idx;		/* enum derive_hist or derive_ctr */
};

/*
 * Histogram families, in order of preference within each latency;
 * derive_names refers to them by these names, not by position.
 */
enum derive_hist {
	HIST_VLLM_E2E,
	HIST_SGL_E2E,
	HIST_VLLM_TTFT,
	HIST_SGL_TTFT,
	HIST_VLLM_ITL,
	HIST_VLLM_TPOT,
	HIST_SGL_ITL,
	HIST_SGL_TPOT,
	HIST_VLLM_GEN,
	HIST_SGL_GEN,
	HIST_VLLM_QUEUE,
	HIST_SGL_QUEUE,
	HIST_N
};

static const struct {
	const char	*name;
	enum derive_lat	 lat;
} derive_hists[] = {
	[HIST_VLLM_E2E] = { "vllm:e2e_request_latency_seconds", LAT_E2E },
	[HIST_SGL_E2E] = { "sglang:e2e_request_latency_seconds", LAT_E2E },
	[HIST_VLLM_TTFT] = { "vllm:time_to_first_token_seconds", LAT_TTFT },
	[HIST_SGL_TTFT] = { "sglang:time_to_first_token_seconds", LAT_TTFT },
	[HIST_VLLM_ITL] = { "vllm:inter_token_latency_seconds", LAT_ITL },
	[HIST_VLLM_TPOT] = { "vllm:time_per_output_token_seconds", LAT_ITL },
	[HIST_SGL_ITL] = { "sglang:inter_token_latency_seconds", LAT_ITL },
	[HIST_SGL_TPOT] = { "sglang:time_per_output_token_seconds",
	    LAT_ITL },
	[HIST_VLLM_GEN] = { "vllm:request_generation_tokens", LAT_GEN },
	[HIST_SGL_GEN] = { "sglang:generation_tokens_histogram", LAT_GEN },
	[HIST_VLLM_QUEUE] = { "vllm:request_queue_time_seconds", LAT_QUEUE },
	[HIST_SGL_QUEUE] = { "sglang:queue_time_seconds", LAT_QUEUE },
};
#define DERIVE_NHIST	(sizeof derive_hists / sizeof derive_hists[0])
_Static_assert(DERIVE_NHIST == HIST_N, "derive_hists: one row per name");

#define DN(s)	s, sizeof s - 1
static const struct derive_name derive_names[] = {
	{ DN("vllm:kv_cache_usage_perc"), SRC_KV_V1, 0 },
	{ DN("vllm:gpu_cache_usage_perc"), SRC_KV_V0, 0 },
	{ DN("vllm:num_requests_running"), SRC_RUNNING, 0 },
	{ DN("vllm:num_requests_waiting"), SRC_WAITING, 0 },
	{ DN("vllm:engine_sleep_state"), SRC_SLEEP, 0 },
	{ DN("vllm:prompt_tokens_total"), SRC_COUNTER, CTR_PROMPT },
	{ DN("vllm:generation_tokens_total"), SRC_COUNTER, CTR_GENERATION },
	{ DN("vllm:prefix_cache_queries_total"), SRC_COUNTER,
	  CTR_PC_QUERIES },
	{ DN("vllm:prefix_cache_hits_total"), SRC_COUNTER, CTR_PC_HITS },
	{ DN("vllm:gpu_prefix_cache_queries_total"), SRC_COUNTER,
	  CTR_PC_QUERIES_OLD },
	{ DN("vllm:gpu_prefix_cache_hits_total"), SRC_COUNTER,
	  CTR_PC_HITS_OLD },
	{ DN("vllm:num_preemptions_total"), SRC_COUNTER, CTR_PREEMPT },
	{ DN("vllm:request_success_total"), SRC_SUCCESS, 0 },
	{ DN("vllm:spec_decode_num_drafts_total"), SRC_COUNTER,
	  CTR_SPEC_DRAFTS },
	{ DN("vllm:spec_decode_num_draft_tokens_total"), SRC_COUNTER,
	  CTR_SPEC_DRAFT_TOKENS },
	{ DN("vllm:spec_decode_num_accepted_tokens_total"), SRC_COUNTER,
	  CTR_SPEC_ACCEPTED },
	{ DN("vllm:e2e_request_latency_seconds_count"), SRC_COUNTER,
	  CTR_E2E_COUNT },
	{ DN("vllm_profiling_free_kvcache_blocks"), SRC_ASCEND_FREE, 0 },
	{ DN("vllm_profiling_total_kvcache_blocks"), SRC_ASCEND_TOTAL, 0 },
	{ DN("vllm:e2e_request_latency_seconds_bucket"), SRC_HIST,
	  HIST_VLLM_E2E },
	{ DN("vllm:time_to_first_token_seconds_bucket"), SRC_HIST,
	  HIST_VLLM_TTFT },
	{ DN("vllm:inter_token_latency_seconds_bucket"), SRC_HIST,
	  HIST_VLLM_ITL },
	{ DN("vllm:time_per_output_token_seconds_bucket"), SRC_HIST,
	  HIST_VLLM_TPOT },
	{ DN("vllm:request_generation_tokens_bucket"), SRC_HIST,
	  HIST_VLLM_GEN },
	{ DN("vllm:request_queue_time_seconds_bucket"), SRC_HIST,
	  HIST_VLLM_QUEUE },
	/* The sglang names follow (derive->nvllm). */
	{ DN("sglang:token_usage"), SRC_KV_SGLANG, 0 },
	{ DN("sglang:num_used_tokens"), SRC_SGLANG_USED, 0 },
	{ DN("sglang:max_total_num_tokens"), SRC_SGLANG_MAX, 0 },
	{ DN("sglang:num_running_reqs"), SRC_RUNNING, 0 },
	{ DN("sglang:num_queue_reqs"), SRC_WAITING, 0 },
	{ DN("sglang:num_paused_reqs"), SRC_PAUSED, 0 },
	{ DN("sglang:spec_accept_rate"), SRC_SPEC_RATE, 0 },
	{ DN("sglang:spec_accept_length"), SRC_SPEC_LEN, 0 },
	{ DN("sglang:prompt_tokens_total"), SRC_COUNTER, CTR_PROMPT },
	{ DN("sglang:generation_tokens_total"), SRC_COUNTER, CTR_GENERATION },
	{ DN("sglang:cached_tokens_total"), SRC_COUNTER, CTR_SGL_CACHED },
	{ DN("sglang:num_retracted_requests_total"), SRC_COUNTER,
	  CTR_PREEMPT },
	{ DN("sglang:e2e_request_latency_seconds_count"), SRC_COUNTER,
	  CTR_E2E_COUNT },
	{ DN("sglang:e2e_request_latency_seconds_bucket"), SRC_HIST,
	  HIST_SGL_E2E },
	{ DN("sglang:time_to_first_token_seconds_bucket"), SRC_HIST,
	  HIST_SGL_TTFT },
	{ DN("sglang:inter_token_latency_seconds_bucket"), SRC_HIST,
	  HIST_SGL_ITL },
	{ DN("sglang:time_per_output_token_seconds_bucket"), SRC_HIST,
	  HIST_SGL_TPOT },
	{ DN("sglang:generation_tokens_histogram_bucket"), SRC_HIST,
	  HIST_SGL_GEN },
	{ DN("sglang:queue_time_seconds_bucket"), SRC_HIST,
	  HIST_SGL_QUEUE },
};
#undef DN
#define DERIVE_NNAMES	(sizeof derive_names / sizeof derive_names[0])

/* The quantiles emitted per latency; NULL names are not. */
static const double derive_q[DERIVE_NQ] = { 0.5, 0.9, 0.99, 0.999 };
static const char *derive_qnames[LAT_N][DERIVE_NQ] = {
	{ "rollout:e2e_latency_seconds:p50", "rollout:e2e_latency_seconds:p90",
	  "rollout:e2e_latency_seconds:p99",
	  "rollout:e2e_latency_seconds:p999" },
	{ "rollout:ttft_seconds:p50", "rollout:ttft_seconds:p90",
	  "rollout:ttft_seconds:p99", "rollout:ttft_seconds:p999" },
	{ "rollout:itl_seconds:p50", "rollout:itl_seconds:p90",
	  "rollout:itl_seconds:p99", "rollout:itl_seconds:p999" },
	{ "rollout:generation_tokens:p50", "rollout:generation_tokens:p90",
	  "rollout:generation_tokens:p99", NULL },
	{ "rollout:queue_time_seconds:p50", NULL,
	  "rollout:queue_time_seconds:p99", NULL },
};
/* The fleet's window buckets, per latency (mergeable across members). */
static const char *derive_bucketnames[LAT_N] = {
	"rollout:e2e_latency_seconds:window_bucket",
	"rollout:ttft_seconds:window_bucket",
	"rollout:itl_seconds:window_bucket",
	"rollout:generation_tokens:window_bucket",
	"rollout:queue_time_seconds:window_bucket"
};
/* The upper bound of the highest bucket that gained, per latency. */
static const char *derive_maxnames[LAT_N] = {
	NULL, NULL, NULL, "rollout:generation_tokens:max_bucket", NULL
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
	int64_t		 reset_ts;	/* newest snapshot after a decrease */
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

/* The counters' increases between two successful scrapes. */
struct dstep {
	int64_t		 t0;
	int64_t		 t1;
	uint32_t	 has;		/* bit k: kind k had an increase */
	double		 inc[STEP_N];
};

/* A ratio over a window: num / den, kept for the fleet. */
struct dratio {
	double		 num;
	double		 den;
	bool		 has;
};

/* A target's windowed counter results, kept for the fleet. */
struct dwin {
	struct dratio	 ratio[RATIO_N];
	double		 preempt_rate;
	bool		 has_preempt;
};

/* A finished-requests increase seen by one scrape, for the waves. */
struct devent {
	int64_t		 ts;
	double		 n;
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

	/* Counter steps of successful scrapes, oldest first. */
	struct dstep		*steps;
	size_t			 shead;
	size_t			 sn;
	size_t			 scap;

	/* Committed at the last successful scrape, for the fleet. */
	bool			 has_kv;
	double			 kv;
	bool			 has_running;
	bool			 has_waiting;
	double			 running;
	double			 waiting;
	bool			 has_rate[DERIVE_NRATE];
	double			 rate[DERIVE_NRATE];
	struct dlat		 lat[LAT_N];
	bool			 has_asleep;
	bool			 asleep;
	struct dwin		 win[DERIVE_MAX_WINDOWS];

	/* For the waves: when this server's work began or ended. */
	bool			 has_work;
	bool			 work;
	int64_t			 work_since;
	int64_t			 idle_since;
};

struct derive_job {
	char			*name;
	TAILQ_HEAD(, derive_target) targets;
	TAILQ_ENTRY(derive_job)	 entry;

	/* Server-seconds while the fleet has work, since accounting began. */
	bool			 counting;
	int64_t			 last_ts;	/* last fleet evaluation */
	double			 idle_s;
	double			 busy_s;

	/* Waves. */
	bool			 seen_idle;	/* a wave's start is known */
	bool			 in_wave;
	bool			 partial;	/* began before we looked */
	int64_t			 wave_start;
	struct devent		*events;
	size_t			 nevents;
	size_t			 capevents;
	double			 waves;		/* finished, counted */
	bool			 has_wave;	/* the last finished wave: */
	int64_t			 wave_t0;	/* its start and end */
	int64_t			 wave_t1;
	double			 wave_dur;
	double			 wave_req;
	/* Completion at 50, 90, 99 % of the requests; NaN: none. */
	double			 wave_t[DERIVE_WAVE_NQ];
};

struct derive {
	struct derive_config	 cfg;
	int64_t			 maxw;		/* longest window */
	char			 wlabel[DERIVE_MAX_WINDOWS][32];
	char			 member[16];	/* "": no label */
	TAILQ_HEAD(, derive_job) jobs;
	size_t			 nvllm;		/* derive_names starting vllm */
	/* Scratch, DERIVE_MAX_BUCKETS each. */
	double			*scratch;	/* quantile fix-up */
	double			*fsum;		/* fleet bucket sums */
	double			*ubounds;	/* a union of bucket bounds */
	double			*gdelta;	/* one label set's increase */
};

/* Where and how derived samples go. */
struct derive_out {
	derive_emit_fn		 fn;
	void			*arg;
	int64_t			 ts;
	const char		*job;
	const char		*model;
	size_t			 model_len;
	const char		*member;	/* fleet series; NULL: none */
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
	cfg->member = -1;
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
	if (cfg->member >= 0)
		snprintf(d->member, sizeof d->member, "%d", cfg->member);
	for (i = 0; i < cfg->nwindows && i < DERIVE_MAX_WINDOWS; i++) {
		if (cfg->windows_ms[i] <= 0)
			continue;
		d->cfg.windows_ms[n] = cfg->windows_ms[i];
		duration_format(cfg->windows_ms[i], d->wlabel[n],
		    sizeof d->wlabel[n]);
		if (cfg->windows_ms[i] > d->maxw)
			d->maxw = cfg->windows_ms[i];
		n++;
	}
	d->cfg.nwindows = n;
	if (!(d->cfg.tail_k > 0))
		d->cfg.tail_k = 5;
	TAILQ_INIT(&d->jobs);
	while (d->nvllm < DERIVE_NNAMES &&
	    derive_names[d->nvllm].name[0] == 'v')
		d->nvllm++;
	d->scratch = xcalloc(DERIVE_MAX_BUCKETS, sizeof *d->scratch);
	d->fsum = xcalloc(DERIVE_MAX_BUCKETS, sizeof *d->fsum);
	d->ubounds = xcalloc(DERIVE_MAX_BUCKETS, sizeof *d->ubounds);
	d->gdelta = xcalloc(DERIVE_MAX_BUCKETS, sizeof *d->gdelta);
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
	free(d->ubounds);
	free(d->gdelta);
	free(d);
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
		free(j->events);
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
	free(t->steps);
	free(t->ranks);
	free(t->model);
	free(t);
}

/*
 * Return the bytes t holds for its windows (the snapshot rings of its
 * histograms' label sets and its ring of counter steps) and store in *used
 * the bytes of the snapshots and steps they hold.
 */
size_t
derive_target_window_bytes(const struct derive_target *t, size_t *used)
{
	const struct dgroup	*g;
	size_t			 i, k, snap, held;

	held = t->scap * sizeof *t->steps;
	*used = t->sn * sizeof *t->steps;
	for (i = 0; i < DERIVE_NHIST; i++) {
		for (k = 0; k < t->hist[i].ngroups; k++) {
			g = &t->hist[i].groups[k];
			snap = g->nb * sizeof *g->ring + sizeof *g->ring_ts;
			held += g->rcap * snap;
			*used += g->rn * snap;
		}
	}
	return (held);
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

/*
 * Fold a vllm:request_success_total sample into the finished counter, and
 * into the truncated one when its finished_reason is "length".
 */
static void
derive_success(struct derive_target *t, const struct pt_item *it)
{
	struct pt_label	 lab;
	size_t		 pos = 0;

	derive_counter(t, it, CTR_FINISHED);
	while (derive_label_next(it->labels, &pos, &lab)) {
		if (pt_str_eq(lab.name, "finished_reason") &&
		    pt_str_eq(lab.value, "length"))
			derive_counter(t, it, CTR_LENGTH);
	}
}

/* Fold a vllm:engine_sleep_state sample: only sleep_state="awake" counts. */
static void
derive_sleep(struct derive_target *t, const struct pt_item *it)
{
	struct pt_label	 lab;
	size_t		 pos = 0;

	while (derive_label_next(it->labels, &pos, &lab)) {
		if (pt_str_eq(lab.name, "sleep_state")) {
			if (!pt_str_eq(lab.value, "awake"))
				return;
			t->acc[SRC_AWAKE].sum += it->value;
			t->acc[SRC_AWAKE].n++;
			return;
		}
	}
}

/* Fold one sample of the scrape in progress into the accumulators. */
void
derive_sample(struct derive_target *t, const struct pt_item *it)
{
	const struct derive_name	*dn;
	struct pt_label			 lab;
	size_t				 pos = 0, from, to;

	if (it->name.len < sizeof "vllm" - 1)
		return;
	if (it->name.p[0] == 'v') {
		if (memcmp(it->name.p, "vllm", sizeof "vllm" - 1) != 0)
			return;
		from = 0;
		to = t->d->nvllm;
	} else if (it->name.p[0] == 's') {
		if (it->name.len < sizeof "sglang" - 1 ||
		    memcmp(it->name.p, "sglang", sizeof "sglang" - 1) != 0)
			return;
		from = t->d->nvllm;
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
		derive_hist_sample(t, it, dn->idx);
		return;
	case SRC_ASCEND_FREE:
	case SRC_ASCEND_TOTAL:
		derive_ascend(t, it, dn->src);
		return;
	case SRC_COUNTER:
		derive_counter(t, it, dn->idx);
		break;
	case SRC_SUCCESS:
		derive_success(t, it);
		break;
	case SRC_SLEEP:
		derive_sleep(t, it);
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

/* Set label l to name=value. */
static void
derive_label(struct label *l, const char *name, const char *value,
    size_t value_len)
{
	l->name = name;
	l->name_len = strlen(name);
	l->value = value;
	l->value_len = value_len;
}

/*
 * Emit one sample; labels dp, job, le, member, model_name, window (sorted)
 * if set.
 */
static void
derive_put_le(const struct derive_out *o, const char *name, const char *dp,
    size_t dp_len, const char *le, const char *window, double v)
{
	struct label	l[6];
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
	if (le != NULL)
		derive_label(&l[n++], "le", le, strlen(le));
	if (o->member != NULL)
		derive_label(&l[n++], "member", o->member, strlen(o->member));
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

/* Emit one sample; labels dp, job, member, model_name, window if set. */
static void
derive_put(const struct derive_out *o, const char *name, const char *dp,
    size_t dp_len, const char *window, double v)
{
	derive_put_le(o, name, dp, dp_len, NULL, window, v);
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

/*
 * Commit and emit running/waiting requests, sleep and idleness: a server is
 * asleep when vLLM's engines all report sleep_state="awake" 0, or when
 * SGLang has paused requests and none running; an asleep server is not idle.
 * Note when the server's work began or ended, for the waves.
 */
static void
derive_end_load(struct derive_target *t, const struct derive_out *o)
{
	const struct dacc	*a = t->acc;
	bool			 work;

	t->has_running = a[SRC_RUNNING].n > 0;
	t->has_waiting = a[SRC_WAITING].n > 0;
	t->running = a[SRC_RUNNING].sum;
	t->waiting = a[SRC_WAITING].sum;
	t->has_asleep = a[SRC_AWAKE].n > 0 || a[SRC_PAUSED].n > 0;
	if (a[SRC_AWAKE].n > 0)
		t->asleep = a[SRC_AWAKE].sum == 0;
	else
		t->asleep = a[SRC_PAUSED].n > 0 && a[SRC_PAUSED].sum > 0 &&
		    t->running == 0;
	if (t->has_running)
		derive_put(o, "rollout:requests_running", NULL, 0, NULL,
		    t->running);
	if (t->has_waiting)
		derive_put(o, "rollout:requests_waiting", NULL, 0, NULL,
		    t->waiting);
	if (t->has_asleep)
		derive_put(o, "rollout:server_asleep", NULL, 0, NULL,
		    t->asleep ? 1 : 0);
	if (!t->has_running && !t->has_waiting) {
		t->has_work = false;
		return;
	}
	derive_put(o, "rollout:server_idle", NULL, 0, NULL,
	    !t->asleep && t->running + t->waiting == 0 ? 1 : 0);
	work = !t->asleep && t->running + t->waiting > 0;
	if (work && (!t->has_work || !t->work))
		t->work_since = t->ts;
	if (!work && (!t->has_work || t->work))
		t->idle_since = t->ts;
	t->has_work = true;
	t->work = work;
}

/*
 * Return how many entries a ring of the longest window is expected to hold
 * once the window has filled, from the last steps entries, which spanned
 * span ms; 0 if that is not known yet.
 */
static size_t
derive_ring_want(const struct derive *d, size_t steps, int64_t span)
{
	double	want;

	if (steps == 0 || span <= 0)
		return (0);
	want = (double)d->maxw * (double)steps / (double)span;
	return (want < DERIVE_MAX_SNAPSHOTS ? (size_t)want + 1 :
	    DERIVE_MAX_SNAPSHOTS + 1);
}

/*
 * Return the capacity a ring of cap entries should have to hold n. When n
 * does not fit: doubled, or at once the want entries (derive_ring_want)
 * its window is expected to need and a sixteenth more, if that is more;
 * at least n, at most most. Once its window has filled (full: an entry
 * was dropped for age or count): cut to n and a sixteenth when more than
 * a quarter would stay unused. Else cap. A ring that only doubled would
 * hold up to twice the window's entries, and its head, going round, would
 * touch the pages of the rest one by one long after the window filled.
 */
static size_t
derive_ring_cap(size_t n, size_t cap, size_t most, size_t want, bool full)
{
	size_t	grown;

	if (n > cap) {
		grown = cap == 0 ? 8 : cap * 2;
		if (want + want / 16 + 4 > grown)
			grown = want + want / 16 + 4;
		if (grown > most)
			grown = most;
		return (grown > n ? grown : n);
	}
	if (full && cap - n > n / 4 + 8)
		return (n + n / 16 + 4);
	return (cap);
}

/*
 * Return a new array of cap entries of size bytes holding the n entries of
 * ring (of ocap entries, the oldest at head) in order from 0, and free
 * ring.
 */
static void *
derive_ring_resize(void *ring, size_t size, size_t head, size_t n,
    size_t ocap, size_t cap)
{
	char	*out, *in = ring;
	size_t	 first;

	out = xreallocarray(NULL, cap, size);
	if (n > 0) {
		first = ocap - head < n ? ocap - head : n;
		memcpy(out, in + head * size, first * size);
		memcpy(out + first * size, in, (n - first) * size);
	}
	free(ring);
	return (out);
}

/* Return step i of t's counter steps (0 is the oldest). */
static struct dstep *
derive_step(const struct derive_target *t, size_t i)
{
	return (&t->steps[(t->shead + i) % t->scap]);
}

/* Append a step, dropping those older than the longest window. */
static struct dstep *
derive_step_push(struct derive_target *t)
{
	size_t	cap;
	bool	full = false;

	while (t->sn > 0 && (derive_step(t, 0)->t0 < t->ts - t->d->maxw ||
	    t->sn >= DERIVE_MAX_SNAPSHOTS)) {
		t->shead = (t->shead + 1) % t->scap;
		t->sn--;
		full = true;
	}
	cap = derive_ring_cap(t->sn + 1, t->scap, DERIVE_MAX_SNAPSHOTS,
	    derive_ring_want(t->d, t->sn + 1, t->ts - (t->sn > 0 ?
	    derive_step(t, 0)->t0 : t->last_ts)), full);
	if (cap != t->scap) {
		t->steps = derive_ring_resize(t->steps, sizeof *t->steps,
		    t->shead, t->sn, t->scap, cap);
		t->scap = cap;
		t->shead = 0;
	}
	t->sn++;
	return (derive_step(t, t->sn - 1));
}

/*
 * Commit the counters: each label set's increase since the last successful
 * scrape (from 0 when it went down), summed per kind. Returns the kinds
 * that had a label set seen twice in a row.
 */
static uint32_t
derive_counters_commit(struct derive_target *t, double *inc)
{
	struct dcounter	*e;
	uint32_t	 has = 0;
	size_t		 i, k, n;

	for (i = 0; i < CTR_N; i++) {
		inc[i] = 0;
		n = 0;
		for (k = 0; k < t->nctr[i]; k++) {
			e = &t->ctr[i][k];
			if (!e->seen)
				continue;
			if (e->has_last) {
				has |= 1U << i;
				inc[i] += e->cur < e->last ? e->cur :
				    e->cur - e->last;
			}
			e->last = e->cur;
			e->has_last = true;
			t->ctr[i][n++] = *e;
		}
		t->nctr[i] = n;
	}
	return (has);
}

/* Sum the steps of window w (those starting at or after now - w). */
static uint32_t
derive_steps_sum(const struct derive_target *t, int64_t w, double *sum,
    double *span)
{
	const struct dstep	*st;
	uint32_t		 has = 0;
	int64_t			 first = 0, last = 0;
	size_t			 i, k;

	memset(sum, 0, STEP_N * sizeof *sum);
	for (i = t->sn; i > 0; i--) {
		st = derive_step(t, i - 1);
		if (st->t0 < t->ts - w)
			break;
		if (i == t->sn)
			last = st->t1;
		first = st->t0;
		for (k = 0; k < STEP_N; k++) {
			if (st->has & (1U << k))
				sum[k] += st->inc[k];
		}
		has |= st->has;
	}
	*span = (double)(last - first) / 1000;
	return (has);
}

/* Set a ratio from sums when both kinds were seen and den > 0. */
static void
derive_ratio_set(struct dratio *r, uint32_t has, const double *sum,
    int num, int den)
{
	if (!(has & (1U << num)) || !(has & (1U << den)) ||
	    !(sum[den] > 0))
		return;
	r->num = sum[num];
	r->den = sum[den];
	r->has = true;
}

/*
 * The sources of each windowed ratio, in order of preference: vLLM v1,
 * the deprecated names, SGLang. plus_den adds the denominator to the
 * numerator (vLLM's mean acceptance length is 1 + accepted / drafts).
 */
static const struct {
	enum derive_ratio	 ratio;
	int			 num;
	int			 den;
	bool			 plus_den;
} derive_ratio_src[] = {
	{ RATIO_PREFIX, CTR_PC_HITS, CTR_PC_QUERIES, false },
	{ RATIO_PREFIX, CTR_PC_HITS_OLD, CTR_PC_QUERIES_OLD, false },
	{ RATIO_PREFIX, CTR_SGL_CACHED, CTR_PROMPT, false },
	{ RATIO_TRUNC, CTR_LENGTH, CTR_FINISHED, false },
	{ RATIO_SPEC, CTR_SPEC_ACCEPTED, CTR_SPEC_DRAFT_TOKENS, false },
	{ RATIO_SPEC, W_SPEC_RATE, W_SPEC, false },
	{ RATIO_SPEC_LEN, CTR_SPEC_ACCEPTED, CTR_SPEC_DRAFTS, true },
	{ RATIO_SPEC_LEN, W_SPEC_LEN, W_SPEC, false },
};

/*
 * Compute a window's ratios and preemption rate from the step sums; the
 * first source with data wins. No input or a zero denominator gives no
 * value.
 */
static void
derive_window(struct dwin *win, uint32_t has, const double *sum,
    double span)
{
	struct dratio	*r;
	size_t		 i;

	memset(win, 0, sizeof *win);
	for (i = 0; i < sizeof derive_ratio_src / sizeof derive_ratio_src[0];
	    i++) {
		r = &win->ratio[derive_ratio_src[i].ratio];
		if (r->has)
			continue;
		derive_ratio_set(r, has, sum, derive_ratio_src[i].num,
		    derive_ratio_src[i].den);
		if (r->has && derive_ratio_src[i].plus_den)
			r->num += r->den;
	}
	if ((has & (1U << CTR_PREEMPT)) && span > 0) {
		win->preempt_rate = sum[CTR_PREEMPT] / span;
		win->has_preempt = true;
	}
}

/*
 * Each ratio's name, and the names of its numerator and denominator, which
 * the fleet also writes: summed over the members of a cluster, their
 * quotient is the cluster's ratio.
 */
static const char *derive_ratio_names[RATIO_N][3] = {
	{ "rollout:prefix_cache_hit:ratio",
	  "rollout:prefix_cache_hit:ratio_num",
	  "rollout:prefix_cache_hit:ratio_den" },
	{ "rollout:truncated_requests:ratio",
	  "rollout:truncated_requests:ratio_num",
	  "rollout:truncated_requests:ratio_den" },
	{ "rollout:spec_decode_acceptance:ratio",
	  "rollout:spec_decode_acceptance:ratio_num",
	  "rollout:spec_decode_acceptance:ratio_den" },
	{ "rollout:spec_decode_acceptance_length:mean",
	  "rollout:spec_decode_acceptance_length:mean_num",
	  "rollout:spec_decode_acceptance_length:mean_den" },
};

/*
 * Emit a window's ratios and preemption rate; the fleet's if fleet, with
 * the ratios' numerators and denominators.
 */
static void
derive_put_window(const struct derive_out *o, const struct dwin *win,
    const char *window, bool fleet)
{
	const struct dratio	*r;
	size_t			 i;

	for (i = 0; i < RATIO_N; i++) {
		r = &win->ratio[i];
		if (!r->has)
			continue;
		derive_put(o, derive_ratio_names[i][0], NULL, 0, window,
		    r->num / r->den);
		if (!fleet)
			continue;
		derive_put(o, derive_ratio_names[i][1], NULL, 0, window,
		    r->num);
		derive_put(o, derive_ratio_names[i][2], NULL, 0, window,
		    r->den);
	}
	if (win->has_preempt)
		derive_put(o, fleet ? "rollout:preemptions:rate_sum" :
		    "rollout:preemptions:rate", NULL, 0, window,
		    win->preempt_rate);
}

/* Add a finished-requests increase to the job's events for the waves. */
static void
derive_event(struct derive_job *j, int64_t ts, double n)
{
	struct devent	 m;
	size_t		 i, k;

	if (j->nevents == DERIVE_MAX_EVENTS) {
		/* Merge neighbours, keeping the later time. */
		for (i = 0, k = 0; i + 1 < j->nevents; i += 2, k++) {
			m.ts = j->events[i].ts > j->events[i + 1].ts ?
			    j->events[i].ts : j->events[i + 1].ts;
			m.n = j->events[i].n + j->events[i + 1].n;
			j->events[k] = m;
		}
		j->nevents = k;
	}
	if (j->nevents == j->capevents) {
		j->capevents = j->capevents == 0 ? 64 : j->capevents * 2;
		j->events = xreallocarray(j->events, j->capevents,
		    sizeof *j->events);
	}
	j->events[j->nevents].ts = ts;
	j->events[j->nevents++].n = n;
}

/*
 * Commit the counters: token rates since the last scrape, a step for the
 * windows, the windows' ratios and preemption rate, and the finished
 * requests for the waves.
 */
static void
derive_end_counters(struct derive_target *t, const struct derive_out *o)
{
	static const char	*names[DERIVE_NRATE] = {
		"rollout:prompt_tokens:rate",
		"rollout:generation_tokens:rate"
	};
	struct derive		*d = t->d;
	struct dstep		*st;
	double			 inc[STEP_N], sum[STEP_N], dt, span;
	uint32_t		 has;
	size_t			 i, w;

	dt = (double)(t->ts - t->last_ts) / 1000;
	has = derive_counters_commit(t, inc);
	for (i = 0; i < DERIVE_NRATE; i++) {
		t->has_rate[i] = (has & (1U << i)) && t->ok && dt > 0;
		if (!t->has_rate[i])
			continue;
		t->rate[i] = inc[i] / dt;
		derive_put(o, names[i], NULL, 0, NULL, t->rate[i]);
	}
	/* SGLang's acceptance gauges, weighted by the tokens generated. */
	inc[W_SPEC_RATE] = inc[W_SPEC_LEN] = inc[W_SPEC] = 0;
	if ((has & (1U << CTR_GENERATION)) && t->acc[SRC_SPEC_RATE].n > 0 &&
	    t->acc[SRC_SPEC_LEN].n > 0) {
		inc[W_SPEC] = inc[CTR_GENERATION];
		inc[W_SPEC_RATE] = inc[W_SPEC] * t->acc[SRC_SPEC_RATE].sum /
		    (double)t->acc[SRC_SPEC_RATE].n;
		inc[W_SPEC_LEN] = inc[W_SPEC] * t->acc[SRC_SPEC_LEN].sum /
		    (double)t->acc[SRC_SPEC_LEN].n;
		has |= 1U << W_SPEC | 1U << W_SPEC_RATE | 1U << W_SPEC_LEN;
	}
	if (t->ok && dt > 0 && has != 0) {
		st = derive_step_push(t);
		st->t0 = t->last_ts;
		st->t1 = t->ts;
		st->has = has;
		memcpy(st->inc, inc, sizeof st->inc);
		if ((has & (1U << CTR_E2E_COUNT)) && inc[CTR_E2E_COUNT] > 0)
			derive_event(t->job, t->ts, inc[CTR_E2E_COUNT]);
	}
	for (w = 0; w < d->cfg.nwindows; w++) {
		has = derive_steps_sum(t, d->cfg.windows_ms[w], sum, &span);
		derive_window(&t->win[w], has, sum, span);
		derive_put_window(o, &t->win[w], d->wlabel[w], false);
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

/* Tell whether every bound of a (na) is among those of u (nu). */
static bool
derive_bounds_within(const double *a, size_t na, const double *u, size_t nu)
{
	size_t	i, k = 0;

	for (i = 0; i < na; i++) {
		while (k < nu && u[k] < a[i])
			k++;
		if (k == nu || u[k] != a[i])
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

/* Give g's snapshot ring room for cap snapshots, keeping them in order. */
static void
derive_group_resize(struct dgroup *g, size_t cap)
{
	g->ring = derive_ring_resize(g->ring, g->nb * sizeof *g->ring,
	    g->rhead, g->rn, g->rcap, cap);
	g->ring_ts = derive_ring_resize(g->ring_ts, sizeof *g->ring_ts,
	    g->rhead, g->rn, g->rcap, cap);
	g->rcap = cap;
	g->rhead = 0;
}

/* Tell whether any of n counts went down from prev to cur. */
static bool
derive_went_down(const double *prev, const double *cur, size_t n)
{
	size_t	b;

	for (b = 0; b < n; b++) {
		if (cur[b] < prev[b])
			return (true);
	}
	return (false);
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
	size_t	 cap;
	bool	 full = false;

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
	cap = derive_ring_cap(g->rn + 1, g->rcap, DERIVE_MAX_SNAPSHOTS + 1,
	    g->rn > 0 ? derive_ring_want(d, g->rn, ts - derive_snap_ts(g, 0)) :
	    0, false);
	if (cap != g->rcap)
		derive_group_resize(g, cap);
	g->rn++;
	slot = derive_snap(g, g->rn - 1);
	memcpy(slot, g->cnt, g->nb * sizeof *slot);
	g->ring_ts[(g->rhead + g->rn - 1) % g->rcap] = ts;
	if (g->rn > 1 && derive_went_down(derive_snap(g, g->rn - 2), slot,
	    g->nb))
		g->reset_ts = ts;
	while (g->rn > 1 && (derive_snap_ts(g, 0) < ts - d->maxw ||
	    g->rn > DERIVE_MAX_SNAPSHOTS)) {
		derive_snap_drop(g);
		full = true;
	}
	cap = derive_ring_cap(g->rn, g->rcap, DERIVE_MAX_SNAPSHOTS + 1, 0,
	    full);
	if (cap != g->rcap)
		derive_group_resize(g, cap);
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
	size_t		 base, hi, mid, i, b;
	bool		 reset;

	if (g->rn < 2)
		return (false);
	/* The oldest snapshot at or after now - w (times increase). */
	base = 0;
	hi = g->rn - 1;
	while (base < hi) {
		mid = base + (hi - base) / 2;
		if (derive_snap_ts(g, mid) >= now - w)
			hi = mid;
		else
			base = mid + 1;
	}
	if (base >= g->rn - 1)
		return (false);
	if (g->reset_ts <= derive_snap_ts(g, base)) {
		/* No reset in the window: the steps telescope. */
		prev = derive_snap(g, base);
		cur = derive_snap(g, g->rn - 1);
		for (b = 0; b < g->nb; b++)
			out[b] += cur[b] - prev[b];
		return (true);
	}
	for (i = base + 1; i < g->rn; i++) {
		prev = derive_snap(g, i - 1);
		cur = derive_snap(g, i);
		reset = derive_went_down(prev, cur, g->nb);
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
 * Merge the sorted bounds b (nb) into the sorted union u (*nu), keeping
 * it unique; false (u unchanged) if the union would exceed
 * DERIVE_MAX_BUCKETS.
 */
static bool
derive_union(double *u, size_t *nu, const double *b, size_t nb,
    double *tmp)
{
	size_t	i = 0, k = 0, n = 0;

	while (i < *nu || k < nb) {
		if (n == DERIVE_MAX_BUCKETS)
			return (false);
		if (k == nb || (i < *nu && u[i] < b[k]))
			tmp[n++] = u[i++];
		else if (i == *nu || b[k] < u[i])
			tmp[n++] = b[k++];
		else {
			tmp[n++] = u[i++];
			k++;
		}
	}
	memcpy(u, tmp, n * sizeof *u);
	*nu = n;
	return (true);
}

/*
 * Add cumulative counts cnt at bounds le (n, the last +Inf) to out at the
 * union bounds ule (un, a superset, +Inf last). The cumulative count
 * between two bounds is interpolated linearly, from 0 at 0 below the first
 * bound, as histogram_quantile interpolates; above the last finite bound
 * it stays at that bound's count until +Inf, where no share can be had.
 */
static void
derive_rebucket(const double *le, const double *cnt, size_t n,
    const double *ule, size_t un, double *out)
{
	double	x, lo, clo;
	size_t	i, b = 0;

	for (i = 0; i < un; i++) {
		x = ule[i];
		while (b < n && le[b] < x)
			b++;
		if (b < n && le[b] == x) {
			out[i] += cnt[b];
			continue;
		}
		if (b >= n - 1) {
			/* Past the last finite bound. */
			out[i] += isinf(x) ? cnt[n - 1] : cnt[n - 2];
			continue;
		}
		lo = b > 0 ? le[b - 1] : fmin(0, le[0]);
		clo = b > 0 ? cnt[b - 1] : 0;
		if (x <= lo)
			continue;
		out[i] += clo + (cnt[b] - clo) * (x - lo) / (le[b] - lo);
	}
}

/* Make room for n bounds and per-window increases in l. */
static void
derive_lat_reserve(struct dlat *l, size_t n)
{
	size_t	w;

	if (n <= l->cap)
		return;
	l->bounds = xreallocarray(l->bounds, n, sizeof *l->bounds);
	for (w = 0; w < DERIVE_MAX_WINDOWS; w++)
		l->delta[w] = xreallocarray(l->delta[w], n,
		    sizeof *l->delta[w]);
	l->cap = n;
}

/*
 * Commit a latency's increases per window: the label sets of h are summed,
 * re-bucketed onto the union of their bounds when these differ.
 */
static void
derive_hist_windows(struct derive_target *t, struct dhist *h,
    struct dlat *l)
{
	struct derive	*d = t->d;
	struct dgroup	*g;
	size_t		 i, w, nu = 0;
	bool		 same = true, any = false;

	for (w = 0; w < DERIVE_MAX_WINDOWS; w++)
		l->valid[w] = false;
	for (i = 0; i < h->ngroups; i++) {
		g = &h->groups[i];
		if (g->rn == 0)
			continue;
		if (any && !derive_same_bounds(g->bounds, g->nb, d->ubounds,
		    nu))
			same = false;
		if (!any || !same)
			derive_union(d->ubounds, &nu, g->bounds, g->nb,
			    d->scratch);
		any = true;
	}
	if (!any)
		return;
	derive_lat_reserve(l, nu);
	l->nb = nu;
	memcpy(l->bounds, d->ubounds, nu * sizeof *l->bounds);
	for (w = 0; w < d->cfg.nwindows; w++) {
		memset(l->delta[w], 0, l->nb * sizeof *l->delta[w]);
		for (i = 0; i < h->ngroups; i++) {
			g = &h->groups[i];
			if (g->rn == 0)
				continue;
			if (same) {
				if (derive_group_delta(g, t->ts,
				    d->cfg.windows_ms[w], l->delta[w]))
					l->valid[w] = true;
				continue;
			}
			if (!derive_bounds_within(g->bounds, g->nb,
			    l->bounds, l->nb))
				continue;
			memset(d->gdelta, 0, g->nb * sizeof *d->gdelta);
			if (!derive_group_delta(g, t->ts, d->cfg.windows_ms[w],
			    d->gdelta))
				continue;
			derive_rebucket(g->bounds, d->gdelta, g->nb, l->bounds,
			    l->nb, l->delta[w]);
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

	if (n < 2 || n > DERIVE_MAX_BUCKETS || !isinf(le[n - 1]) ||
	    le[n - 1] < 0)
		return (NAN);
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

/*
 * Return the upper bound of the highest bucket of cumulative counts cnt
 * that holds anything; NaN if none does.
 */
static double
derive_max_bucket(const double *le, const double *cnt, size_t n)
{
	size_t	i;

	for (i = n; i > 0; i--) {
		if (cnt[i - 1] - (i > 1 ? cnt[i - 2] : 0) > 0)
			return (le[i - 1]);
	}
	return (NAN);
}

/*
 * Format a bucket bound as Prometheus writes le: the shortest decimal that
 * reads back the same, "+Inf" for infinity.
 */
static void
derive_format_le(double le, char *out, size_t outlen)
{
	int	prec;

	if (isinf(le)) {
		snprintf(out, outlen, "%s", le > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(out, outlen, "%.*g", prec, le);
		if (strtod(out, NULL) == le)
			return;
	}
	snprintf(out, outlen, "%.17g", le);
}

/*
 * Emit a fleet window's cumulative bucket counts as a classic histogram,
 * <family>:window_bucket{le, window}: summed by (le, window) over the
 * members of a cluster, histogram_quantile gives the fleet's quantile.
 * For the e2e latency also each bucket's bound as a value,
 * :window_bucket_bound{le, window}, which PromQL cannot read from le: the
 * cluster's slow-request count interpolates at a threshold with it.
 */
static void
derive_put_buckets(const struct derive_out *o, int lat, const double *le,
    const double *cnt, size_t n, const char *window)
{
	char	le_s[32];
	size_t	b;

	for (b = 0; b < n; b++) {
		derive_format_le(le[b], le_s, sizeof le_s);
		derive_put_le(o, derive_bucketnames[lat], NULL, 0, le_s,
		    window, cnt[b]);
		if (lat == LAT_E2E)
			derive_put_le(o,
			    "rollout:e2e_latency_seconds:window_bucket_bound",
			    NULL, 0, le_s, window, le[b]);
	}
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
		if (derive_qnames[lat][i] != NULL)
			derive_put(o, derive_qnames[lat][i], NULL, 0, window,
			    v[i]);
	}
	if (derive_maxnames[lat] != NULL)
		derive_put(o, derive_maxnames[lat], NULL, 0, window,
		    derive_max_bucket(le, cnt, n));
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
	derive_end_counters(t, &o);
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

/*
 * Emit a job's fleet latency quantiles for one latency and window: the
 * servers' increases summed, re-bucketed onto the union of their bounds
 * when these differ (a layout that would take the union past
 * DERIVE_MAX_BUCKETS is left out).
 */
static void
derive_fleet_lat(struct derive *d, struct derive_job *j,
    const struct derive_out *o, int lat, size_t w)
{
	struct derive_target	*t;
	const struct dlat	*l, *ref = NULL;
	double			 p50, slow;
	size_t			 b, nu = 0;
	bool			 same = true;

	TAILQ_FOREACH(t, &j->targets, entry) {
		if (!t->ok || t->aborted || !t->lat[lat].valid[w])
			continue;
		l = &t->lat[lat];
		if (ref == NULL)
			ref = l;
		else if (!derive_same_bounds(l->bounds, l->nb, ref->bounds,
		    ref->nb))
			same = false;
		derive_union(d->ubounds, &nu, l->bounds, l->nb, d->scratch);
	}
	if (ref == NULL)
		return;
	memset(d->fsum, 0, nu * sizeof *d->fsum);
	TAILQ_FOREACH(t, &j->targets, entry) {
		if (!t->ok || t->aborted || !t->lat[lat].valid[w])
			continue;
		l = &t->lat[lat];
		if (same) {
			for (b = 0; b < l->nb; b++)
				d->fsum[b] += l->delta[w][b];
		} else if (derive_bounds_within(l->bounds, l->nb, d->ubounds,
		    nu))
			derive_rebucket(l->bounds, l->delta[w], l->nb,
			    d->ubounds, nu, d->fsum);
	}
	derive_put_buckets(o, lat, d->ubounds, d->fsum, nu, d->wlabel[w]);
	p50 = derive_put_lat(d, o, lat, d->ubounds, d->fsum, nu,
	    d->wlabel[w]);
	if (lat != LAT_E2E || !(p50 > 0) || isinf(p50))
		return;
	slow = derive_slow(d->ubounds, d->fsum, nu, d->cfg.tail_k * p50);
	derive_put(o, "rollout:slow_requests:count", NULL, 0, d->wlabel[w],
	    slow);
}

/* Sum the servers' window ratios and preemption rates for the fleet. */
static void
derive_fleet_window(struct derive_job *j, size_t w, struct dwin *f)
{
	struct derive_target	*t;
	const struct dwin	*win;
	size_t			 i;

	memset(f, 0, sizeof *f);
	TAILQ_FOREACH(t, &j->targets, entry) {
		if (!t->ok || t->aborted)
			continue;
		win = &t->win[w];
		for (i = 0; i < RATIO_N; i++) {
			if (!win->ratio[i].has)
				continue;
			f->ratio[i].num += win->ratio[i].num;
			f->ratio[i].den += win->ratio[i].den;
			f->ratio[i].has = true;
		}
		if (win->has_preempt) {
			f->preempt_rate += win->preempt_rate;
			f->has_preempt = true;
		}
	}
}

/* Compare two events by time, for qsort. */
static int
derive_event_cmp(const void *a, const void *b)
{
	const struct devent	*x = a, *y = b;

	return (x->ts < y->ts ? -1 : x->ts > y->ts);
}

/*
 * Close the job's wave at end: its duration, the requests finished in it
 * and the times from its start by which 50, 90 and 99 % of them had (the
 * scrape that first counted the request that reaches each share).
 */
static void
derive_wave_end(struct derive_job *j, int64_t end)
{
	static const double	 q[DERIVE_WAVE_NQ] = { 0.5, 0.9, 0.99 };
	double			 total = 0, cum = 0;
	size_t			 i, k = 0;

	qsort(j->events, j->nevents, sizeof *j->events, derive_event_cmp);
	for (i = 0; i < j->nevents; i++)
		total += j->events[i].n;
	for (i = 0; i < DERIVE_WAVE_NQ; i++)
		j->wave_t[i] = NAN;
	for (i = 0; i < j->nevents && total > 0 && k < DERIVE_WAVE_NQ; i++) {
		cum += j->events[i].n;
		while (k < DERIVE_WAVE_NQ &&
		    cum >= q[k] * total * (1 - 1e-12)) {
			j->wave_t[k] = (double)(j->events[i].ts -
			    j->wave_start) / 1000;
			if (j->wave_t[k] < 0)
				j->wave_t[k] = 0;
			k++;
		}
	}
	j->wave_t0 = j->wave_start;
	j->wave_t1 = end;
	j->wave_dur = (double)(end - j->wave_start) / 1000;
	j->wave_req = total;
	j->has_wave = true;
	j->waves++;
}

/*
 * Account one fleet evaluation at now: the server-seconds since the last
 * one, idle (awake, nothing to do) or busy, while the fleet has work; and
 * the waves: one starts when the fleet goes from no work to work (at the
 * earliest scrape of the servers that then have work that saw it) and ends
 * when no awake server has work (at the latest scrape that saw a server's
 * work end). Nothing is known while no server is scraped successfully.
 */
static void
derive_fleet_waves(struct derive_job *j, int64_t now, double work,
    size_t nidle, size_t nbusy, size_t nload)
{
	struct derive_target	*t;
	int64_t			 dt, start = 0, end = 0;
	size_t			 i, n;
	bool			 first = true;

	dt = j->last_ts > 0 ? now - j->last_ts : 0;
	j->last_ts = now;
	if (nload == 0)
		return;
	if (work > 0 && j->counting && dt > 0 && dt <= DERIVE_MAX_GAP_MS) {
		j->idle_s += (double)dt / 1000 * (double)nidle;
		j->busy_s += (double)dt / 1000 * (double)nbusy;
	}
	j->counting = true;
	TAILQ_FOREACH(t, &j->targets, entry) {
		if (!t->ok || t->aborted || !t->has_work)
			continue;
		if (work > 0 && t->work && (first || t->work_since < start)) {
			start = t->work_since;
			first = false;
		}
		if (!t->work && t->idle_since > end)
			end = t->idle_since;
	}
	if (!j->in_wave && work > 0) {
		j->in_wave = true;
		j->partial = !j->seen_idle;
		j->wave_start = start;
		for (i = 0, n = 0; i < j->nevents; i++) {
			if (j->events[i].ts >= start)
				j->events[n++] = j->events[i];
		}
		j->nevents = n;
		return;
	}
	if (work > 0)
		return;
	j->seen_idle = true;
	if (j->in_wave && !j->partial)
		derive_wave_end(j, end > j->wave_start ? end : j->wave_start);
	j->in_wave = false;
	j->nevents = 0;
}

/* Emit the job's server-second counters and its last finished wave. */
static void
derive_put_waves(const struct derive_job *j, const struct derive_out *o,
    int64_t now)
{
	static const char	*tnames[DERIVE_WAVE_NQ] = {
		"rollout:wave_completion_seconds:p50",
		"rollout:wave_completion_seconds:p90",
		"rollout:wave_completion_seconds:p99",
	};
	size_t			 i;

	if (!j->counting)
		return;
	derive_put(o, "rollout:idle_server_seconds_total", NULL, 0, NULL,
	    j->idle_s);
	derive_put(o, "rollout:busy_server_seconds_total", NULL, 0, NULL,
	    j->busy_s);
	derive_put(o, "rollout:waves_total", NULL, 0, NULL, j->waves);
	if (j->in_wave && !j->partial)
		derive_put(o, "rollout:wave_elapsed_seconds", NULL, 0, NULL,
		    (double)(now - j->wave_start) / 1000);
	if (!j->has_wave)
		return;
	derive_put(o, "rollout:wave_duration_seconds", NULL, 0, NULL,
	    j->wave_dur);
	/* Its start and end, which merge across members as min and max. */
	derive_put(o, "rollout:wave_start_timestamp_seconds", NULL, 0, NULL,
	    (double)j->wave_t0 / 1000);
	derive_put(o, "rollout:wave_end_timestamp_seconds", NULL, 0, NULL,
	    (double)j->wave_t1 / 1000);
	derive_put(o, "rollout:wave_requests", NULL, 0, NULL, j->wave_req);
	for (i = 0; i < DERIVE_WAVE_NQ; i++)
		derive_put(o, tnames[i], NULL, 0, NULL, j->wave_t[i]);
	if (!isnan(j->wave_t[1]))
		derive_put(o, "rollout:wave_tail_seconds", NULL, 0, NULL,
		    j->wave_dur - j->wave_t[1]);
}

/* Emit one job's fleet aggregates. */
static void
derive_fleet_job(struct derive *d, struct derive_job *j,
    const struct derive_out *o)
{
	static const char	*rnames[DERIVE_NRATE] = {
		"rollout:prompt_tokens:rate_sum",
		"rollout:generation_tokens:rate_sum"
	};
	struct derive_target	*t;
	struct dwin		 fw;
	double			 kvsum = 0, kvmin = 0, kvmax = 0, work = 0;
	double			 running = 0, waiting = 0;
	double			 rate[DERIVE_NRATE] = { 0 };
	size_t			 nservers = 0, nkv = 0, nload = 0, nidle = 0;
	size_t			 nrun = 0, nwait = 0;
	size_t			 nrate[DERIVE_NRATE] = { 0 };
	size_t			 nasleep = 0, nsleep_known = 0, nbusy = 0;
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
		if (t->has_asleep) {
			nsleep_known++;
			if (t->asleep)
				nasleep++;
		}
		if (t->has_running || t->has_waiting) {
			nload++;
			if (!t->asleep && t->running + t->waiting == 0)
				nidle++;
			else if (!t->asleep && t->running + t->waiting > 0) {
				nbusy++;
				work += t->running + t->waiting;
			}
		}
		for (i = 0; i < DERIVE_NRATE; i++) {
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
		/* The mergeable parts of the mean, for a cluster. */
		derive_put(o, "rollout:kv_cache_usage:ratio_sum", NULL, 0,
		    NULL, kvsum);
		derive_put(o, "rollout:kv_cache_usage:ratio_count", NULL, 0,
		    NULL, (double)nkv);
	}
	if (nrun > 0)
		derive_put(o, "rollout:requests_running:sum", NULL, 0, NULL,
		    running);
	if (nwait > 0)
		derive_put(o, "rollout:requests_waiting:sum", NULL, 0, NULL,
		    waiting);
	if (nsleep_known > 0)
		derive_put(o, "rollout:asleep_servers:count", NULL, 0, NULL,
		    (double)nasleep);
	if (nload > 0) {
		derive_put(o, "rollout:idle_servers:count", NULL, 0, NULL,
		    (double)nidle);
		/* With the idle count, the mergeable parts of the ratio. */
		derive_put(o, "rollout:busy_servers:count", NULL, 0, NULL,
		    (double)nbusy);
		if (work > 0)
			derive_put(o, "rollout:idle_servers:ratio", NULL, 0,
			    NULL, (double)nidle / (double)(nidle + nbusy));
	}
	for (i = 0; i < DERIVE_NRATE; i++) {
		if (nrate[i] > 0)
			derive_put(o, rnames[i], NULL, 0, NULL, rate[i]);
	}
	derive_fleet_waves(j, o->ts, work, nidle, nbusy, nload);
	derive_put_waves(j, o, o->ts);
	for (w = 0; w < d->cfg.nwindows; w++) {
		derive_fleet_window(j, w, &fw);
		derive_put_window(o, &fw, d->wlabel[w], true);
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
	if (d->member[0] != '\0')
		o.member = d->member;
	TAILQ_FOREACH(j, &d->jobs, entry) {
		o.job = j->name;
		derive_fleet_job(d, j, &o);
	}
}
