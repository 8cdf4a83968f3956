/*
 * simfleet: the rollout fleet simulation behind rwbridge-sim.
 *
 * Every batch period (jittered 0.75x-1.25x) an RL rollout step submits a
 * batch of requests spread at random over the servers. Each request has a
 * lognormal prompt length and a long-tailed generation length: most finish
 * within seconds, about 1.5% are Pareto-distributed 10-100x longer and some
 * hit max_tokens (finished_reason "length"). Per tick a server admits
 * waiting requests while it has a free slot and free KV blocks, prefills
 * them, decodes one token per inter-token latency (slower as the batch
 * grows), preempts the newest request when the KV cache overflows, and
 * records finished requests into histograms and counters. So as a batch
 * drains most servers go idle while a few still serve the tail.
 *
 * Sleep and weight sync, as verl drives its engines: once the whole fleet
 * has drained (nothing running or waiting anywhere) every server is put to
 * sleep (vLLM's engine_sleep_state awake 0, weights_offloaded 1) until the
 * next batch wakes it. A batch that arrives while the fleet still has work
 * (rollouts overlapping, as in asynchronous training) is a weight update:
 * every server pauses generation for sync_ms; SGLang shows its running
 * requests as num_paused_reqs meanwhile. Speculative decoding (vLLM v1,
 * Ascend, SGLang) drafts 3 tokens and accepts each position with a
 * per-server probability; GRPO's n samples per prompt give the prefix-cache
 * hits.
 *
 * Pages copy the layout of the real captures in fixtures/exposition:
 * vLLM v1 (engine label, _created gauges as prometheus_client writes them),
 * vLLM v0 and SGLang (multiprocess layout: _sum, buckets, _count, no
 * _created), vLLM-Ascend (v1 without kv_cache_usage_perc, plus the
 * msServiceProfiler vllm_profiling_*_kvcache_blocks gauges per dp rank).
 * All randomness comes from splitmix64 streams seeded from the seed, so the
 * state is a function of the seed and the tick number.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simfleet.h"
#include "xmalloc.h"

#define SIM_HIST_MAX	40	/* bounds + 1 for +Inf */
#define SIM_MAX_DP	2
#define SIM_TAIL_PROB	0.015
#define SIM_MAX_TOKENS	8192
#define SIM_SPEC_K	3	/* speculative tokens per draft */

enum {
	H_PROMPT,
	H_GEN,
	H_MAX_GEN,
	H_N,
	H_MAX_TOKENS,
	H_TTFT,
	H_ITL,
	H_TPOT_REQ,
	H_E2E,
	H_QUEUE,
	H_INFER,
	H_PREFILL,
	H_DECODE,
	H_KV_COMPUTED,
	H_COUNT
};

enum {
	R_STOP,
	R_LENGTH,
	R_ABORT,
	R_ERROR,
	R_COUNT
};

static const char *reason_names[R_COUNT] = { "stop", "length", "abort",
    "error" };

static const double b_tokens[] = { 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0,
    200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0, 50000.0,
    100000.0 };
#define B_TOKENS_V1	16
#define B_TOKENS_V0	12
static const double b_n[] = { 1.0, 2.0, 5.0, 10.0, 20.0 };
static const double b_ttft[] = { 0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08,
    0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0,
    640.0, 2560.0 };
static const double b_itl[] = { 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
    0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0 };
static const double b_req[] = { 0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0,
    10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0,
    1920.0, 7680.0 };
/* SGLang's current defaults (python/sglang/srt/metrics/collector.py). */
static const double b_sgl_ttft[] = { 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 2.0, 4.0,
    6.0, 8.0, 10.0, 20.0, 40.0, 60.0, 80.0, 100.0, 200.0, 400.0 };
static const double b_sgl_e2e[] = { 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 2.0, 4.0,
    6.0, 8.0, 10.0, 20.0, 40.0, 60.0, 80.0, 100.0, 200.0, 400.0, 600.0,
    1200.0, 1800.0, 2400.0 };
static const double b_sgl_itl[] = { 0.002, 0.004, 0.006, 0.008, 0.01, 0.015,
    0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0,
    2.0, 4.0, 6.0, 8.0 };
static const double b_sgl_queue[] = { 0.0, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 4.0,
    5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0,
    200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 800.0, 900.0, 1000.0, 1200.0,
    1400.0, 1600.0, 1800.0, 2000.0, 2500.0, 3000.0 };
static const double b_sgl_tokens[] = { 100.0, 300.0, 500.0, 700.0, 1000.0,
    1500.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0, 7000.0, 8000.0, 9000.0,
    10000.0, 12000.0, 15000.0, 20000.0, 22000.0, 25000.0, 30000.0, 35000.0,
    40000.0, 66000.0, 99000.0, 132000.0, 300000.0, 600000.0, 900000.0,
    1100000.0 };

#define NELEM(a)	(sizeof (a) / sizeof (a)[0])

struct sim_hist {
	const double	*bounds;
	size_t		 nbounds;
	uint64_t	 counts[SIM_HIST_MAX];	/* per bucket; last: +Inf */
	uint64_t	 count;
	double		 sum;
};

struct sim_req {
	double		 arrived;
	double		 scheduled;	/* first admitted, or < 0 */
	double		 started;	/* last admitted */
	double		 first_token;	/* < 0 before */
	double		 decoding;	/* prefill done (last time) */
	double		 prefill_left;
	double		 done;		/* tokens generated */
	int		 prompt;
	int		 gen;
	int		 max_tokens;
	int		 dp;
};

struct sim_server {
	int		 idx;
	enum sim_flavour flavour;
	uint64_t	 rng;

	int		 max_running;
	int		 block_size;
	int		 ndp;
	int		 dp_total[SIM_MAX_DP];
	int		 dp_used[SIM_MAX_DP];
	long		 used_tokens;
	double		 base_itl;
	double		 prefill_rate;
	double		 hit_ratio;

	struct sim_req	*run;
	size_t		 nrun;
	size_t		 caprun;
	struct sim_req	*wait;
	size_t		 nwait;
	size_t		 capwait;

	double		 started;	/* sim time of the last start */
	double		 next_restart;
	double		 prompt_tokens;
	double		 gen_tokens;
	double		 preemptions;
	double		 queries;
	double		 hits;
	double		 success[R_COUNT];
	double		 throughput;
	struct sim_hist	 h[H_COUNT];

	bool		 asleep;	/* the fleet drained: engine asleep */
	double		 paused_until;	/* weight sync until then */
	double		 spec_p;	/* acceptance per draft position */
	double		 spec_frac[SIM_SPEC_K + 1];	/* drafts, per pos */
	double		 spec_drafts;
	double		 spec_draft_tokens;
	double		 spec_accepted;
	double		 spec_pos[SIM_SPEC_K];
	double		 spec_rate;	/* SGLang gauges: the last tick's */
	double		 spec_len;

	int		 last_running;
	int		 last_waiting;
	double		 last_kv;
	bool		 last_asleep;
	double		 last_truth;	/* < 0: never written */

	struct buf	 page;
	uint64_t	 page_tick;	/* tick + 1 of the cached page */
};

struct simfleet {
	struct simfleet_config	 cfg;
	char			*model_label;	/* model_name="..." */
	uint64_t		 rng;
	uint64_t		 tick;
	double			 next_batch;
	struct sim_server	*servers;
	int			 n;

	/* Fleet truth: waves and the server-seconds they cost. */
	bool			 in_wave;
	double			 wave_start;
	double			*finished;	/* finish times in the wave */
	size_t			 nfinished;
	size_t			 capfinished;
	double			 idle_s;
	double			 busy_s;
	double			 last_fleet_truth;	/* < 0: never */
	int			 last_work;
	int			 last_nasleep;
	int			 last_nidle;
};

