/*
 * ingest: turn one scraped page into remote-write records. It parses the
 * page, finds each series in the target's scrape cache (or builds and encodes
 * its label set the first time), appends one TimeSeries record per sample,
 * feeds the derivations, adds the synthetic series Prometheus adds (up,
 * scrape_duration_seconds, ...) and emits stale markers for series that went
 * away. Pure: no I/O, no event loop. An ingest owns its caches and copies of
 * the target labels; the series' bytes live in a series_pool it borrows (one
 * the daemon shares across targets) or owns when given none; the records go
 * into a caller-owned ingest_out that is reused between scrapes.
 *
 * The scrape contract (ingest_configure): metric_relabel_configs run once,
 * when a series enters the scrape cache; a series they drop stays cached as
 * dropped, so it costs a lookup per scrape and nothing else. Derivations
 * are fed every sample of the page, dropped or not. Prometheus's limits
 * fail the whole page; honor_labels and honor_timestamps mean what they
 * mean in Prometheus.
 */
#ifndef RWBRIDGE_INGEST_H
#define RWBRIDGE_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "derive.h"
#include "labels.h"
#include "promtext.h"
#include "rwenc.h"
#include "series.h"

/* Records ready for remote write: TimeSeries and MetricMetadata fields. */
struct ingest_out {
	struct buf	 rec;		/* WriteRequest field-1 records */
	struct buf	 meta;		/* WriteRequest field-3 records */
	uint64_t	*hash;		/* per record: the series hash */
	size_t		*end;		/* per record: end offset in rec */
	size_t		 n;
	size_t		 cap;
	size_t		 nmeta;
	int64_t		 min_ts;
	int64_t		 max_ts;
	struct buf	*text;		/* NULL, or derived series as text */
};

struct ingest_stats {
	uint64_t	 samples;		/* in the last page */
	uint64_t	 samples_post;		/* after metric relabeling */
	uint64_t	 series_added;		/* new in the last page */
	uint64_t	 stale_markers;		/* sent by the last call */
	uint64_t	 duplicates;		/* same series twice in a page */
};

/* The limits, for the counters of pages each one failed. */
enum ingest_limit {
	INGEST_LIMIT_SAMPLE,
	INGEST_LIMIT_LABEL,
	INGEST_LIMIT_NAME_LENGTH,
	INGEST_LIMIT_VALUE_LENGTH,
	INGEST_LIMIT_BODY_SIZE,
	INGEST_NLIMITS
};

/* How a target's pages are taken (Prometheus's scrape_config keys). */
struct ingest_opts {
	struct relabel		*metric_relabel;	/* NULL: none */
	struct config_limits	 limits;		/* 0: no limit */
	bool			 honor_labels;
	bool			 honor_timestamps;
};

struct ingest {
	struct series_pool	*pool;		/* the caches' bytes */
	struct series_pool	*own_pool;	/* NULL: borrowed */
	struct series_cache	 raw;		/* scraped series */
	struct series_cache	 derived;	/* derived series */
	struct series_cache	 synth;		/* up, scrape_* */
	struct label		*tlabels;	/* target labels, owned, sorted */
	size_t			 ntlabels;
	/*
	 * The non-empty target labels, encoded once: every series stores only
	 * its own labels and the offsets (uint16 each, after them) where
	 * these go, and they are spliced in when a sample is encoded.
	 */
	struct buf		 tenc;
	struct rwenc_splice	*splice;
	size_t			 nsplice;
	struct derive_target	*dt;		/* NULL: no derivations */
	struct labels		 lb;
	struct buf		 enc;
	struct buf		 key;
	char			*unesc;
	size_t			 unesc_cap;
	int64_t			 ts;
	int64_t			 meta_ts;	/* last metadata sent */
	bool			 meta_due;
	struct ingest_out	*out;
	bool			 override;	/* target labels replace */
	struct ingest_stats	 stats;

	struct relabel		*mrelabel;	/* a ref; NULL: none */
	struct relabel_lset	 rls;
	struct config_limits	 limits;
	bool			 honor_labels;
	bool			 honor_timestamps;
	struct label		*honored;	/* target labels kept */
	uint64_t		 limit_hits[INGEST_NLIMITS];	/* pages */
	/*
	 * A failed page leaves its series cached but unsent, as Prometheus's
	 * scrape cache keeps them (so they are not new again): the ones a
	 * page sees again are noted here, to be unsent again if it fails
	 * too; raw_ok_n is the cache's size after the last good page.
	 */
	series_ref		*revived;
	size_t			 nrevived;
	size_t			 caprevived;
	size_t			 raw_ok_n;
};

void	 ingest_out_init(struct ingest_out *);
void	 ingest_out_free(struct ingest_out *);
void	 ingest_out_reset(struct ingest_out *);
/* Append one record: a series' encoded labels and one sample. */
void	 ingest_out_add(struct ingest *, struct ingest_out *,
	     const struct series *, double, int64_t);

/*
 * Set up for a target with these labels (copied; job and instance too),
 * keeping series in pool (borrowed, freed after this ingest; NULL: its own).
 */
void	 ingest_init(struct ingest *, const struct label *, size_t,
	     struct derive_target *, struct series_pool *);
/*
 * Take a target's scrape options (a reference to its rules); call before
 * the first page. Without it: no rules, no limits, honor_timestamps.
 */
void	 ingest_configure(struct ingest *, const struct ingest_opts *);
/* The config key of a limit ("sample_limit"), for metrics and logs. */
const char *ingest_limit_name(enum ingest_limit);
/* Send stale markers for every series into out, then free everything. */
void	 ingest_free(struct ingest *, int64_t, struct ingest_out *);
/*
 * Ingest a page scraped at ts. On success return true and append its
 * records and stale markers to out. On a parse error return false with the
 * message in err, out unchanged except for stale markers of the previous
 * scrape's series (the scrape failed, as in Prometheus).
 */
bool	 ingest_page(struct ingest *, const char *, size_t, enum pt_format,
	     int64_t, struct ingest_out *, char *, size_t);
/* A scrape that failed before a page arrived: stale-mark its series. */
void	 ingest_failed(struct ingest *, int64_t, struct ingest_out *);
/* Append a synthetic series sample (up, scrape_duration_seconds, ...). */
void	 ingest_synthetic(struct ingest *, const char *, double, int64_t,
	     struct ingest_out *);
/* Append a derived series (labels as emitted; target labels are added). */
void	 ingest_derived(struct ingest *, const char *, const struct label *,
	     size_t, double, int64_t, struct ingest_out *);
/* Stale-mark derived series not emitted since ingest_derived_begin. */
void	 ingest_derived_begin(struct ingest *);
void	 ingest_derived_sweep(struct ingest *, int64_t, struct ingest_out *);
/* Series currently cached (raw + derived + synthetic). */
size_t	 ingest_series(const struct ingest *);

#endif
