/*
 * targets: a hash table of targets keyed by group and URL (chained through
 * target->next, bucketed by the key's hash that each target keeps), so
 * lookups stay O(1) as fleets grow to thousands of servers, and a second
 * hash table of group records (by name), each listing its targets
 * (through target->gnext/gprev) with their count and its skipped count,
 * so group operations cost the targets of that group, not the registry's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "series.h"
#include "shard.h"
#include "targets.h"
#include "tspec.h"
#include "xmalloc.h"

#define TARGETS_MIN_BUCKETS	64

/* A group that has targets or skipped targets. */
struct targets_group {
	struct targets_group	*next;		/* in its bucket */
	char			*name;
	uint64_t		 hash;
	struct target		*head;		/* its targets */
	size_t			 n;
	size_t			 nskipped;
};

struct targets {
	const struct target_env	 *env;
	struct target		**buckets;
	size_t			  nbuckets;
	size_t			  n;
	struct targets_group	**groups;	/* hash table by name */
	size_t			  ngroupbuckets;
	size_t			  ngroups;
	size_t			  visited;	/* by group operations */
	bool			  stopped;
	char			**dropped;	/* discovered labels, JSON */
	char			**dropped_group;	/* of each */
	char			**dropped_given;	/* API: entry; NULL */
	char			**dropped_address;	/* and address */
	size_t			  ndropped;
	struct targets_skip	 *skipped;	/* others' targets */
	size_t			  nskipped;
};

static size_t	targets_unskip(struct targets *, const char *, const char *);
static bool	targets_drop(struct targets *, const char *, const char *);

/* Create an empty registry. */
struct targets *
targets_new(const struct target_env *env)
{
	struct targets	*ts;

	ts = xcalloc(1, sizeof *ts);
	ts->env = env;
	ts->nbuckets = TARGETS_MIN_BUCKETS;
	ts->buckets = xcalloc(ts->nbuckets, sizeof *ts->buckets);
	ts->ngroupbuckets = TARGETS_MIN_BUCKETS;
	ts->groups = xcalloc(ts->ngroupbuckets, sizeof *ts->groups);
	return (ts);
}

/* A group's record; NULL if it has neither targets nor skipped ones. */
static struct targets_group *
targets_group_get(const struct targets *ts, const char *name)
{
	struct targets_group	*g;
	uint64_t		 h;

	h = series_hash(name, strlen(name));
	g = ts->groups[h & (ts->ngroupbuckets - 1)];
	for (; g != NULL; g = g->next) {
		if (g->hash == h && strcmp(g->name, name) == 0)
			break;
	}
	return (g);
}

/* A group's record, created if absent (the table doubling if crowded). */
static struct targets_group *
targets_group_add(struct targets *ts, const char *name)
{
	struct targets_group	**old, *g, *next;
	size_t			  nold, i, b;

	if ((g = targets_group_get(ts, name)) != NULL)
		return (g);
	if (ts->ngroups + 1 > ts->ngroupbuckets) {
		old = ts->groups;
		nold = ts->ngroupbuckets;
		ts->ngroupbuckets *= 2;
		ts->groups = xcalloc(ts->ngroupbuckets, sizeof *ts->groups);
		for (i = 0; i < nold; i++) {
			for (g = old[i]; g != NULL; g = next) {
				next = g->next;
				b = g->hash & (ts->ngroupbuckets - 1);
				g->next = ts->groups[b];
				ts->groups[b] = g;
			}
		}
		free(old);
	}
	g = xcalloc(1, sizeof *g);
	g->name = xstrdup(name);
	g->hash = series_hash(name, strlen(name));
	b = g->hash & (ts->ngroupbuckets - 1);
	g->next = ts->groups[b];
	ts->groups[b] = g;
	ts->ngroups++;
	return (g);
}

/* Forget a group's record once it has neither targets nor skipped ones. */
static void
targets_group_release(struct targets *ts, struct targets_group *g)
{
	struct targets_group	**gp;

	if (g == NULL || g->n > 0 || g->nskipped > 0)
		return;
	gp = &ts->groups[g->hash & (ts->ngroupbuckets - 1)];
	while (*gp != g)
		gp = &(*gp)->next;
	*gp = g->next;
	ts->ngroups--;
	free(g->name);
	free(g);
}

