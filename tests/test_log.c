/*
 * test_log: the logfmt contract. Each case logs one key=value format with
 * its arguments and compares the line after "msg=m " with what printf would
 * write, string values quoted once by the logger: every conversion the
 * format attribute accepts works (lengths hh to L, '*' width and
 * precision, %p), a format that quotes a %s itself gets single quotes, and
 * awkward values are escaped. A failure shows both lines. Then the
 * log_limit contract: a table of (state, time) events says which ones
 * write a line and with which repeated= count.
 */
#include <sys/types.h>

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#include "tap.h"

static char	*mem;
static size_t	 memlen;
static FILE	*memf;

/* Start capturing the log. */
static void
capture(void)
{
	free(mem);
	mem = NULL;
	memf = open_memstream(&mem, &memlen);
	log_set_file(memf);
}

/* The captured line after "msg=m ", without its newline. */
static const char *
captured(void)
{
	char	*p;

	log_set_file(NULL);
	fclose(memf);
	p = strstr(mem, "msg=m ");
	if (p == NULL)
		return (mem);
	p += strlen("msg=m ");
	p[strcspn(p, "\n")] = '\0';
	return (p);
}

#define CHECK(want, ...) do {						\
	capture();							\
	log_info("m", __VA_ARGS__);					\
	is_str(captured(), want, "%s", #__VA_ARGS__);			\
} while (0)

/* One event through a log_limit and what it must do. */
struct limit_case {
	const char	*state;		/* NULL: the condition clears */
	int64_t		 now_ms;
	bool		 written;	/* for a clear: lines were held back */
	uint64_t	 repeated;
};

/* Run the log_limit table: state changes, minutes, clears. */
static void
test_limit(void)
{
	static const struct limit_case	cases[] = {
		{ "refused", 0, true, 0 },	/* first failure */
		{ "refused", 500, false, 0 },
		{ "refused", 1000, false, 0 },
		{ "refused", 59999, false, 0 },
		{ "refused", 60000, true, 3 },	/* a minute on */
		{ "refused", 60500, false, 0 },
		{ "timeout", 61000, true, 1 },	/* state change */
		{ "timeout", 61001, false, 0 },
		{ "timeout", 1000, true, 1 },	/* clock went back */
		{ "timeout", 1001, false, 0 },
		{ NULL, 2000, true, 1 },	/* recovered */
		{ "timeout", 2001, true, 0 },	/* fails again */
		{ "timeout", 2002, false, 0 },
		{ NULL, 2003, true, 1 },
		{ NULL, 2004, false, 0 },	/* clear twice */
	};
	struct log_limit	l;
	size_t			i;
	uint64_t		n;
	bool			w;
	char			*p;

	memset(&l, 0, sizeof l);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if (cases[i].state == NULL) {
			n = log_limit_clear(&l);
			w = n > 0;
		} else
			w = log_limit_check(&l, cases[i].state,
			    cases[i].now_ms, &n);
		is_int(w, cases[i].written, "limit case %zu (%s at %lld): "
		    "written", i, cases[i].state != NULL ? cases[i].state :
		    "clear", (long long)cases[i].now_ms);
		is_int((long long)n, (long long)cases[i].repeated,
		    "limit case %zu: repeated", i);
	}
	/* log_limited writes repeated=N after the key=values. */
	memset(&l, 0, sizeof l);
	capture();
	for (i = 0; i < 5; i++)
		log_limited(&l, LOG_LEVEL_WARN, "e", "m", "k=%d", 1);
	l.last_ms -= LOG_LIMIT_INTERVAL_MS;
	log_limited(&l, LOG_LEVEL_WARN, "e", "m", "k=%d", 2);
	log_set_file(NULL);
	fclose(memf);
	n = 0;
	for (p = mem; (p = strstr(p, "msg=m ")) != NULL; p++)
		n++;
	is_int((long long)n, 2, "log_limited: lines written for 6 calls");
	ok(strstr(mem, "msg=m k=1\n") != NULL, "log_limited: first line "
	    "has no repeated=: %s", mem);
	ok(strstr(mem, "msg=m k=2 repeated=4\n") != NULL, "log_limited: "
	    "a minute later repeated=4: %s", mem);
}

int
main(void)
{
	char	want[128];
	int	x;

	CHECK("err=\"No such file\"", "err=%s", "No such file");
	CHECK("err=\"No such file or directory\"", "err=\"%s\"",
	    "No such file or directory");
	CHECK("err=plain", "err=\"%s\"", "plain");
	CHECK("a=\"x y\" b=2", "a=\"%s\" b=%d", "x y", 2);
	CHECK("e=\"\"", "e=%s", "");
	CHECK("q=\"a=b\"", "q=%s", "a=b");
	CHECK("q=\"say \\\"hi\\\"\\n\"", "q=%s", "say \"hi\"\n");
	CHECK("q=\"\\x01\"", "q=%s", "\001");
	CHECK("cut=abc", "cut=%.3s", "abcdef");
	CHECK("cut=abc", "cut=%.*s", 3, "abcdef");
	CHECK("z=18446744073709551615", "z=%zu", SIZE_MAX);
	CHECK("z=-1", "z=%zd", (ssize_t)-1);
	CHECK("u=18446744073709551615", "u=%" PRIu64, UINT64_MAX);
	CHECK("i=-9223372036854775808", "i=%" PRId64, INT64_MIN);
	CHECK("j=-1", "j=%jd", (intmax_t)-1);
	CHECK("t=-5", "t=%td", (ptrdiff_t)-5);
	CHECK("ll=-7", "ll=%lld", -7LL);
	CHECK("hh=44", "hh=%hhu", 300);
	CHECK("h=-1", "h=%hd", 65535);
	CHECK("w=   42 l=42   ", "w=%*d l=%-5d", 5, 42, 42);
	CHECK("x=0xff X=FF o=17", "x=%#x X=%X o=%o", 255, 255, 15);
	CHECK("f=1.50 g=1e+06 e=1.000000e+00", "f=%.2f g=%g e=%e", 1.5,
	    1e6, 1.0);
	CHECK("L=1.5", "L=%Lg", 1.5L);
	CHECK("c=x pct=100%", "c=%c pct=100%%", 'x');
	CHECK("m=2 n=3", "m=%d n=%u", 2, 3u);
	snprintf(want, sizeof want, "p=%p", (void *)&x);
	CHECK(want, "p=%p", (void *)&x);
	test_limit();
	free(mem);
	return (tap_done());
}
