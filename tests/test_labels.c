/*
 * Unit tests for labels: sorting, Prometheus's exported_ renaming, empty
 * values, duplicates, name validity, and reuse of one labels value across
 * many sets (run under ASan, a stale pointer into scratch would show).
 * Results are rendered as name="value",... so a failure prints both sets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "tap.h"

#define MAXL	12

struct lcase {
	const char	*name;
	/* Name, value, ..., NULL. */
	const char	*scraped[2 * MAXL + 1];
	const char	*target[2 * MAXL + 1];
	const char	*want;	/* the rendered set, or the error */
	bool		 fail;
};

static const struct lcase cases[] = {
	{ "nothing", { NULL }, { NULL }, "", false },
	{ "byte order: upper < _ < lower, prefix first",
	    { "zone", "z", "abc", "3", "__name__", "up", "ab", "2", "_x", "x",
	    "Alpha", "A", "a", "1", NULL }, { NULL },
	    "Alpha=A,__name__=up,_x=x,a=1,ab=2,abc=3,zone=z", false },
	{ "target labels added",
	    { "__name__", "vllm:num_requests_running", "model_name", "m",
	    NULL }, { "job", "vllm", "instance", "h:8000", NULL },
	    "__name__=vllm:num_requests_running,instance=h:8000,job=vllm,"
	    "model_name=m", false },
	{ "clash: scraped job becomes exported_job",
	    { "__name__", "m", "job", "scraped", NULL }, { "job", "t", NULL },
	    "__name__=m,exported_job=scraped,job=t", false },
	{ "double clash: exported_exported_job",
	    { "job", "a", "exported_job", "b", NULL }, { "job", "t", NULL },
	    "exported_exported_job=a,exported_job=b,job=t", false },
	{ "triple clash",
	    { "job", "a", "exported_job", "b", "exported_exported_job", "c",
	    NULL }, { "job", "t", NULL },
	    "exported_exported_exported_job=a,exported_exported_job=c,"
	    "exported_job=b,job=t", false },
	{ "two clashes",
	    { "job", "sj", "instance", "si", "x", "1", NULL },
	    { "job", "tj", "instance", "ti", NULL },
	    "exported_instance=si,exported_job=sj,instance=ti,job=tj,x=1",
	    false },
	{ "clashes renamed shortest name first",
	    { "z", "1", "exported_z", "2", NULL },
	    { "z", "t", "exported_z", "u", NULL },
	    "exported_exported_exported_z=2,exported_exported_z=1,"
	    "exported_z=u,z=t", false },
	{ "empty scraped values dropped",
	    { "__name__", "m", "a", "", "b", "1", "c", "", NULL }, { NULL },
	    "__name__=m,b=1", false },
	{ "empty target value: no label, no rename",
	    { "job", "s", NULL }, { "job", "", "instance", "i", NULL },
	    "instance=i,job=s", false },
	{ "empty scraped value does not clash",
	    { "job", "", NULL }, { "job", "t", NULL }, "job=t", false },
	{ "empty duplicate is dropped before the check",
	    { "a", "", "a", "1", NULL }, { NULL }, "a=1", false },
	{ "unicode and quotes kept",
	    { "model", "Llama \"3\" \xe6\x97\xa5\xe6\x9c\xac", "path",
	    "C:\\x", NULL }, { NULL },
	    "model=Llama \"3\" \xe6\x97\xa5\xe6\x9c\xac,path=C:\\x", false },
	{ "duplicate scraped name",
	    { "__name__", "m", "a", "1", "b", "2", "a", "3", NULL }, { NULL },
	    "duplicate label name \"a\"", true },
	{ "duplicate scraped name that clashes",
	    { "job", "1", "job", "2", NULL }, { "job", "t", NULL },
	    "duplicate label name \"job\"", true },
	{ "duplicate target name",
	    { "__name__", "m", NULL }, { "job", "a", "job", "b", NULL },
	    "duplicate label name \"job\"", true },
};

