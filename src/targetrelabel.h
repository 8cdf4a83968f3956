/*
 * targetrelabel: a target's relabel_configs, as Prometheus's
 * PopulateLabels applies them. The rules see __address__, __scheme__,
 * __metrics_path__, __param_<name> (from the URL's query),
 * __scrape_interval__, __scrape_timeout__, job and the group's labels; what
 * they leave is the target: its URL, job, interval, timeout and labels
 * (those not starting with __; instance defaults to __address__). Pure.
 * A target_relabeled owns every string in it.
 */
#ifndef RWBRIDGE_TARGETRELABEL_H
#define RWBRIDGE_TARGETRELABEL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "relabel.h"
#include "tspec.h"

struct target_relabeled {
	char			*url;
	char			*job;
	struct config_kv	*labels;	/* without job, with instance */
	size_t			 nlabels;
	int64_t			 interval_ms;
	int64_t			 timeout_ms;
	char			*discovered;	/* the labels before, JSON */
};

/*
 * Relabel one target (url, job, group labels, interval and timeout in ms).
 * 1: kept, out filled; 0: dropped, out->discovered filled; -1: the result
 * is not a target (no __address__, a bad interval), the reason in err.
 */
int	 target_relabel(struct relabel *, const char *, const char *,
	     const struct config_kv *, size_t, int64_t, int64_t,
	     struct target_relabeled *, char *, size_t);
void	 target_relabeled_free(struct target_relabeled *);
/*
 * The same for a spec (its job, interval and timeout defaulting to cfg's):
 * on 1 the spec is rewritten to point into rt.
 */
int	 target_relabel_spec(struct relabel *, const struct config *,
	     struct target_spec *, struct target_relabeled *, char *, size_t);

#endif
