/*
 * pipeline: where every producer (a target's scrape, the push receiver, the
 * fleet timer) hands its records. It owns the reused output buffer, the
 * remote-write senders, the Pushgateway sink, the pool of page buffers lent
 * to scrapes and the pipeline counters. Producers append to pipeline_out
 * and call pipeline_dispatch; the pipeline copies what it needs, so nothing
 * a producer hands over is kept.
 */
#ifndef RWBRIDGE_PIPELINE_H
#define RWBRIDGE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "buf.h"
#include "config.h"
#include "httpc.h"
#include "ingest.h"
#include "promtext.h"
#include "pushgw.h"

struct pipeline;
struct sender;

/* The pipeline's own counters, rendered on /metrics. */
struct pipeline_stats {
	uint64_t	scrapes_ok;
	uint64_t	scrapes_failed;
	uint64_t	samples_scraped;
	uint64_t	stale_markers;
	uint64_t	duplicates;
	uint64_t	limit_hits[INGEST_NLIMITS];	/* scrapes failed */
};

/*
 * Create the senders and the Pushgateway sink the config asks for; NULL
 * with the reason in err when one cannot start.
 */
struct pipeline	*pipeline_new(struct event_base *, struct httpc *,
		     const struct config *, char *, size_t);
/* Free the sinks (after a last flush) and every buffer. */
void		 pipeline_free(struct pipeline *);

/* The records producers append to; pipeline_dispatch empties it. */
struct ingest_out *pipeline_out(struct pipeline *);
/* Hand the records in pipeline_out to every sender, then reset it. */
void		 pipeline_dispatch(struct pipeline *);
/* True when a Pushgateway sink wants pages (and derived text). */
bool		 pipeline_wants_pages(const struct pipeline *);
/*
 * Hand a successfully ingested page to the Pushgateway sink, with the
 * derived series that ingest wrote as text into pipeline_out.
 */
void		 pipeline_page(struct pipeline *,
		     const struct pushgw_source *, const char *, size_t,
		     enum pt_format);
/* A source went away: the Pushgateway sink deletes its group. */
void		 pipeline_removed(struct pipeline *,
		     const struct pushgw_source *);

/* Lend a page buffer for a scrape (keeps b if it already has memory). */
void		 pipeline_body_take(struct pipeline *, struct buf *);
/* Give a page buffer back; b is empty afterwards. */
void		 pipeline_body_give(struct pipeline *, struct buf *);

struct pipeline_stats *pipeline_stats(struct pipeline *);
/* Pushgateway pushes by result (0 and 0 without a sink). */
void		 pipeline_pushgw_counts(const struct pipeline *, uint64_t *,
		     uint64_t *);
size_t		 pipeline_nsenders(const struct pipeline *);
struct sender	*pipeline_sender(const struct pipeline *, size_t);
/* Samples sender i's write_relabel_configs dropped. */
uint64_t	 pipeline_write_dropped(const struct pipeline *, size_t);

/* Flush partial batches and start pending pushes now (shutdown). */
void		 pipeline_flush(struct pipeline *);
/* Write queued data to disk (the fsync interval policy). */
void		 pipeline_sync(struct pipeline *);
/* Tell whether no sink has anything queued or in flight. */
bool		 pipeline_idle(const struct pipeline *);

#endif