/* Render a finished set as name=value,... */
static void
render(const struct labels *l, struct buf *b)
{
	size_t	i;

	buf_reset(b);
	for (i = 0; i < l->n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		buf_append(b, l->v[i].name, l->v[i].name_len);
		buf_putc(b, '=');
		buf_append(b, l->v[i].value, l->v[i].value_len);
	}
	buf_putc(b, '\0');
}

/* Turn a NULL-terminated name, value list into struct labels. */
static size_t
to_labels(const char *const *kv, struct label *l)
{
	size_t	n;

	for (n = 0; kv[2 * n] != NULL; n++) {
		l[n].name = kv[2 * n];
		l[n].name_len = strlen(kv[2 * n]);
		l[n].value = kv[2 * n + 1];
		l[n].value_len = strlen(kv[2 * n + 1]);
	}
	return (n);
}

/* Run one case through l, which may be fresh or reused. */
static void
run_case(const struct lcase *c, struct labels *l, const char *how)
{
	struct label	tl[MAXL];
	struct buf	b;
	char		err[128];
	size_t		i, ntl;
	bool		r;

	buf_init(&b);
	labels_reset(l);
	for (i = 0; c->scraped[2 * i] != NULL; i++)
		labels_add(l, c->scraped[2 * i], strlen(c->scraped[2 * i]),
		    c->scraped[2 * i + 1], strlen(c->scraped[2 * i + 1]));
	ntl = to_labels(c->target, tl);
	err[0] = '\0';
	r = labels_finish(l, tl, ntl, err, sizeof err);
	if (c->fail) {
		ok(!r, "%s (%s): fails", c->name, how);
		is_str(err, c->want, "%s (%s): error", c->name, how);
		ok(l->n == 0 && labels_get(l, "a") == NULL,
		    "%s (%s): failed set is empty", c->name, how);
	} else {
		ok(r, "%s (%s): succeeds%s%s", c->name, how, r ? "" : ": ",
		    r ? "" : err);
		render(l, &b);
		is_str((char *)b.data, c->want, "%s (%s): labels", c->name,
		    how);
	}
	buf_free(&b);
}

/* Run the table with a fresh labels each time and with one reused. */
static void
test_cases(void)
{
	struct labels	l, reused;
	size_t		i, pass;

	labels_init(&reused);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			if (pass == 0) {
				labels_init(&l);
				run_case(&cases[i], &l, "fresh");
				labels_free(&l);
			} else
				run_case(&cases[i], &reused, "reused");
		}
	}
	labels_free(&reused);
	labels_free(NULL);
}

/* Check labels_get on a finished set. */
static void
test_get(void)
{
	static const struct label	 tl[] = { { "job", 3, "vllm", 4 } };
	struct labels			 l;
	const struct label		*g;
	char				 err[64];

	labels_init(&l);
	labels_add(&l, "__name__", 8, "up", 2);
	labels_add(&l, "jo", 2, "prefix", 6);
	ok(labels_finish(&l, tl, 1, err, sizeof err), "get: finish");
	g = labels_get(&l, "job");
	ok(g != NULL && g->value_len == 4 && memcmp(g->value, "vllm", 4) == 0,
	    "get: job is vllm");
	g = labels_get(&l, "jo");
	ok(g != NULL && g->value_len == 6 && memcmp(g->value, "prefix",
	    6) == 0, "get: jo is prefix, not job's");
	ok(labels_get(&l, "j") == NULL, "get: j absent");
	ok(labels_get(&l, "jobs") == NULL, "get: jobs absent");
	ok(labels_get(&l, "") == NULL, "get: empty name absent");
	labels_free(&l);
}

/*
 * Grow the scratch buffer from a small set to a large one and back, checking
 * every value each time, then check that steady state does not allocate.
 */
