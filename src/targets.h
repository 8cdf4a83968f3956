/*
 * targets: the set of targets being scraped, in named groups ("static" for
 * the config file, "file_sd:<path>" for each discovery file, any name for the
 * registration API). Changing a group keeps the targets that did not change,
 * so their scrape caches and schedules survive, and removes the rest with
 * stale markers. The registry owns its targets; they borrow the
 * target_env given to targets_new.
 */
#ifndef RWBRIDGE_TARGETS_H
#define RWBRIDGE_TARGETS_H

#include <stdbool.h>
#include <stddef.h>

#include "target.h"

struct targets;

typedef void (*targets_fn)(void *, struct target *);

/*
 * A target another member of the cluster owns (config global.cluster):
 * given to this member but not scraped here. The self-scrape is never
 * skipped.
 */
struct targets_skip {
	char	*group;
	char	*job;
	char	*url;
	char	*reason;	/* "owned by member 2 (cluster of 3, ...)" */
};

/* An empty registry whose targets borrow env (which must outlive it). */
struct targets	*targets_new(const struct target_env *);
/* Free every target, without stale markers (rwbridge is stopping). */
void		 targets_free(struct targets *);
/*
 * Shutdown: free every target without stale markers and ignore later
 * changes; the registry stays valid for handlers that still hold it.
 */
void		 targets_stop(struct targets *);
bool		 targets_stopped(const struct targets *);
/* Replace a group's targets; an empty list removes the group. */
void		 targets_set_group(struct targets *, const char *,
		     const struct target_spec *, size_t);
/* Add targets to a group, replacing those with the same URL. */
void		 targets_add(struct targets *, const char *,
		     const struct target_spec *, size_t);
/* Remove a group; false if it has no targets. */
bool		 targets_remove_group(struct targets *, const char *);
/* Remove one target of a group by URL or host:port; false if absent. */
bool		 targets_remove(struct targets *, const char *, const char *);
/* Tell whether a group has targets, scraped or skipped. */
bool		 targets_has_group(const struct targets *, const char *);
/* Tell whether relabel_configs dropped targets of a group. */
bool		 targets_has_dropped(const struct targets *, const char *);
/* The number of targets in a group. */
size_t		 targets_count_group(const struct targets *, const char *);
/*
 * The number of targets group operations (set, prune, remove) have walked
 * since targets_new: each walks only its own group's, never the registry.
 * For tests.
 */
size_t		 targets_visited(const struct targets *);
/* A target by group and URL; NULL if absent. */
struct target	*targets_get(struct targets *, const char *, const char *);
size_t		 targets_count(const struct targets *);
/* Visit every target, ordered by group then URL. */
void		 targets_foreach(struct targets *, targets_fn, void *);
/*
 * The targets a group's relabel_configs dropped (their discovered labels
 * as JSON objects): targets_set_dropped replaces the group's list, taking
 * the strings; targets_foreach_dropped visits every group's.
 */
void		 targets_set_dropped(struct targets *, const char *, char **,
		     size_t);
void		 targets_foreach_dropped(const struct targets *,
		     void (*)(void *, const char *), void *);
/*
 * An API group's dropped targets as registered: targets_set_dropped_specs
 * also copies each one's entry as given and address (sp[i].given and
 * .address; sp may be NULL), which targets_foreach_dropped_spec visits
 * (group, given, address), in the order set, for the state file.
 */
void		 targets_set_dropped_specs(struct targets *, const char *,
		     char **, const struct target_spec *, size_t);
void		 targets_foreach_dropped_spec(const struct targets *,
		     void (*)(void *, const char *, const char *, const char *),
		     void *);
/*
 * Every source (config, file_sd, API) goes through targets_set_group and
 * targets_add, which keep only the targets this member owns by
 * rendezvous hashing of (job, URL) and list the others here: one group's
 * (every group's if NULL), in the order they were given.
 */
void		 targets_foreach_skipped(const struct targets *, const char *,
		     void (*)(void *, const struct targets_skip *), void *);
size_t		 targets_count_skipped(const struct targets *);

#endif
