/*
 * logfmt logging. The key=value format is interpreted here, one conversion at
 * a time, so that string values can be quoted and escaped: a target URL or a
 * receiver's error message never breaks a log line apart. Every conversion
 * printf knows is supported (flags, '*' widths and precisions, the hh to L
 * length modifiers), so the format attribute's checks hold.
 */
#include <sys/types.h>

#include <stdarg.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"

static enum log_level log_level = LOG_LEVEL_INFO;
static FILE *log_file;		/* NULL: stderr */

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

/* Send log lines to f (NULL: stderr, the default). */
void
log_set_file(FILE *f)
{
	log_file = f;
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

/* A conversion of the key=value format, as printf reads it. */
struct log_conv {
	char	spec[40];	/* the conversion, '*' replaced by numbers */
	char	conv;		/* d i o u x X e E f F g G a A c s p */
	char	len[3];		/* "", hh, h, l, ll, j, z, t, L */
	int	prec;		/* -1: none */
};

/*
 * Read the conversion at fmt (just after the '%') into c, taking '*'
 * widths and precisions from ap; return what follows it, or NULL if it is
 * not a conversion this logger supports (the rest of the format is then
 * written as it is).
 */
static const char *
log_conv(const char *fmt, va_list *ap, struct log_conv *c)
{
	const char	*p = fmt;
	size_t		 n = 0, i;
	int		 v;

	memset(c, 0, sizeof *c);
	c->prec = -1;
	c->spec[n++] = '%';
	while (*p != '\0' && strchr("-+ #0", *p) != NULL && n < 8)
		c->spec[n++] = *p++;
	if (*p == '*') {
		v = va_arg(*ap, int);
		n += (size_t)snprintf(c->spec + n, 12, "%d", v);
		p++;
	} else {
		while (*p >= '0' && *p <= '9' && n < 20)
			c->spec[n++] = *p++;
	}
	if (*p == '.') {
		p++;
		if (*p == '*') {
			c->prec = va_arg(*ap, int);
			p++;
		} else {
			for (c->prec = 0; *p >= '0' && *p <= '9'; p++)
				c->prec = c->prec * 10 + (*p - '0');
		}
		if (c->prec >= 0)
			n += (size_t)snprintf(c->spec + n, 13, ".%d",
			    c->prec > 99999 ? 99999 : c->prec);
	}
	for (i = 0; i < 2 && *p != '\0' && strchr("hljztL", *p) != NULL; i++)
		c->len[i] = c->spec[n++] = *p++;
	if (*p == '\0' || strchr("diouxXeEfFgGaAcsp", *p) == NULL)
		return (NULL);
	c->conv = c->spec[n++] = *p++;
	c->spec[n] = '\0';
	return (p);
}

/* Format one numeric or pointer argument of conversion c into buf. */
static void
log_number(char *buf, size_t len, const struct log_conv *c, va_list *ap)
{
	const char	*l = c->len;

	if (strchr("eEfFgGaA", c->conv) != NULL) {
		if (strcmp(l, "L") == 0)
			snprintf(buf, len, c->spec, va_arg(*ap, long double));
		else
			snprintf(buf, len, c->spec, va_arg(*ap, double));
	} else if (c->conv == 'p')
		snprintf(buf, len, c->spec, va_arg(*ap, void *));
	else if (c->conv == 'd' || c->conv == 'i') {
		if (strcmp(l, "ll") == 0)
			snprintf(buf, len, c->spec, va_arg(*ap, long long));
		else if (strcmp(l, "l") == 0)
			snprintf(buf, len, c->spec, va_arg(*ap, long));
		else if (strcmp(l, "j") == 0)
			snprintf(buf, len, c->spec, va_arg(*ap, intmax_t));
		else if (strcmp(l, "z") == 0)
			snprintf(buf, len, c->spec, va_arg(*ap, ssize_t));
		else if (strcmp(l, "t") == 0)
			snprintf(buf, len, c->spec, va_arg(*ap, ptrdiff_t));
		else
			snprintf(buf, len, c->spec, va_arg(*ap, int));
	} else {
		if (strcmp(l, "ll") == 0)
			snprintf(buf, len, c->spec,
			    va_arg(*ap, unsigned long long));
		else if (strcmp(l, "l") == 0)
			snprintf(buf, len, c->spec, va_arg(*ap, unsigned long));
		else if (strcmp(l, "j") == 0)
			snprintf(buf, len, c->spec, va_arg(*ap, uintmax_t));
		else if (strcmp(l, "z") == 0)
			snprintf(buf, len, c->spec, va_arg(*ap, size_t));
		else if (strcmp(l, "t") == 0)
			snprintf(buf, len, c->spec, va_arg(*ap, ptrdiff_t));
		else
			snprintf(buf, len, c->spec, va_arg(*ap, unsigned int));
	}
}

/* Write one string argument as a logfmt value (precision honoured). */
static void
log_string(FILE *f, const struct log_conv *c, const char *s)
{
	char	*cut;
	size_t	 n;

	if (s == NULL)
		s = "(null)";
	if (c->prec < 0) {
		log_value(f, s);
		return;
	}
	n = strnlen(s, (size_t)c->prec);
	cut = malloc(n + 1);
	if (cut == NULL) {
		log_value(f, s);
		return;
	}
	memcpy(cut, s, n);
	cut[n] = '\0';
	log_value(f, cut);
	free(cut);
}

/*
 * Write the key=value format. Every printf conversion is supported; each
 * %s value is written by log_value, quoted once when it needs quotes, so
 * a format that quotes a %s itself ("err=\"%s\"") gets its quotes dropped
 * rather than doubled.
 */
static void
log_kv(FILE *f, const char *fmt, va_list ap0)
{
	struct log_conv	 c;
	va_list		 ap;
	const char	*p, *next;
	char		 buf[128];
	bool		 quoted;

	va_copy(ap, ap0);
	for (p = fmt; *p != '\0'; p++) {
		quoted = false;
		if (*p == '"' && p[1] == '%') {
			/* A quoted %s: the value is quoted by log_value. */
			next = p + 2 + strspn(p + 2, "-+ #0123456789.*hljztL");
			if (next[0] == 's' && next[1] == '"') {
				quoted = true;
				p++;
			}
		}
		if (*p != '%') {
			fputc(*p, f);
			continue;
		}
		if (p[1] == '%') {
			fputc('%', f);
			p++;
			continue;
		}
		next = log_conv(p + 1, &ap, &c);
		if (next == NULL) {
			fputs(p, f);
			break;
		}
		p = next - 1;
		if (c.conv == 's') {
			log_string(f, &c, va_arg(ap, const char *));
			if (quoted && p[1] == '"')
				p++;
			continue;
		}
		if (c.conv == 'c') {
			fputc(va_arg(ap, int), f);
			continue;
		}
		log_number(buf, sizeof buf, &c, &ap);
		fputs(buf, f);
	}
	va_end(ap);
}

/* Write one log line, with repeated=N when n is not 0. */
static void
log_line(enum log_level level, const char *msg, uint64_t n,
    const char *kvfmt, va_list ap)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 ts[32];
	FILE		*f = log_file != NULL ? log_file : stderr;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(f);
	fprintf(f, "ts=%s.%03dZ level=%s msg=", ts,
	    (int)(tv.tv_usec / 1000), log_names[level]);
	log_value(f, msg);
	if (kvfmt != NULL && *kvfmt != '\0') {
		fputc(' ', f);
		log_kv(f, kvfmt, ap);
	}
	if (n > 0)
		fprintf(f, " repeated=%" PRIu64, n);
	fputc('\n', f);
	funlockfile(f);
}

