/*
 * test_state: the state file. API bodies registered into groups are saved
 * as the specs they were given (not URLs split again): scheme, address,
 * path, job, interval, timeout and labels as given, the same entry shared
 * by targets that differ only in their address, and the targets
 * relabel_configs dropped in their entries too. Then the file is loaded
 * into a registry whose default interval is different: the same document
 * comes back, the same targets are listed as dropped, and an explicit
 * interval equal to the old default stays explicit. A failure names the
 * case and shows both documents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "apigroup.h"
#include "buf.h"
#include "relabel.h"
#include "tspec.h"
#include "glue.h"
#include "state.h"
#include "xmalloc.h"

#include "tap.h"

struct scase {
	const char	*name;
	const char	*group;
	const char	*body;		/* an API body */
	const char	*want;		/* the group's entries, unformatted */
};

static const struct scase cases[] = {
	{ "defaults stay defaults", "plain",
	  "{\"targets\":[\"127.0.0.1:1\",\"127.0.0.1:2\"]}",
	  "[{\"targets\":[\"127.0.0.1:1\",\"127.0.0.1:2\"]}]" },
	{ "an explicit default stays explicit", "explicit",
	  "{\"targets\":[\"127.0.0.1:3\"],\"interval\":\"15s\","
	  "\"timeout\":\"10s\",\"scheme\":\"http\","
	  "\"metrics_path\":\"/metrics\",\"job\":\"rwbridge\"}",
	  "[{\"targets\":[\"127.0.0.1:3\"],\"interval\":\"15s\","
	  "\"timeout\":\"10s\",\"scheme\":\"http\","
	  "\"metrics_path\":\"/metrics\",\"job\":\"rwbridge\"}]" },
	{ "a scrape contract as given", "contract",
	  "{\"targets\":[\"127.0.0.1:7\"],\"scheme\":\"https\","
	  "\"metric_relabel_configs\":[{\"source_labels\":[\"__name__\"],"
	  "\"regex\":\"go_.*\",\"action\":\"drop\"}],"
	  "\"sample_limit\":100,\"params\":{\"a\":[\"1\"]},"
	  "\"tls_config\":{\"ca_file\":\"/nonexistent/ca.pem\"}}",
	  "[{\"targets\":[\"127.0.0.1:7\"],\"scheme\":\"https\","
	  "\"metric_relabel_configs\":[{\"source_labels\":[\"__name__\"],"
	  "\"regex\":\"go_.*\",\"action\":\"drop\"}],"
	  "\"sample_limit\":100,\"params\":{\"a\":[\"1\"]},"
	  "\"tls_config\":{\"ca_file\":\"/nonexistent/ca.pem\"}}]" },
	{ "relabel_configs: the address as given", "relabeled",
	  "{\"targets\":[\"127.0.0.1:5\"],\"relabel_configs\":["
	  "{\"target_label\":\"__address__\",\"replacement\":"
	  "\"127.0.0.1:6\"}]}",
	  "[{\"targets\":[\"127.0.0.1:5\"],\"relabel_configs\":["
	  "{\"target_label\":\"__address__\",\"replacement\":"
	  "\"127.0.0.1:6\"}]}]" },
	{ "relabel_configs: a dropped target saved too", "dropping",
	  "{\"targets\":[\"127.0.0.1:9\",\"127.0.0.1:8\"],"
	  "\"relabel_configs\":[{\"source_labels\":[\"__address__\"],"
	  "\"regex\":\"127.0.0.1:9\",\"action\":\"drop\"}]}",
	  "[{\"targets\":[\"127.0.0.1:8\",\"127.0.0.1:9\"],"
	  "\"relabel_configs\":[{\"source_labels\":[\"__address__\"],"
	  "\"regex\":\"127.0.0.1:9\",\"action\":\"drop\"}]}]" },
	{ "relabel_configs: a group of dropped targets only", "dropped",
	  "{\"targets\":[\"127.0.0.1:10\"],\"relabel_configs\":["
	  "{\"regex\":\".*\",\"action\":\"drop\"}]}",
	  "[{\"targets\":[\"127.0.0.1:10\"],\"relabel_configs\":["
	  "{\"regex\":\".*\",\"action\":\"drop\"}]}]" },
	{ "labels as given, settings, https and a path", "full",
	  "{\"targets\":[\"[::1]:4\",\"h.example:443\"],"
	  "\"labels\":{\"zone\":\"z\",\"model_name\":\"Qwen/Qwen3-8B\"},"
	  "\"interval\":\"1m30s\",\"timeout\":\"500ms\","
	  "\"scheme\":\"https\",\"metrics_path\":\"/x/metrics\"}",
	  "[{\"targets\":[\"[::1]:4\",\"h.example:443\"],"
	  "\"labels\":{\"zone\":\"z\",\"model_name\":\"Qwen/Qwen3-8B\"},"
	  "\"interval\":\"1m30s\",\"timeout\":\"500ms\",\"scheme\":\"https\","
	  "\"metrics_path\":\"/x/metrics\"}]" },
};

