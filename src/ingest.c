/*
 * ingest: the hot path of a scrape. For a series already in the cache the
 * work per sample is one hash, one probe and one small append; label sets are
 * only decoded, merged with the target's labels, sorted and encoded when a
 * series first appears. A page that fails to parse is rolled back so that a
 * scrape is all or nothing, as in Prometheus.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "rwenc.h"
#include "xmalloc.h"

#define INGEST_META_EVERY_MS	60000
/* The metric name label and its length. */
#define INGEST_NAME		"__name__"
#define INGEST_NAME_LEN		(sizeof INGEST_NAME - 1)

/* Start an empty output. */
void
ingest_out_init(struct ingest_out *o)
{
	memset(o, 0, sizeof *o);
	buf_init(&o->rec);
	buf_init(&o->meta);
	o->min_ts = INT64_MAX;
	o->max_ts = INT64_MIN;
}

/* Free an output's memory. */
void
ingest_out_free(struct ingest_out *o)
{
	buf_free(&o->rec);
	buf_free(&o->meta);
	free(o->hash);
	free(o->end);
	ingest_out_init(o);
}

/* Forget the records, keep the memory. */
void
ingest_out_reset(struct ingest_out *o)
{
	buf_reset(&o->rec);
	buf_reset(&o->meta);
	o->n = 0;
	o->nmeta = 0;
	o->min_ts = INT64_MAX;
	o->max_ts = INT64_MIN;
}

/* Append one record. */
void
ingest_out_add(struct ingest *ig, struct ingest_out *o,
    const struct series *s, double v, int64_t ts)
{
	const uint8_t	*lab = series_labels(ig->pool, s);
	size_t		 i, own = series_lablen(ig->pool, s) - 2 * ig->nsplice;
	uint16_t	 at;

	if (o->n == o->cap) {
		o->cap = o->cap == 0 ? 1024 : o->cap * 2;
		o->hash = xreallocarray(o->hash, o->cap, sizeof *o->hash);
		o->end = xreallocarray(o->end, o->cap, sizeof *o->end);
	}
	for (i = 0; i < ig->nsplice; i++) {
		memcpy(&at, lab + own + 2 * i, sizeof at);
		ig->splice[i].at = at;
	}
	rwenc_series_splice(&o->rec, lab, own, ig->splice, ig->nsplice, v,
	    ts);
	o->hash[o->n] = s->hash;
	o->end[o->n] = o->rec.len;
	o->n++;
	if (ts < o->min_ts)
		o->min_ts = ts;
	if (ts > o->max_ts)
		o->max_ts = ts;
}

/* Order labels by name (qsort). */
static int
ingest_label_cmp(const void *a, const void *b)
{
	const struct label	*x = a, *y = b;
	size_t			 n = x->name_len < y->name_len ? x->name_len :
				    y->name_len;
	int			 c = memcmp(x->name, y->name, n);

	if (c != 0)
		return (c);
	return (x->name_len < y->name_len ? -1 : x->name_len > y->name_len);
}

/* Set up for a target. */
void
ingest_init(struct ingest *ig, const struct label *tl, size_t ntl,
    struct derive_target *dt, struct series_pool *pool)
{
	size_t	i;

