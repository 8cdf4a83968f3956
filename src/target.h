/*
 * target: one rollout server being scraped. A target_spec is plain data (the
 * shape of a file_sd entry plus scrape settings) and is copied by target_new:
 * the target keeps the spec as given and owns its timer, curl handle, body
 * buffer, scrape cache and derivation state. It borrows the handles in its
 * target_env (the daemon owns them) and hands its records to the pipeline;
 * target_free can stale-mark every series it produced.
 */
#ifndef RWBRIDGE_TARGET_H
#define RWBRIDGE_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "buf.h"
#include "config.h"
#include "derive.h"
#include "httpc.h"
#include "ingest.h"
#include "log.h"
#include "pipeline.h"
#include "tspec.h"

/* What every target borrows from the daemon. */
struct target_env {
	struct event_base	*evbase;
	struct httpc		*httpc;
	const struct config	*cfg;
	struct derive		*derive;	/* NULL: no derivations */
	struct pipeline		*pipeline;
	struct series_pool	*pool;		/* the scrape caches' bytes */
};

enum target_health {
	TARGET_UNKNOWN,
	TARGET_UP,
	TARGET_DOWN
};

struct target {
	const struct target_env	*env;
	struct target		*next;		/* in its registry bucket */
	struct target		*gnext;		/* in its group's list */
	struct target		*gprev;
	char			*group;
	char			*key;		/* group NUL url */
	size_t			 keylen;
	uint64_t		 hash;		/* series_hash of the key */
	struct target_spec	 spec;		/* as given, owned */
	char			*url;
	char			*job;
	char			*instance;
	struct config_kv	*labels;	/* configured, sorted by name */
	size_t			 nlabels;
	int64_t			 interval_ms;
	int64_t			 timeout_ms;
	bool			 mark;		/* used by targets_set_group */

	struct event		 timer;
	int64_t			 next_ms;
	CURL			*easy;
	struct curl_slist	*headers;
	struct httpc_req	 req;
	struct buf		 body;
	bool			 too_big;
	bool			 over_body_limit;	/* body_size_limit */
	struct curl_slist	*connect_to;	/* tls_config.server_name */
	char			 curl_err[CURL_ERROR_SIZE];
	struct config_limits	 spec_limits;	/* spec.limits points here */
	uint64_t		 limit_seen[INGEST_NLIMITS];
	char			 content_type[128];
	int64_t			 start_ms;
	struct timeval		 start_tv;

	struct ingest		 ig;
	struct derive_target	*dt;

	enum target_health	 health;
	int64_t			 last_scrape_ms;
	double			 last_duration;
	uint64_t		 last_samples;
	char			 last_error[256];
	struct log_limit	 fail_log;	/* scrape failures */
	struct log_limit	 overrun_log;	/* scrape still running */
};

/* Validate a spec; false with the reason in err. */
bool		 target_spec_check(const struct target_spec *, char *, size_t);
/* Create a target and schedule its first scrape. */
struct target	*target_new(const struct target_env *, const char *,
		     const struct target_spec *);
/*
 * Stop scraping and free; with stale, first stale-mark every series and
 * tell the pipeline the target is gone (not when rwbridge is stopping).
 */
void		 target_free(struct target *, bool);
/* Tell whether a running target already matches spec. */
bool		 target_matches(const struct target *,
		     const struct target_spec *);
/* Keep spec as the one the target was registered with. */
void		 target_respec(struct target *, const struct target_spec *);
const char	*target_health_name(enum target_health);

#endif
