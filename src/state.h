/*
 * state: the small state file under --state-dir that keeps target groups
 * registered through the API across restarts. Written atomically (temporary
 * file, fsync, rename, fsync of the directory). The state handle borrows
 * the registry and the config.
 */
#ifndef RWBRIDGE_STATE_H
#define RWBRIDGE_STATE_H

#include <stddef.h>

#include "config.h"
#include "targets.h"

struct state;

struct state	*state_new(struct targets *, const struct config *);
void		 state_free(struct state *);
/* Re-register the groups saved by a previous run; 0 when none. */
int		 state_load(struct state *, char *, size_t);
/* Save every API-registered group (no-op without a state dir or stopped). */
int		 state_save(struct state *, char *, size_t);
/* Render the API-registered groups as the state document (pure). */
char		*state_render(struct targets *, size_t *, size_t *);

#endif
