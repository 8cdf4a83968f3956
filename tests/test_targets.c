/*
 * test_targets: the target registry. Each case is a script of group
 * operations (replace, add, remove a group, remove one target) and the
 * registry listed after every step as "group url" lines in order; a
 * failure names the case, the step and the first differing listing. The
 * hash table is checked past several doublings, a re-registration with the
 * same scrape keeps the running target but remembers the spec as given
 * (metric_relabel_configs and TLS and auth parsed anew but alike too),
 * and a stopped registry ignores changes. In a cluster (global.cluster)
 * the members of one registry's set and add keep disjoint targets that
 * cover the fleet, list the rest as skipped naming the owner, never skip
 * the self-scrape, and remove skipped targets like scraped ones. The
 * group index stays consistent with the listing after every step (each
 * group's count, whether it exists), across 10,000 groups too, and a
 * group operation walks the same number of targets (its group's) whether
 * the registry holds 1 group or 10,000.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "glue.h"
#include "relabel.h"
#include "shard.h"
#include "tspec.h"
#include "xmalloc.h"

#include "tap.h"

#define MAXSTEPS	6

enum op { OP_END, OP_SET, OP_ADD, OP_RMGROUP, OP_RM };

struct step {
	enum op		 op;
	const char	*group;
	const char	*arg;		/* URLs space-separated, or the one */
	const char	*want;		/* "group url;..." after the step */
	int		 ret;		/* for OP_RMGROUP and OP_RM */
};

struct tcase {
	const char	*name;
	struct step	 steps[MAXSTEPS];
};

#define U(p)	"http://127.0.0.1:" p "/metrics"

static const struct tcase cases[] = {
	{ "replace a group, keep the others", {
	    { OP_SET, "a", U("1") " " U("2"), "a " U("1") ";a " U("2"), 0 },
	    { OP_SET, "b", U("1"), "a " U("1") ";a " U("2") ";b " U("1"), 0 },
	    { OP_SET, "a", U("3"), "a " U("3") ";b " U("1"), 0 },
	    { OP_END } } },
	{ "an empty list removes the group", {
	    { OP_SET, "a", U("1"), "a " U("1"), 0 },
	    { OP_SET, "a", "", "", 0 },
	    { OP_END } } },
	{ "add keeps what is there, replaces the same URL", {
	    { OP_ADD, "a", U("1"), "a " U("1"), 0 },
	    { OP_ADD, "a", U("2") " " U("1"), "a " U("1") ";a " U("2"), 0 },
	    { OP_END } } },
	{ "remove a group", {
	    { OP_SET, "a", U("1"), "a " U("1"), 0 },
	    { OP_SET, "b", U("2"), "a " U("1") ";b " U("2"), 0 },
	    { OP_RMGROUP, "a", NULL, "b " U("2"), 1 },
	    { OP_RMGROUP, "a", NULL, "b " U("2"), 0 },
	    { OP_END } } },
	{ "remove one target by URL or by host:port", {
	    { OP_SET, "a", U("1") " " U("2") " " U("3"),
	      "a " U("1") ";a " U("2") ";a " U("3"), 0 },
	    { OP_RM, "a", U("2"), "a " U("1") ";a " U("3"), 1 },
	    { OP_RM, "a", "127.0.0.1:3", "a " U("1"), 1 },
	    { OP_RM, "a", "127.0.0.1:9", "a " U("1"), 0 },
	    { OP_RM, "b", U("1"), "a " U("1"), 0 },
	    { OP_END } } },
	{ "the same URL in two groups is two targets", {
	    { OP_SET, "a", U("1"), "a " U("1"), 0 },
	    { OP_SET, "b", U("1"), "a " U("1") ";b " U("1"), 0 },
	    { OP_RM, "a", U("1"), "b " U("1"), 1 },
	    { OP_END } } },
};