/* Step a splitmix64 stream. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t	z;

	*s += 0x9e3779b97f4a7c15ULL;
	z = *s;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* Draw uniformly from [0, 1). */
static double
rng_unit(uint64_t *s)
{
	return ((double)(rng_next(s) >> 11) * 0x1.0p-53);
}

/* Draw from a lognormal distribution with the given median. */
static double
rng_lognormal(uint64_t *s, double median, double sigma)
{
	double	u1, u2, z;

	u1 = 1.0 - rng_unit(s);
	u2 = rng_unit(s);
	z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
	return (median * exp(sigma * z));
}

/* Clamp a draw to an integer range. */
static int
clampi(double v, int lo, int hi)
{
	if (v < lo)
		return (lo);
	if (v > hi)
		return (hi);
	return ((int)v);
}

/* Parse a flavour name. */
bool
simfleet_parse_flavour(const char *s, enum sim_flavour *out)
{
	static const enum sim_flavour all[] = { SIM_VLLM_V1, SIM_VLLM_V0,
	    SIM_SGLANG, SIM_ASCEND, SIM_MIXED };
	size_t	i;

	for (i = 0; i < NELEM(all); i++) {
		if (strcmp(s, simfleet_flavour_name(all[i])) == 0) {
			*out = all[i];
			return (true);
		}
	}
	return (false);
}

/* Name a flavour as the command line spells it. */
const char *
simfleet_flavour_name(enum sim_flavour fl)
{
	switch (fl) {
	case SIM_VLLM_V1:
		return ("vllm-v1");
	case SIM_VLLM_V0:
		return ("vllm-v0");
	case SIM_SGLANG:
		return ("sglang");
	case SIM_ASCEND:
		return ("ascend");
	case SIM_MIXED:
		return ("mixed");
	}
	return ("unknown");
}

/* Fill in the defaults. */
void
simfleet_config_default(struct simfleet_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->servers = 1;
	cfg->flavour = SIM_VLLM_V1;
	cfg->seed = 1;
	cfg->tick_ms = 100;
	cfg->batch_every_ms = 45000;
	cfg->batch_size = 32;
	cfg->max_tokens = SIM_MAX_TOKENS;
	cfg->sync_ms = 500;
}

/* The model a flavour serves unless --model says otherwise. */
static const char *
default_model(enum sim_flavour fl)
{
	switch (fl) {
	case SIM_VLLM_V0:
		return ("Qwen/Qwen3-8B");
	case SIM_SGLANG:
		return ("meta-llama/Llama-3.1-8B-Instruct");
	default:
		return ("Qwen/Qwen2.5-7B-Instruct");
	}
}

/* Set up a histogram with the given bounds. */
static void
hist_init(struct sim_hist *h, const double *bounds, size_t n)
{
	memset(h, 0, sizeof *h);
	h->bounds = bounds;
	h->nbounds = n;
}

/* Record n observations of v. */
static void
hist_observe(struct sim_hist *h, double v, uint64_t n)
{
	size_t	i;

	if (n == 0)
		return;
	for (i = 0; i < h->nbounds; i++) {
		if (v <= h->bounds[i])
			break;
	}
	h->counts[i] += n;
	h->count += n;
	h->sum += v * (double)n;
}

/* Zero counters, gauges and histograms, as a process restart does. */
static void
server_reset(struct sim_server *s, double now)
{
	int	i;
	bool	sgl = s->flavour == SIM_SGLANG;
	bool	v0 = s->flavour == SIM_VLLM_V0;
	size_t	ntok = v0 ? B_TOKENS_V0 : B_TOKENS_V1;

	s->nrun = s->nwait = 0;
	for (i = 0; i < SIM_MAX_DP; i++)
		s->dp_used[i] = 0;
	s->used_tokens = 0;
	s->started = now;
	s->prompt_tokens = s->gen_tokens = s->preemptions = 0;
	s->queries = s->hits = s->throughput = 0;
	for (i = 0; i < R_COUNT; i++)
		s->success[i] = 0;
	memset(s->spec_frac, 0, sizeof s->spec_frac);
	memset(s->spec_pos, 0, sizeof s->spec_pos);
	s->spec_drafts = s->spec_draft_tokens = s->spec_accepted = 0;
	s->spec_rate = s->spec_len = 0;
	s->paused_until = 0;
	if (sgl) {
		hist_init(&s->h[H_PROMPT], b_sgl_tokens, NELEM(b_sgl_tokens));
		hist_init(&s->h[H_GEN], b_sgl_tokens, NELEM(b_sgl_tokens));
	} else {
		hist_init(&s->h[H_PROMPT], b_tokens, ntok);
		hist_init(&s->h[H_GEN], b_tokens, ntok);
	}
	hist_init(&s->h[H_MAX_GEN], b_tokens, ntok);
	hist_init(&s->h[H_N], b_n, NELEM(b_n));
	hist_init(&s->h[H_MAX_TOKENS], b_tokens, ntok);
	hist_init(&s->h[H_TTFT], sgl ? b_sgl_ttft : b_ttft,
	    sgl ? NELEM(b_sgl_ttft) : NELEM(b_ttft));
	hist_init(&s->h[H_ITL], sgl ? b_sgl_itl : b_itl,
	    sgl ? NELEM(b_sgl_itl) : NELEM(b_itl));
	hist_init(&s->h[H_TPOT_REQ], b_itl, NELEM(b_itl));
	hist_init(&s->h[H_E2E], sgl ? b_sgl_e2e : b_req,
	    sgl ? NELEM(b_sgl_e2e) : NELEM(b_req));
	hist_init(&s->h[H_QUEUE], sgl ? b_sgl_queue : b_req,
	    sgl ? NELEM(b_sgl_queue) : NELEM(b_req));
	hist_init(&s->h[H_INFER], b_req, NELEM(b_req));
	hist_init(&s->h[H_PREFILL], b_req, NELEM(b_req));
	hist_init(&s->h[H_DECODE], b_req, NELEM(b_req));
	hist_init(&s->h[H_KV_COMPUTED], b_tokens, ntok);
}

/* Give a server its flavour, capacity and speed. */
static void
server_init(struct simfleet *f, struct sim_server *s, int idx)
{
	static const int	slots[] = { 32, 48, 64, 128, 256 };
	int			tokens, blocks, i;

	memset(s, 0, sizeof *s);
	s->idx = idx;
	if (f->cfg.flavour == SIM_MIXED)
		s->flavour = (enum sim_flavour)(idx % 4);
	else
		s->flavour = f->cfg.flavour;
	s->rng = f->cfg.seed ^ (0x5851f42d4c957f2dULL * (uint64_t)(idx + 1));
	rng_next(&s->rng);

	s->max_running = slots[rng_next(&s->rng) % NELEM(slots)];
	tokens = 20000 + (int)(rng_unit(&s->rng) * 140000);
	switch (s->flavour) {
	case SIM_SGLANG:
		s->block_size = 1;
		break;
	case SIM_ASCEND:
		s->block_size = 128;
		break;
	default:
		s->block_size = 16;
		break;
	}
	s->ndp = s->flavour == SIM_ASCEND ? 2 : 1;
	blocks = tokens / s->block_size / s->ndp;
	for (i = 0; i < s->ndp; i++)
		s->dp_total[i] = blocks;
	s->base_itl = 0.015 + rng_unit(&s->rng) * 0.02;
	s->prefill_rate = 8000 + rng_unit(&s->rng) * 12000;
	s->hit_ratio = 0.1 + rng_unit(&s->rng) * 0.5;
	s->spec_p = 0.55 + rng_unit(&s->rng) * 0.25;
	s->last_truth = -1;
	buf_init(&s->page);
	server_reset(s, 0);
	if (f->cfg.restart_every_ms > 0) {
		s->next_restart = f->cfg.restart_every_ms / 1000.0 *
		    (1.0 + (double)idx / f->n);
	}
}

