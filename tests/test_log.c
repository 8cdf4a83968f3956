/*
 * test_log: the logfmt contract. Each case logs one key=value format with
 * its arguments and compares the line after "msg=m " with what printf would
 * write, string values quoted once by the logger: every conversion the
 * format attribute accepts works (lengths hh to L, '*' width and
 * precision, %p), a format that quotes a %s itself gets single quotes, and
 * awkward values are escaped. A failure shows both lines.
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
	free(mem);
	return (tap_done());
}