/* Register an API body into a group, as a PUT (or a POST) does. */
static void
register_body(struct targets *ts, const struct config *cfg,
    const char *group, const char *body, bool replace)
{
	struct tspec_group	 g;
	cJSON			*doc;
	char			 err[512];

	tspec_group_init(&g);
	doc = cJSON_Parse(body);
	if (doc == NULL || !tspec_parse_entry(doc, "$", TSPEC_ENTRY_API,
	    &g, err, sizeof err))
		printf("Bail out! %s: %s\n", group, doc == NULL ? "JSON" : err);
	tspec_group_dedup(&g);
	apigroup_register(ts, cfg, group, &g, replace);
	tspec_group_free(&g);
	cJSON_Delete(doc);
}

/* Collect a dropped target's address (a foreach_dropped fn). */
static void
dropped_cb(void *arg, const char *discovered)
{
	cJSON	*list = arg, *d;

	d = cJSON_Parse(discovered);
	cJSON_AddItemToArray(list, cJSON_CreateString(cJSON_GetStringValue(
	    cJSON_GetObjectItemCaseSensitive(d, "__address__"))));
	cJSON_Delete(d);
}

/* Order strings. */
static int
str_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* The addresses of the targets listed as dropped, sorted: "a b" (to free). */
static char *
dropped_of(struct targets *ts)
{
	cJSON		*list, *e;
	const char	*v[64];
	struct buf	 b;
	size_t		 i, n = 0;
	char		*s;

	list = cJSON_CreateArray();
	targets_foreach_dropped(ts, dropped_cb, list);
	cJSON_ArrayForEach(e, list) {
		if (n < sizeof v / sizeof v[0])
			v[n++] = e->valuestring != NULL ? e->valuestring : "?";
	}
	qsort(v, n, sizeof *v, str_cmp);
	buf_init(&b);
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s%s", i > 0 ? " " : "", v[i]);
	buf_putc(&b, '\0');
	s = xstrdup((char *)b.data);
	buf_free(&b);
	cJSON_Delete(list);
	return (s);
}

/* One group of a rendered state document, unformatted (to free). */
static char *
group_of(const char *doc, const char *group)
{
	cJSON	*d, *gs;
	char	*s;

	d = cJSON_Parse(doc);
	gs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    d, "groups"), group);
	s = gs != NULL ? cJSON_PrintUnformatted(gs) : xstrdup("(none)");
	cJSON_Delete(d);
	return (s);
}

