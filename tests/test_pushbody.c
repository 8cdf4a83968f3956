/*
 * Unit tests for pushbody: a table of pushed bodies with the status, the
 * rendered families or the error each must give (the findings of issue 19
 * among them: TYPE conflicts across families, a label value too long to
 * encode, values past long long's range, an empty body), the caps and the
 * limit they name, POST and PUT merges, and for every accepted body the
 * rule forwarding relies on: it re-parses to the same text and ingest_page
 * encodes it with 32 grouping labels. 80,000 families are split with the
 * time printed as a diagnostic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "ingest.h"
#include "log.h"
#include "pushbody.h"
#include "tap.h"

/* Tell whether two buffers hold the same bytes (either may be empty). */
static bool
same(const struct buf *a, const struct buf *b)
{
	return (a->len == b->len && (a->len == 0 ||
	    memcmp(a->data, b->data, a->len) == 0));
}

/* A body that is all of one label value of n bytes. */
static char *
long_value(size_t n)
{
	char	*s;

	s = malloc(n + 16);
	memcpy(s, "m{v=\"", 5);
	memset(s + 5, 'x', n);
	memcpy(s + 5 + n, "\"} 1\n", 6);
	return (s);
}

/*
 * The rule forwarding relies on: the rendered text parses again to the
 * same text and ingest_page encodes it (with 32 grouping labels spliced).
 */
static void
check_forwardable(const char *name, struct pushbody *b)
{
	struct label		 tl[32];
	struct ingest		 ig;
	struct ingest_out	 o;
	struct pushbody		*again;
	struct buf		 t1, t2;
	char			 err[512] = "", names[32][8];
	size_t			 i;

	buf_init(&t1);
	buf_init(&t2);
	pushbody_render(b, &t1);
	again = pushbody_new();
	is_int(pushbody_parse(again, (char *)t1.data, t1.len, NULL, err,
	    sizeof err), PUSHBODY_OK, "%s: the accepted push re-parses (%s)",
	    name, err);
	pushbody_render(again, &t2);
	ok(same(&t1, &t2), "%s: and renders the same", name);
	pushbody_free(again);
	for (i = 0; i < 32; i++) {
		snprintf(names[i], sizeof names[i], "g%02zu", i);
		tl[i].name = names[i];
		tl[i].name_len = strlen(names[i]);
		tl[i].value = "v";
		tl[i].value_len = 1;
	}
	ingest_out_init(&o);
	ingest_init(&ig, tl, 32, NULL, NULL);
	ig.override = true;
	ok(ingest_page(&ig, (char *)t1.data, t1.len, PT_FORMAT_TEXT, 1000, &o,
	    err, sizeof err), "%s: ingest encodes it (%s)", name, err);
	ingest_free(&ig, 2000, NULL);
	ingest_out_free(&o);
	buf_free(&t1);
	buf_free(&t2);
}

