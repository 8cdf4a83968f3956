/*
 * targets: a hash table of targets keyed by group and URL (chained through
 * target->next, bucketed by the key's hash that each target keeps), so
 * lookups stay O(1) as fleets grow to thousands of servers; group
 * operations scan the table once.
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

struct targets {
	const struct target_env	 *env;
	struct target		**buckets;
	size_t			  nbuckets;
	size_t			  n;
	bool			  stopped;
	char			**dropped;	/* discovered labels, JSON */
	char			**dropped_group;	/* of each */
	size_t			  ndropped;
	struct targets_skip	 *skipped;	/* other members' targets */
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
	return (ts);
}

/* Free every target without stale markers and refuse further changes. */
void
targets_stop(struct targets *ts)
{
	struct target	*t, *next;
	size_t		 i;

	for (i = 0; i < ts->nbuckets; i++) {
		for (t = ts->buckets[i]; t != NULL; t = next) {
			next = t->next;
			target_free(t, false);
		}
		ts->buckets[i] = NULL;
	}
	ts->n = 0;
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
	struct target	**tp, *t;
	size_t		  b;

	tp = targets_find(ts, group, sp->url);
	if (*tp != NULL) {
		if (target_matches(*tp, sp)) {
			/* Same scrape: keep it, but remember the spec given. */
			target_respec(*tp, sp);
			return (*tp);
		}
		t = *tp;
		*tp = t->next;
		ts->n--;
		target_free(t, true);
	}
	if ((ts->n + 1) > ts->nbuckets)
		targets_grow(ts);
	t = target_new(ts->env, group, sp);
	b = targets_bucket(ts, t->hash);
	t->next = ts->buckets[b];
	ts->buckets[b] = t;
	ts->n++;
	return (t);
}

/* Remove every target of group for which keep is false. */
static size_t
targets_prune(struct targets *ts, const char *group, bool only_unmarked)
{
	struct target	**tp, *t;
	size_t		  i, removed = 0;

	for (i = 0; i < ts->nbuckets; i++) {
		tp = &ts->buckets[i];
		while (*tp != NULL) {
			t = *tp;
			if (strcmp(t->group, group) != 0 ||
			    (only_unmarked && t->mark)) {
				tp = &t->next;
				continue;
			}
			*tp = t->next;
			ts->n--;
			target_free(t, true);
			removed++;
		}
	}
	return (removed);
}

/*
 * Forget the skipped targets of a group (every group's if NULL), only the
 * one with this URL if url is not NULL; return how many.
 */
static size_t
targets_unskip(struct targets *ts, const char *group, const char *url)
{
	struct targets_skip	*k;
	size_t			 i, n = 0, removed = 0;

	for (i = 0; i < ts->nskipped; i++) {
		k = &ts->skipped[i];
		if ((group == NULL || strcmp(k->group, group) == 0) &&
		    (url == NULL || strcmp(k->url, url) == 0)) {
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
	return (false);
}

/* Replace a group's targets. */
void
targets_set_group(struct targets *ts, const char *group,
    const struct target_spec *sp, size_t n)
{
	struct target	*t;
	size_t		 i;

	if (ts->stopped)
		return;
	for (i = 0; i < ts->nbuckets; i++) {
		for (t = ts->buckets[i]; t != NULL; t = t->next)
			t->mark = false;
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
	struct target	**tp, *t;
	size_t		  i;

	for (i = 0; i < ts->nbuckets; i++) {
		for (tp = &ts->buckets[i]; *tp != NULL; tp = &(*tp)->next) {
			t = *tp;
			if (strcmp(t->group, group) != 0)
				continue;
			/* The URL, the instance, or the address as given. */
			if (strcmp(t->url, which) != 0 &&
			    strcmp(t->instance, which) != 0 &&
			    (t->spec.address == NULL ||
			    strcmp(t->spec.address, which) != 0))
				continue;
			*tp = t->next;
			ts->n--;
			target_free(t, true);
			return (true);
		}
	}
	return (false);
}

/* Tell whether a group has targets. */
bool
targets_has_group(const struct targets *ts, const char *group)
{
	struct target	*t;
	size_t		 i;

	for (i = 0; i < ts->nbuckets; i++) {
		for (t = ts->buckets[i]; t != NULL; t = t->next) {
			if (strcmp(t->group, group) == 0)
				return (true);
		}
	}
	for (i = 0; i < ts->nskipped; i++) {
		if (strcmp(ts->skipped[i].group, group) == 0)
			return (true);
	}
	return (false);
}

/* Count the targets of a group, in one pass and without sorting. */
size_t
targets_count_group(const struct targets *ts, const char *group)
{
	struct target	*t;
	size_t		 i, n = 0;

	for (i = 0; i < ts->nbuckets; i++) {
		for (t = ts->buckets[i]; t != NULL; t = t->next) {
			if (strcmp(t->group, group) == 0)
				n++;
		}
	}
	return (n);
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
	size_t	i, k = 0;

	for (i = 0; i < ts->ndropped; i++) {
		if (group == NULL || strcmp(ts->dropped_group[i], group) == 0) {
			free(ts->dropped[i]);
			free(ts->dropped_group[i]);
			continue;
		}
		ts->dropped[k] = ts->dropped[i];
		ts->dropped_group[k++] = ts->dropped_group[i];
	}
	ts->ndropped = k;
	ts->dropped = xreallocarray(ts->dropped, k + n + 1,
	    sizeof *ts->dropped);
	ts->dropped_group = xreallocarray(ts->dropped_group, k + n + 1,
	    sizeof *ts->dropped_group);
	for (i = 0; i < n; i++) {
		ts->dropped[ts->ndropped] = d[i];
		ts->dropped_group[ts->ndropped++] = xstrdup(group);
	}
	free(d);
	if (group == NULL) {
		free(ts->dropped);
		free(ts->dropped_group);
		ts->dropped = ts->dropped_group = NULL;
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