	memset(ig, 0, sizeof *ig);
	if (pool == NULL)
		ig->own_pool = pool = series_pool_new();
	ig->pool = pool;
	series_cache_init(&ig->raw, pool);
	series_cache_init(&ig->derived, pool);
	series_cache_init(&ig->synth, pool);
	labels_init(&ig->lb);
	buf_init(&ig->enc);
	buf_init(&ig->key);
	ig->tlabels = xcalloc(ntl == 0 ? 1 : ntl, sizeof *ig->tlabels);
	for (i = 0; i < ntl; i++) {
		ig->tlabels[i].name = xstrndup(tl[i].name, tl[i].name_len);
		ig->tlabels[i].name_len = tl[i].name_len;
		ig->tlabels[i].value = xstrndup(tl[i].value, tl[i].value_len);
		ig->tlabels[i].value_len = tl[i].value_len;
	}
	ig->ntlabels = ntl;
	qsort(ig->tlabels, ntl, sizeof *ig->tlabels, ingest_label_cmp);
	buf_init(&ig->tenc);
	ig->splice = xcalloc(ntl == 0 ? 1 : ntl, sizeof *ig->splice);
	for (i = 0; i < ntl; i++) {
		if (ig->tlabels[i].value_len == 0)
			continue;	/* dropped, as labels_finish does */
		ig->splice[ig->nsplice++].len = ig->tenc.len;	/* start */
		rwenc_labels(&ig->tenc, &ig->tlabels[i], 1);
	}
	for (i = 0; i < ig->nsplice; i++) {
		ig->splice[i].p = ig->tenc.data + ig->splice[i].len;
		ig->splice[i].len = (i + 1 < ig->nsplice ?
		    ig->splice[i + 1].len : ig->tenc.len) - ig->splice[i].len;
	}
	ig->dt = dt;
	ig->meta_due = true;
	ig->honor_timestamps = true;
	relabel_lset_init(&ig->rls);
	ig->honored = xcalloc(ntl == 0 ? 1 : ntl, sizeof *ig->honored);
}

/* Take a target's scrape options. */
void
ingest_configure(struct ingest *ig, const struct ingest_opts *o)
{
	relabel_free(ig->mrelabel);
	ig->mrelabel = relabel_len(o->metric_relabel) > 0 ?
	    relabel_ref(o->metric_relabel) : NULL;
	ig->limits = o->limits;
	ig->honor_labels = o->honor_labels;
	ig->honor_timestamps = o->honor_timestamps;
	/*
	 * Relabeling and honor_labels can change or drop target labels per
	 * series, so series then store their whole label set and nothing is
	 * spliced in.
	 */
	if (ig->mrelabel != NULL || ig->honor_labels)
		ig->nsplice = 0;
}

/* The config key of a limit. */
const char *
ingest_limit_name(enum ingest_limit l)
{
	static const char *const names[] = {
		[INGEST_LIMIT_SAMPLE] = "sample_limit",
		[INGEST_LIMIT_LABEL] = "label_limit",
		[INGEST_LIMIT_NAME_LENGTH] = "label_name_length_limit",
		[INGEST_LIMIT_VALUE_LENGTH] = "label_value_length_limit",
		[INGEST_LIMIT_BODY_SIZE] = "body_size_limit"
	};

	return ((unsigned)l < INGEST_NLIMITS ? names[l] : "unknown");
}

/*
 * A series first seen in a page that then failed: never sent. A generation
 * above SERIES_GEN_DEAD, so no scrape ever has it.
 */
#define INGEST_UNSENT	UINT32_MAX

/* Note a series of a failed page seen again (see struct ingest). */
static void
ingest_revive(struct ingest *ig, series_ref r)
{
	if (ig->nrevived == ig->caprevived) {
		ig->caprevived = ig->caprevived == 0 ? 64 :
		    ig->caprevived * 2;
		ig->revived = xreallocarray(ig->revived, ig->caprevived,
		    sizeof *ig->revived);
	}
	ig->revived[ig->nrevived++] = r;
}

/* Append a stale marker for s (a series_stale_fn). */
static void
ingest_stale_cb(void *arg, const struct series *s)
{
	struct ingest	*ig = arg;

	if (s->gen == INGEST_UNSENT || series_lablen(ig->pool, s) == 0)
		return;		/* never sent, or dropped by relabeling */

	ingest_out_add(ig, ig->out, s, rw_stale_nan(), ig->ts);
	ig->stats.stale_markers++;
}