/* Parse each body of the table; check status, rendering or error. */
static void
test_table(void)
{
	static const struct {
		const char		*name;
		const char		*body;
		enum pushbody_status	 want;
		const char		*out;	/* rendered, or in err */
	} cases[] = {
		{ "empty body", "", PUSHBODY_OK, "" },
		{ "1e19 (past long long)", "m 1e19\n", PUSHBODY_OK,
		    "# TYPE m untyped\nm 1e+19\n" },
		{ "Go's process_virtual_memory_max_bytes",
		    "process_virtual_memory_max_bytes 1.8446744073709552e+19\n",
		    PUSHBODY_OK,
		    "# TYPE process_virtual_memory_max_bytes untyped\n"
		    "process_virtual_memory_max_bytes "
		    "1.8446744073709552e+19\n" },
		{ "NaN and infinities", "a NaN\nb +Inf\nc -Inf\n",
		    PUSHBODY_OK, "# TYPE a untyped\na NaN\n# TYPE b untyped\n"
		    "b +Inf\n# TYPE c untyped\nc -Inf\n" },
		{ "Pushgateway docs example",
		    "# TYPE some_metric counter\n"
		    "some_metric{label=\"val1\"} 42\n"
		    "# TYPE another_metric gauge\n"
		    "# HELP another_metric Just an example.\n"
		    "another_metric 2398.283\n", PUSHBODY_OK,
		    "# TYPE some_metric counter\n"
		    "some_metric{label=\"val1\"} 42\n"
		    "# TYPE another_metric gauge\n"
		    "# HELP another_metric Just an example.\n"
		    "another_metric 2398.2829999999999\n" },
		{ "a family's lines come together",
		    "a 1\nb 1\na{x=\"1\"} 2\n", PUSHBODY_OK,
		    "# TYPE a untyped\na 1\na{x=\"1\"} 2\n# TYPE b untyped\n"
		    "b 1\n" },
		{ "an untyped family keeps its samples",
		    "# TYPE h histogram\n# TYPE g gauge\nh_sum 1\ng 2\n"
		    "h_bucket{le=\"+Inf\"} 3\n", PUSHBODY_OK,
		    "# TYPE h histogram\n# TYPE g gauge\ng 2\n"
		    "# TYPE h_sum untyped\nh_sum 1\n"
		    "# TYPE h_bucket untyped\nh_bucket{le=\"+Inf\"} 3\n" },
		{ "counter family with _total", "# TYPE a counter\n"
		    "a_total{x=\"y\"} 3\n", PUSHBODY_OK,
		    "# TYPE a counter\na_total{x=\"y\"} 3\n" },
		{ "escapes kept",
		    "# HELP h a\\\\b\\nc\nh{x=\"q\\\"\\\\\\n\"} 1\n",
		    PUSHBODY_OK,
		    "# HELP h a\\\\b\\nc\n# TYPE h untyped\n"
		    "h{x=\"q\\\"\\\\\\n\"} 1\n" },
		{ "a HELP text ending in CR", "# HELP a x\r\r\na 1\n",
		    PUSHBODY_OK, "# HELP a x\n# TYPE a untyped\na 1\n" },
		{ "same name, other labels", "a{x=\"1\"} 1\na{x=\"2\"} 2\n",
		    PUSHBODY_OK,
		    "# TYPE a untyped\na{x=\"1\"} 1\na{x=\"2\"} 2\n" },
		{ "summary", "# TYPE s summary\ns{quantile=\"0.5\"} 1\n"
		    "s_sum 2\ns_count 3\n", PUSHBODY_OK,
		    "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\n"
		    "s_count 3\n" },
		{ "issue 19: TYPE conflict across families",
		    "# TYPE a counter\n# TYPE b gauge\nb 1\n# TYPE a gauge\n"
		    "a 1\n", PUSHBODY_INVALID,
		    "line 4: second TYPE line for metric a" },
		{ "TYPE after the samples", "a 1\n# TYPE a gauge\n",
		    PUSHBODY_INVALID,
		    "line 2: TYPE line after the samples of metric a" },
		{ "second HELP", "# HELP a x\nb 1\n# HELP a y\n",
		    PUSHBODY_INVALID, "line 3: second HELP line for metric a" },
		{ "same series twice", "a{x=\"1\",y=\"2\"} 1\n"
		    "a{y=\"2\",x=\"1\"} 2\n", PUSHBODY_INVALID,
		    "line 2: series a{y=\"2\",x=\"1\"} given twice" },
		{ "same series twice, escaped", "a{x=\"\\\\\"} 1\nb 1\n"
		    "a{x=\"\\\\\"} 2\n", PUSHBODY_INVALID, "given twice" },
		{ "same series, no labels", "a 1\na 2\n", PUSHBODY_INVALID,
		    "line 2: series a given twice" },
		{ "an empty value is no label", "a{x=\"\"} 1\na 2\n",
		    PUSHBODY_INVALID, "line 2: series a given twice" },
		{ "an empty value is no label, either way",
		    "a{x=\"1\",y=\"\"} 1\na{z=\"\",x=\"1\"} 2\n",
		    PUSHBODY_INVALID, "given twice" },
		{ "timestamp", "a 1 1000\n", PUSHBODY_INVALID,
		    "line 1: pushed metrics must not have timestamps" },
		{ "bad line", "a{x=1} 1\n", PUSHBODY_INVALID, "line 1" },
		{ "bad value", "a one\n", PUSHBODY_INVALID, "line 1" },
	};
	struct pushbody	*b;
	struct buf	 out;
	char		 err[512];
	size_t		 i;
	int		 st;

	buf_init(&out);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		b = pushbody_new();
		err[0] = '\0';
		st = pushbody_parse(b, cases[i].body, strlen(cases[i].body),
		    NULL, err, sizeof err);
		is_int(st, cases[i].want, "%s: status (%s)", cases[i].name,
		    err);
		if (st == PUSHBODY_OK) {
			buf_reset(&out);
			pushbody_render(b, &out);
			buf_putc(&out, '\0');
			is_str((char *)out.data, cases[i].out, "%s: rendered",
			    cases[i].name);
			check_forwardable(cases[i].name, b);
		} else {
			ok(strstr(err, cases[i].out) != NULL, "%s: error "
			    "\"%s\" says \"%s\"", cases[i].name, err,
			    cases[i].out);
			is_int(pushbody_families(b), 0, "%s: nothing kept",
			    cases[i].name);
		}
		pushbody_free(b);
	}
	buf_free(&out);
	pushbody_free(NULL);
}