/* Create a fleet. */
struct simfleet *
simfleet_new(const struct simfleet_config *cfg)
{
	struct simfleet	*f;
	struct buf	 b;
	const char	*model, *p;
	int		 i;

	f = xcalloc(1, sizeof *f);
	f->cfg = *cfg;
	f->cfg.model = NULL;
	if (f->cfg.servers < 1)
		f->cfg.servers = 1;
	if (f->cfg.tick_ms < 1)
		f->cfg.tick_ms = 1;
	if (f->cfg.batch_every_ms < 1)
		f->cfg.batch_every_ms = 1;
	if (f->cfg.batch_size < 1)
		f->cfg.batch_size = 1;
	if (f->cfg.max_tokens < 1)
		f->cfg.max_tokens = SIM_MAX_TOKENS;
	if (f->cfg.sync_ms < 0)
		f->cfg.sync_ms = 0;
	f->last_fleet_truth = -1;
	f->n = f->cfg.servers;

	model = cfg->model != NULL ? cfg->model : default_model(cfg->flavour);
	buf_init(&b);
	buf_printf(&b, "model_name=\"");
	for (p = model; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			buf_putc(&b, '\\');
		if (*p == '\n')
			buf_append(&b, "\\n", 2);
		else
			buf_putc(&b, (uint8_t)*p);
	}
	buf_append(&b, "\"", 2);	/* with the NUL */
	f->model_label = (char *)b.data;

	f->rng = cfg->seed;
	rng_next(&f->rng);
	f->next_batch = 1.0;
	f->servers = xcalloc((size_t)f->n, sizeof *f->servers);
	for (i = 0; i < f->n; i++)
		server_init(f, &f->servers[i], i);
	return (f);
}

/* Free a fleet. */
void
simfleet_free(struct simfleet *f)
{
	int	i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->servers[i].run);
		free(f->servers[i].wait);
		buf_free(&f->servers[i].page);
	}
	free(f->servers);
	free(f->finished);
	free(f->model_label);
	free(f);
}

/* Simulated seconds at the current tick. */
double
simfleet_now(const struct simfleet *f)
{
	return ((double)(f->tick * (uint64_t)f->cfg.tick_ms) / 1000.0);
}

/* The number of servers. */
int
simfleet_servers(const struct simfleet *f)
{
	return (f->n);
}

/* KV blocks holding n tokens. */
static int
blocks_for(const struct sim_server *s, long n)
{
	return ((int)((n + s->block_size - 1) / s->block_size));
}

/* Append a request to a server's waiting queue (at the front if asked). */
static void
queue_push(struct sim_server *s, const struct sim_req *r, bool front)
{
	if (s->nwait == s->capwait) {
		s->capwait = s->capwait == 0 ? 64 : s->capwait * 2;
		s->wait = xreallocarray(s->wait, s->capwait, sizeof *s->wait);
	}
	if (front) {
		memmove(s->wait + 1, s->wait, s->nwait * sizeof *s->wait);
		s->wait[0] = *r;
	} else
		s->wait[s->nwait] = *r;
	s->nwait++;
}

/* Append a request to a server's running set. */
static void
run_push(struct sim_server *s, const struct sim_req *r)
{
	if (s->nrun == s->caprun) {
		s->caprun = s->caprun == 0 ? 64 : s->caprun * 2;
		s->run = xreallocarray(s->run, s->caprun, sizeof *s->run);
	}
	s->run[s->nrun++] = *r;
}

/* Remove running request i, keeping the order (newest last). */
static void
run_remove(struct sim_server *s, size_t i)
{
	memmove(s->run + i, s->run + i + 1,
	    (s->nrun - i - 1) * sizeof *s->run);
	s->nrun--;
}

/*
 * Before a batch: wake a sleeping fleet, or pause a busy one for a weight
 * update; a wave starts unless one is in progress.
 */
static void
fleet_wake(struct simfleet *f, double now)
{
	bool	busy = false;
	int	i;

	for (i = 0; i < f->n; i++) {
		if (f->servers[i].nrun + f->servers[i].nwait > 0)
			busy = true;
	}
	for (i = 0; i < f->n; i++) {
		f->servers[i].asleep = false;
		if (busy)
			f->servers[i].paused_until = now +
			    (double)f->cfg.sync_ms / 1000.0;
	}
	if (!f->in_wave) {
		f->in_wave = true;
		f->wave_start = now;
		f->nfinished = 0;
	}
}

/* Submit one rollout batch, spread at random over the servers. */
static void
fleet_batch(struct simfleet *f, double now)
{
	struct sim_req	 r;
	double		 scale, g;
	int		 i, nreq;

	fleet_wake(f, now);
	scale = 0.75 + 0.5 * rng_unit(&f->rng);
	nreq = (int)lround(f->n * f->cfg.batch_size * scale);
	if (nreq < 1)
		nreq = 1;
	for (i = 0; i < nreq; i++) {
		memset(&r, 0, sizeof r);
		r.arrived = now;
		r.scheduled = r.first_token = -1;
		r.prompt = clampi(rng_lognormal(&f->rng, 350, 0.6), 16, 16000);
		if (rng_unit(&f->rng) < SIM_TAIL_PROB) {
			/* The long tail: Pareto from 1500 tokens. */
			g = 1500.0 * pow(1.0 - rng_unit(&f->rng), -1.0 / 1.2);
		} else
			g = rng_lognormal(&f->rng, 120, 0.5);
		r.max_tokens = f->cfg.max_tokens;
		r.gen = clampi(g, 1, r.max_tokens);
		r.dp = (int)(rng_next(&f->rng) & 1);
		queue_push(&f->servers[rng_next(&f->rng) % (uint64_t)f->n], &r,
		    false);
	}
}

/* Admit waiting requests while there are free slots and KV blocks. */
static void
server_admit(struct sim_server *s, double now)
{
	struct sim_req	r;
	int		need, hit;

	while (s->nwait > 0 && s->nrun < (size_t)s->max_running) {
		r = s->wait[0];
		if (r.dp >= s->ndp)
			r.dp = 0;
		need = blocks_for(s, r.prompt + 1);
		if (s->nrun > 0 && s->dp_used[r.dp] + need > s->dp_total[r.dp])
			break;
		memmove(s->wait, s->wait + 1, (s->nwait - 1) * sizeof *s->wait);
		s->nwait--;
		if (r.scheduled < 0)
			r.scheduled = now;
		r.started = now;
		r.prefill_left = r.prompt / s->prefill_rate + 0.005;
		r.done = 0;
		s->dp_used[r.dp] += need;
		s->prompt_tokens += r.prompt;
		s->queries += r.prompt;
		hit = (int)(r.prompt * s->hit_ratio) / s->block_size *
		    s->block_size;
		s->hits += hit;
		hist_observe(&s->h[H_KV_COMPUTED], r.prompt - hit, 1);
		run_push(s, &r);
	}
}

/* Append a truth number. */
static void
truth_num(struct buf *b, const char *key, double v)
{
	buf_printf(b, ",\"%s\":", key);
	simfleet_put_float(b, v);
}

