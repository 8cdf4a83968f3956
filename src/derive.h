/*
 * derive: series the engines do not give directly, computed from each scrape
 * and the same across engine versions: KV-cache usage normalised across vLLM
 * v0/v1, SGLang and vLLM-Ascend; windowed latency, response-length and
 * queue-time quantiles from histogram bucket deltas (PromQL's
 * histogram_quantile interpolation); long-tail, idle and asleep servers;
 * token throughput; windowed prefix-cache, truncation, preemption and
 * spec-decode series from counters; per job, rollout waves and counters of
 * idle and busy server-seconds. Pure: no I/O, no event loop.
 *
 * A struct derive holds fleet-wide state and owns its derive_target objects.
 * Per scrape the caller calls derive_begin, derive_sample for every parsed
 * sample (borrowed for the call only), then derive_end, which emits the
 * target's derived series. derive_fleet emits fleet aggregates per job from
 * the latest state of every target. Emitted names and labels are borrowed for
 * the duration of the callback.
 */
#ifndef RWBRIDGE_DERIVE_H
#define RWBRIDGE_DERIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "labels.h"
#include "promtext.h"

#define DERIVE_MAX_WINDOWS	4

struct derive_config {
	bool		 enabled;
	size_t		 nwindows;
	int64_t		 windows_ms[DERIVE_MAX_WINDOWS];  /* default 1m, 5m */
	double		 tail_k;			  /* default 5 */
	/*
	 * A cluster member's number (global.cluster), put as the label
	 * member on every fleet series so members' series stay apart and
	 * merge with sum without (member); -1 (the default): no label.
	 */
	int		 member;
};

typedef void (*derive_emit_fn)(void *, const char *, const struct label *,
    size_t, double, int64_t);

struct derive;
struct derive_target;

void			 derive_config_default(struct derive_config *);
struct derive		*derive_new(const struct derive_config *);
void			 derive_free(struct derive *);
/* A target in the given job (fleet aggregates are per job). */
struct derive_target	*derive_target_new(struct derive *, const char *);
void			 derive_target_free(struct derive_target *);
/* Bytes held for the target's windows; *used: the part holding data. */
size_t			 derive_target_window_bytes(
			     const struct derive_target *, size_t *);
void			 derive_begin(struct derive_target *, int64_t);
void			 derive_sample(struct derive_target *,
			     const struct pt_item *);
/* Finish a successful scrape and emit the target's derived series. */
void			 derive_end(struct derive_target *, derive_emit_fn,
			     void *);
/* Forget a failed scrape started by derive_begin. */
void			 derive_abort(struct derive_target *);
/* Emit fleet aggregates per job, stamped with ts. */
void			 derive_fleet(struct derive *, int64_t, derive_emit_fn,
			     void *);

#endif
