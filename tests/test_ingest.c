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
	ingest_init(&ig, target_labels, 2, NULL);
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
	ingest_init(&ig, target_labels, 2, NULL);
	ok(page(&ig, &o, a, 5000), "restart: first page again");
	is_int((long long)ig.stats.series_added, 3,
	    "restart: every series built again");
	ingest_free(&ig, 0, NULL);
	ingest_out_free(&o);
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

	ingest_out_init(&o);
	ingest_init(&ig, target_labels, 2, NULL);

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
	ingest_init(&ig, target_labels, 2, NULL);
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
	ingest_init(&ig, target_labels, 2, NULL);
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