/* Record a finished request. */
static void
server_finish(struct simfleet *f, struct sim_server *s,
    const struct sim_req *r, double end, struct buf *truth)
{
	double	e2e, ttft, tpot, queue, prefill, decode;

	if (f->in_wave) {
		if (f->nfinished == f->capfinished) {
			f->capfinished = f->capfinished == 0 ? 256 :
			    f->capfinished * 2;
			f->finished = xreallocarray(f->finished,
			    f->capfinished, sizeof *f->finished);
		}
		f->finished[f->nfinished++] = end;
	}

	e2e = end - r->arrived;
	ttft = r->first_token - r->arrived;
	queue = r->scheduled - r->arrived;
	prefill = r->decoding - r->started;
	decode = end - r->decoding;
	tpot = r->gen > 1 ? decode / (r->gen - 1) : 0;
	hist_observe(&s->h[H_PROMPT], r->prompt, 1);
	hist_observe(&s->h[H_GEN], r->gen, 1);
	hist_observe(&s->h[H_MAX_GEN], r->gen, 1);
	hist_observe(&s->h[H_N], 1, 1);
	hist_observe(&s->h[H_MAX_TOKENS], r->max_tokens, 1);
	hist_observe(&s->h[H_TPOT_REQ], tpot, 1);
	hist_observe(&s->h[H_E2E], e2e, 1);
	hist_observe(&s->h[H_QUEUE], queue, 1);
	hist_observe(&s->h[H_INFER], end - r->scheduled, 1);
	hist_observe(&s->h[H_PREFILL], prefill, 1);
	hist_observe(&s->h[H_DECODE], decode, 1);
	s->success[r->gen >= r->max_tokens ? R_LENGTH : R_STOP]++;
	if (truth == NULL)
		return;
	buf_printf(truth, "{\"type\":\"request\",\"server\":%d", s->idx);
	truth_num(truth, "t", end);
	truth_num(truth, "e2e", e2e);
	truth_num(truth, "ttft", ttft);
	truth_num(truth, "itl", tpot);
	truth_num(truth, "queue", queue);
	buf_printf(truth, ",\"prompt_tokens\":%d,\"generation_tokens\":%d,"
	    "\"finished_reason\":\"%s\"}\n", r->prompt, r->gen,
	    reason_names[r->gen >= r->max_tokens ? R_LENGTH : R_STOP]);
}

/* Recount KV blocks; preempt the newest requests while a rank overflows. */
static void
server_kv(struct sim_server *s)
{
	struct sim_req	*r;
	size_t		 i, j;
	int		 d;

	for (;;) {
		for (d = 0; d < SIM_MAX_DP; d++)
			s->dp_used[d] = 0;
		s->used_tokens = 0;
		for (i = 0; i < s->nrun; i++) {
			r = &s->run[i];
			s->dp_used[r->dp] += blocks_for(s,
			    r->prompt + (long)r->done);
			s->used_tokens += r->prompt + (long)r->done;
		}
		for (d = 0; d < s->ndp; d++) {
			if (s->dp_used[d] > s->dp_total[d])
				break;
		}
		if (d == s->ndp)
			return;
		/* Recompute preemption: the newest request on rank d. */
		for (j = s->nrun; j > 0; j--) {
			if (s->run[j - 1].dp == d)
				break;
		}
		if (j == 0 || s->nrun == 1)
			return;
		s->run[j - 1].done = 0;
		queue_push(s, &s->run[j - 1], true);
		run_remove(s, j - 1);
		s->preemptions++;
	}
}

static void	server_truth(struct sim_server *, double, struct buf *);

/* Count speculative drafts and accepted tokens for tokens generated. */
static void
server_spec(struct sim_server *s, uint64_t tokens)
{
	double	elen = 1, pk = 1, d, a, acc = 0;
	int	i;

	for (i = 0; i < SIM_SPEC_K; i++) {
		pk *= s->spec_p;
		elen += pk;
	}
	s->spec_frac[0] += (double)tokens / elen;
	d = floor(s->spec_frac[0]);
	s->spec_frac[0] -= d;
	pk = 1;
	for (i = 0; i < SIM_SPEC_K; i++) {
		pk *= s->spec_p;
		s->spec_frac[i + 1] += d * pk;
		a = floor(s->spec_frac[i + 1]);
		s->spec_frac[i + 1] -= a;
		s->spec_pos[i] += a;
		acc += a;
	}
	s->spec_drafts += d;
	s->spec_draft_tokens += d * SIM_SPEC_K;
	s->spec_accepted += acc;
	if (d > 0) {
		s->spec_rate = acc / (d * SIM_SPEC_K);
		s->spec_len = 1 + acc / d;
	}
}

/* Tell whether SGLang shows the server's requests as paused at time t. */
static bool
server_paused(const struct sim_server *s, double t)
{
	return (s->flavour == SIM_SGLANG && t < s->paused_until - 1e-9 &&
	    s->nrun > 0);
}

/* The running requests the page shows at time t (paused ones are not). */
static size_t
server_running(const struct sim_server *s, double t)
{
	return (server_paused(s, t) ? 0 : s->nrun);
}

/*
 * Tell whether rwbridge should call the server asleep at time t, from what
 * its page shows: vLLM v1's (and Ascend's) sleep mode, SGLang paused with
 * nothing running. vLLM v0 has no sleep metric, so it is never asleep.
 */
static bool
server_asleep(const struct sim_server *s, double t)
{
	switch (s->flavour) {
	case SIM_VLLM_V0:
		return (false);
	case SIM_SGLANG:
		return (server_paused(s, t));
	default:
		return (s->asleep);
	}
}

/* Run a server for one tick: restart, admit, prefill, decode, finish. */
static void
server_step(struct simfleet *f, struct sim_server *s, double now, double dt,
    struct buf *truth)
{
	struct sim_req	*r;
	double		 itl, budget, t, use, before, end;
	uint64_t	 tokens = 0, k;
	size_t		 i;

	if (f->cfg.restart_every_ms > 0 && now >= s->next_restart) {
		server_reset(s, now);
		s->next_restart += f->cfg.restart_every_ms / 1000.0;
		if (truth != NULL) {
			buf_printf(truth, "{\"type\":\"restart\",\"server\":%d",
			    s->idx);
			truth_num(truth, "t", now);
			buf_append(truth, "}\n", 2);
		}
	}
	if (now < s->paused_until) {
		s->throughput = 0;
		server_truth(s, now + dt, truth);
		return;
	}
	server_admit(s, now);

	itl = s->base_itl * (1.0 + 0.6 * (double)s->nrun / s->max_running);
	itl *= 0.9 + 0.2 * rng_unit(&s->rng);
	i = 0;
	while (i < s->nrun) {
		r = &s->run[i];
		budget = dt;
		t = now;
		if (r->prefill_left > 0) {
			use = fmin(r->prefill_left, budget);
			r->prefill_left -= use;
			budget -= use;
			t += use;
			if (r->prefill_left > 1e-12) {
				i++;
				continue;
			}
			r->prefill_left = 0;
			if (r->first_token < 0) {
				r->first_token = t;
				hist_observe(&s->h[H_TTFT], t - r->arrived, 1);
			}
			r->decoding = t;
			r->done = 1;
			tokens++;
		}
		before = floor(r->done);
		end = -1;
		if (r->done < r->gen) {
			if ((r->gen - r->done) * itl <= budget) {
				end = t + (r->gen - r->done) * itl;
				r->done = r->gen;
			} else
				r->done += budget / itl;
		} else
			end = t;
		k = (uint64_t)(floor(r->done) - before);
		tokens += k;
		hist_observe(&s->h[H_ITL], itl, k);
		if (r->done >= r->gen) {
			server_finish(f, s, r, end < 0 ? t : end, truth);
			run_remove(s, i);
			continue;
		}
		i++;
	}
	s->gen_tokens += (double)tokens;
	s->throughput = (double)tokens / dt;
	if (s->flavour != SIM_VLLM_V0)
		server_spec(s, tokens);
	server_kv(s);
	server_admit(s, now + dt);
	server_kv(s);
	server_truth(s, now + dt, truth);
}

