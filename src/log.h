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

#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
