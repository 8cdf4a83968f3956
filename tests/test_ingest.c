/*
 * Unit tests for ingest: a page becomes remote-write records that protobuf-c
 * decodes to the expected series; the scrape cache is reused on the next
 * scrape; vanished series, failed scrapes and removed targets get stale
 * markers; a bad page sends nothing; metadata is sent once a minute.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "remote.pb-c.h"
#include "rwenc.h"
#include "tap.h"

static const struct label target_labels[] = {
	{ "instance", 8, "10.0.0.5:8000", 13 },
	{ "job", 3, "rollout", 7 },
};

/* Decode the records of out as a WriteRequest (they are one). */
static Prometheus__WriteRequest *
decode(const struct ingest_out *o, bool meta)
{
	struct buf			 b;
	Prometheus__WriteRequest	*wr;

	buf_init(&b);
	buf_append(&b, o->rec.data, o->rec.len);
	if (meta)
		buf_append(&b, o->meta.data, o->meta.len);
	wr = prometheus__write_request__unpack(NULL, b.len, b.data);
	buf_free(&b);
	return (wr);
}

/* Render a series' labels as name="value",... for comparisons. */
static const char *
render(const Prometheus__TimeSeries *ts)
{
	static char	out[512];
	size_t		i, n = 0;

	out[0] = '\0';
	for (i = 0; i < ts->n_labels; i++)
		n += (size_t)snprintf(out + n, sizeof out - n, "%s%s=\"%s\"",
		    i == 0 ? "" : ",", ts->labels[i]->name,
		    ts->labels[i]->value);
	return (out);
}

/* Find the series whose rendered labels equal want. */
static const Prometheus__TimeSeries *
find(const Prometheus__WriteRequest *wr, const char *want)
{
	size_t	i;

	for (i = 0; i < wr->n_timeseries; i++) {
		if (strcmp(render(wr->timeseries[i]), want) == 0)
			return (wr->timeseries[i]);
	}
	return (NULL);
}

/* Count stale markers in wr. */
static int
count_stale(const Prometheus__WriteRequest *wr)
{
	size_t	i;
	int	n = 0;

	for (i = 0; i < wr->n_timeseries; i++) {
		if (wr->timeseries[i]->n_samples == 1 &&
		    rw_is_stale_nan(wr->timeseries[i]->samples[0]->value))
			n++;
	}
	return (n);
}

static const char page1[] =
    "# HELP vllm:num_requests_running Number of requests running.\n"
    "# TYPE vllm:num_requests_running gauge\n"
    "vllm:num_requests_running{engine=\"0\",model_name=\"Qwen\"} 3\n"
    "# TYPE reqs_total counter\n"
    "reqs_total{code=\"200\",job=\"inner\"} 10\n"
    "reqs_total{code=\"500\"} 1 1700000000123\n"
    "esc{v=\"a\\\"b\\\\c\\nd\"} +Inf\n";

static const char page2[] =
    "# TYPE vllm:num_requests_running gauge\n"
    "vllm:num_requests_running{engine=\"0\",model_name=\"Qwen\"} 4\n"
    "reqs_total{code=\"200\",job=\"inner\"} 11\n"
    "reqs_total{code=\"200\",job=\"inner\"} 12\n";

/* Ingest one page at ts into o (reset first); false on a parse error. */
static bool
page(struct ingest *ig, struct ingest_out *o, const char *text, int64_t ts)
{
	char	err[256];

	ingest_out_reset(o);
	return (ingest_page(ig, text, strlen(text), PT_FORMAT_TEXT, ts, o, err,
	    sizeof err));
}

/*
 * The scrape cache across pages: a reordered page adds nothing, a changed
 * label value is a new series and the old one goes stale, a restarted
 * target (a new ingest) builds every series again.
 */