/*
 * Write a server's state at time t to the truth when it changed, and at
 * least once a simulated second.
 */
static void
server_truth(struct sim_server *s, double t, struct buf *truth)
{
	double	kv;
	int	total, i;
	bool	asleep = server_asleep(s, t);

	if (truth == NULL)
		return;
	total = 0;
	for (i = 0; i < s->ndp; i++)
		total += s->dp_total[i];
	kv = (double)(s->dp_used[0] + s->dp_used[1]) / total;
	if (s->last_truth >= 0 && s->last_running == (int)s->nrun &&
	    s->last_waiting == (int)s->nwait && s->last_kv == kv &&
	    s->last_asleep == asleep && t - s->last_truth < 1.0 - 1e-9)
		return;
	s->last_truth = t;
	s->last_running = (int)s->nrun;
	s->last_waiting = (int)s->nwait;
	s->last_kv = kv;
	s->last_asleep = asleep;
	buf_printf(truth, "{\"type\":\"server\",\"server\":%d", s->idx);
	truth_num(truth, "t", t);
	buf_printf(truth, ",\"running\":%zu,\"waiting\":%zu", s->nrun,
	    s->nwait);
	truth_num(truth, "kv_usage", kv);
	buf_printf(truth, ",\"asleep\":%d}\n", s->last_asleep ? 1 : 0);
}

/* Compare two doubles for qsort. */
static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/* Write the wave that just ended at end to the truth. */
static void
fleet_wave_truth(struct simfleet *f, double end, struct buf *truth)
{
	static const double	 q[] = { 0.5, 0.9, 0.99 };
	static const char	*qn[] = { "t50", "t90", "t99" };
	double			 dur = end - f->wave_start;
	size_t			 i, k;

	qsort(f->finished, f->nfinished, sizeof *f->finished, cmp_double);
	buf_printf(truth, "{\"type\":\"wave\"");
	truth_num(truth, "start", f->wave_start);
	truth_num(truth, "end", end);
	truth_num(truth, "duration", dur);
	buf_printf(truth, ",\"requests\":%zu", f->nfinished);
	for (i = 0; i < NELEM(q) && f->nfinished > 0; i++) {
		k = (size_t)ceil(q[i] * (double)f->nfinished);
		if (k < 1)
			k = 1;
		truth_num(truth, qn[i], f->finished[k - 1] - f->wave_start);
		if (i == 1)
			truth_num(truth, "tail", end - f->finished[k - 1]);
	}
	buf_append(truth, "}\n", 2);
}

/*
 * After a tick: put a drained fleet to sleep, end the wave, and count the
 * server-seconds idle (awake, nothing to do) and busy while the fleet has
 * work, as rwbridge's counters should.
 */
static void
fleet_account(struct simfleet *f, double now, double dt, struct buf *truth)
{
	struct sim_server	*s;
	double			 t = now + dt;
	int			 i, work = 0, nasleep = 0, nidle = 0, nbusy = 0;
	bool			 drained = true;

	for (i = 0; i < f->n; i++) {
		s = &f->servers[i];
		if (s->nrun + s->nwait > 0)
			drained = false;
		if (server_asleep(s, t))
			continue;
		work += (int)(server_running(s, t) + s->nwait);
	}
	for (i = 0; i < f->n; i++) {
		s = &f->servers[i];
		if (drained)
			s->asleep = true;
		if (server_asleep(s, t))
			nasleep++;
		else if (server_running(s, t) + s->nwait == 0)
			nidle++;
		else
			nbusy++;
	}
	if (work > 0) {
		f->idle_s += dt * nidle;
		f->busy_s += dt * nbusy;
	}
	if (f->in_wave && work == 0) {
		if (truth != NULL)
			fleet_wave_truth(f, t, truth);
		f->in_wave = false;
	} else if (!f->in_wave && work > 0) {
		f->in_wave = true;
		f->wave_start = now;
		f->nfinished = 0;
	}
	if (truth == NULL || (f->last_fleet_truth >= 0 &&
	    f->last_work == work && f->last_nasleep == nasleep &&
	    f->last_nidle == nidle && t - f->last_fleet_truth < 1.0 - 1e-9))
		return;
	f->last_fleet_truth = t;
	f->last_work = work;
	f->last_nasleep = nasleep;
	f->last_nidle = nidle;
	buf_printf(truth, "{\"type\":\"fleet\"");
	truth_num(truth, "t", t);
	buf_printf(truth, ",\"work\":%d,\"asleep\":%d,\"idle\":%d,"
	    "\"busy\":%d", work, nasleep, nidle, nbusy);
	truth_num(truth, "idle_seconds", f->idle_s);
	truth_num(truth, "busy_seconds", f->busy_s);
	buf_append(truth, "}\n", 2);
}

/* Advance the fleet by one tick. */
void
simfleet_step(struct simfleet *f, struct buf *truth)
{
	double	now, dt;
	int	i;

	now = simfleet_now(f);
	dt = f->cfg.tick_ms / 1000.0;
	while (now >= f->next_batch) {
		fleet_batch(f, now);
		f->next_batch += f->cfg.batch_every_ms / 1000.0 *
		    (0.75 + 0.5 * rng_unit(&f->rng));
	}
	for (i = 0; i < f->n; i++)
		server_step(f, &f->servers[i], now, dt, truth);
	f->tick++;
	fleet_account(f, now, dt, truth);
}

/*
 * Formatting. prometheus_client writes floats with floatToGoString: Python's
 * repr (shortest round-trip digits, exponent below 1e-4 and from 1e16), but
 * with more than six integer digits it switches to Go-ish "1.5e+06" (and
 * "e+010" from ten digits on, a quirk kept here).
 */