/* A HELP text holding a NUL (found by fuzz_push) is kept byte for byte. */
static void
test_nul_help(void)
{
	static const char	 body[] = "# HELP a x\r\0y\na 1\n";
	static const char	 want[] = "# HELP a x\r\0y\n# TYPE a untyped\n"
	    "a 1\n";
	struct pushbody		*b = pushbody_new();
	struct buf		 out;
	char			 err[256] = "";

	buf_init(&out);
	is_int(pushbody_parse(b, body, sizeof body - 1, NULL, err,
	    sizeof err), PUSHBODY_OK, "HELP with a NUL: accepted (%s)", err);
	pushbody_render(b, &out);
	ok(out.len == sizeof want - 1 && memcmp(out.data, want, out.len) == 0,
	    "HELP with a NUL: rendered byte for byte (%zu bytes)", out.len);
	check_forwardable("HELP with a NUL", b);
	pushbody_free(b);
	buf_free(&out);
}

/*
 * An empty push as the listener hands it (no buffer at all): promtext_init
 * once computed NULL + 0, undefined behaviour.
 */
static void
test_null_body(void)
{
	struct pushbody	*b = pushbody_new();
	char		 err[256] = "";

	is_int(pushbody_parse(b, NULL, 0, NULL, err, sizeof err), PUSHBODY_OK,
	    "NULL body of length 0: accepted as empty");
	is_int(pushbody_families(b), 0, "NULL body: no families");
	pushbody_free(b);
}

/*
 * A label value too long to encode (issue 19: 1 MB was accepted and then
 * failed every forward). The longest value that fits is accepted and does
 * encode, with room for grouping labels; one byte more is refused.
 */
static void
test_long_values(void)
{
	/* 15 bytes for __name__="m", 11 + n for v="..." (n >= 16384). */
	size_t		 fit = 65535 - PUSHBODY_SPLICE_RESERVE - 26;
	struct {
		size_t			 n;
		enum pushbody_status	 want;
	} cases[] = {
		{ 1 << 20, PUSHBODY_INVALID },
		{ 70000, PUSHBODY_INVALID },
		{ fit + 1, PUSHBODY_INVALID },
		{ fit, PUSHBODY_OK },
		{ 16384, PUSHBODY_OK },
	};
	struct pushbody	*b;
	char		*body, err[512], name[64];
	size_t		 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		body = long_value(cases[i].n);
		snprintf(name, sizeof name, "label value of %zu bytes",
		    cases[i].n);
		b = pushbody_new();
		err[0] = '\0';
		is_int(pushbody_parse(b, body, strlen(body), NULL, err,
		    sizeof err), cases[i].want, "%s: status (%s)", name, err);
		if (cases[i].want == PUSHBODY_OK)
			check_forwardable(name, b);
		else
			ok(strstr(err, "too long to forward") != NULL,
			    "%s: the error says why: %s", name, err);
		pushbody_free(b);
		free(body);
	}
}

/* Build a body of n families "f<i> <i>" (one sample each), into b. */
static void
families_body(struct buf *out, size_t n, size_t per)
{
	size_t	i, j;

	buf_reset(out);
	for (i = 0; i < n; i++)
		for (j = 0; j < per; j++)
			buf_printf(out, "f%zu{i=\"%zu\"} %zu\n", i, j, i);
}

