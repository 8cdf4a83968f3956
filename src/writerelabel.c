/*
 * writerelabel: records are TimeSeries messages as rwenc writes them, the
 * Label fields first and then the Sample. The label bytes of a record are
 * the cache key; the entry holds the rewritten label bytes, or none when
 * the rules drop the series. A record is then re-framed around the new
 * labels and the unchanged sample bytes. The keys carry the target labels,
 * so no two targets share one: the cache keeps a private pool.
 */
#include <stdlib.h>
#include <string.h>

#include "rwenc.h"
#include "series.h"
#include "writerelabel.h"
#include "xmalloc.h"

/* Field 1, length-delimited: TimeSeries.labels, Label.name. */
#define RW_TAG_LEN_LABEL	0x0a

/* How long a cached series may go unused before it is forgotten. */
#define WRITERELABEL_AGE_MS	(10 * 60 * 1000)

struct writerelabel {
	struct label		*ext;		/* sorted by nothing; owned */
	size_t			 next;
	struct relabel		*rules;		/* a ref; NULL: none */
	struct series_pool	*pool;		/* the cache's */
	struct series_cache	 cache;
	struct relabel_lset	 ls;
	struct buf		 enc;
	int64_t			 gen_ms;	/* when the generation began */
	uint64_t		 dropped;
};

/* Create; NULL when there is nothing to do. */
struct writerelabel *
writerelabel_new(const struct config_kv *ext, size_t next,
    struct relabel *rules)
{
	struct writerelabel	*w;
	size_t			 i;

	if (next == 0 && relabel_len(rules) == 0)
		return (NULL);
	w = xcalloc(1, sizeof *w);
	w->ext = xcalloc(next + 1, sizeof *w->ext);
	for (i = 0; i < next; i++) {
		w->ext[i].name = xstrdup(ext[i].name);
		w->ext[i].name_len = strlen(ext[i].name);
		w->ext[i].value = xstrdup(ext[i].value);
		w->ext[i].value_len = strlen(ext[i].value);
	}
	w->next = next;
	w->rules = relabel_len(rules) > 0 ? relabel_ref(rules) : NULL;
	w->pool = series_pool_new();
	series_cache_init(&w->cache, w->pool);
	relabel_lset_init(&w->ls);
	buf_init(&w->enc);
	return (w);
}

/* Free; NULL is a no-op. */
void
writerelabel_free(struct writerelabel *w)
{
	size_t	i;

	if (w == NULL)
		return;
	for (i = 0; i < w->next; i++) {
		free((char *)w->ext[i].name);
		free((char *)w->ext[i].value);
	}
	free(w->ext);
	relabel_free(w->rules);
	series_cache_clear(&w->cache, NULL, NULL);
	series_pool_free(w->pool);
	relabel_lset_free(&w->ls);
	buf_free(&w->enc);
	free(w);
}

/* Read a varint at *p (below end); false if it is cut short. */
static bool
wr_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	unsigned	shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		*v |= (uint64_t)(**p & 0x7f) << shift;
		if ((*(*p)++ & 0x80) == 0)
			return (true);
		shift += 7;
	}
	return (false);
}

/* Read one length-delimited field at *p: its tag and bytes. */
static bool
wr_field(const uint8_t **p, const uint8_t *end, uint8_t *tag,
    const uint8_t **s, size_t *len)
{
	uint64_t	n;

	if (*p >= end)
		return (false);
	*tag = *(*p)++;
	if (!wr_varint(p, end, &n) || n > (uint64_t)(end - *p))
		return (false);
	*s = *p;
	*len = (size_t)n;
	*p += n;
	return (true);
}

/* Decode encoded labels into w->ls (borrowing); false if malformed. */
static bool
wr_decode(struct writerelabel *w, const uint8_t *p, const uint8_t *end)
{
	const uint8_t	*body, *q, *s, *name, *value;
	size_t		 blen, len, nlen, vlen;
	uint8_t		 tag, t2;

	relabel_lset_reset(&w->ls);
	while (p < end) {
		if (!wr_field(&p, end, &tag, &body, &blen) ||
		    tag != RW_TAG_LEN_LABEL)
			return (false);
		name = value = (const uint8_t *)"";
		nlen = vlen = 0;
		for (q = body; q < body + blen;) {
			if (!wr_field(&q, body + blen, &t2, &s, &len))
				return (false);
			if (t2 == RW_TAG_LEN_LABEL) {
				name = s;
				nlen = len;
			} else {
				value = s;
				vlen = len;
			}
		}
		relabel_lset_add(&w->ls, (const char *)name, nlen,
		    (const char *)value, vlen);
	}
	return (true);
}