/* Append "group url;" for one target (a targets_fn). */
static void
list_cb(void *arg, struct target *t)
{
	struct buf	*b = arg;

	if (b->len > 0)
		buf_putc(b, ';');
	buf_printf(b, "%s %s", t->group, t->url);
}

/* The registry as "group url;...". */
static char *
listing(struct targets *ts)
{
	struct buf	 b;
	char		*s;

	buf_init(&b);
	targets_foreach(ts, list_cb, &b);
	buf_putc(&b, '\0');
	s = xstrdup((char *)b.data);
	buf_free(&b);
	return (s);
}

/* Turn space-separated URLs into specs (strings owned by *dup). */
static size_t
specs_of(const char *arg, struct target_spec *sp, size_t max, char **dup)
{
	char	*p, *save = NULL;
	size_t	 n = 0;

	*dup = xstrdup(arg);
	for (p = strtok_r(*dup, " ", &save); p != NULL && n < max;
	    p = strtok_r(NULL, " ", &save)) {
		memset(&sp[n], 0, sizeof sp[n]);
		sp[n++].url = p;
	}
	return (n);
}

/* Count the items of a listing that belong to group. */
static size_t
listed_in(const char *list, const char *group)
{
	size_t		 n = 0, len = strlen(group);
	const char	*p;

	for (p = list; *p != '\0'; p = strchr(p, ';') + 1) {
		if (strncmp(p, group, len) == 0 && p[len] == ' ')
			n++;
		if (strchr(p, ';') == NULL)
			break;
	}
	return (n);
}

/* The group index agrees with the listing for groups "a" and "b". */
static void
check_index(struct targets *ts, const char *list, const char *name,
    size_t step)
{
	static const char	*groups[] = { "a", "b" };
	size_t			 i, want;

	for (i = 0; i < 2; i++) {
		want = listed_in(list, groups[i]);
		is_int((long long)targets_count_group(ts, groups[i]),
		    (long long)want, "%s: step %zu: count of group %s", name,
		    step, groups[i]);
		is_int(targets_has_group(ts, groups[i]), want > 0,
		    "%s: step %zu: group %s exists", name, step, groups[i]);
	}
}

/* Run one case's steps against a fresh registry. */
static void
run_case(const struct tcase *c)
{
	struct glue		 g;
	struct target_spec	 sp[8];
	const struct step	*st;
	char			*dup, *got;
	size_t			 i, n;
	int			 ret;

	glue_init(&g, 1000);
	for (i = 0; i < MAXSTEPS && c->steps[i].op != OP_END; i++) {
		st = &c->steps[i];
		ret = 0;
		switch (st->op) {
		case OP_SET:
		case OP_ADD:
			n = specs_of(st->arg, sp, 8, &dup);
			if (st->op == OP_SET)
				targets_set_group(g.targets, st->group, sp, n);
			else
				targets_add(g.targets, st->group, sp, n);
			free(dup);
			break;
		case OP_RMGROUP:
			ret = targets_remove_group(g.targets, st->group);
			is_int(ret, st->ret, "%s: step %zu returns", c->name,
			    i + 1);
			break;
		case OP_RM:
			ret = targets_remove(g.targets, st->group, st->arg);
			is_int(ret, st->ret, "%s: step %zu returns", c->name,
			    i + 1);
			break;
		default:
			break;
		}
		got = listing(g.targets);
		is_str(got, st->want, "%s: step %zu listing", c->name, i + 1);
		check_index(g.targets, got, c->name, i + 1);
		free(got);
	}
	glue_free(&g);
}

