/*
 * state: the small state file under --state-dir that keeps target groups
 * registered through the API across restarts. Written atomically (temporary
 * file, fsync, rename, fsync of the directory), batched to one write per
 * STATE_SAVE_MIN_MS. The state handle borrows the registry, the config and
 * the event base.
 */
#ifndef RWBRIDGE_STATE_H
#define RWBRIDGE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "config.h"
#include "targets.h"

/* The least time between two writes of the state file. */
#define STATE_SAVE_MIN_MS	1000

struct state;

struct state	*state_new(struct event_base *, struct targets *,
		     const struct config *);
void		 state_free(struct state *);
/* Re-register the groups saved by a previous run; 0 when none. */
int		 state_load(struct state *, char *, size_t);
/* Save every API-registered group (no-op without a state dir or stopped). */
int		 state_save(struct state *, char *, size_t);
/*
 * Note a change to the registered groups: saved at once if nothing was
 * saved in the last STATE_SAVE_MIN_MS, else with the next batch.
 */
void		 state_changed(struct state *);
/* Save a pending change now (call before the targets stop). */
void		 state_flush(struct state *);
/* Tell whether the last save failed (logged when it did). */
bool		 state_failed(const struct state *);
/* State files written (0 for NULL). */
uint64_t	 state_saves(const struct state *);
/* Render the API-registered groups as the state document (pure). */
char		*state_render(struct targets *, size_t *, size_t *);

#endif