static void
test_cache_cases(void)
{
	static const char a[] = "x{a=\"1\"} 1\ny{b=\"2\"} 2\nz 3\n";
	static const char reordered[] = "z 3\ny{b=\"2\"} 2\nx{a=\"1\"} 1\n";
	static const char changed[] = "z 3\ny{b=\"3\"} 2\nx{a=\"1\"} 1\n";
	struct ingest			 ig;
	struct ingest_out		 o;
	Prometheus__WriteRequest	*wr;
	const char			*y2 = "__name__=\"y\",b=\"2\","
	    "instance=\"10.0.0.5:8000\",job=\"rollout\"";

	ingest_out_init(&o);
	ingest_init(&ig, target_labels, 2, NULL, NULL);
	ok(page(&ig, &o, a, 1000), "cache: first page");
	is_int((long long)ig.stats.series_added, 3, "cache: three series added");
	ok(page(&ig, &o, reordered, 2000), "cache: reordered page");
	is_int((long long)ig.stats.series_added, 0,
	    "cache: a reordered page adds no series");
	is_int((long long)ig.stats.stale_markers, 0,
	    "cache: and sends no stale marker");
	is_int((long long)o.n, 3, "cache: three samples");
	ok(page(&ig, &o, changed, 3000), "cache: changed label value");
	is_int((long long)ig.stats.series_added, 1,
	    "cache: a changed label value is one new series");
	wr = decode(&o, false);
	ok(find(wr, y2) != NULL && count_stale(wr) == 1 &&
	    rw_is_stale_nan(find(wr, y2)->samples[0]->value),
	    "cache: the old label set gets a stale marker");
	prometheus__write_request__free_unpacked(wr, NULL);
	is_int((long long)ingest_series(&ig), 3, "cache: the old one is gone");

	/* A target restart: the old ingest stale-marks, a new one rebuilds. */
	ingest_out_reset(&o);
	ingest_free(&ig, 4000, &o);
	is_int((long long)o.n, 3, "restart: three stale markers");
	ingest_init(&ig, target_labels, 2, NULL, NULL);
	ok(page(&ig, &o, a, 5000), "restart: first page again");
	is_int((long long)ig.stats.series_added, 3,
	    "restart: every series built again");
	ingest_free(&ig, 0, NULL);
	ingest_out_free(&o);
}

