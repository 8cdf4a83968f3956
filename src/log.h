/*
 * Logging in logfmt on stderr, as Prometheus's own tools log:
 *   ts=2026-11-24T18:57:00.123Z level=warn msg="scrape failed" target=...
 * Each call takes a message and an optional key=value format with printf's
 * conversions. The logger quotes: every %s value is quoted (once) and
 * escaped when it needs to be, so callers pass raw strings and write
 * key=%s, never key="%s" (such quotes are dropped, not doubled). Nothing is
 * owned: all arguments are borrowed for the duration of the call.
 */
#ifndef RWBRIDGE_LOG_H
#define RWBRIDGE_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR
};

int	 log_parse_level(const char *, enum log_level *);
void	 log_set_level(enum log_level);
/* Send log lines to a file instead of stderr (NULL: back to stderr). */
void	 log_set_file(FILE *);
int	 log_enabled(enum log_level);
void	 log_msg(enum log_level, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 fatal(const char *, const char *, ...)
	    __attribute__((format(printf, 2, 3), noreturn));

/*
 * A warning that can repeat (a sink or target failing on every retry, a
 * scrape overrunning every interval) goes through a log_limit: a line is
 * written when the state changes (the first failure, another error) and
 * then at most once per LOG_LIMIT_INTERVAL_MS, with repeated=N counting
 * the lines held back since the last one written. Zero it to start.
 */
#define LOG_LIMIT_INTERVAL_MS	60000

struct log_limit {
	uint64_t	state;		/* hash of the state last logged */
	int64_t		last_ms;	/* when a line was last written */
	uint64_t	repeated;	/* lines held back since then */
	bool		active;		/* the condition holds */
};

/*
 * Tell whether a line for this state (any text naming what is wrong) is
 * written at now_ms; if so, *repeated is the number held back before it.
 */
bool	 log_limit_check(struct log_limit *, const char *, int64_t,
	    uint64_t *);
/* The condition ended: return the lines held back, and reset. */
uint64_t log_limit_clear(struct log_limit *);
/*
 * Log through a limit: the line gets repeated=N when lines were held back.
 * state names the condition (e.g. the error); NULL is the message itself.
 */
void	 log_limited(struct log_limit *, enum log_level, const char *,
	    const char *, const char *, ...)
	    __attribute__((format(printf, 5, 6)));

#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