/*
 * Take a target out of its bucket and its group's list and free it, with
 * stale markers if stale; its group record stays for the caller to release.
 */
static void
targets_delete(struct targets *ts, struct targets_group *g, struct target *t,
    bool stale)
{
	struct target	**tp;

	tp = &ts->buckets[t->hash & (ts->nbuckets - 1)];
	while (*tp != t)
		tp = &(*tp)->next;
	*tp = t->next;
	if (t->gprev != NULL)
		t->gprev->gnext = t->gnext;
	else
		g->head = t->gnext;
	if (t->gnext != NULL)
		t->gnext->gprev = t->gprev;
	g->n--;
	ts->n--;
	target_free(t, stale);
}

/* Free every target without stale markers and refuse further changes. */
void
targets_stop(struct targets *ts)
{
	struct targets_group	*g, *gnext;
	size_t			 i;

	for (i = 0; i < ts->ngroupbuckets; i++) {
		for (g = ts->groups[i]; g != NULL; g = gnext) {
			gnext = g->next;
			while (g->head != NULL)
				targets_delete(ts, g, g->head, false);
			targets_group_release(ts, g);
		}
	}
	ts->stopped = true;
}

/* Tell whether targets_stop was called. */
bool
targets_stopped(const struct targets *ts)
{
	return (ts->stopped);
}

/* Free every target (no stale markers: rwbridge is stopping). */
void
targets_free(struct targets *ts)
{
	if (ts == NULL)
		return;
	targets_stop(ts);
	targets_set_dropped(ts, NULL, NULL, 0);
	targets_unskip(ts, NULL, NULL);
	free(ts->skipped);
	free(ts->buckets);
	free(ts->groups);
	free(ts);
}

/* Build the lookup key group NUL url into a new string. */
static char *
targets_key(const char *group, const char *url, size_t *len)
{
	size_t	 glen = strlen(group), ulen = strlen(url);
	char	*key;

	key = xmalloc(glen + ulen + 2);
	memcpy(key, group, glen + 1);
	memcpy(key + glen + 1, url, ulen + 1);
	*len = glen + 1 + ulen;
	return (key);
}

/* The bucket a key's hash falls in. */
static size_t
targets_bucket(const struct targets *ts, uint64_t hash)
{
	return (hash & (ts->nbuckets - 1));
}

/* Find a target by group and URL. */
static struct target **
targets_find(struct targets *ts, const char *group, const char *url)
{
	struct target	**tp;
	char		 *key;
	size_t		  len;

	key = targets_key(group, url, &len);
	tp = &ts->buckets[targets_bucket(ts, series_hash(key, len))];
	for (; *tp != NULL; tp = &(*tp)->next) {
		if ((*tp)->keylen == len && memcmp((*tp)->key, key, len) == 0)
			break;
	}
	free(key);
	return (tp);
}

/* Double the table when it gets crowded. */
static void
targets_grow(struct targets *ts)
{
	struct target	**old = ts->buckets, *t, *next;
	size_t		  nold = ts->nbuckets, i, b;

	ts->nbuckets *= 2;
	ts->buckets = xcalloc(ts->nbuckets, sizeof *ts->buckets);
	for (i = 0; i < nold; i++) {
		for (t = old[i]; t != NULL; t = next) {
			next = t->next;
			b = targets_bucket(ts, t->hash);
			t->next = ts->buckets[b];
			ts->buckets[b] = t;
		}
	}
	free(old);
}