/* Compile relabel rules written with ' for ". */
static struct relabel *
rules(const char *json)
{
	struct relabel	*rl;
	char		*s = strdup(json), *p, err[256];

	for (p = s; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	rl = relabel_parse_text(s, "$", err, sizeof err);
	if (rl == NULL)
		printf("# %s\n", err);
	free(s);
	return (rl);
}

/* Set up an ingest with the target labels and these options. */
static void
contract_init(struct ingest *ig, struct relabel *rl,
    const struct config_limits *lim, bool honor_labels, bool honor_ts)
{
	struct ingest_opts	o;

	memset(&o, 0, sizeof o);
	o.metric_relabel = rl;
	if (lim != NULL)
		o.limits = *lim;
	o.honor_labels = honor_labels;
	o.honor_timestamps = honor_ts;
	ingest_init(ig, target_labels, 2, NULL, NULL);
	ingest_configure(ig, &o);
}

static const char noisy[] =
    "# TYPE python_gc_objects_collected_total counter\n"
    "python_gc_objects_collected_total{generation=\"0\"} 7\n"
    "vllm:num_requests_running{model_name=\"Qwen\"} 3\n"
    "http_requests_total{handler=\"/metrics\"} 2\n";

/*
 * metric_relabel_configs: dropped series are cached as dropped and never
 * sent, kept series carry the rewritten labels, and the synthetic counts
 * say what Prometheus's would.
 */
static void
test_metric_relabel(void)
{
	struct ingest			 ig;
	struct ingest_out		 o;
	struct relabel			*rl;
	Prometheus__WriteRequest	*wr;
	int				 round;
	char				 err[256];

	ingest_out_init(&o);
	rl = rules("[{'source_labels':['__name__'],"
	    "'regex':'python_gc_.*|http_.*','action':'drop'},"
	    "{'source_labels':['model_name'],'target_label':'model'},"
	    "{'regex':'model_name|instance','action':'labeldrop'}]");
	contract_init(&ig, rl, NULL, false, true);
	relabel_free(rl);		/* the ingest holds its own reference */
	for (round = 1; round <= 2; round++) {
		ok(page(&ig, &o, noisy, 1000 * round), "relabel %d: page",
		    round);
		is_int((long long)o.n, 1, "relabel %d: one record sent", round);
		is_int((long long)ig.stats.samples, 3, "relabel %d: "
		    "scrape_samples_scraped counts every sample", round);
		is_int((long long)ig.stats.samples_post, 1, "relabel %d: "
		    "scrape_samples_post_metric_relabeling", round);
		is_int((long long)ig.stats.series_added, round == 1 ? 1 : 0,
		    "relabel %d: scrape_series_added", round);
		is_int((long long)ig.raw.n, 3, "relabel %d: dropped series "
		    "stay cached", round);
		wr = decode(&o, false);
		ok(wr != NULL && find(wr, "__name__=\"vllm:num_requests_"
		    "running\",job=\"rollout\",model=\"Qwen\"") != NULL,
		    "relabel %d: labels rewritten (%s)", round,
		    wr != NULL && wr->n_timeseries > 0 ?
		    render(wr->timeseries[0]) : "none");
		prometheus__write_request__free_unpacked(wr, NULL);
	}
	/* The kept series goes away: one stale marker, none for dropped. */
	ok(page(&ig, &o, "python_gc_objects_collected_total{generation=\"0\"}"
	    " 8\n", 3000), "relabel: page without the kept series");
	is_int((long long)ig.stats.stale_markers, 1, "relabel: one stale "
	    "marker, none for the dropped series");
	ingest_out_reset(&o);
	ingest_free(&ig, 4000, &o);
	is_int((long long)o.n, 0, "relabel: removing the target stale-marks "
	    "no dropped series");

	/* Relabeling that removes __name__ fails the scrape. */
	rl = rules("[{'regex':'__name__','action':'labeldrop'}]");
	contract_init(&ig, rl, NULL, false, true);
	relabel_free(rl);
	ingest_out_reset(&o);
	ok(!ingest_page(&ig, "a 1\n", 4, PT_FORMAT_TEXT, 1000, &o, err,
	    sizeof err), "relabel: no __name__ fails the page");
	is_str(err, "line 1: missing metric name (__name__ label)",
	    "relabel: the reason");
	ingest_free(&ig, 0, NULL);
	ingest_out_free(&o);
}

/* Derivations see the engine's own series even when they are dropped. */
static void
test_derive_sees_dropped(void)
{
	static const char *const pages[] = {
	    "vllm:e2e_request_latency_seconds_bucket{le=\"1\"} 0\n"
	    "vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\"} 0\n"
	    "vllm:e2e_request_latency_seconds_count 0\n"
	    "vllm:e2e_request_latency_seconds_sum 0\n",
	    "vllm:e2e_request_latency_seconds_bucket{le=\"1\"} 10\n"
	    "vllm:e2e_request_latency_seconds_bucket{le=\"+Inf\"} 10\n"
	    "vllm:e2e_request_latency_seconds_count 10\n"
	    "vllm:e2e_request_latency_seconds_sum 5\n",
	};
	struct derive_config		 dc;
	struct derive			*d;
	struct derive_target		*dt;
	struct ingest			 ig;
	struct ingest_out		 o;
	struct ingest_opts		 opts;
	Prometheus__WriteRequest	*wr;
	size_t				 i, n, dropped_sent = 0, p50 = 0;

	derive_config_default(&dc);
	d = derive_new(&dc);
	dt = derive_target_new(d, "rollout");
	memset(&opts, 0, sizeof opts);
	opts.metric_relabel = rules("[{'source_labels':['__name__'],"
	    "'regex':'vllm:.*_bucket','action':'drop'}]");
	opts.honor_timestamps = true;
	ingest_out_init(&o);
	ingest_init(&ig, target_labels, 2, dt, NULL);
	ingest_configure(&ig, &opts);
	for (n = 0; n < 2; n++) {
		ok(page(&ig, &o, pages[n], 1000 + 15000 * (int64_t)n),
		    "derive: page %zu", n + 1);
		wr = decode(&o, false);
		for (i = 0; wr != NULL && i < wr->n_timeseries; i++) {
			if (strstr(render(wr->timeseries[i]), "_bucket") !=
			    NULL)
				dropped_sent++;
			if (strstr(render(wr->timeseries[i]),
			    "e2e_latency_seconds:p50") != NULL)
				p50++;
		}
		prometheus__write_request__free_unpacked(wr, NULL);
	}
	is_int((long long)dropped_sent, 0, "derive: no bucket sent");
	ok(p50 > 0, "derive: the e2e p50 is still derived from the dropped "
	    "buckets");
	ingest_free(&ig, 0, NULL);
	derive_target_free(dt);
	derive_free(d);
	relabel_free(opts.metric_relabel);
	ingest_out_free(&o);
}

/* One limit case: a page, the limits, and whether it passes. */
struct lcase {
	const char	*name;
	const char	*page;
	const char	*rules;		/* NULL: none */
	struct config_limits lim;
	bool		 pass;
	const char	*err;		/* when it fails */
	enum ingest_limit which;
};

#define LPAGE	"a{x=\"12345\"} 1\nb{long_name=\"v\"} 2\nc 3\n"

static const struct lcase lcases[] = {
	{ "sample_limit 3 passes 3 samples", LPAGE, NULL,
	    { 3, 0, 0, 0, 0 }, true, NULL, 0 },
	{ "sample_limit 2 fails 3 samples", LPAGE, NULL,
	    { 2, 0, 0, 0, 0 }, false, "sample limit exceeded",
	    INGEST_LIMIT_SAMPLE },
	{ "sample_limit counts after relabeling: 2 passes", LPAGE,
	    "[{'source_labels':['__name__'],'regex':'c','action':'drop'}]",
	    { 2, 0, 0, 0, 0 }, true, NULL, 0 },
	{ "sample_limit after relabeling: 1 fails", LPAGE,
	    "[{'source_labels':['__name__'],'regex':'c','action':'drop'}]",
	    { 1, 0, 0, 0, 0 }, false, "sample limit exceeded",
	    INGEST_LIMIT_SAMPLE },
	{ "label_limit 4 passes __name__, x, instance, job", LPAGE, NULL,
	    { 0, 4, 0, 0, 0 }, true, NULL, 0 },
	{ "label_limit 3 fails", LPAGE, NULL,
	    { 0, 3, 0, 0, 0 }, false, "line 1: label_limit exceeded (metric: "
	    "a, number of labels: 4, limit: 3)", INGEST_LIMIT_LABEL },
	{ "label_limit counts after relabeling", LPAGE,
	    "[{'regex':'instance','action':'labeldrop'}]",
	    { 0, 3, 0, 0, 0 }, true, NULL, 0 },
	{ "label_name_length_limit 9 passes long_name", LPAGE, NULL,
	    { 0, 0, 9, 0, 0 }, true, NULL, 0 },
	{ "label_name_length_limit 8 fails long_name", LPAGE, NULL,
	    { 0, 0, 8, 0, 0 }, false, "line 2: label_name_length_limit "
	    "exceeded (metric: b, label name: long_name, length: 9, limit: "
	    "8)", INGEST_LIMIT_NAME_LENGTH },
	{ "label_value_length_limit 13 passes the instance", LPAGE, NULL,
	    { 0, 0, 0, 13, 0 }, true, NULL, 0 },
	{ "label_value_length_limit 12 fails the instance", LPAGE, NULL,
	    { 0, 0, 0, 12, 0 }, false, "line 1: label_value_length_limit "
	    "exceeded (metric: a, label name: instance, value: "
	    "\"10.0.0.5:8000\", length: 13, limit: 12)",
	    INGEST_LIMIT_VALUE_LENGTH },
	{ "body_size_limit one byte over the page passes", LPAGE, NULL,
	    { 0, 0, 0, 0, sizeof LPAGE }, true, NULL, 0 },
	{ "body_size_limit = the page fails, as in Prometheus", LPAGE, NULL,
	    { 0, 0, 0, 0, sizeof LPAGE - 1 }, false,
	    "body size limit exceeded", INGEST_LIMIT_BODY_SIZE },
};

/* Each limit at its exact boundary; a failed page sends nothing. */
static void
test_limits(void)
{
	struct ingest			 ig;
	struct ingest_out		 o;
	struct relabel			*rl;
	Prometheus__WriteRequest	*wr;
	const struct lcase		*c;
	uint64_t			 hits[INGEST_NLIMITS];
	size_t				 i, k;
	char				 err[512];
	bool				 okp;

	ingest_out_init(&o);
	for (i = 0; i < sizeof lcases / sizeof lcases[0]; i++) {
		c = &lcases[i];
		rl = c->rules != NULL ? rules(c->rules) : NULL;
		contract_init(&ig, rl, &c->lim, false, true);
		relabel_free(rl);
		/*
		 * A page first, so that a failure has series to stale-mark
		 * (it fails itself where the instance is over the limit).
		 */
		page(&ig, &o, "c 1\n", 1000);
		memset(hits, 0, sizeof hits);
		memcpy(hits, ig.limit_hits, sizeof hits);
		ingest_out_reset(&o);
		err[0] = '\0';
		okp = ingest_page(&ig, c->page, strlen(c->page),
		    PT_FORMAT_TEXT, 2000, &o, err, sizeof err);
		is_int(okp, c->pass, "%s (%s)", c->name, err);
		if (c->pass) {
			for (k = 0; k < INGEST_NLIMITS; k++)
				if (ig.limit_hits[k] != hits[k])
					break;
			is_int((long long)k, INGEST_NLIMITS, "%s: no limit "
			    "counted", c->name);
		} else {
			is_str(err, c->err, "%s: the reason", c->name);
			is_int((long long)(ig.limit_hits[c->which] -
			    hits[c->which]), 1, "%s: %s counted", c->name,
			    ingest_limit_name(c->which));
			wr = decode(&o, false);
			ok(wr != NULL && (int)wr->n_timeseries ==
			    count_stale(wr), "%s: nothing of the page sent, "
			    "only stale markers", c->name);
			prometheus__write_request__free_unpacked(wr, NULL);
		}
		ingest_free(&ig, 0, NULL);
	}
	ingest_out_free(&o);
}

/*
 * Failed pages, as Prometheus's scrape cache has them: scrape_series_added
 * counts the new series before the page stopped; the page's series stay
 * cached unsent (not new again, no stale marker for what was never sent);
 * what the last good page sent goes stale.
 */
static void
test_failed_pages(void)
{
	static const struct {
		const char	*page;
		bool		 ok;
		long long	 added;
		long long	 stale;
	} steps[] = {
		{ "a 1\nb 2\n", true, 2, 0 },
		{ "a 1\nc 3\nwide{x=\"1\",y=\"2\"} 4\n", false, 1, 2 },
		{ "a 1\nc 3\nwide{x=\"1\",y=\"2\"} 4\n", false, 0, 0 },
		{ "a 1\nc 3\n", true, 0, 0 },
		{ "c 3\n", true, 0, 1 },
		{ "c 3\nd 4\nbad{ 1\n", false, 1, 1 },
		{ "c 3\nd 4\n", true, 0, 0 },
	};
	struct config_limits		 lim = { 0 };
	struct ingest			 ig;
	struct ingest_out		 o;
	Prometheus__WriteRequest	*wr;
	size_t				 i;

	lim.label_limit = 4;
	ingest_out_init(&o);
	contract_init(&ig, NULL, &lim, false, true);
	for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		is_int(page(&ig, &o, steps[i].page, 1000 * (i + 1)),
		    steps[i].ok, "failed pages: step %zu: ok", i);
		is_int((long long)ig.stats.series_added, steps[i].added,
		    "failed pages: step %zu: series added", i);
		wr = decode(&o, false);
		is_int(wr != NULL ? count_stale(wr) : -1, steps[i].stale,
		    "failed pages: step %zu: stale markers", i);
		if (wr != NULL)
			prometheus__write_request__free_unpacked(wr, NULL);
	}
	ingest_free(&ig, 0, NULL);
	ingest_out_free(&o);
}