/* Many targets: the table grows and every one is still found. */
static void
test_grow(void)
{
	struct glue		 g;
	struct target_spec	 sp;
	char			 url[64];
	size_t			 i, missing = 0, n = 1000;

	glue_init(&g, 1000);
	memset(&sp, 0, sizeof sp);
	for (i = 0; i < n; i++) {
		snprintf(url, sizeof url, "http://10.0.%zu.%zu:8000/metrics",
		    i / 200, i % 200);
		sp.url = url;
		targets_add(g.targets, i % 2 ? "odd" : "even", &sp, 1);
	}
	is_int((long long)targets_count(g.targets), (long long)n,
	    "grow: count after %zu adds", n);
	is_int((long long)targets_count_group(g.targets, "odd"),
	    (long long)n / 2, "grow: count of one group");
	for (i = 0; i < n; i++) {
		snprintf(url, sizeof url, "http://10.0.%zu.%zu:8000/metrics",
		    i / 200, i % 200);
		if (targets_get(g.targets, i % 2 ? "odd" : "even", url) ==
		    NULL && missing++ == 0)
			printf("# grow: first missing: %s\n", url);
	}
	is_int((long long)missing, 0, "grow: every target found");
	ok(targets_get(g.targets, "odd", "http://10.0.0.0:8000/metrics") ==
	    NULL, "grow: a target is found only in its own group");
	glue_free(&g);
}

#define NGROUPS	10000

/* Replace a group's targets with one per URL in urls. */
static void
set_n(struct targets *ts, const char *group, const char *urls)
{
	struct target_spec	 sp[8];
	char			*dup;
	size_t			 n;

	n = specs_of(urls, sp, 8, &dup);
	targets_set_group(ts, group, sp, n);
	free(dup);
}

struct order {
	const struct target	*prev;
	size_t			 n;
	size_t			 bad;		/* out of order */
};

/* Check order (group, then URL) and count every target (a targets_fn). */
static void
order_cb(void *arg, struct target *t)
{
	struct order	*o = arg;
	int		 c;

	if (o->prev != NULL) {
		c = strcmp(o->prev->group, t->group);
		if ((c > 0 || (c == 0 && strcmp(o->prev->url, t->url) >= 0)) &&
		    o->bad++ == 0)
			printf("# many: out of order: %s %s after %s %s\n",
			    t->group, t->url, o->prev->group, o->prev->url);
	}
	o->prev = t;
	o->n++;
}

/* The targets walked by each operation on group "probe". */
static void
probe_walks(struct targets *ts, size_t *w)
{
	struct target_spec	 sp;
	size_t			 v = targets_visited(ts), k = 0;

	set_n(ts, "probe", U("1") " " U("2") " " U("3"));
	w[k++] = targets_visited(ts) - v;
	v = targets_visited(ts);
	memset(&sp, 0, sizeof sp);
	sp.url = U("4");
	targets_add(ts, "probe", &sp, 1);
	(void)targets_has_group(ts, "probe");
	(void)targets_count_group(ts, "probe");
	w[k++] = targets_visited(ts) - v;
	v = targets_visited(ts);
	set_n(ts, "probe", U("2") " " U("5"));
	w[k++] = targets_visited(ts) - v;
	v = targets_visited(ts);
	(void)targets_remove(ts, "probe", "127.0.0.1:5");
	w[k++] = targets_visited(ts) - v;
	v = targets_visited(ts);
	(void)targets_remove_group(ts, "probe");
	w[k++] = targets_visited(ts) - v;
}

/*
 * 10,000 groups: the index agrees with the registry through replace and
 * remove, the listing stays ordered, and an operation on one group walks
 * the same targets as in a registry of 1 group.
 */