/* The rewritten labels of a label set: a cached entry (lablen 0: drop). */
static const struct series *
wr_lookup(struct writerelabel *w, const uint8_t *lab, size_t len)
{
	struct series	*s;
	uint64_t	 h;
	size_t		 i;
	bool		 keep;

	h = series_hash(lab, len);
	s = series_lookup(&w->cache, lab, len, h);
	if (s != NULL) {
		s->gen = w->cache.gen;
		return (s);
	}
	buf_reset(&w->enc);
	if (wr_decode(w, lab, lab + len)) {
		for (i = 0; i < w->next; i++) {
			if (relabel_lset_get(&w->ls, w->ext[i].name,
			    w->ext[i].name_len) == NULL)
				relabel_lset_add(&w->ls, w->ext[i].name,
				    w->ext[i].name_len, w->ext[i].value,
				    w->ext[i].value_len);
		}
		keep = relabel_process(w->rules, &w->ls) && w->ls.n > 0;
		if (keep)
			rwenc_labels(&w->enc, w->ls.v, w->ls.n);
	} else
		buf_append(&w->enc, lab, len);	/* not ours: as it came */
	if (w->enc.len > SERIES_MAX_LEN)
		w->enc.len = 0;			/* too long to send: drop */
	s = series_insert(&w->cache, lab, len, h, w->enc.len > 0 ?
	    w->enc.data : (const uint8_t *)"", w->enc.len);
	if (s != NULL)
		s->gen = w->cache.gen;
	return (s);
}

/* Append one record (new labels, old sample bytes) to out. */
static void
wr_add(struct ingest_out *out, const uint8_t *lab, size_t lablen,
    const uint8_t *rest, size_t restlen, uint64_t hash)
{
	if (out->n == out->cap) {
		out->cap = out->cap == 0 ? 1024 : out->cap * 2;
		out->hash = xreallocarray(out->hash, out->cap,
		    sizeof *out->hash);
		out->end = xreallocarray(out->end, out->cap, sizeof *out->end);
	}
	buf_putc(&out->rec, RW_TAG_LEN_LABEL);
	rwenc_varint(&out->rec, lablen + restlen);
	buf_append(&out->rec, lab, lablen);
	buf_append(&out->rec, rest, restlen);
	out->hash[out->n] = hash;
	out->end[out->n++] = out->rec.len;
}

/* Rewrite in's records into out. */
void
writerelabel_apply(struct writerelabel *w, const struct ingest_out *in,
    struct ingest_out *out, int64_t now_ms)
{
	const struct series	*s;
	const uint8_t		*p, *end, *body, *q, *f, *s0;
	size_t			 i, start, blen, flen;
	uint8_t			 tag;

	ingest_out_reset(out);
	if (w->gen_ms == 0 || now_ms - w->gen_ms >= WRITERELABEL_AGE_MS) {
		if (w->gen_ms != 0)
			series_sweep(&w->cache, NULL, NULL);
		series_cache_begin(&w->cache);
		w->gen_ms = now_ms != 0 ? now_ms : 1;
	}
	for (i = 0; i < in->n; i++) {
		start = i == 0 ? 0 : in->end[i - 1];
		p = in->rec.data + start;
		end = in->rec.data + in->end[i];
		if (!wr_field(&p, end, &tag, &body, &blen))
			continue;
		/* The label fields, up to the first other field. */
		for (q = body; q < body + blen;) {
			s0 = q;
			if (!wr_field(&q, body + blen, &tag, &f, &flen))
				break;
			if (tag != RW_TAG_LEN_LABEL) {
				q = s0;
				break;
			}
		}
		s = wr_lookup(w, body, (size_t)(q - body));
		if (s == NULL || series_lablen(w->pool, s) == 0) {
			w->dropped++;
			continue;
		}
		wr_add(out, series_labels(w->pool, s),
		    series_lablen(w->pool, s), q, (size_t)(body + blen - q),
		    in->hash[i]);
	}
	if (out->n > 0) {
		out->min_ts = in->min_ts;
		out->max_ts = in->max_ts;
	}
	buf_append(&out->meta, in->meta.data, in->meta.len);
	out->nmeta = in->nmeta;
}

/* Samples dropped by the rules so far. */
uint64_t
writerelabel_dropped(const struct writerelabel *w)
{
	return (w == NULL ? 0 : w->dropped);
}
