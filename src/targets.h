/*
 * targets: the set of targets being scraped, in named groups ("static" for
 * the config file, "file_sd:<path>" for each discovery file, any name for the
 * registration API). Changing a group keeps the targets that did not change,
 * so their scrape caches and schedules survive, and removes the rest with
 * stale markers. The registry owns its targets.
 */
#ifndef RWBRIDGE_TARGETS_H
#define RWBRIDGE_TARGETS_H

#include <stdbool.h>
#include <stddef.h>

#include "target.h"

struct targets;

typedef void (*targets_fn)(void *, struct target *);

struct targets	*targets_new(struct rwbridge *);
/* Free every target (stale-marking its series unless stopping). */
void		 targets_free(struct targets *);
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
bool		 targets_has_group(const struct targets *, const char *);
size_t		 targets_count(const struct targets *);
/* Visit every target, ordered by group then URL. */
void		 targets_foreach(struct targets *, targets_fn, void *);

#endif