/* Stale-mark and free everything. */
void
ingest_free(struct ingest *ig, int64_t ts, struct ingest_out *out)
{
	size_t	i;

	ig->ts = ts;
	ig->out = out;
	series_cache_clear(&ig->raw, out != NULL ? ingest_stale_cb : NULL, ig);
	series_cache_clear(&ig->derived, out != NULL ? ingest_stale_cb : NULL,
	    ig);
	series_cache_clear(&ig->synth, out != NULL ? ingest_stale_cb : NULL,
	    ig);
	series_pool_free(ig->own_pool);
	for (i = 0; i < ig->ntlabels; i++) {
		free((char *)ig->tlabels[i].name);
		free((char *)ig->tlabels[i].value);
	}
	free(ig->tlabels);
	free(ig->honored);
	free(ig->revived);
	relabel_free(ig->mrelabel);
	relabel_lset_free(&ig->rls);
	free(ig->splice);
	buf_free(&ig->tenc);
	labels_free(&ig->lb);
	buf_free(&ig->enc);
	buf_free(&ig->key);
	free(ig->unesc);
}

/* Make the unescape scratch at least n bytes. */
static char *
ingest_scratch(struct ingest *ig, size_t n)
{
	if (n > ig->unesc_cap) {
		ig->unesc_cap = n < 256 ? 256 : n;
		ig->unesc = xrealloc(ig->unesc, ig->unesc_cap);
	}
	return (ig->unesc);
}

/* The most target labels a series can carry. */
#define INGEST_MAX_TARGET_LABELS	64

/* Tell whether l is the j-th non-empty target label (by name). */
static bool
ingest_splice_name(const struct ingest *ig, size_t j, const struct label *l)
{
	size_t	i, k = 0;

	for (i = 0; i < ig->ntlabels; i++) {
		if (ig->tlabels[i].value_len == 0)
			continue;
		if (k++ == j)
			return (ig->tlabels[i].name_len == l->name_len &&
			    memcmp(ig->tlabels[i].name, l->name,
			    l->name_len) == 0);
	}
	return (false);
}

/*
 * Encode a final label set (sorted) into ig->enc: all but the spliced
 * target labels, then where each of those goes.
 */
static bool
ingest_encode(struct ingest *ig, const struct label *v, size_t n, char *err,
    size_t errlen)
{
	const struct label	*l;
	uint16_t		 at[INGEST_MAX_TARGET_LABELS];
	size_t			 i, j = 0;

	if (ig->nsplice > INGEST_MAX_TARGET_LABELS) {
		snprintf(err, errlen, "more than %d target labels",
		    INGEST_MAX_TARGET_LABELS);
		return (false);
	}
	buf_reset(&ig->enc);
	/*
	 * Both lists are sorted by name, and after labels_finish no scraped
	 * label shares a target label's name.
	 */
	for (i = 0; i < n; i++) {
		l = &v[i];
		if (j < ig->nsplice && ingest_splice_name(ig, j, l)) {
			at[j++] = (uint16_t)ig->enc.len;
			continue;
		}
		rwenc_labels(&ig->enc, l, 1);
	}
	if (j != ig->nsplice) {
		snprintf(err, errlen, "target labels missing from a series");
		return (false);
	}
	if (ig->enc.len + 2 * j > SERIES_MAX_LEN) {
		snprintf(err, errlen, "labels longer than %u bytes encoded",
		    (unsigned)SERIES_MAX_LEN);
		return (false);
	}
	buf_append(&ig->enc, at, 2 * j);
	return (true);
}

/* Add the target's labels to ig->lb and encode the set into ig->enc. */
static bool
ingest_encode_labels(struct ingest *ig, char *err, size_t errlen)
{
	if (!labels_finish(&ig->lb, ig->tlabels, ig->ntlabels, err, errlen))
		return (false);
	return (ingest_encode(ig, ig->lb.v, ig->lb.n, err, errlen));
}