/* The caps: 413 naming the limit; the defaults; 80,000 families timed. */
static void
test_limits(void)
{
	struct pushbody_limits	 small = { 3, 5 }, big = { 100000, 100000 };
	struct pushbody		*b = pushbody_new();
	struct timespec		 t0, t1;
	struct buf		 body;
	char			 err[512];

	buf_init(&body);
	families_body(&body, 3, 1);
	is_int(pushbody_parse(b, (char *)body.data, body.len, &small, err,
	    sizeof err), PUSHBODY_OK, "3 families within a cap of 3");
	families_body(&body, 4, 1);
	is_int(pushbody_parse(b, (char *)body.data, body.len, &small, err,
	    sizeof err), PUSHBODY_TOO_LARGE, "4 families past a cap of 3");
	ok(strstr(err, "max_families") != NULL && strstr(err, "3") != NULL,
	    "the error names the limit: %s", err);
	families_body(&body, 2, 3);
	is_int(pushbody_parse(b, (char *)body.data, body.len, &small, err,
	    sizeof err), PUSHBODY_TOO_LARGE, "6 samples past a cap of 5");
	ok(strstr(err, "max_samples") != NULL, "the error names the limit: "
	    "%s", err);
	is_int(pushbody_families(b), 0, "nothing kept past a cap");
	families_body(&body, PUSHBODY_MAX_FAMILIES + 1, 1);
	is_int(pushbody_parse(b, (char *)body.data, body.len, NULL, err,
	    sizeof err), PUSHBODY_TOO_LARGE, "the default family cap (%d)",
	    PUSHBODY_MAX_FAMILIES);
	families_body(&body, 80000, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(pushbody_parse(b, (char *)body.data, body.len, &big, err,
	    sizeof err), PUSHBODY_OK, "80,000 families (%s)", err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# 80,000 families split in %.1f ms (the list search took "
	    "14 s)\n", (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	is_int(pushbody_families(b), 80000, "80,000 families kept");
	is_int(pushbody_samples(b), 80000, "80,000 samples kept");
	ok(pushbody_has(b, "f79999", 6) && !pushbody_has(b, "f80000", 6),
	    "families found by name");
	pushbody_free(b);
	buf_free(&body);
}

/* Parse a body that must be accepted. */
static struct pushbody *
parsed(const char *body)
{
	struct pushbody	*b = pushbody_new();
	char		 err[256];

	if (pushbody_parse(b, body, strlen(body), NULL, err, sizeof err) !=
	    PUSHBODY_OK) {
		printf("# %s: %s\n", body, err);
		abort();
	}
	return (b);
}

/* PUT replaces, POST replaces the families it has; clashes are refused. */
static void
test_merge(void)
{
	static const struct {
		const char		*name;
		const char		*group;
		const char		*push;
		bool			 put;
		enum pushbody_status	 want;
		const char		*out;	/* group after, or in err */
	} cases[] = {
		{ "PUT replaces", "a 1\nb 2\n", "c 3\n", true, PUSHBODY_OK,
		    "# TYPE c untyped\nc 3\n" },
		{ "POST replaces its families in place", "a 1\nb 2\nc 3\n",
		    "b{x=\"y\"} 4\nd 5\n", false, PUSHBODY_OK,
		    "# TYPE a untyped\na 1\n# TYPE b untyped\nb{x=\"y\"} 4\n"
		    "# TYPE c untyped\nc 3\n# TYPE d untyped\nd 5\n" },
		{ "POST may change a family's type", "# TYPE a counter\n"
		    "a_total 1\n", "# TYPE a gauge\na 2\n", false, PUSHBODY_OK,
		    "# TYPE a gauge\na 2\n" },
		{ "POST clashing with a summary's _sum",
		    "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\n"
		    "s_count 3\n", "s_sum 5\n", false, PUSHBODY_INVALID,
		    "conflicts with the metrics already in the group: series "
		    "s_sum given twice" },
		{ "PUT of an empty body empties the group", "a 1\n", "", true,
		    PUSHBODY_OK, "" },
	};
	struct pushbody_limits	 cap = { 2, 0 };
	struct pushbody		*g, *p;
	struct buf		 out, before;
	char			 err[512];
	size_t			 i;
	int			 st;

	buf_init(&out);
	buf_init(&before);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		g = parsed(cases[i].group);
		p = parsed(cases[i].push);
		buf_reset(&before);
		pushbody_render(g, &before);
		err[0] = '\0';
		st = pushbody_merge(g, p, cases[i].put, NULL, err, sizeof err);
		is_int(st, cases[i].want, "%s: status (%s)", cases[i].name,
		    err);
		buf_reset(&out);
		pushbody_render(g, &out);
		if (st == PUSHBODY_OK) {
			buf_putc(&out, '\0');
			is_str((char *)out.data, cases[i].out, "%s: group",
			    cases[i].name);
			check_forwardable(cases[i].name, g);
		} else {
			ok(strstr(err, cases[i].out) != NULL, "%s: error "
			    "\"%s\" says \"%s\"", cases[i].name, err,
			    cases[i].out);
			ok(same(&out, &before), "%s: group unchanged",
			    cases[i].name);
		}
		pushbody_free(g);
	}
	g = parsed("a 1\nb 2\n");
	st = pushbody_merge(g, parsed("c 3\n"), false, &cap, err, sizeof err);
	is_int(st, PUSHBODY_TOO_LARGE, "a group cap on a merge (%s)", err);
	ok(strstr(err, "max_families") != NULL, "the group cap is named: %s",
	    err);
	is_int(pushbody_families(g), 2, "the group is unchanged");
	pushbody_free(g);
	buf_free(&out);
	buf_free(&before);
}

int
main(void)
{
	log_set_level(LOG_LEVEL_ERROR);
	test_table();
	test_null_body();
	test_nul_help();
	test_long_values();
	test_limits();
	test_merge();
	return (tap_done());
}