int
main(void)
{
	struct glue	 g1, g2;
	struct state	*st1, *st2;
	struct target	*t;
	char		 dir[] = "/tmp/test_state.XXXXXX", err[512] = "";
	char		*doc1, *doc2, *got, *drop2, *path;
	size_t		 i, ngroups, ntargets;
	uint64_t	 saves;

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return (1);
	}
	glue_init(&g1, 15000);
	g1.cfg.state_dir = xstrdup(dir);
	st1 = state_new(g1.base, g1.targets, &g1.cfg);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		register_body(g1.targets, &g1.cfg, cases[i].group,
		    cases[i].body, true);
	/*
	 * A PUT drops :11, a POST adds :11 kept: the saved dropped entry
	 * goes first, so on loading the later, kept one wins its URL.
	 */
	register_body(g1.targets, &g1.cfg, "mixed", "{\"targets\":["
	    "\"127.0.0.1:11\",\"127.0.0.1:12\"],\"labels\":{\"a\":\"1\"},"
	    "\"relabel_configs\":[{\"source_labels\":[\"__address__\"],"
	    "\"regex\":\".*:11\",\"action\":\"drop\"}]}", true);
	register_body(g1.targets, &g1.cfg, "mixed",
	    "{\"targets\":[\"127.0.0.1:11\"]}", false);
	targets_remove(g1.targets, "mixed", "127.0.0.1:12");
	/* Groups rwbridge owns are never saved. */
	register_body(g1.targets, &g1.cfg, "static",
	    "{\"targets\":[\"127.0.0.1:9\"]}", true);
	doc1 = state_render(g1.targets, &ngroups, &ntargets);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = group_of(doc1, cases[i].group);
		is_str(got, cases[i].want, "%s: saved entries", cases[i].name);
		free(got);
	}
	got = group_of(doc1, "mixed");
	is_str(got, "[{\"targets\":[\"127.0.0.1:11\"],\"labels\":"
	    "{\"a\":\"1\"},\"relabel_configs\":[{\"source_labels\":"
	    "[\"__address__\"],\"regex\":\".*:11\",\"action\":\"drop\"}]},"
	    "{\"targets\":[\"127.0.0.1:11\"]}]",
	    "a dropped target's entry before a later kept one: saved entries");
	free(got);
	is_int((long long)ngroups, 8, "only API groups are saved");
	is_int((long long)ntargets, 12,
	    "every API target is saved, the dropped ones too");
	is_int(state_save(st1, err, sizeof err), 0, "save: %s", err);

	/* Load into a registry with another default interval. */
	glue_init(&g2, 10000);
	g2.cfg.state_dir = xstrdup(dir);
	st2 = state_new(g2.base, g2.targets, &g2.cfg);
	is_int(state_load(st2, err, sizeof err), 0, "load");
	doc2 = state_render(g2.targets, NULL, NULL);
	is_str(doc2, doc1, "the loaded registry saves the same document");
	got = dropped_of(g1.targets);
	is_str(got, "127.0.0.1:10 127.0.0.1:11 127.0.0.1:9",
	    "dropped before a restart");
	drop2 = dropped_of(g2.targets);
	is_str(drop2, got, "the same targets are listed as dropped after it");
	free(got);
	free(drop2);
	ok(targets_get(g2.targets, "mixed", "http://127.0.0.1:11/metrics") !=
	    NULL, "a target kept by a later POST stays kept");
	ok(!targets_has_group(g2.targets, "dropped") &&
	    targets_get(g2.targets, "dropping",
	    "http://127.0.0.1:8/metrics") != NULL,
	    "the kept targets are scraped, the dropped ones not");
	t = targets_get(g2.targets, "explicit", "http://127.0.0.1:3/metrics");
	ok(t != NULL && t->interval_ms == 15000,
	    "an explicit 15s stays 15s under a 10s default");
	t = targets_get(g2.targets, "plain", "http://127.0.0.1:1/metrics");
	ok(t != NULL && t->interval_ms == 10000,
	    "a default interval follows the new default");
	t = targets_get(g2.targets, "full", "https://[::1]:4/x/metrics");
	ok(t != NULL, "scheme, address and path make the URL");
	t = targets_get(g2.targets, "contract",
	    "https://127.0.0.1:7/metrics?a=1");
	ok(t != NULL && t->spec.limits != NULL &&
	    t->spec.limits->sample_limit == 100 &&
	    relabel_len(t->spec.metric_relabel) == 1 && t->spec.http != NULL &&
	    strcmp(t->spec.http->tls_ca_file, "/nonexistent/ca.pem") == 0,
	    "the contract survives a restart: rules, limit, params, TLS");
	t = targets_get(g2.targets, "relabeled", "http://127.0.0.1:6/metrics");
	ok(t != NULL, "relabel_configs apply again after a restart");

	/* Changes are batched: one write at once, the rest as one more. */
	saves = state_saves(st1);
	state_changed(st1);
	is_int((long long)(state_saves(st1) - saves), 1,
	    "batch: a first change is saved at once");
	for (i = 0; i < 100; i++)
		state_changed(st1);
	is_int((long long)(state_saves(st1) - saves), 1,
	    "batch: 100 more changes wait for the next write");
	state_flush(st1);
	is_int((long long)(state_saves(st1) - saves), 2,
	    "batch: the 100 are saved as one write");
	state_flush(st1);
	is_int((long long)(state_saves(st1) - saves), 2,
	    "batch: with nothing pending nothing is written");

	/* Stopping: nothing is written. */
	targets_stop(g2.targets);
	is_int(state_save(st2, err, sizeof err), 0, "stopped: save is a no-op");
	state_load(st1, err, sizeof err);

	xasprintf(&path, "%s/targets.json", dir);
	unlink(path);
	free(path);
	rmdir(dir);
	cJSON_free(doc1);
	cJSON_free(doc2);
	state_free(st1);
	state_free(st2);
	glue_free(&g1);
	glue_free(&g2);
	return (tap_done());
}