/* Tell whether a scraped label has the name of a target label. */
static bool
ingest_is_target_label(const struct ingest *ig, const struct pt_label *l)
{
	size_t	i;

	for (i = 0; i < ig->ntlabels; i++) {
		if (ig->tlabels[i].name_len == l->name.len &&
		    memcmp(ig->tlabels[i].name, l->name.p, l->name.len) == 0)
			return (true);
	}
	return (false);
}

/*
 * honor_labels: the target labels the page does not have itself (a label
 * on the page with an empty value counts as had, as in Prometheus), into
 * ig->honored. Returns how many.
 */
static size_t
ingest_honor(struct ingest *ig, const struct pt_item *it)
{
	struct pt_label	 l;
	size_t		 i, n = 0, pos;
	bool		 had;

	for (i = 0; i < ig->ntlabels; i++) {
		pos = 0;
		had = false;
		while (!had && pt_label_next(it->labels, &pos, &l))
			had = l.name.len == ig->tlabels[i].name_len &&
			    memcmp(l.name.p, ig->tlabels[i].name,
			    l.name.len) == 0;
		if (!had)
			ig->honored[n++] = ig->tlabels[i];
	}
	return (n);
}

/* Quote at most 50 bytes of s as Go's %.50q would (near enough). */
static void
ingest_quote50(const char *s, size_t len, char *dst, size_t dlen)
{
	size_t	i, n = 0;

	if (len > 50)
		len = 50;
	n += (size_t)snprintf(dst, dlen, "\"");
	for (i = 0; i < len && n + 6 < dlen; i++) {
		if (s[i] == '"' || s[i] == '\\')
			n += (size_t)snprintf(dst + n, dlen - n, "\\%c", s[i]);
		else if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			n += (size_t)snprintf(dst + n, dlen - n, "\\x%02x",
			    (unsigned char)s[i]);
		else
			dst[n++] = s[i];
	}
	snprintf(dst + n, dlen - n, "\"");
}

/*
 * Check a final label set against the label limits, with Prometheus's
 * messages (verifyLabelLimits); false with the reason in err.
 */
static bool
ingest_label_limits(struct ingest *ig, const struct label *v, size_t n,
    char *err, size_t errlen)
{
	const struct config_limits	*lim = &ig->limits;
	const char			*met = "";
	size_t				 i, mlen = 0;
	char				 q[320];

	for (i = 0; i < n; i++) {
		if (v[i].name_len == INGEST_NAME_LEN &&
		    memcmp(v[i].name, INGEST_NAME, INGEST_NAME_LEN) == 0) {
			met = v[i].value;
			mlen = v[i].value_len > 50 ? 50 : v[i].value_len;
		}
	}
	if (lim->label_limit > 0 && n > lim->label_limit) {
		ig->limit_hits[INGEST_LIMIT_LABEL]++;
		snprintf(err, errlen, "label_limit exceeded (metric: %.*s, "
		    "number of labels: %zu, limit: %" PRIu64 ")", (int)mlen,
		    met, n, lim->label_limit);
		return (false);
	}
	for (i = 0; i < n; i++) {
		if (lim->label_name_length_limit > 0 &&
		    v[i].name_len > lim->label_name_length_limit) {
			ig->limit_hits[INGEST_LIMIT_NAME_LENGTH]++;
			snprintf(err, errlen, "label_name_length_limit exceeded "
			    "(metric: %.*s, label name: %.*s, length: %zu, "
			    "limit: %" PRIu64 ")", (int)mlen, met,
			    (int)(v[i].name_len > 50 ? 50 : v[i].name_len),
			    v[i].name, v[i].name_len,
			    lim->label_name_length_limit);
			return (false);
		}
		if (lim->label_value_length_limit > 0 &&
		    v[i].value_len > lim->label_value_length_limit) {
			ig->limit_hits[INGEST_LIMIT_VALUE_LENGTH]++;
			ingest_quote50(v[i].value, v[i].value_len, q, sizeof q);
			snprintf(err, errlen, "label_value_length_limit "
			    "exceeded (metric: %.*s, label name: %.*s, value: "
			    "%s, length: %zu, limit: %" PRIu64 ")", (int)mlen,
			    met, (int)(v[i].name_len > 50 ? 50 :
			    v[i].name_len), v[i].name, q, v[i].value_len,
			    lim->label_value_length_limit);
			return (false);
		}
	}
	return (true);
}

