/*
 * writerelabel: what one remote-write endpoint sends of the records every
 * producer hands the pipeline: global.external_labels added to each series
 * that lacks the label, then the endpoint's write_relabel_configs, in
 * Prometheus's order. Pure. A series' rewritten labels are cached by its
 * encoded label bytes, so relabeling runs once per series, not per sample;
 * entries unused for ten minutes are dropped. A writerelabel holds a
 * reference to its rules and copies of the external labels.
 */
#ifndef RWBRIDGE_WRITERELABEL_H
#define RWBRIDGE_WRITERELABEL_H

#include <stddef.h>
#include <stdint.h>

#include "ingest.h"
#include "labels.h"
#include "relabel.h"

struct writerelabel;

/* NULL when there is nothing to do (no external labels, no rules). */
struct writerelabel	*writerelabel_new(const struct config_kv *, size_t,
			     struct relabel *);
void			 writerelabel_free(struct writerelabel *);
/*
 * Rewrite the records of in into out (reset first; metadata copied as is).
 * now_ms ages the cache.
 */
void			 writerelabel_apply(struct writerelabel *,
			     const struct ingest_out *, struct ingest_out *,
			     int64_t);
/* Series dropped by the rules so far (samples, for the metrics). */
uint64_t		 writerelabel_dropped(const struct writerelabel *);

#endif