/* honor_labels and honor_timestamps. */
static void
test_honor(void)
{
	static const char pg[] =
	    "m{job=\"scraped\",x=\"1\"} 1 1700000000123\n";
	struct ingest			 ig;
	struct ingest_out		 o;
	Prometheus__WriteRequest	*wr;
	const Prometheus__TimeSeries	*ts;
	int				 h;

	ingest_out_init(&o);
	for (h = 0; h < 4; h++) {
		contract_init(&ig, NULL, NULL, h & 1, (h & 2) != 0);
		ok(page(&ig, &o, pg, 5000), "honor %d: page", h);
		wr = decode(&o, false);
		ts = find(wr, (h & 1) ? "__name__=\"m\",instance=\"10.0.0.5:"
		    "8000\",job=\"scraped\",x=\"1\"" : "__name__=\"m\","
		    "exported_job=\"scraped\",instance=\"10.0.0.5:8000\","
		    "job=\"rollout\",x=\"1\"");
		ok(ts != NULL, "honor_labels %s: %s", (h & 1) ? "true" :
		    "false", (h & 1) ? "the page's job wins" :
		    "the page's job becomes exported_job");
		if (ts != NULL)
			is_int(ts->samples[0]->timestamp, (h & 2) ?
			    1700000000123 : 5000, "honor_timestamps %s",
			    (h & 2) ? "true: the page's timestamp" :
			    "false: the scrape's");
		prometheus__write_request__free_unpacked(wr, NULL);
		ingest_free(&ig, 0, NULL);
	}
	ingest_out_free(&o);
}