/*
 * Build, relabel, check, encode and cache the label set of a sample seen
 * the first time. A series metric relabeling drops is cached with no
 * labels (lablen 0), and never sent.
 */
static struct series *
ingest_new_series(struct ingest *ig, const struct pt_item *it, uint64_t hash,
    char *err, size_t errlen)
{
	const struct label	*tl = ig->tlabels, *v;
	struct pt_label		 l;
	struct series		*s;
	size_t			 pos = 0, n, ntl = ig->ntlabels, i;
	char			*dst;

	labels_reset(&ig->lb);
	labels_add(&ig->lb, INGEST_NAME, INGEST_NAME_LEN, it->name.p,
	    it->name.len);
	while (pt_label_next(it->labels, &pos, &l)) {
		if (ig->override && ingest_is_target_label(ig, &l))
			continue;
		if (l.escaped) {
			dst = ingest_scratch(ig, l.value.len);
			n = pt_unescape_value(l.value, dst);
			labels_add(&ig->lb, l.name.p, l.name.len, dst, n);
		} else
			labels_add(&ig->lb, l.name.p, l.name.len, l.value.p,
			    l.value.len);
	}
	if (ig->honor_labels) {
		tl = ig->honored;
		ntl = ingest_honor(ig, it);
	}
	if (!labels_finish(&ig->lb, tl, ntl, err, errlen))
		return (NULL);
	v = ig->lb.v;
	n = ig->lb.n;
	if (ig->mrelabel != NULL) {
		relabel_lset_reset(&ig->rls);
		for (i = 0; i < n; i++)
			relabel_lset_add(&ig->rls, v[i].name, v[i].name_len,
			    v[i].value, v[i].value_len);
		if (!relabel_process(ig->mrelabel, &ig->rls) ||
		    ig->rls.n == 0) {
			s = series_insert(&ig->raw, it->series.p,
			    it->series.len, hash, "", 0);
			if (s == NULL)
				snprintf(err, errlen, "series longer than %u "
				    "bytes", (unsigned)SERIES_MAX_LEN);
			return (s);
		}
		v = ig->rls.v;
		n = ig->rls.n;
		if (relabel_lset_get(&ig->rls, INGEST_NAME, INGEST_NAME_LEN) ==
		    NULL) {
			snprintf(err, errlen, "missing metric name (__name__ "
			    "label)");
			return (NULL);
		}
	}
	if (!ingest_label_limits(ig, v, n, err, errlen) ||
	    !ingest_encode(ig, v, n, err, errlen))
		return (NULL);
	s = series_insert(&ig->raw, it->series.p, it->series.len, hash,
	    ig->enc.data, ig->enc.len);
	if (s == NULL) {
		snprintf(err, errlen, "series longer than %u bytes",
		    (unsigned)SERIES_MAX_LEN);
		return (NULL);
	}
	return (s);
}

/* Metadata of the family being read, flushed when the family changes. */
struct ingest_meta {
	struct pt_str	 name;
	struct pt_str	 help;
	enum pt_type	 type;
	bool		 have;
};

/* Append pending metadata to out. */
static void
ingest_meta_flush(struct ingest *ig, struct ingest_meta *m)
{
	char	*dst;
	size_t	 n;

	if (!m->have || !ig->meta_due)
		goto done;
	dst = ingest_scratch(ig, m->help.len + 1);
	n = pt_unescape_help(m->help, dst);
	rwenc_metadata(&ig->out->meta, m->type, m->name.p, m->name.len, dst,
	    n, NULL, 0);
	ig->out->nmeta++;
done:
	memset(m, 0, sizeof *m);
}

