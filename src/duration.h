/*
 * duration: the one parser and formatter of durations for the whole
 * program, in Prometheus's notation ("500ms", "15s", "1m30s", "1d", "2w").
 * Pure; nothing is owned.
 */
#ifndef RWBRIDGE_DURATION_H
#define RWBRIDGE_DURATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parse a duration into milliseconds: units y w d h m s ms, largest first,
 * each at most once, or "0". False when s is not one.
 */
bool	 duration_parse(const char *, int64_t *);
/*
 * Format ms as Prometheus's model.Duration prints it ("1d", "1h30m",
 * "500ms"; y and w only when exact; "0s" for 0 or less); returns buf.
 */
char	*duration_format(int64_t, char *, size_t);

#endif