/*
 * A pool shared by targets: the same page from two servers stores its
 * series once and gives each its own target labels; a target whose rules
 * give other labels (or drop series) gets blobs of its own; the records are
 * byte for byte those of a target with a private pool; a removed target's
 * stale markers leave the others' series intact.
 */
static void
test_shared_pool(void)
{
	static const struct label other[] = {
		{ "instance", 8, "10.0.0.6:8000", 13 },
		{ "job", 3, "rollout", 7 },
	};
	struct series_pool		*pool = series_pool_new();
	struct ingest			 a, b, c, lone;
	struct ingest_out		 oa, ob, oc, ol;
	struct ingest_opts		 opts;
	struct relabel			*rl;
	Prometheus__WriteRequest	*wr;

	ingest_out_init(&oa);
	ingest_out_init(&ob);
	ingest_out_init(&oc);
	ingest_out_init(&ol);
	ingest_init(&a, target_labels, 2, NULL, pool);
	ingest_init(&b, other, 2, NULL, pool);
	ingest_init(&lone, target_labels, 2, NULL, NULL);
	ingest_init(&c, target_labels, 2, NULL, pool);
	rl = rules("[{'source_labels':['__name__'],"
	    "'regex':'python_gc_.*|http_.*','action':'drop'},"
	    "{'source_labels':['model_name'],'target_label':'model'},"
	    "{'regex':'model_name','action':'labeldrop'}]");
	memset(&opts, 0, sizeof opts);
	opts.metric_relabel = rl;
	opts.honor_timestamps = true;
	ingest_configure(&c, &opts);
	relabel_free(rl);

	ok(page(&a, &oa, noisy, 1000) && page(&b, &ob, noisy, 1000) &&
	    page(&lone, &ol, noisy, 1000), "shared: three pages");
	is_int((long long)series_pool_count(pool), 3,
	    "shared: two targets' three series are three blobs");
	ok(oa.rec.len == ol.rec.len &&
	    memcmp(oa.rec.data, ol.rec.data, ol.rec.len) == 0,
	    "shared: records equal a private pool's byte for byte");
	wr = decode(&ob, false);
	ok(wr != NULL && find(wr, "__name__=\"vllm:num_requests_running\","
	    "instance=\"10.0.0.6:8000\",job=\"rollout\",model_name=\"Qwen\"")
	    != NULL, "shared: the second target's records carry its instance");
	prometheus__write_request__free_unpacked(wr, NULL);
	ok(page(&c, &oc, noisy, 1000), "shared: a relabeling target's page");
	is_int((long long)series_pool_count(pool), 6,
	    "shared: its two dropped and one rewritten series are new blobs");
	wr = decode(&oc, false);
	ok(wr != NULL && wr->n_timeseries == 1 && find(wr, "__name__=\"vllm:"
	    "num_requests_running\",instance=\"10.0.0.5:8000\",job=\"rollout\","
	    "model=\"Qwen\"") != NULL, "shared: its own rewritten labels");
	prometheus__write_request__free_unpacked(wr, NULL);

	/* Target a goes: its stale markers, then b is untouched. */
	ingest_out_reset(&oa);
	ingest_free(&a, 2000, &oa);
	is_int((long long)oa.n, 3, "shared: the removed target's markers");
	is_int((long long)series_pool_count(pool), 6,
	    "shared: its blobs stay, b names them");
	ok(page(&b, &ob, noisy, 2000), "shared: b's next page");
	is_int((long long)b.stats.series_added, 0,
	    "shared: b adds nothing");
	is_int((long long)ob.n, 3, "shared: b sends its three samples");
	ingest_free(&b, 0, NULL);
	ingest_free(&c, 0, NULL);
	is_int((long long)series_pool_count(pool), 0,
	    "shared: the pool is empty with its targets gone");
	ingest_free(&lone, 0, NULL);
	series_pool_free(pool);
	ingest_out_free(&oa);
	ingest_out_free(&ob);
	ingest_out_free(&oc);
	ingest_out_free(&ol);
}