/* Note a HELP or TYPE line. */
static void
ingest_meta_note(struct ingest *ig, struct ingest_meta *m,
    const struct pt_item *it)
{
	if (m->have && (m->name.len != it->name.len ||
	    memcmp(m->name.p, it->name.p, it->name.len) != 0))
		ingest_meta_flush(ig, m);
	m->name = it->name;
	m->have = true;
	if (it->kind == PT_HELP)
		m->help = it->text;
	else if (it->kind == PT_TYPE)
		m->type = it->type;
}

/* Roll out back to a saved size. */
static void
ingest_out_truncate(struct ingest_out *o, size_t n, size_t reclen,
    size_t nmeta, size_t metalen)
{
	o->n = n;
	o->rec.len = reclen;
	o->nmeta = nmeta;
	o->meta.len = metalen;
}

/* Take one derived series from derive_end (a derive_emit_fn). */
static void
ingest_emit_cb(void *arg, const char *name, const struct label *l, size_t nl,
    double v, int64_t ts)
{
	struct ingest	*ig = arg;

	ingest_derived(ig, name, l, nl, v, ts, ig->out);
}

/*
 * Hint the parser at the series after the last one found: entries are kept
 * in the order their page had, and pages keep their order from scrape to
 * scrape, so the next line is usually that one and is then matched with one
 * memcmp, no label parsing and no hashing. After a line that is not, the
 * prediction picks up again from the series that line was.
 */
static struct series *
ingest_predict(struct ingest *ig, struct promtext *p, series_ref last)
{
	struct series	*s;

	if (last == 0)
		s = series_after(&ig->raw, 0);
	else
		s = series_next(&ig->raw, series_at(&ig->raw, last));
	if (s != NULL)
		promtext_hint(p, series_key(ig->pool, s),
		    series_keylen(ig->pool, s));
	return (s);
}

/* Find the series of a sample: the predicted one, else by hash. */
static struct series *
ingest_find(struct ingest *ig, const struct pt_item *it, struct series *pred,
    uint64_t *hash)
{
	if (it->hinted) {
		*hash = pred->hash;
		return (pred);
	}
	*hash = series_hash(it->series.p, it->series.len);
	return (series_lookup(&ig->raw, it->series.p, it->series.len, *hash));
}