/* Write one log line at the given level. */
void
log_msg(enum log_level level, const char *msg, const char *kvfmt, ...)
{
	va_list	ap;

	if (level < log_level)
		return;
	va_start(ap, kvfmt);
	log_line(level, msg, 0, kvfmt, ap);
	va_end(ap);
}

/* Hash a state name (FNV-1a). */
static uint64_t
log_limit_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ull;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (h);
}

/* Tell whether a line for this state is written at now_ms. */
bool
log_limit_check(struct log_limit *l, const char *state, int64_t now_ms,
    uint64_t *repeated)
{
	uint64_t	h = log_limit_hash(state);

	*repeated = 0;
	if (l->active && l->state == h &&
	    now_ms - l->last_ms < LOG_LIMIT_INTERVAL_MS &&
	    now_ms >= l->last_ms) {
		l->repeated++;
		return (false);
	}
	*repeated = l->repeated;
	l->repeated = 0;
	l->state = h;
	l->last_ms = now_ms;
	l->active = true;
	return (true);
}

/* The condition ended: return the lines held back, and reset. */
uint64_t
log_limit_clear(struct log_limit *l)
{
	uint64_t	n = l->repeated;

	memset(l, 0, sizeof *l);
	return (n);
}

/* Log through a limit, with repeated=N when lines were held back. */
void
log_limited(struct log_limit *l, enum log_level level, const char *state,
    const char *msg, const char *kvfmt, ...)
{
	struct timeval	tv;
	uint64_t	n;
	va_list		ap;

	gettimeofday(&tv, NULL);
	if (!log_limit_check(l, state != NULL ? state : msg,
	    (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, &n))
		return;
	if (level < log_level)
		return;
	va_start(ap, kvfmt);
	log_line(level, msg, n, kvfmt, ap);
	va_end(ap);
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