/* Add or replace one target; returns it. */
static struct target *
targets_put(struct targets *ts, const char *group,
    const struct target_spec *sp)
{
	struct targets_group	 *g;
	struct target		**tp, *t;
	size_t			  b;

	tp = targets_find(ts, group, sp->url);
	if (*tp != NULL && target_matches(*tp, sp)) {
		/* Same scrape: keep it, but remember the spec given. */
		target_respec(*tp, sp);
		return (*tp);
	}
	g = targets_group_add(ts, group);
	if (*tp != NULL)
		targets_delete(ts, g, *tp, true);
	if ((ts->n + 1) > ts->nbuckets)
		targets_grow(ts);
	t = target_new(ts->env, group, sp);
	b = targets_bucket(ts, t->hash);
	t->next = ts->buckets[b];
	ts->buckets[b] = t;
	t->gprev = NULL;
	t->gnext = g->head;
	if (g->head != NULL)
		g->head->gprev = t;
	g->head = t;
	g->n++;
	ts->n++;
	return (t);
}

/* Remove every target of group for which keep is false. */
static size_t
targets_prune(struct targets *ts, const char *group, bool only_unmarked)
{
	struct targets_group	*g;
	struct target		*t, *next;
	size_t			 removed = 0;

	if ((g = targets_group_get(ts, group)) == NULL)
		return (0);
	for (t = g->head; t != NULL; t = next) {
		next = t->gnext;
		ts->visited++;
		if (only_unmarked && t->mark)
			continue;
		targets_delete(ts, g, t, true);
		removed++;
	}
	targets_group_release(ts, g);
	return (removed);
}

/*
 * Forget the skipped targets of a group (every group's if NULL), only the
 * one with this URL if url is not NULL; return how many.
 */
static size_t
targets_unskip(struct targets *ts, const char *group, const char *url)
{
	struct targets_group	*g;
	struct targets_skip	*k;
	size_t			 i, n = 0, removed = 0;

	/* Outside a cluster nothing is skipped: no list to walk. */
	if (group != NULL && ((g = targets_group_get(ts, group)) == NULL ||
	    g->nskipped == 0))
		return (0);
	for (i = 0; i < ts->nskipped; i++) {
		k = &ts->skipped[i];
		if ((group == NULL || strcmp(k->group, group) == 0) &&
		    (url == NULL || strcmp(k->url, url) == 0)) {
			g = targets_group_get(ts, k->group);
			g->nskipped--;
			targets_group_release(ts, g);
			free(k->group);
			free(k->job);
			free(k->url);
			free(k->reason);
			removed++;
			continue;
		}
		ts->skipped[n++] = *k;
	}
	ts->nskipped = n;
	return (removed);
}

/*
 * Tell whether this member owns a spec (the self-scrape always); if not,
 * list it as skipped with the members that own it.
 */
static bool
targets_owned(struct targets *ts, const char *group,
    const struct target_spec *sp)
{
	const struct shard_config	*sc = &ts->env->cfg->cluster;
	const char			*job;
	struct targets_skip		*k;
	unsigned			 own[SHARD_MAX_MEMBERS];
	size_t				 i, n, len;
	char				 reason[256];

	job = sp->job != NULL ? sp->job : ts->env->cfg->job;
	if (!shard_enabled(sc) || strcmp(group, TSPEC_GROUP_SELF) == 0 ||
	    shard_owns(sc, job, sp->url))
		return (true);
	n = shard_owners(sc, job, sp->url, own, SHARD_MAX_MEMBERS);
	len = (size_t)snprintf(reason, sizeof reason, "owned by member%s",
	    n == 1 ? "" : "s");
	for (i = 0; i < n && len < sizeof reason; i++)
		len += (size_t)snprintf(reason + len, sizeof reason - len,
		    "%s %u", i == 0 ? "" : ",", own[i]);
	if (len < sizeof reason)
		snprintf(reason + len, sizeof reason - len, " (cluster of %u, "
		    "this is member %u)", sc->members_count, sc->member_num);
	targets_unskip(ts, group, sp->url);
	ts->skipped = xreallocarray(ts->skipped, ts->nskipped + 1,
	    sizeof *ts->skipped);
	k = &ts->skipped[ts->nskipped++];
	k->group = xstrdup(group);
	k->job = xstrdup(job);
	k->url = xstrdup(sp->url);
	k->reason = xstrdup(reason);
	targets_group_add(ts, group)->nskipped++;
	return (false);
}

