/*
 * state: the small state file under --state-dir that keeps target groups
 * registered through the API across restarts. Written atomically (temporary
 * file, fsync, rename, fsync of the directory).
 */
#ifndef RWBRIDGE_STATE_H
#define RWBRIDGE_STATE_H

#include <stddef.h>

struct rwbridge;

/* Re-register the groups saved by a previous run; 0 when none. */
int		 state_load(struct rwbridge *, char *, size_t);
/* Save every API-registered group. */
int		 state_save(struct rwbridge *, char *, size_t);
/* A name made safe for a file name (static storage, next call reuses). */
const char	*state_safe_name(const char *);

#endif