/* Ingest a page. */
bool
ingest_page(struct ingest *ig, const char *body, size_t len,
    enum pt_format fmt, int64_t ts, struct ingest_out *out, char *err,
    size_t errlen)
{
	struct promtext		 p;
	struct pt_item		 it;
	struct ingest_meta	 m;
	struct series		*s, *pred;
	enum pt_kind		 k;
	series_ref		 last = 0;
	uint64_t		 hash;
	size_t			 n0 = out->n, rec0 = out->rec.len;
	size_t			 nmeta0 = out->nmeta, meta0 = out->meta.len;
	size_t			 used0 = ig->raw.used, i;
	uint64_t		 slimit = ig->limits.sample_limit;
	bool			 over = false, isnew;
	char			 lerr[512];

	ig->ts = ts;
	ig->out = out;
	memset(&ig->stats, 0, sizeof ig->stats);
	memset(&m, 0, sizeof m);
	ig->nrevived = 0;
	ig->meta_due = ig->meta_ts == 0 ||
	    ts - ig->meta_ts >= INGEST_META_EVERY_MS;
	series_cache_begin(&ig->raw);
	if (ig->dt != NULL)
		derive_begin(ig->dt, ts);
	promtext_init(&p, body, len, fmt);
	/* Prometheus reads at most the limit and fails when it got that. */
	if (ig->limits.body_size_limit > 0 &&
	    len >= ig->limits.body_size_limit) {
		ig->limit_hits[INGEST_LIMIT_BODY_SIZE]++;
		snprintf(err, errlen, "body size limit exceeded");
		goto fail;
	}
	for (;;) {
		pred = ingest_predict(ig, &p, last);
		k = promtext_next(&p, &it, err, errlen);
		if (k == PT_EOF)
			break;
		if (k == PT_ERROR)
			goto fail;
		if (k != PT_SAMPLE) {
			ingest_meta_note(ig, &m, &it);
			continue;
		}
		/* Every sample line counts, as Prometheus's total does. */
		ig->stats.samples++;
		isnew = false;
		s = ingest_find(ig, &it, pred, &hash);
		if (s == NULL) {
			s = ingest_new_series(ig, &it, hash, lerr, sizeof lerr);
			if (s == NULL) {
				snprintf(err, errlen, "line %zu: %s", it.line,
				    lerr);
				goto fail;
			}
			isnew = true;
		} else if (s->gen == ig->raw.gen) {
			/* Counted against the limit, as Prometheus does. */
			ig->stats.duplicates++;
			if (series_lablen(ig->pool, s) > 0 &&
			    ++ig->stats.samples_post > slimit &&
			    slimit > 0)
				over = true;
			continue;
		}
		last = series_ref_of(&ig->raw, s);
		if (s->gen == INGEST_UNSENT)
			ingest_revive(ig, last);
		s->gen = ig->raw.gen;
		/* Derivations see the engine's own series, dropped or not. */
		if (ig->dt != NULL)
			derive_sample(ig->dt, &it);
		if (series_lablen(ig->pool, s) == 0)
			continue;	/* dropped by metric relabeling */
		/* Over the limit: count the rest, send nothing (Prometheus). */
		ig->stats.samples_post++;
		if (slimit > 0 && ig->stats.samples_post > slimit) {
			over = true;
			continue;
		}
		if (isnew)
			ig->stats.series_added++;
		ingest_out_add(ig, out, s, it.value,
		    it.has_ts && ig->honor_timestamps ? it.ts_ms : ts);
	}
	if (over) {
		ig->limit_hits[INGEST_LIMIT_SAMPLE]++;
		snprintf(err, errlen, "sample limit exceeded");
		goto fail;
	}
	ingest_meta_flush(ig, &m);
	if (ig->meta_due)
		ig->meta_ts = ts;
	series_sweep(&ig->raw, ingest_stale_cb, ig);
	ig->raw_ok_n = ig->raw.n;
	if (ig->dt != NULL) {
		ingest_derived_begin(ig);
		derive_end(ig->dt, ingest_emit_cb, ig);
		ingest_derived_sweep(ig, ts, out);
	}
	return (true);

fail:
	promtext_free(&p);	/* OpenMetrics state, when parsing stopped early */
	ingest_out_truncate(out, n0, rec0, nmeta0, meta0);
	/* Series new in this page (added after used0) were never sent. */
	for (s = series_after(&ig->raw, used0); s != NULL;
	    s = series_next(&ig->raw, s))
		s->gen = INGEST_UNSENT;
	for (i = 0; i < ig->nrevived; i++)
		series_at(&ig->raw, ig->revived[i])->gen = INGEST_UNSENT;
	if (ig->dt != NULL)
		derive_abort(ig->dt);
	ingest_failed(ig, ts, out);
	return (false);
}

/*
 * Stale-mark everything a failed scrape of this target had produced. The
 * scraped series stay cached, unsent, as in Prometheus's scrape cache: a
 * series a failed page brought is not new again in the next one (its
 * scrape_series_added counts it once); like Prometheus, the cache is
 * flushed when failed pages grew it past twice its last good size + 1000.
 */
void
ingest_failed(struct ingest *ig, int64_t ts, struct ingest_out *out)
{
	struct series	*s;

	ig->ts = ts;
	ig->out = out;
	if (ig->raw.n > 2 * ig->raw_ok_n + 1000)
		series_cache_clear(&ig->raw, ingest_stale_cb, ig);
	for (s = series_after(&ig->raw, 0); s != NULL;
	    s = series_next(&ig->raw, s)) {
		ingest_stale_cb(ig, s);
		s->gen = INGEST_UNSENT;
	}
	series_cache_clear(&ig->derived, ingest_stale_cb, ig);
}