/* Replace a group's targets. */
void
targets_set_group(struct targets *ts, const char *group,
    const struct target_spec *sp, size_t n)
{
	struct targets_group	*g;
	struct target		*t;
	size_t			 i;

	if (ts->stopped)
		return;
	if ((g = targets_group_get(ts, group)) != NULL) {
		for (t = g->head; t != NULL; t = t->gnext) {
			ts->visited++;
			t->mark = false;
		}
	}
	targets_unskip(ts, group, NULL);
	for (i = 0; i < n; i++) {
		if (!targets_owned(ts, group, &sp[i]))
			continue;
		t = targets_put(ts, group, &sp[i]);
		t->mark = true;
	}
	targets_prune(ts, group, true);
}

/* Add targets to a group. */
void
targets_add(struct targets *ts, const char *group,
    const struct target_spec *sp, size_t n)
{
	size_t	i;

	if (ts->stopped)
		return;
	for (i = 0; i < n; i++) {
		if (targets_owned(ts, group, &sp[i])) {
			targets_unskip(ts, group, sp[i].url);
			targets_put(ts, group, &sp[i]);
		} else
			(void)targets_drop(ts, group, sp[i].url);
	}
}

/* Remove a group. */
bool
targets_remove_group(struct targets *ts, const char *group)
{
	size_t	n;

	n = targets_unskip(ts, group, NULL);
	return (targets_prune(ts, group, false) + n > 0);
}

/* Remove one target by URL or host:port, skipped or not. */
bool
targets_remove(struct targets *ts, const char *group, const char *which)
{
	if (targets_unskip(ts, group, which) > 0)
		return (true);
	return (targets_drop(ts, group, which));
}

/* Remove one scraped target by URL or host:port. */
static bool
targets_drop(struct targets *ts, const char *group, const char *which)
{
	struct targets_group	*g;
	struct target		*t;

	if ((g = targets_group_get(ts, group)) == NULL)
		return (false);
	for (t = g->head; t != NULL; t = t->gnext) {
		ts->visited++;
		/* The URL, the instance, or the address as given. */
		if (strcmp(t->url, which) != 0 &&
		    strcmp(t->instance, which) != 0 &&
		    (t->spec.address == NULL ||
		    strcmp(t->spec.address, which) != 0))
			continue;
		targets_delete(ts, g, t, true);
		targets_group_release(ts, g);
		return (true);
	}
	return (false);
}

/* Tell whether a group has targets. */
bool
targets_has_group(const struct targets *ts, const char *group)
{
	return (targets_group_get(ts, group) != NULL);
}

/* Tell whether relabel_configs dropped targets of group. */
bool
targets_has_dropped(const struct targets *ts, const char *group)
{
	size_t	i;

	for (i = 0; i < ts->ndropped; i++) {
		if (strcmp(ts->dropped_group[i], group) == 0)
			return (true);
	}
	return (false);
}

/* Count the targets of a group, from its record. */
size_t
targets_count_group(const struct targets *ts, const char *group)
{
	const struct targets_group	*g;

	g = targets_group_get(ts, group);
	return (g != NULL ? g->n : 0);
}

/* Count the targets group operations have walked. */
size_t
targets_visited(const struct targets *ts)
{
	return (ts->visited);
}

/* Find a target by group and URL; NULL if absent. */
struct target *
targets_get(struct targets *ts, const char *group, const char *url)
{
	return (*targets_find(ts, group, url));
}

/* Count targets. */
size_t
targets_count(const struct targets *ts)
{
	return (ts->n);
}

/* Order targets by group, then URL. */
static int
targets_cmp(const void *a, const void *b)
{
	const struct target	*x = *(struct target *const *)a;
	const struct target	*y = *(struct target *const *)b;
	int			 c;

	c = strcmp(x->group, y->group);
	return (c != 0 ? c : strcmp(x->url, y->url));
}

