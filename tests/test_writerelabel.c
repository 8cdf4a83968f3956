/*
 * Unit tests for writerelabel: external labels are added only where a
 * series lacks the label, write_relabel_configs see them and may drop or
 * rewrite a series, samples and metadata pass through unchanged, and the
 * same records give the same result when the cache answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "remote.pb-c.h"
#include "tap.h"
#include "writerelabel.h"

static const struct label tl[] = {
	{ "instance", 8, "h:1", 3 },
	{ "job", 3, "rollout", 7 },
};

static const char pg[] =
    "# TYPE a counter\n"
    "a_total{cluster=\"own\"} 1 1700000000000\n"
    "b 2\n"
    "drop_me 3\n";

/* Render series i as name=value,...=sample@ts. */
static void
render(const Prometheus__TimeSeries *ts, char *out, size_t len)
{
	size_t	i, n = 0;

	out[0] = '\0';
	for (i = 0; i < ts->n_labels && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%s=%s",
		    i > 0 ? "," : "", ts->labels[i]->name,
		    ts->labels[i]->value);
	if (ts->n_samples == 1 && n < len)
		snprintf(out + n, len - n, " %g@%lld", ts->samples[0]->value,
		    (long long)ts->samples[0]->timestamp);
}

int
main(void)
{
	static const char *const want[] = {
		"__name__=a_total,cluster=own,instance=h:1,job=rollout,"
		    "region=eu 1@1700000000000",
		"__name__=b,cluster=c1,instance=h:1,job=rollout,region=eu,"
		    "tier=c1 2@5000",
	};
	struct config_kv		 ext[] = {
		{ "cluster", "c1" }, { "region", "eu" } };
	struct ingest			 ig;
	struct ingest_out		 in, out;
	struct writerelabel		*w;
	struct relabel			*rl;
	Prometheus__WriteRequest	*wr;
	struct buf			 b;
	char				 err[256], got[512];
	size_t				 i;
	int				 round;

	ok(writerelabel_new(NULL, 0, NULL) == NULL, "nothing to do: NULL");
	rl = relabel_parse_text("[{\"source_labels\":[\"__name__\"],"
	    "\"regex\":\"drop_.*\",\"action\":\"drop\"},"
	    "{\"source_labels\":[\"cluster\"],\"regex\":\"c(.*)\","
	    "\"target_label\":\"tier\",\"replacement\":\"c$1\"}]", "$", err,
	    sizeof err);
	w = writerelabel_new(ext, 2, rl);
	relabel_free(rl);
	ingest_out_init(&in);
	ingest_out_init(&out);
	ingest_init(&ig, tl, 2, NULL, NULL);
	for (round = 1; round <= 2; round++) {
		ingest_out_reset(&in);
		ok(ingest_page(&ig, pg, sizeof pg - 1, PT_FORMAT_TEXT, 5000,
		    &in, err, sizeof err), "round %d: page", round);
		writerelabel_apply(w, &in, &out, 1000 * round);
		is_int((long long)out.n, 2, "round %d: two series sent",
		    round);
		buf_init(&b);
		buf_append(&b, out.rec.data, out.rec.len);
		buf_append(&b, out.meta.data, out.meta.len);
		wr = prometheus__write_request__unpack(NULL, b.len, b.data);
		buf_free(&b);
		ok(wr != NULL && wr->n_timeseries == 2, "round %d: decodes",
		    round);
		for (i = 0; wr != NULL && i < 2 && i < wr->n_timeseries; i++) {
			render(wr->timeseries[i], got, sizeof got);
			is_str(got, want[i], "round %d: series %zu", round, i);
		}
		is_int(wr != NULL ? (long long)wr->n_metadata : -1,
		    round == 1 ? 1 : 0, "round %d: metadata passed through",
		    round);
		prometheus__write_request__free_unpacked(wr, NULL);
		is_int((long long)writerelabel_dropped(w), round,
		    "round %d: one drop per round", round);
	}
	/* Ten minutes later the unused entries go; results stay the same. */
	writerelabel_apply(w, &in, &out, 1000 + 11 * 60 * 1000);
	writerelabel_apply(w, &in, &out, 1000 + 22 * 60 * 1000);
	is_int((long long)out.n, 2, "after aging: still two series");
	ingest_free(&ig, 0, NULL);
	ingest_out_free(&in);
	ingest_out_free(&out);
	writerelabel_free(w);
	writerelabel_free(NULL);
	return (tap_done());
}