/* Append v as prometheus_client does. */
void
simfleet_put_float(struct buf *b, double v)
{
	char	tmp[40], digits[24];
	int	prec, nd, e, i;
	char	*p;

	if (isnan(v)) {
		buf_append(b, "NaN", 3);
		return;
	}
	if (isinf(v)) {
		buf_append(b, v > 0 ? "+Inf" : "-Inf", 4);
		return;
	}
	if (v == 0) {
		buf_append(b, signbit(v) ? "-0.0" : "0.0", signbit(v) ? 4 : 3);
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	/* tmp is [-]d[.ddd]e[+-]xx: collect the digits and the exponent. */
	p = tmp;
	if (*p == '-') {
		buf_putc(b, '-');
		p++;
	}
	nd = 0;
	for (; *p != 'e'; p++) {
		if (*p != '.' && nd < (int)sizeof digits - 1)
			digits[nd++] = *p;
	}
	e = atoi(p + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';

	if (e < -4 || e >= 16) {
		/* Python's scientific repr: 1e-05, 1.5e+16. */
		buf_putc(b, (uint8_t)digits[0]);
		if (nd > 1) {
			buf_putc(b, '.');
			buf_append(b, digits + 1, (size_t)nd - 1);
		}
		buf_printf(b, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
		return;
	}
	if (v > 0 && e >= 6) {
		/* floatToGoString: mantissa without trailing zeros. */
		buf_putc(b, (uint8_t)digits[0]);
		if (nd > 1) {
			buf_putc(b, '.');
			buf_append(b, digits + 1, (size_t)nd - 1);
		}
		buf_printf(b, "e+0%d", e);
		return;
	}
	if (e < 0) {
		buf_append(b, "0.", 2);
		for (i = -1; i > e; i--)
			buf_putc(b, '0');
		buf_append(b, digits, (size_t)nd);
		return;
	}
	for (i = 0; i <= e; i++)
		buf_putc(b, i < nd ? (uint8_t)digits[i] : '0');
	buf_putc(b, '.');
	if (nd > e + 1)
		buf_append(b, digits + e + 1, (size_t)(nd - e - 1));
	else
		buf_putc(b, '0');
}

/* What a page renderer needs. */
struct render {
	struct buf		*b;
	const char		*pre;		/* labels before le */
	const char		*post;		/* model_name="..." */
	bool			 created;	/* v1: _created gauges */
	double			 t_created;
	double			 now;		/* simulated seconds */
};

/* Write a family's HELP and TYPE lines. */
static void
put_head(struct render *r, const char *name, const char *suffix,
    const char *help, const char *type)
{
	buf_printf(r->b, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, suffix,
	    help, name, suffix, type);
}

/* Write a sample; extra labels sort between pre and model_name. */
static void
put_sample(struct render *r, const char *name, const char *suffix,
    const char *extra, double v)
{
	buf_printf(r->b, "%s%s{%s%s%s} ", name, suffix, r->pre, extra,
	    r->post);
	simfleet_put_float(r->b, v);
	buf_putc(r->b, '\n');
}

/* Write a sample with one more label sorting after model_name. */
static void
put_sample_after(struct render *r, const char *name, const char *suffix,
    const char *after, double v)
{
	buf_printf(r->b, "%s%s{%s%s,%s} ", name, suffix, r->pre, r->post,
	    after);
	simfleet_put_float(r->b, v);
	buf_putc(r->b, '\n');
}

/* Write vLLM's engine_sleep_state: awake, or asleep at level 1. */
static void
put_sleep_state(struct render *r, bool asleep)
{
	const char	*name = "vllm:engine_sleep_state";

	put_head(r, name, "", "Engine sleep state; awake = 0 means engine is "
	    "sleeping; awake = 1 means engine is awake; weights_offloaded = 1 "
	    "means sleep level 1; discard_all = 1 means sleep level 2.",
	    "gauge");
	put_sample_after(r, name, "", "sleep_state=\"awake\"", asleep ? 0 : 1);
	put_sample_after(r, name, "", "sleep_state=\"weights_offloaded\"",
	    asleep ? 1 : 0);
	put_sample_after(r, name, "", "sleep_state=\"discard_all\"", 0);
}

/* Write a gauge family with one sample. */
static void
put_gauge(struct render *r, const char *name, const char *help, double v)
{
	put_head(r, name, "", help, "gauge");
	put_sample(r, name, "", "", v);
}

/* Write a counter family (and its _created gauge on v1). */
static void
put_counter(struct render *r, const char *name, const char *help, double v)
{
	put_head(r, name, "_total", help, "counter");
	put_sample(r, name, "_total", "", v);
	if (!r->created)
		return;
	put_head(r, name, "_created", help, "gauge");
	put_sample(r, name, "_created", "", r->t_created);
}

/* Write request_success_total for the given finish reasons. */
static void
put_success(struct render *r, const double *success, int nreasons)
{
	const char	*name = "vllm:request_success";
	const char	*help = "Count of successfully processed requests.";
	char		 extra[64];
	int		 i;

	put_head(r, name, "_total", help, "counter");
	for (i = 0; i < nreasons; i++) {
		snprintf(extra, sizeof extra, "finished_reason=\"%s\",",
		    reason_names[i]);
		put_sample(r, name, "_total", extra, success[i]);
	}
	if (!r->created)
		return;
	put_head(r, name, "_created", help, "gauge");
	for (i = 0; i < nreasons; i++) {
		snprintf(extra, sizeof extra, "finished_reason=\"%s\",",
		    reason_names[i]);
		put_sample(r, name, "_created", extra, r->t_created);
	}
}

/* Write vLLM v1's speculative-decoding counters. */
static void
put_spec(struct sim_server *s, struct render *r)
{
	const char	*name = "vllm:spec_decode_num_accepted_tokens_per_pos";
	const char	*help = "Accepted tokens per draft position.";
	char		 pos[32];
	int		 i;

	put_counter(r, "vllm:spec_decode_num_drafts",
	    "Number of spec decoding drafts.", s->spec_drafts);
	put_counter(r, "vllm:spec_decode_num_draft_tokens",
	    "Number of draft tokens.", s->spec_draft_tokens);
	put_counter(r, "vllm:spec_decode_num_accepted_tokens",
	    "Number of accepted tokens.", s->spec_accepted);
	put_head(r, name, "_total", help, "counter");
	for (i = 0; i < SIM_SPEC_K; i++) {
		snprintf(pos, sizeof pos, "position=\"%d\"", i);
		put_sample_after(r, name, "_total", pos, s->spec_pos[i]);
	}
	put_head(r, name, "_created", help, "gauge");
	for (i = 0; i < SIM_SPEC_K; i++) {
		snprintf(pos, sizeof pos, "position=\"%d\"", i);
		put_sample_after(r, name, "_created", pos, r->t_created);
	}
}

/* Write a histogram: v1 order, or the multiprocess order of v0/SGLang. */
static void
put_hist(struct render *r, const char *name, const char *help,
    const struct sim_hist *h)
{
	uint64_t	cum = 0;
	size_t		i;

	put_head(r, name, "", help, "histogram");
	if (!r->created)
		put_sample(r, name, "_sum", "", h->sum);
	for (i = 0; i <= h->nbounds; i++) {
		cum += h->counts[i];
		buf_printf(r->b, "%s_bucket{%sle=\"", name, r->pre);
		if (i < h->nbounds)
			simfleet_put_float(r->b, h->bounds[i]);
		else
			buf_append(r->b, "+Inf", 4);
		buf_printf(r->b, "\",%s} ", r->post);
		simfleet_put_float(r->b, (double)cum);
		buf_putc(r->b, '\n');
	}
	put_sample(r, name, "_count", "", (double)h->count);
	if (!r->created)
		return;
	put_sample(r, name, "_sum", "", h->sum);
	put_head(r, name, "_created", help, "gauge");
	put_sample(r, name, "_created", "", r->t_created);
}

/* Write the python_* and process_* families of prometheus_client. */
static void
put_process(struct simfleet *f, struct sim_server *s, struct render *r)
{
	static const char	*gen[] = { "0", "1", "2" };
	static const double	 rate[] = { 180.0, 16.0, 1.5 };
	double			 up = simfleet_now(f) - s->started;
	struct buf		*b = r->b;
	int			 i;

	put_head(r, "python_gc_objects_collected_total", "",
	    "Objects collected during gc", "counter");
	for (i = 0; i < 3; i++) {
		buf_printf(b, "python_gc_objects_collected_total"
		    "{generation=\"%s\"} ", gen[i]);
		simfleet_put_float(b, floor(4000.0 / (i + 1) + up * rate[i]));
		buf_putc(b, '\n');
	}
	put_head(r, "python_gc_objects_uncollectable_total", "",
	    "Uncollectable objects found during GC", "counter");
	for (i = 0; i < 3; i++) {
		buf_printf(b, "python_gc_objects_uncollectable_total"
		    "{generation=\"%s\"} 0.0\n", gen[i]);
	}
	put_head(r, "python_gc_collections_total", "",
	    "Number of times this generation was collected", "counter");
	for (i = 0; i < 3; i++) {
		buf_printf(b, "python_gc_collections_total"
		    "{generation=\"%s\"} ", gen[i]);
		simfleet_put_float(b, floor(200.0 / (i + 1) +
		    up * rate[i] / 30.0));
		buf_putc(b, '\n');
	}
	put_head(r, "python_info", "", "Python platform information",
	    "gauge");
	buf_printf(b, "python_info{implementation=\"CPython\",major=\"3\","
	    "minor=\"12\",patchlevel=\"3\",version=\"3.12.3\"} 1.0\n");
	put_head(r, "process_virtual_memory_bytes", "",
	    "Virtual memory size in bytes.", "gauge");
	buf_printf(b, "process_virtual_memory_bytes ");
	simfleet_put_float(b, 67359739904.0 + 4096.0 * s->idx);
	buf_printf(b, "\n");
	put_head(r, "process_resident_memory_bytes", "",
	    "Resident memory size in bytes.", "gauge");
	buf_printf(b, "process_resident_memory_bytes ");
	simfleet_put_float(b, 1213841408.0 + 4096.0 * (double)(s->nrun +
	    s->nwait));
	buf_printf(b, "\n");
	put_head(r, "process_start_time_seconds", "",
	    "Start time of the process since unix epoch in seconds.", "gauge");
	buf_printf(b, "process_start_time_seconds ");
	simfleet_put_float(b, round((f->cfg.epoch + s->started) * 100) / 100);
	buf_printf(b, "\n");
	put_head(r, "process_cpu_seconds_total", "",
	    "Total user and system CPU time spent in seconds.", "counter");
	buf_printf(b, "process_cpu_seconds_total ");
	simfleet_put_float(b, round(up * 35.0) / 100.0);
	buf_printf(b, "\n");
	put_head(r, "process_open_fds", "", "Number of open file descriptors.",
	    "gauge");
	buf_printf(b, "process_open_fds ");
	simfleet_put_float(b, 101.0 + (double)s->nrun);
	buf_printf(b, "\n");
	put_head(r, "process_max_fds", "",
	    "Maximum number of open file descriptors.", "gauge");
	buf_printf(b, "process_max_fds 1e+06\n");
}

/* Write vllm:cache_config_info as the engine does. */
static void
put_cache_config(struct sim_server *s, struct render *r, bool v1)
{
	put_head(r, "vllm:cache_config_info", "",
	    "Information of the LLMEngine CacheConfig", "gauge");
	buf_printf(r->b, "vllm:cache_config_info{block_size=\"%d\","
	    "cache_dtype=\"auto\",calculate_kv_scales=\"False\","
	    "cpu_offload_gb=\"0.0\",enable_prefix_caching=\"True\",%s"
	    "gpu_memory_utilization=\"0.9\",is_attention_free=\"False\","
	    "num_cpu_blocks=\"None\",num_gpu_blocks=\"%d\","
	    "num_gpu_blocks_override=\"None\",prefix_caching_hash_algo=\"%s\","
	    "sliding_window=\"None\",swap_space=\"4.0\"} 1.0\n",
	    s->block_size, v1 ? "engine=\"0\"," : "",
	    s->dp_total[0] * s->ndp, v1 ? "sha256" : "builtin");
}

enum dp_kind {
	DP_TOTAL,
	DP_FREE,
	DP_USED
};

/* Render one vLLM-Ascend KV-block gauge, a sample per DP rank. */
static void
put_dp_blocks(struct sim_server *s, struct render *r, const char *what,
    const char *What, enum dp_kind k)
{
	char	name[64], help[80];
	int	d;

	snprintf(name, sizeof name, "vllm_profiling_%s_kvcache_blocks", what);
	snprintf(help, sizeof help, "%s KV cache blocks per data-parallel "
	    "rank.", What);
	put_head(r, name, "", help, "gauge");
	for (d = 0; d < s->ndp; d++) {
		buf_printf(r->b, "%s{dp=\"%d\"} ", name, d);
		simfleet_put_float(r->b, k == DP_TOTAL ? s->dp_total[d] :
		    k == DP_FREE ? s->dp_total[d] - s->dp_used[d] :
		    s->dp_used[d]);
		buf_putc(r->b, '\n');
	}
}

/* Render a vLLM v1 (or vLLM-Ascend) page. */
static void
render_v1(struct simfleet *f, struct sim_server *s, struct render *r)
{
	bool	ascend = s->flavour == SIM_ASCEND;

	put_process(f, s, r);
	put_spec(s, r);
	put_gauge(r, "vllm:num_requests_running",
	    "Number of requests in model execution batches.", (double)s->nrun);
	put_gauge(r, "vllm:num_requests_waiting",
	    "Number of requests waiting to be processed.", (double)s->nwait);
	put_sleep_state(r, s->asleep);
	if (!ascend) {
		put_gauge(r, "vllm:kv_cache_usage_perc",
		    "KV-cache usage. 1 means 100 percent usage.",
		    (double)s->dp_used[0] / s->dp_total[0]);
	}
	put_counter(r, "vllm:prefix_cache_queries", "Prefix cache queries, in "
	    "terms of number of queried tokens.", s->queries);
	put_counter(r, "vllm:prefix_cache_hits", "Prefix cache hits, in terms "
	    "of number of cached tokens.", s->hits);
	put_counter(r, "vllm:num_preemptions",
	    "Cumulative number of preemption from the engine.",
	    s->preemptions);
	put_counter(r, "vllm:prompt_tokens",
	    "Number of prefill tokens processed.", s->prompt_tokens);
	put_counter(r, "vllm:generation_tokens",
	    "Number of generation tokens processed.", s->gen_tokens);
	put_success(r, s->success, R_COUNT);
	put_hist(r, "vllm:request_prompt_tokens",
	    "Number of prefill tokens processed.", &s->h[H_PROMPT]);
	put_hist(r, "vllm:request_generation_tokens",
	    "Number of generation tokens processed.", &s->h[H_GEN]);
	put_hist(r, "vllm:request_max_num_generation_tokens", "Histogram of "
	    "maximum number of requested generation tokens.",
	    &s->h[H_MAX_GEN]);
	put_hist(r, "vllm:request_params_n",
	    "Histogram of the n request parameter.", &s->h[H_N]);
	put_hist(r, "vllm:request_params_max_tokens",
	    "Histogram of the max_tokens request parameter.",
	    &s->h[H_MAX_TOKENS]);
	put_hist(r, "vllm:time_to_first_token_seconds",
	    "Histogram of time to first token in seconds.", &s->h[H_TTFT]);
	put_hist(r, "vllm:inter_token_latency_seconds",
	    "Histogram of inter-token latency in seconds.", &s->h[H_ITL]);
	put_hist(r, "vllm:request_time_per_output_token_seconds",
	    "Histogram of time_per_output_token_seconds per request.",
	    &s->h[H_TPOT_REQ]);
	put_hist(r, "vllm:e2e_request_latency_seconds",
	    "Histogram of e2e request latency in seconds.", &s->h[H_E2E]);
	put_hist(r, "vllm:request_queue_time_seconds",
	    "Histogram of time spent in WAITING phase for request.",
	    &s->h[H_QUEUE]);
	put_hist(r, "vllm:request_inference_time_seconds",
	    "Histogram of time spent in RUNNING phase for request.",
	    &s->h[H_INFER]);
	put_hist(r, "vllm:request_prefill_time_seconds",
	    "Histogram of time spent in PREFILL phase for request.",
	    &s->h[H_PREFILL]);
	put_hist(r, "vllm:request_decode_time_seconds",
	    "Histogram of time spent in DECODE phase for request.",
	    &s->h[H_DECODE]);
	put_hist(r, "vllm:request_prefill_kv_computed_tokens",
	    "Histogram of new KV tokens computed during prefill (excluding "
	    "cached tokens).", &s->h[H_KV_COMPUTED]);
	put_cache_config(s, r, true);
	if (!ascend)
		return;
	put_dp_blocks(s, r, "total", "Total", DP_TOTAL);
	put_dp_blocks(s, r, "free", "Free", DP_FREE);
	put_dp_blocks(s, r, "allocated", "Allocated", DP_USED);
}

/* Render a vLLM v0 page (multiprocess layout, as the capture). */
static void
render_v0(struct sim_server *s, struct render *r)
{
	put_cache_config(s, r, false);
	put_hist(r, "vllm:time_to_first_token_seconds",
	    "Histogram of time to first token in seconds.", &s->h[H_TTFT]);
	put_hist(r, "vllm:time_per_output_token_seconds",
	    "Histogram of time per output token in seconds.", &s->h[H_ITL]);
	put_hist(r, "vllm:e2e_request_latency_seconds",
	    "Histogram of end to end request latency in seconds.",
	    &s->h[H_E2E]);
	put_hist(r, "vllm:request_queue_time_seconds",
	    "Histogram of time spent in WAITING phase for request.",
	    &s->h[H_QUEUE]);
	put_hist(r, "vllm:request_inference_time_seconds",
	    "Histogram of time spent in RUNNING phase for request.",
	    &s->h[H_INFER]);
	put_hist(r, "vllm:request_prefill_time_seconds",
	    "Histogram of time spent in PREFILL phase for request.",
	    &s->h[H_PREFILL]);
	put_hist(r, "vllm:request_decode_time_seconds",
	    "Histogram of time spent in DECODE phase for request.",
	    &s->h[H_DECODE]);
	put_hist(r, "vllm:request_prompt_tokens",
	    "Number of prefill tokens processed.", &s->h[H_PROMPT]);
	put_hist(r, "vllm:request_generation_tokens",
	    "Number of generation tokens processed.", &s->h[H_GEN]);
	put_hist(r, "vllm:request_params_n",
	    "Histogram of the n request parameter.", &s->h[H_N]);
	put_hist(r, "vllm:request_max_num_generation_tokens", "Histogram of "
	    "maximum number of requested generation tokens.",
	    &s->h[H_MAX_GEN]);
	put_hist(r, "vllm:request_params_max_tokens",
	    "Histogram of the max_tokens request parameter.",
	    &s->h[H_MAX_TOKENS]);
	put_gauge(r, "vllm:num_requests_running",
	    "Number of requests currently running on GPU.", (double)s->nrun);
	put_gauge(r, "vllm:num_requests_waiting",
	    "Number of requests waiting to be processed.", (double)s->nwait);
	put_gauge(r, "vllm:gpu_cache_usage_perc",
	    "GPU KV-cache usage. 1 means 100 percent usage.",
	    (double)s->dp_used[0] / s->dp_total[0]);
	put_counter(r, "vllm:num_preemptions",
	    "Cumulative number of preemption from the engine.",
	    s->preemptions);
	put_counter(r, "vllm:prompt_tokens",
	    "Number of prefill tokens processed.", s->prompt_tokens);
	put_counter(r, "vllm:generation_tokens",
	    "Number of generation tokens processed.", s->gen_tokens);
	put_success(r, s->success, R_LENGTH + 1);
}

/* Render an SGLang page (multiprocess layout, as the capture). */
static void
render_sglang(struct sim_server *s, struct render *r)
{
	double	total = s->dp_total[0];

	put_counter(r, "sglang:prompt_tokens",
	    "Number of prefill tokens processed.", s->prompt_tokens);
	put_counter(r, "sglang:generation_tokens",
	    "Number of generation tokens processed.", s->gen_tokens);
	put_gauge(r, "sglang:token_usage", "The token usage",
	    round(s->used_tokens / total * 100.0) / 100.0);
	put_counter(r, "sglang:cached_tokens",
	    "Number of cached prompt tokens.", s->hits);
	put_counter(r, "sglang:num_retracted_requests",
	    "Total number of retracted requests.", s->preemptions);
	put_counter(r, "sglang:num_aborted_requests",
	    "Number of requests aborted.", s->success[R_ABORT]);
	put_gauge(r, "sglang:cache_hit_rate", "The prefix cache hit rate.",
	    s->queries > 0 ? s->hits / s->queries : 0.0);
	put_gauge(r, "sglang:spec_accept_rate", "The average acceptance rate "
	    "of speculative decoding (`accepted tokens / total draft tokens` "
	    "in batch).", s->spec_rate);
	put_gauge(r, "sglang:spec_accept_length",
	    "The average acceptance length of speculative decoding.",
	    s->spec_len);
	put_hist(r, "sglang:time_to_first_token_seconds",
	    "Histogram of time to first token in seconds.", &s->h[H_TTFT]);
	put_hist(r, "sglang:e2e_request_latency_seconds",
	    "Histogram of End-to-end request latency in seconds",
	    &s->h[H_E2E]);
	put_hist(r, "sglang:inter_token_latency_seconds",
	    "Histogram of inter-token latency in seconds.", &s->h[H_ITL]);
	put_hist(r, "sglang:queue_time_seconds",
	    "Histogram of queueing time in seconds.", &s->h[H_QUEUE]);
	put_hist(r, "sglang:prompt_tokens_histogram",
	    "Histogram of prompt token length.", &s->h[H_PROMPT]);
	put_hist(r, "sglang:generation_tokens_histogram",
	    "Histogram of generation token length.", &s->h[H_GEN]);
	put_gauge(r, "sglang:num_running_reqs",
	    "The number of running requests",
	    (double)server_running(s, r->now));
	put_gauge(r, "sglang:num_paused_reqs",
	    "The number of paused requests by async weight sync.",
	    (double)(s->nrun - server_running(s, r->now)));
	put_gauge(r, "sglang:num_used_tokens", "The number of used tokens",
	    (double)s->used_tokens);
	put_gauge(r, "sglang:max_total_num_tokens",
	    "The maximum number of tokens in the KV cache", total);
	put_gauge(r, "sglang:gen_throughput",
	    "The generate throughput (token/s)", s->throughput);
	put_gauge(r, "sglang:num_queue_reqs",
	    "The number of requests in the waiting queue", (double)s->nwait);
}

/* Render server s into its page buffer. */
static void
server_render(struct simfleet *f, struct sim_server *s)
{
	struct render	r;
	int		k;

	buf_reset(&s->page);
	r.b = &s->page;
	r.post = f->model_label;
	r.t_created = f->cfg.epoch + s->started + 12.5;
	r.now = simfleet_now(f);
	switch (s->flavour) {
	case SIM_VLLM_V0:
		r.pre = "";
		r.created = false;
		render_v0(s, &r);
		break;
	case SIM_SGLANG:
		r.pre = "";
		r.created = false;
		render_sglang(s, &r);
		break;
	default:
		r.pre = "engine=\"0\",";
		r.created = true;
		render_v1(f, s, &r);
		break;
	}
	if (f->cfg.extra_series <= 0)
		return;
	put_head(&r, "rollout_sim_extra", "",
	    "Synthetic series for benchmarks.", "gauge");
	for (k = 0; k < f->cfg.extra_series; k++) {
		buf_printf(&s->page, "rollout_sim_extra{idx=\"%d\"} ", k);
		simfleet_put_float(&s->page,
		    (double)(((uint64_t)k * 7919 + f->tick) % 1000));
		buf_putc(&s->page, '\n');
	}
}

/* Return server i's page for this tick, rendering it if needed. */
const struct buf *
simfleet_page(struct simfleet *f, int i)
{
	struct sim_server	*s;

	if (i < 0 || i >= f->n)
		return (NULL);
	s = &f->servers[i];
	if (s->page_tick != f->tick + 1) {
		server_render(f, s);
		s->page_tick = f->tick + 1;
	}
	return (&s->page);
}
