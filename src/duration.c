/*
 * duration: Prometheus durations. The parser and the formatter share one
 * unit table, so whatever one writes the other reads back.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

/* The units, longest first; y and w are written only when exact. */
static const struct {
	const char	*unit;
	int64_t		 ms;
	bool		 exact;
} duration_units[] = {
	{ "y", 365LL * 24 * 3600 * 1000, true },
	{ "w", 7LL * 24 * 3600 * 1000, true },
	{ "d", 24LL * 3600 * 1000, false },
	{ "h", 3600LL * 1000, false },
	{ "m", 60LL * 1000, false },
	{ "s", 1000, false },
	{ "ms", 1, false },
};

#define DURATION_NUNITS	(sizeof duration_units / sizeof duration_units[0])

/* The unit at s ("ms" before "m"); -1 if none. */
static int
duration_unit(const char *s)
{
	size_t	i, len, best = DURATION_NUNITS;

	for (i = 0; i < DURATION_NUNITS; i++) {
		len = strlen(duration_units[i].unit);
		if (strncmp(s, duration_units[i].unit, len) == 0 &&
		    (best == DURATION_NUNITS ||
		    len > strlen(duration_units[best].unit)))
			best = i;
	}
	return (best == DURATION_NUNITS ? -1 : (int)best);
}

/* Parse a Prometheus duration into ms. */
bool
duration_parse(const char *s, int64_t *ms)
{
	int64_t	 total = 0, n;
	int	 last = -1, u;

	if (s == NULL || *s == '\0')
		return (false);
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return (true);
	}
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return (false);
		n = 0;
		while (isdigit((unsigned char)*s)) {
			if (n > INT64_MAX / 10 - 10)
				return (false);
			n = n * 10 + (*s++ - '0');
		}
		u = duration_unit(s);
		if (u < 0)
			return (false);
		/* Units must go from largest to smallest, each once. */
		if (last >= 0 && u <= last)
			return (false);
		if (n > (INT64_MAX - total) / duration_units[u].ms)
			return (false);
		total += n * duration_units[u].ms;
		last = u;
		s += strlen(duration_units[u].unit);
	}
	*ms = total;
	return (true);
}

/* Format ms as Prometheus does. */
char *
duration_format(int64_t ms, char *buf, size_t len)
{
	size_t	i, n = 0;
	int64_t	v;

	if (len == 0)
		return (buf);
	buf[0] = '\0';
	if (ms <= 0) {
		snprintf(buf, len, "0s");
		return (buf);
	}
	for (i = 0; i < DURATION_NUNITS; i++) {
		if (duration_units[i].exact && ms % duration_units[i].ms != 0)
			continue;
		v = ms / duration_units[i].ms;
		if (v <= 0 || n >= len)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%lld%s",
		    (long long)v, duration_units[i].unit);
		ms -= v * duration_units[i].ms;
	}
	return (buf);
}