/* Visit every target in order. */
void
targets_foreach(struct targets *ts, targets_fn fn, void *arg)
{
	struct target	**all, *t;
	size_t		  i, n = 0;

	all = xcalloc(ts->n + 1, sizeof *all);
	for (i = 0; i < ts->nbuckets; i++) {
		for (t = ts->buckets[i]; t != NULL; t = t->next)
			all[n++] = t;
	}
	qsort(all, n, sizeof *all, targets_cmp);
	for (i = 0; i < n; i++)
		fn(arg, all[i]);
	free(all);
}

/*
 * Replace a group's dropped targets (taking the strings and freeing d);
 * a NULL group empties the whole list.
 */
void
targets_set_dropped(struct targets *ts, const char *group, char **d,
    size_t n)
{
	targets_set_dropped_specs(ts, group, d, NULL, n);
}

/* The same, keeping each one's spec as registered (sp may be NULL). */
void
targets_set_dropped_specs(struct targets *ts, const char *group, char **d,
    const struct target_spec *sp, size_t n)
{
	size_t	i, k = 0;

	for (i = 0; i < ts->ndropped; i++) {
		if (group == NULL || strcmp(ts->dropped_group[i], group) == 0) {
			free(ts->dropped[i]);
			free(ts->dropped_group[i]);
			free(ts->dropped_given[i]);
			free(ts->dropped_address[i]);
			continue;
		}
		ts->dropped[k] = ts->dropped[i];
		ts->dropped_given[k] = ts->dropped_given[i];
		ts->dropped_address[k] = ts->dropped_address[i];
		ts->dropped_group[k++] = ts->dropped_group[i];
	}
	ts->ndropped = k;
	ts->dropped = xreallocarray(ts->dropped, k + n + 1,
	    sizeof *ts->dropped);
	ts->dropped_group = xreallocarray(ts->dropped_group, k + n + 1,
	    sizeof *ts->dropped_group);
	ts->dropped_given = xreallocarray(ts->dropped_given, k + n + 1,
	    sizeof *ts->dropped_given);
	ts->dropped_address = xreallocarray(ts->dropped_address, k + n + 1,
	    sizeof *ts->dropped_address);
	for (i = 0; i < n; i++) {
		ts->dropped[ts->ndropped] = d[i];
		ts->dropped_given[ts->ndropped] = sp != NULL &&
		    sp[i].given != NULL && sp[i].address != NULL ?
		    xstrdup(sp[i].given) : NULL;
		ts->dropped_address[ts->ndropped] =
		    ts->dropped_given[ts->ndropped] != NULL ?
		    xstrdup(sp[i].address) : NULL;
		ts->dropped_group[ts->ndropped++] = xstrdup(group);
	}
	free(d);
	if (group == NULL) {
		free(ts->dropped);
		free(ts->dropped_group);
		free(ts->dropped_given);
		free(ts->dropped_address);
		ts->dropped = ts->dropped_group = NULL;
		ts->dropped_given = ts->dropped_address = NULL;
	}
}

/* Visit the dropped targets kept with their spec as registered. */
void
targets_foreach_dropped_spec(const struct targets *ts,
    void (*fn)(void *, const char *, const char *, const char *), void *arg)
{
	size_t	i;

	for (i = 0; i < ts->ndropped; i++) {
		if (ts->dropped_given[i] != NULL)
			fn(arg, ts->dropped_group[i], ts->dropped_given[i],
			    ts->dropped_address[i]);
	}
}

/* Visit every dropped target's discovered labels. */
void
targets_foreach_dropped(const struct targets *ts,
    void (*fn)(void *, const char *), void *arg)
{
	size_t	i;

	for (i = 0; i < ts->ndropped; i++)
		fn(arg, ts->dropped[i]);
}

/* Visit the targets other members own, in a group or every group's. */
void
targets_foreach_skipped(const struct targets *ts, const char *group,
    void (*fn)(void *, const struct targets_skip *), void *arg)
{
	size_t	i;

	for (i = 0; i < ts->nskipped; i++) {
		if (group == NULL || strcmp(ts->skipped[i].group, group) == 0)
			fn(arg, &ts->skipped[i]);
	}
}

/* Count the targets other members own. */
size_t
targets_count_skipped(const struct targets *ts)
{
	return (ts->nskipped);
}
