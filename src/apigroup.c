/*
 * apigroup: an API group into the registry, its scrape contract in force.
 * The API and the state file's load share it, so a group restored after a
 * restart is relabeled and limited exactly as when it was registered.
 */
#include <stdlib.h>

#include "apigroup.h"
#include "log.h"
#include "relabel.h"
#include "targetrelabel.h"
#include "xmalloc.h"

/* Register g's specs under group, relabeled, listing the dropped ones. */
void
apigroup_register(struct targets *ts, const struct config *cfg,
    const char *group, struct tspec_group *g, bool replace)
{
	struct target_relabeled	*rt;
	struct target_spec	 sp, *ds;
	char			**d, err[256];
	size_t			 i, n = 0, nd = 0, nrt = 0;
	int			 rc;

	tspec_group_limits(g, &cfg->limits);
	rt = xcalloc(g->nspecs + 1, sizeof *rt);
	d = xcalloc(g->nspecs + 1, sizeof *d);
	ds = xcalloc(g->nspecs + 1, sizeof *ds);
	for (i = 0; i < g->nspecs; i++) {
		sp = g->specs[i];
		if (sp.contract == NULL ||
		    relabel_len(sp.contract->relabel) == 0) {
			g->specs[n++] = sp;
			continue;
		}
		rc = target_relabel_spec(sp.contract->relabel, cfg, &sp,
		    &rt[nrt], err, sizeof err);
		if (rc == 0) {
			/* Listed, and kept as registered for the state file. */
			ds[nd] = g->specs[i];
			d[nd++] = rt[nrt].discovered;
			rt[nrt].discovered = NULL;
		} else if (rc < 0)
			log_warn("API target dropped: not a target after "
			    "relabel_configs", "group=%s target=%s err=%s",
			    group, g->specs[i].address, err);
		if (rc != 1) {
			target_relabeled_free(&rt[nrt]);
			continue;
		}
		/* The address as given: what the state file saves. */
		sp.address = g->specs[i].address;
		nrt++;
		g->specs[n++] = sp;
	}
	g->nspecs = n;
	/* One target per URL as relabeled (the last), as the registry has. */
	tspec_group_dedup(g);
	n = g->nspecs;
	if (replace)
		targets_set_group(ts, group, g->specs, n);
	else
		targets_add(ts, group, g->specs, n);
	if (replace)
		targets_set_dropped_specs(ts, group, d, ds, nd);
	else {
		/* A POST lists no dropped targets; they are logged. */
		for (i = 0; i < nd; i++) {
			log_info("API target dropped by relabel_configs",
			    "group=%s discovered=%s", group, d[i]);
			free(d[i]);
		}
		free(d);
	}
	for (i = 0; i < nrt; i++)
		target_relabeled_free(&rt[i]);
	free(rt);
	free(ds);
}