static void
test_many_groups(void)
{
	static const char	*ops[] = { "set 3", "add 1, has, count",
				    "replace with 2", "remove 1",
				    "remove group" };
	/* Twice the group's targets: marked, then pruned. */
	static const size_t	 bound[] = { 6, 0, 12, 2, 2 };
	struct glue		 g;
	struct order		 o;
	char			 name[32], url[64];
	size_t			 w1[5], wn[5], i, bad = 0;

	glue_init(&g, 1000);
	probe_walks(g.targets, w1);
	for (i = 0; i < NGROUPS; i++) {
		snprintf(name, sizeof name, "g%05zu", i);
		snprintf(url, sizeof url, "http://10.%zu.%zu.1:8000/metrics",
		    i / 250, i % 250);
		set_n(g.targets, name, url);
	}
	/* Replace every third group's target with two; remove every fifth. */
	for (i = 0; i < NGROUPS; i += 3) {
		snprintf(name, sizeof name, "g%05zu", i);
		set_n(g.targets, name, U("1") " " U("2"));
	}
	for (i = 0; i < NGROUPS; i += 5) {
		snprintf(name, sizeof name, "g%05zu", i);
		(void)targets_remove_group(g.targets, name);
	}
	probe_walks(g.targets, wn);
	for (i = 0; i < 5; i++) {
		is_int((long long)wn[i], (long long)w1[i], "many: %s walks "
		    "as many targets among %d groups as alone", ops[i],
		    NGROUPS);
		ok(wn[i] <= bound[i], "many: %s walks at most %zu "
		    "targets (got %zu)", ops[i], bound[i], wn[i]);
	}
	for (i = 0; i < NGROUPS; i++) {
		snprintf(name, sizeof name, "g%05zu", i);
		if (targets_count_group(g.targets, name) !=
		    (i % 5 == 0 ? 0 : i % 3 == 0 ? 2 : 1) ||
		    targets_has_group(g.targets, name) != (i % 5 != 0)) {
			if (bad++ == 0)
				printf("# many: first wrong group: %s\n", name);
		}
	}
	is_int((long long)bad, 0, "many: every group's count and existence");
	memset(&o, 0, sizeof o);
	targets_foreach(g.targets, order_cb, &o);
	is_int((long long)o.bad, 0, "many: listed by group, then URL");
	is_int((long long)o.n, (long long)targets_count(g.targets),
	    "many: every target listed once");
	is_int((long long)targets_count(g.targets), 8000 + 2667,
	    "many: 8000 groups, 2667 of them with 2 targets");
	glue_free(&g);
}

/* Same scrape again: the target stays, the spec given is kept. */
static void
test_respec(void)
{
	struct glue		 g;
	struct target_spec	 sp;
	struct config_kv	 kv[2] = { { "b", "2" }, { "a", "1" } };
	struct config_kv	 kv2[2] = { { "a", "1" }, { "b", "2" } };
	struct target		*t0, *t1;

	glue_init(&g, 15000);
	memset(&sp, 0, sizeof sp);
	sp.url = U("1");
	sp.labels = kv;
	sp.nlabels = 2;
	targets_set_group(g.targets, "a", &sp, 1);
	t0 = targets_get(g.targets, "a", U("1"));
	is_int(t0->spec.interval_ms, 0, "respec: default interval as given");
	sp.interval_ms = 15000;
	sp.labels = kv2;
	targets_set_group(g.targets, "a", &sp, 1);
	t1 = targets_get(g.targets, "a", U("1"));
	ok(t0 == t1, "respec: the same scrape keeps the running target");
	is_int(t1->spec.interval_ms, 15000,
	    "respec: the explicit interval is remembered");
	is_str(t1->spec.labels[0].name, "a",
	    "respec: labels as given, in the order given");
	sp.interval_ms = 5000;
	targets_set_group(g.targets, "a", &sp, 1);
	t1 = targets_get(g.targets, "a", U("1"));
	is_int(t1->interval_ms, 5000, "respec: another interval restarts it");
	kv2[1].value = (char *)"3";
	targets_set_group(g.targets, "a", &sp, 1);
	t1 = targets_get(g.targets, "a", U("1"));
	is_str(t1->labels[1].value, "3",
	    "respec: another label value restarts it");
	glue_free(&g);
}