int
main(void)
{
	struct ingest			 ig;
	struct ingest_out		 o;
	Prometheus__WriteRequest	*wr;
	const Prometheus__TimeSeries	*ts;
	char				 err[256], *huge;
	size_t				 n;
	bool				 okp;

	test_metric_relabel();
	test_derive_sees_dropped();
	test_limits();
	test_failed_pages();
	test_honor();
	test_shared_pool();
	ingest_out_init(&o);
	ingest_init(&ig, target_labels, 2, NULL, NULL);

	/* First scrape: every series is new. */
	okp = ingest_page(&ig, page1, sizeof page1 - 1, PT_FORMAT_TEXT, 5000,
	    &o, err, sizeof err);
	ok(okp, "first page ingests");
	is_int((long long)o.n, 4, "four records");
	is_int((long long)ig.stats.series_added, 4, "four new series");
	wr = decode(&o, true);
	ok(wr != NULL, "records decode as a WriteRequest");
	ts = find(wr, "__name__=\"vllm:num_requests_running\",engine=\"0\","
	    "instance=\"10.0.0.5:8000\",job=\"rollout\",model_name=\"Qwen\"");
	ok(ts != NULL, "labels sorted, with job and instance added");
	if (ts != NULL) {
		is_double(ts->samples[0]->value, 3, 0, "gauge value");
		is_int(ts->samples[0]->timestamp, 5000, "scrape timestamp");
	}
	ok(find(wr, "__name__=\"reqs_total\",code=\"200\",exported_job="
	    "\"inner\",instance=\"10.0.0.5:8000\",job=\"rollout\"") != NULL,
	    "clashing job kept as exported_job");
	ts = find(wr, "__name__=\"reqs_total\",code=\"500\",instance="
	    "\"10.0.0.5:8000\",job=\"rollout\"");
	ok(ts != NULL && ts->samples[0]->timestamp == 1700000000123,
	    "explicit timestamp kept");
	ts = find(wr, "__name__=\"esc\",instance=\"10.0.0.5:8000\",job="
	    "\"rollout\",v=\"a\"b\\c\nd\"");
	ok(ts != NULL && isinf(ts->samples[0]->value),
	    "escaped label value decoded, +Inf value");
	is_int((long long)wr->n_metadata, 2, "metadata for two families");
	if (wr->n_metadata == 2) {
		is_str(wr->metadata[0]->metric_family_name,
		    "vllm:num_requests_running", "metadata family name");
		is_str(wr->metadata[0]->help, "Number of requests running.",
		    "metadata help");
		is_int(wr->metadata[1]->type,
		    PROMETHEUS__METRIC_METADATA__METRIC_TYPE__COUNTER,
		    "metadata type counter");
	}
	prometheus__write_request__free_unpacked(wr, NULL);

	/* Second scrape: cache hits, a duplicate, two series vanish. */
	ingest_out_reset(&o);
	okp = ingest_page(&ig, page2, sizeof page2 - 1, PT_FORMAT_TEXT, 6000,
	    &o, err, sizeof err);
	ok(okp, "second page ingests");
	is_int((long long)ig.stats.series_added, 0, "no new series");
	is_int((long long)ig.stats.duplicates, 1, "duplicate series counted");
	is_int((long long)ig.stats.stale_markers, 2,
	    "two vanished series get stale markers");
	is_int((long long)o.nmeta, 0, "no metadata within the minute");
	wr = decode(&o, false);
	is_int((long long)wr->n_timeseries, 4, "two samples and two markers");
	is_int(count_stale(wr), 2, "stale markers carry the stale NaN bits");
	ts = find(wr, "__name__=\"reqs_total\",code=\"200\",exported_job="
	    "\"inner\",instance=\"10.0.0.5:8000\",job=\"rollout\"");
	ok(ts != NULL && ts->samples[0]->value == 11,
	    "first of duplicate samples kept");
	prometheus__write_request__free_unpacked(wr, NULL);

	/* A bad page sends nothing but stale markers for what was there. */
	ingest_out_reset(&o);
	okp = ingest_page(&ig, "ok 1\nbad{ 2\n", 12, PT_FORMAT_TEXT, 7000, &o,
	    err, sizeof err);
	ok(!okp, "bad page fails");
	ok(strncmp(err, "line 2 col", 10) == 0, "error names the line: %s",
	    err);
	wr = decode(&o, false);
	is_int((long long)wr->n_timeseries, 2,
	    "only stale markers for the previous two series");
	is_int(count_stale(wr), 2, "both are stale markers");
	prometheus__write_request__free_unpacked(wr, NULL);

	/* Metadata comes back after a minute; synthetic series work. */
	ingest_out_reset(&o);
	okp = ingest_page(&ig, page1, sizeof page1 - 1, PT_FORMAT_TEXT,
	    70000, &o, err, sizeof err);
	ok(okp && o.nmeta == 2, "metadata sent again after a minute");
	ingest_synthetic(&ig, "up", 1, 70000, &o);
	wr = decode(&o, false);
	ok(find(wr, "__name__=\"up\",instance=\"10.0.0.5:8000\",job="
	    "\"rollout\"") != NULL, "synthetic up series");
	prometheus__write_request__free_unpacked(wr, NULL);

	/* Removing the target stale-marks everything, up included. */
	ingest_out_reset(&o);
	ingest_free(&ig, 80000, &o);
	wr = decode(&o, false);
	is_int((long long)wr->n_timeseries, 5, "removal marks 4 series + up");
	is_int(count_stale(wr), 5, "all of them stale");
	prometheus__write_request__free_unpacked(wr, NULL);

	/* A series longer than the cache holds fails the page, by line. */
	ingest_init(&ig, target_labels, 2, NULL, NULL);
	huge = malloc(70100);
	n = (size_t)snprintf(huge, 70100, "ok 1\nbig{v=\"");
	memset(huge + n, 'x', 70000);
	n += 70000;
	n += (size_t)snprintf(huge + n, 70100 - n, "\"} 1\n");
	ingest_out_reset(&o);
	okp = ingest_page(&ig, huge, n, PT_FORMAT_TEXT, 1000, &o, err,
	    sizeof err);
	ok(!okp && strcmp(err, "line 2: labels longer than 65535 bytes "
	    "encoded") == 0, "an over-long series fails the page: %s", err);
	free(huge);
	ingest_free(&ig, 0, NULL);

	/* Override mode (Pushgateway groups): target labels replace. */
	ingest_init(&ig, target_labels, 2, NULL, NULL);
	ig.override = true;
	ingest_out_reset(&o);
	ingest_page(&ig, "m{job=\"x\",a=\"1\"} 2\n", 19, PT_FORMAT_TEXT, 1,
	    &o, err, sizeof err);
	wr = decode(&o, false);
	ok(find(wr, "__name__=\"m\",a=\"1\",instance=\"10.0.0.5:8000\","
	    "job=\"rollout\"") != NULL, "override replaces the pushed job");
	prometheus__write_request__free_unpacked(wr, NULL);
	ingest_free(&ig, 0, NULL);
	ingest_out_free(&o);
	test_cache_cases();
	return (tap_done());
}
