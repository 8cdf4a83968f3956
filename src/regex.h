/*
 * regex: regular expressions in RE2 syntax, the dialect of Go's regexp and
 * so of Prometheus, run by PCRE2 with its JIT. A pattern is checked and
 * translated to the PCRE2 spelling of the same expression first, so that
 * what Go rejects (backreferences, lookaround, possessive quantifiers,
 * repeats over 1000, unknown escapes) is rejected here too, and the escapes
 * whose meaning differs (\s, \v, octal) mean what they mean in Go. A regex
 * owns its compiled code and match data; one regex is not for two threads.
 */
#ifndef RWBRIDGE_REGEX_H
#define RWBRIDGE_REGEX_H

#include <stdbool.h>
#include <stddef.h>

struct regex;

/*
 * Compile pattern; anchored wraps it as Prometheus does, ^(?:pattern)$.
 * NULL with "reason at offset N" (an offset into pattern) in err.
 */
struct regex	*regex_new(const char *, bool, char *, size_t);
void		 regex_free(struct regex *);
/* The pattern as given. */
const char	*regex_pattern(const struct regex *);
/*
 * Match s (len bytes, UTF-8). 1: a match, its groups in regex_group;
 * 0: none; -1: PCRE2's backtracking limit was hit (counted as none).
 */
int		 regex_match(struct regex *, const char *, size_t);
/* The number of capture groups (group 0, the whole match, not counted). */
size_t		 regex_ngroups(const struct regex *);
/* Group i of the last match: false if it did not take part. */
bool		 regex_group(const struct regex *, size_t, size_t *, size_t *);
/* The number of the group called name, or -1. */
int		 regex_group_number(const struct regex *, const char *, size_t);

#endif