/* TLS and auth settings as a request's parse makes them (refs 1). */
static struct config_http *
http_new(const char *user, const char *password, const char *ca)
{
	struct config_http	*h;

	h = xcalloc(1, sizeof *h);
	h->basic_user = xstrdup(user);
	h->basic_password = xstrdup(password);
	h->tls_ca_file = xstrdup(ca);
	h->refs = 1;
	return (h);
}

/* A last scrape time no target of these tests has: a kept target's mark. */
#define RESPEC_MARK	4242000000000LL

/*
 * The same contract parsed again (new rule and TLS objects, the same
 * content) keeps the running target; other rules or other auth restart it.
 */
static void
test_respec_contract(void)
{
	static const char	*rules = "[{\"regex\":\"go_.*\","
	    "\"action\":\"drop\"}]";
	static const struct {
		const char	*name;
		const char	*rules;
		const char	*password;
		bool		 kept;
	} steps[] = {
		{ "the same JSON again", NULL, "pw", true },
		{ "other rules", "[{\"regex\":\"go_.+\",\"action\":"
		    "\"drop\"}]", "pw", false },
		{ "those rules again", "[{\"regex\":\"go_.+\",\"action\":"
		    "\"drop\"}]", "pw", true },
		{ "another password", "[{\"regex\":\"go_.+\",\"action\":"
		    "\"drop\"}]", "pw2", false },
		{ "no rules", "[]", "pw2", false },
		{ "no rules again", "[]", "pw2", true },
	};
	struct glue		 g;
	struct target_spec	 sp;
	struct config_http	*h;
	struct relabel		*rl;
	struct target		*t0, *t1;
	size_t			 i;
	char			 err[256];

	glue_init(&g, 15000);
	memset(&sp, 0, sizeof sp);
	sp.url = U("1");
	sp.metric_relabel = relabel_parse_text(rules, "$", err, sizeof err);
	h = http_new("u", "pw", "/ca.pem");
	sp.http = h;
	targets_set_group(g.targets, "a", &sp, 1);
	relabel_free(sp.metric_relabel);
	config_http_unref(h);
	t0 = targets_get(g.targets, "a", U("1"));
	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		rl = relabel_parse_text(steps[i].rules != NULL ?
		    steps[i].rules : rules, "$", err, sizeof err);
		h = http_new("u", steps[i].password, "/ca.pem");
		sp.metric_relabel = rl;
		sp.http = h;
		/*
		 * A mark the running target carries: a kept target keeps it,
		 * a new one (perhaps at the same address) starts without.
		 */
		t0->last_scrape_ms = RESPEC_MARK + (int64_t)i;
		targets_set_group(g.targets, "a", &sp, 1);
		t1 = targets_get(g.targets, "a", U("1"));
		is_int(t1->last_scrape_ms == RESPEC_MARK + (int64_t)i,
		    steps[i].kept, "respec contract: %s: %s",
		    steps[i].name, steps[i].kept ? "kept" : "restarted");
		ok(t1->spec.metric_relabel == rl && t1->spec.http == h,
		    "respec contract: %s: the spec as given", steps[i].name);
		relabel_free(rl);
		config_http_unref(h);
		t0 = t1;
	}
	glue_free(&g);
}

/* A stopped registry is empty and ignores changes. */
static void
test_stop(void)
{
	struct glue		 g;
	struct target_spec	 sp;

	glue_init(&g, 1000);
	memset(&sp, 0, sizeof sp);
	sp.url = U("1");
	targets_set_group(g.targets, "a", &sp, 1);
	targets_stop(g.targets);
	ok(targets_stopped(g.targets), "stop: stopped");
	is_int((long long)targets_count(g.targets), 0, "stop: no targets");
	targets_set_group(g.targets, "a", &sp, 1);
	targets_add(g.targets, "b", &sp, 1);
	is_int((long long)targets_count(g.targets), 0,
	    "stop: later changes are ignored");
	glue_free(&g);
}