static void
test_reuse(void)
{
	static const struct label	 tl[] = {
		{ "job", 3, "vllm", 4 }, { "instance", 8, "h:8000", 6 },
		{ "model", 5, "llama", 5 },
	};
	struct labels			 l;
	const struct label		*g;
	char				 name[32], value[600], err[64];
	size_t				 round, i, n, bad;
	const void			*v, *off, *data;
	size_t				 cap, scap;

	labels_init(&l);
	bad = 0;
	for (round = 0; round < 6; round++) {
		n = round % 2 == 0 ? 2 : 40;
		labels_reset(&l);
		labels_add(&l, "__name__", 8, "m", 1);
		labels_add(&l, "job", 3, "scraped", 7);
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof name, "l%03zu", i);
			memset(value, 'a' + (int)(i % 26), sizeof value);
			labels_add(&l, name, strlen(name), value, 10 + i * 13);
		}
		if (!labels_finish(&l, tl, 3, err, sizeof err)) {
			bad++;
			continue;
		}
		for (i = 0; i < n; i++) {
			snprintf(name, sizeof name, "l%03zu", i);
			g = labels_get(&l, name);
			if (g == NULL || g->value_len != 10 + i * 13 ||
			    g->value[0] != 'a' + (int)(i % 26) ||
			    g->value[g->value_len - 1] != 'a' + (int)(i % 26))
				bad++;
		}
		g = labels_get(&l, "exported_job");
		if (g == NULL || g->value_len != 7 ||
		    memcmp(g->value, "scraped", 7) != 0)
			bad++;
		if (l.n != n + 5)
			bad++;
	}
	is_int((long long)bad, 0, "reuse: small and large sets alternate");

	/* The largest set has been seen: nothing moves any more. */
	v = l.v;
	off = l.off;
	data = l.scratch.data;
	cap = l.cap;
	scap = l.scratch.cap;
	for (round = 0; round < 100; round++) {
		labels_reset(&l);
		labels_add(&l, "__name__", 8, "m", 1);
		labels_add(&l, "job", 3, "scraped", 7);
		for (i = 0; i < 40; i++) {
			snprintf(name, sizeof name, "l%03zu", i);
			labels_add(&l, name, strlen(name), value, 10 + i * 13);
		}
		if (!labels_finish(&l, tl, 3, err, sizeof err))
			bad++;
	}
	ok(bad == 0 && l.v == v && l.off == off && l.scratch.data == data &&
	    l.cap == cap && l.scratch.cap == scap,
	    "reuse: steady state does not reallocate");
	labels_free(&l);
}

/* Check the name validity rules on a table. */
static void
test_names(void)
{
	static const struct {
		const char	*s;
		size_t		 len;	/* 0: strlen */
		bool		 label;
		bool		 metric;
	} nc[] = {
		{ "", 0, false, false },
		{ "a", 0, true, true },
		{ "_", 0, true, true },
		{ "__name__", 0, true, true },
		{ "A1_b2", 0, true, true },
		{ "Z", 0, true, true },
		{ "1a", 0, false, false },
		{ "9", 0, false, false },
		{ "a-b", 0, false, false },
		{ "a.b", 0, false, false },
		{ "a b", 0, false, false },
		{ ":", 0, false, true },
		{ "a:b", 0, false, true },
		{ "vllm:num_requests_running", 0, false, true },
		{ ":1", 0, false, true },
		{ "\xc3\xa9t\xc3\xa9", 0, false, false },
		{ "a\0b", 3, false, false },
		{ "ab\0", 2, true, true },
	};
	size_t	i, len;

	for (i = 0; i < sizeof nc / sizeof nc[0]; i++) {
		len = nc[i].len != 0 ? nc[i].len : strlen(nc[i].s);
		is_int(label_name_valid(nc[i].s, len), nc[i].label,
		    "label_name_valid(\"%s\", %zu)", nc[i].s, len);
		is_int(metric_name_valid(nc[i].s, len), nc[i].metric,
		    "metric_name_valid(\"%s\", %zu)", nc[i].s, len);
	}
}

int
main(void)
{
	test_cases();
	test_get();
	test_reuse();
	test_names();
	return (tap_done());
}