/* Find or add a series in cache c keyed by name and labels. */
static struct series *
ingest_keyed(struct ingest *ig, struct series_cache *c, const char *name,
    const struct label *l, size_t nl)
{
	struct series	*s;
	uint64_t	 hash;
	size_t		 i;
	char		 err[256];

	buf_reset(&ig->key);
	buf_append(&ig->key, name, strlen(name));
	for (i = 0; i < nl; i++) {
		buf_putc(&ig->key, '\0');
		buf_append(&ig->key, l[i].name, l[i].name_len);
		buf_putc(&ig->key, '\0');
		buf_append(&ig->key, l[i].value, l[i].value_len);
	}
	hash = series_hash(ig->key.data, ig->key.len);
	s = series_lookup(c, ig->key.data, ig->key.len, hash);
	if (s != NULL)
		return (s);
	labels_reset(&ig->lb);
	labels_add(&ig->lb, INGEST_NAME, INGEST_NAME_LEN, name, strlen(name));
	for (i = 0; i < nl; i++)
		labels_add(&ig->lb, l[i].name, l[i].name_len, l[i].value,
		    l[i].value_len);
	if (!ingest_encode_labels(ig, err, sizeof err))
		return (NULL);
	return (series_insert(c, ig->key.data, ig->key.len, hash,
	    ig->enc.data, ig->enc.len));
}

/* Append a synthetic series sample. */
void
ingest_synthetic(struct ingest *ig, const char *name, double v, int64_t ts,
    struct ingest_out *out)
{
	struct series	*s;

	s = ingest_keyed(ig, &ig->synth, name, NULL, 0);
	if (s != NULL)
		ingest_out_add(ig, out, s, v, ts);
}

/* Start a round of derived series. */
void
ingest_derived_begin(struct ingest *ig)
{
	series_cache_begin(&ig->derived);
}

/* Append a derived series as a text exposition line to b. */
static void
ingest_derived_text(struct buf *b, const char *name,
    const struct label *l, size_t nl, double v)
{
	size_t		 i, j;
	char		 c;

	buf_append(b, name, strlen(name));
	for (i = 0; i < nl; i++) {
		buf_putc(b, i == 0 ? '{' : ',');
		buf_append(b, l[i].name, l[i].name_len);
		buf_append(b, "=\"", 2);
		for (j = 0; j < l[i].value_len; j++) {
			c = l[i].value[j];
			if (c == '\\' || c == '"')
				buf_putc(b, '\\');
			if (c == '\n') {
				buf_append(b, "\\n", 2);
				continue;
			}
			buf_putc(b, (uint8_t)c);
		}
		buf_putc(b, '"');
	}
	if (nl > 0)
		buf_putc(b, '}');
	buf_putc(b, ' ');
	buf_put_float(b, v);
	buf_putc(b, '\n');
}

/* Append a derived series sample. */
void
ingest_derived(struct ingest *ig, const char *name, const struct label *l,
    size_t nl, double v, int64_t ts, struct ingest_out *out)
{
	struct series	*s;

	s = ingest_keyed(ig, &ig->derived, name, l, nl);
	if (s == NULL)
		return;
	s->gen = ig->derived.gen;
	ingest_out_add(ig, out, s, v, ts);
	if (out->text != NULL)
		ingest_derived_text(out->text, name, l, nl, v);
}

/* Stale-mark derived series not emitted in this round. */
void
ingest_derived_sweep(struct ingest *ig, int64_t ts, struct ingest_out *out)
{
	ig->ts = ts;
	ig->out = out;
	series_sweep(&ig->derived, ingest_stale_cb, ig);
}

/* Count cached series. */
size_t
ingest_series(const struct ingest *ig)
{
	return (ig->raw.n + ig->derived.n + ig->synth.n);
}
