/*
 * logfmt logging. The key=value format is interpreted here, one conversion at
 * a time, so that string values can be quoted and escaped: a target URL or a
 * receiver's error message never breaks a log line apart.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

static enum log_level log_level = LOG_LEVEL_INFO;

static const char *log_names[] = { "debug", "info", "warn", "error" };

/* Parse a level name such as "info"; return 0 or -1. */
int
log_parse_level(const char *s, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return (0);
		}
	}
	return (-1);
}

/* Set the lowest level that is written. */
void
log_set_level(enum log_level level)
{
	log_level = level;
}

/* Tell whether messages of this level are written. */
int
log_enabled(enum log_level level)
{
	return (level >= log_level);
}

/* Write s as a logfmt value, quoting it when it needs quotes. */
static void
log_value(FILE *f, const char *s)
{
	const char	*p;
	int		 quote = (*s == '\0');

	for (p = s; *p != '\0' && !quote; p++) {
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\')
			quote = 1;
	}
	if (!quote) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (p = s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if ((unsigned char)*p < ' ')
				fprintf(f, "\\x%02x", (unsigned char)*p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* Write the key=value format, quoting each %s argument. */
static void
log_kv(FILE *f, const char *fmt, va_list ap)
{
	char		 spec[32], buf[128];
	const char	*p, *start;
	size_t		 n;

	for (p = fmt; *p != '\0'; p++) {
		if (*p != '%') {
			fputc(*p, f);
			continue;
		}
		if (p[1] == '%') {
			fputc('%', f);
			p++;
			continue;
		}
		start = p++;
		while (*p != '\0' && strchr("diouxXeEfgGsczl.-+ 0123456789",
		    *p) != NULL && strchr("diouxXeEfgGsc", *p) == NULL)
			p++;
		if (*p == '\0')
			break;
		n = (size_t)(p - start) + 1;
		if (n >= sizeof spec)
			n = sizeof spec - 1;
		memcpy(spec, start, n);
		spec[n] = '\0';
		switch (*p) {
		case 's':
			log_value(f, va_arg(ap, const char *));
			continue;
		case 'c':
			fputc(va_arg(ap, int), f);
			continue;
		case 'e': case 'E': case 'f': case 'g': case 'G':
			snprintf(buf, sizeof buf, spec, va_arg(ap, double));
			break;
		default:
			if (strstr(spec, "ll") != NULL)
				snprintf(buf, sizeof buf, spec,
				    va_arg(ap, long long));
			else if (strchr(spec, 'l') != NULL ||
			    strchr(spec, 'z') != NULL)
				snprintf(buf, sizeof buf, spec, va_arg(ap, long));
			else
				snprintf(buf, sizeof buf, spec, va_arg(ap, int));
			break;
		}
		fputs(buf, f);
	}
}

/* Write one log line at the given level. */
void
log_msg(enum log_level level, const char *msg, const char *kvfmt, ...)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 ts[32];
	va_list		 ap;

	if (level < log_level)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(stderr);
	fprintf(stderr, "ts=%s.%03dZ level=%s msg=", ts,
	    (int)(tv.tv_usec / 1000), log_names[level]);
	log_value(stderr, msg);
	if (kvfmt != NULL && *kvfmt != '\0') {
		fputc(' ', stderr);
		va_start(ap, kvfmt);
		log_kv(stderr, kvfmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	funlockfile(stderr);
}

/* Log an error and exit. */
void
fatal(const char *msg, const char *kvfmt, ...)
{
	va_list	ap;

	fprintf(stderr, "level=error msg=");
	log_value(stderr, msg);
	if (kvfmt != NULL && *kvfmt != '\0') {
		fputc(' ', stderr);
		va_start(ap, kvfmt);
		log_kv(stderr, kvfmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	exit(1);
}
