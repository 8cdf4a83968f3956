/*
 * test_duration: the one duration parser and formatter. Each case is a
 * string, whether it parses, its milliseconds and how the formatter writes
 * them back (Prometheus's notation: 24h is "1d"); a failure names the case
 * and the differing value.
 */
#include <stdint.h>
#include <stdio.h>

#include "duration.h"

#include "tap.h"

struct dcase {
	const char	*in;
	bool		 ok;
	int64_t		 ms;
	const char	*out;		/* duration_format(ms) */
};

static const struct dcase cases[] = {
	{ "0", true, 0, "0s" },
	{ "500ms", true, 500, "500ms" },
	{ "15s", true, 15000, "15s" },
	{ "1m30s", true, 90000, "1m30s" },
	{ "90s", true, 90000, "1m30s" },
	{ "1h30m", true, 5400000, "1h30m" },
	{ "24h", true, 86400000, "1d" },
	{ "1d", true, 86400000, "1d" },
	{ "1d2h", true, 93600000, "1d2h" },
	{ "2w", true, 1209600000, "2w" },
	{ "8d", true, 691200000, "8d" },
	{ "1y", true, 31536000000LL, "1y" },
	{ "1s500ms", true, 1500, "1s500ms" },
	{ "1m1ms", true, 60001, "1m1ms" },
	{ "", false, 0, NULL },
	{ "5", false, 0, NULL },
	{ "5x", false, 0, NULL },
	{ "-5s", false, 0, NULL },
	{ "1.5s", false, 0, NULL },
	{ "1s1m", false, 0, NULL },
	{ "1s1s", false, 0, NULL },
	{ "ms", false, 0, NULL },
	{ "99999999999999999999s", false, 0, NULL },
	{ "9223372036854775807y", false, 0, NULL },
};

int
main(void)
{
	char	buf[64];
	int64_t	ms;
	size_t	i;
	bool	ok_;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ms = -1;
		ok_ = duration_parse(cases[i].in, &ms);
		is_int(ok_, cases[i].ok, "\"%s\": parses", cases[i].in);
		if (!cases[i].ok || !ok_)
			continue;
		is_int(ms, cases[i].ms, "\"%s\": ms", cases[i].in);
		is_str(duration_format(ms, buf, sizeof buf), cases[i].out,
		    "\"%s\": formatted", cases[i].in);
		ok(duration_parse(buf, &ms) && ms == cases[i].ms,
		    "\"%s\": the formatted form parses back", cases[i].in);
	}
	is_str(duration_format(-5, buf, sizeof buf), "0s", "negative: 0s");
	is_str(duration_format(90000, buf, 4), "1m3", "short buffer: cut");
	return (tap_done());
}