/* Count skipped targets, and those whose reason names an owner. */
static void
count_skip(void *arg, const struct targets_skip *k)
{
	size_t	*n = arg;

	n[0]++;
	if (strncmp(k->reason, "owned by member ", 16) == 0)
		n[1]++;
}

/* Tell which of 3 members scrape each of 30 targets, by set and by add. */
static void
test_cluster(void)
{
	static const char	*how[2] = { "set", "add" };
	struct glue		 g;
	struct target_spec	 sp[30], self;
	char			 urls[30][64];
	unsigned		 owners[30], own[2];
	size_t			 i, m, k, nsk, sk[2], bad;

	memset(sp, 0, sizeof sp);
	for (i = 0; i < 30; i++) {
		snprintf(urls[i], sizeof urls[i], "http://10.0.0.%zu:8000/metrics",
		    i + 1);
		sp[i].url = urls[i];
	}
	for (k = 0; k < 2; k++) {
		memset(owners, 0, sizeof owners);
		for (m = 0; m < 3; m++) {
			glue_init(&g, 1000);
			g.cfg.cluster.members_count = 3;
			g.cfg.cluster.member_num = (unsigned)m;
			if (k == 0)
				targets_set_group(g.targets, "a", sp, 30);
			else
				targets_add(g.targets, "a", sp, 30);
			bad = 0;
			for (i = 0; i < 30; i++) {
				if (targets_get(g.targets, "a", urls[i]) ==
				    NULL)
					continue;
				owners[i]++;
				shard_owners(&g.cfg.cluster, g.cfg.job,
				    urls[i], own, 1);
				if (own[0] != m)
					bad++;
			}
			is_int((long long)bad, 0, "cluster %s: member %zu "
			    "scrapes only what rendezvous hashing gives it",
			    how[k], m);
			sk[0] = sk[1] = 0;
			targets_foreach_skipped(g.targets, NULL, count_skip,
			    sk);
			nsk = sk[0];
			is_int((long long)sk[1], (long long)nsk, "cluster %s: "
			    "member %zu: each reason names the owner", how[k],
			    m);
			is_int((long long)(nsk + targets_count(g.targets)), 30,
			    "cluster %s: member %zu: scraped + skipped = 30",
			    how[k], m);
			is_int((long long)targets_count_skipped(g.targets),
			    (long long)nsk, "cluster %s: member %zu: skipped "
			    "count", how[k], m);
			memset(&self, 0, sizeof self);
			self.url = "http://127.0.0.1:9108/metrics";
			self.job = "rwbridge";
			targets_set_group(g.targets, TSPEC_GROUP_SELF, &self, 1);
			ok(targets_get(g.targets, TSPEC_GROUP_SELF, self.url) !=
			    NULL, "cluster %s: member %zu scrapes itself",
			    how[k], m);
			/* A skipped target is removed by URL; then the group. */
			for (i = 0; i < 30; i++) {
				if (targets_get(g.targets, "a", urls[i]) ==
				    NULL)
					break;
			}
			ok(i < 30 && targets_remove(g.targets, "a", urls[i]),
			    "cluster %s: member %zu removes a skipped target",
			    how[k], m);
			is_int((long long)targets_count_skipped(g.targets),
			    (long long)nsk - 1, "cluster %s: member %zu: one "
			    "skipped fewer", how[k], m);
			ok(targets_remove_group(g.targets, "a") &&
			    targets_count_skipped(g.targets) == 0 &&
			    !targets_has_group(g.targets, "a"),
			    "cluster %s: member %zu removes the group, skipped "
			    "targets too", how[k], m);
			glue_free(&g);
		}
		for (i = 0, bad = 0; i < 30; i++)
			bad += owners[i] != 1;
		is_int((long long)bad, 0, "cluster %s: every target at exactly "
		    "one member", how[k]);
	}
}

int
main(void)
{
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
	test_grow();
	test_many_groups();
	test_respec();
	test_respec_contract();
	test_stop();
	test_cluster();
	return (tap_done());
}
