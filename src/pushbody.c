/*
 * pushbody: a pushed body split into metric families (see pushbody.h). The
 * lines are re-rendered (TYPE and HELP canonical, values as the exposition
 * format writes them) into one text arena; each family keeps a list of its
 * lines there, so rendering the group puts every family's lines together
 * without copying per family. Families are found by name in an open-
 * addressing table; series, while a body is parsed, in a second one keyed
 * by a hash of the name and the label set that does not depend on the
 * order of the labels.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "promtext.h"
#include "pushbody.h"
#include "rwenc.h"
#include "series.h"
#include "xmalloc.h"

/* One rendered line in the arena, in its family's list. */
struct pb_line {
	size_t		 off;
	uint32_t	 len;
	uint32_t	 next;		/* index + 1 of the next; 0: last */
};

struct pb_family {
	size_t		 name_off;	/* in the arena */
	size_t		 name_len;
	uint64_t	 hash;
	uint32_t	 first;		/* line index + 1; 0: none */
	uint32_t	 last;
	size_t		 nsamples;
	bool		 has_type;
	bool		 has_help;
};

/* A series seen in the body being parsed. */
struct pb_series {
	uint64_t	 hash;
	uint32_t	 line;		/* index + 1 of its line; 0: free */
	uint32_t	 len;		/* series bytes at the line's start */
};

struct pushbody {
	struct buf		 text;
	struct pb_line		*line;
	size_t			 nline;
	size_t			 line_cap;
	struct pb_family	*fam;
	size_t			 nfam;
	size_t			 fam_cap;
	uint32_t		*fslot;		/* family index + 1; 0: free */
	size_t			 nfslot;
	struct pb_series	*sslot;
	size_t			 nsslot;
	size_t			 nseries;
	size_t			 nsamples;
	struct buf		 scratch;	/* unescaped label values */
};

/* Make an empty pushbody. */
struct pushbody *
pushbody_new(void)
{
	struct pushbody	*b;

	b = xcalloc(1, sizeof *b);
	buf_init(&b->text);
	buf_init(&b->scratch);
	return (b);
}

/* Forget the series table (needed only while a body is parsed). */
static void
pb_series_free(struct pushbody *b)
{
	free(b->sslot);
	b->sslot = NULL;
	b->nsslot = b->nseries = 0;
}

/* Empty a pushbody, keeping nothing. */
static void
pb_clear(struct pushbody *b)
{
	buf_free(&b->text);
	buf_free(&b->scratch);
	free(b->line);
	free(b->fam);
	free(b->fslot);
	pb_series_free(b);
	memset(b, 0, sizeof *b);
}

/* Free a pushbody; NULL is a no-op. */
void
pushbody_free(struct pushbody *b)
{
	if (b == NULL)
		return;
	pb_clear(b);
	free(b);
}

/* Mix a 64-bit value (splitmix64's finaliser). */
static uint64_t
pb_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (x);
}

/* Find a family by name; its slot in *slot (free if absent). */
static struct pb_family *
pb_find(const struct pushbody *b, const char *name, size_t len,
    uint64_t hash, size_t *slot)
{
	struct pb_family	*f;
	size_t			 i, mask;

	if (b->nfslot == 0)
		return (NULL);
	mask = b->nfslot - 1;
	for (i = hash & mask; b->fslot[i] != 0; i = (i + 1) & mask) {
		f = &b->fam[b->fslot[i] - 1];
		if (f->hash == hash && f->name_len == len &&
		    memcmp(b->text.data + f->name_off, name, len) == 0) {
			*slot = i;
			return (f);
		}
	}
	*slot = i;
	return (NULL);
}

/* Double the family table (or make it) and re-insert every family. */
static void
pb_grow_families(struct pushbody *b)
{
	size_t	n, i, j, mask;

	n = b->nfslot == 0 ? 64 : b->nfslot * 2;
	free(b->fslot);
	b->fslot = xcalloc(n, sizeof *b->fslot);
	b->nfslot = n;
	mask = n - 1;
	for (i = 0; i < b->nfam; i++) {
		for (j = b->fam[i].hash & mask; b->fslot[j] != 0;
		    j = (j + 1) & mask)
			continue;
		b->fslot[j] = (uint32_t)(i + 1);
	}
}

/* Find or add the family of a name; NULL if adding it passes max. */
static struct pb_family *
pb_family(struct pushbody *b, struct pt_str name, size_t max)
{
	struct pb_family	*f;
	uint64_t		 hash = series_hash(name.p, name.len);
	size_t			 slot;

	f = pb_find(b, name.p, name.len, hash, &slot);
	if (f != NULL)
		return (f);
	if (b->nfam >= max)
		return (NULL);
	if ((b->nfam + 1) * 2 > b->nfslot) {
		pb_grow_families(b);
		pb_find(b, name.p, name.len, hash, &slot);
	}
	if (b->nfam == b->fam_cap) {
		b->fam_cap = b->fam_cap == 0 ? 16 : b->fam_cap * 2;
		b->fam = xreallocarray(b->fam, b->fam_cap, sizeof *b->fam);
	}
	f = &b->fam[b->nfam++];
	memset(f, 0, sizeof *f);
	f->hash = hash;
	f->name_off = b->text.len;
	f->name_len = name.len;
	buf_append(&b->text, name.p, name.len);
	b->fslot[slot] = (uint32_t)b->nfam;
	return (f);
}

/* Tell whether a family of this name is in the pushbody. */
bool
pushbody_has(const struct pushbody *b, const char *name, size_t len)
{
	size_t	slot;

	return (pb_find(b, name, len, series_hash(name, len), &slot) != NULL);
}

/* Render an item as a line of the text format into the arena. */
static void
pb_render_item(struct buf *t, const struct pt_item *it)
{
	size_t	len = it->text.len;

	switch (it->kind) {
	case PT_HELP:
		/*
		 * Bytes, not %s: the text may hold a NUL. "\r\n" ends a
		 * line, so a '\r' cannot end the text itself.
		 */
		while (len > 0 && it->text.p[len - 1] == '\r')
			len--;
		buf_append(t, "# HELP ", 7);
		buf_append(t, it->name.p, it->name.len);
		buf_putc(t, ' ');
		buf_append(t, it->text.p, len);
		buf_putc(t, '\n');
		break;
	case PT_TYPE:
		buf_printf(t, "# TYPE %.*s %s\n", (int)it->name.len,
		    it->name.p, promtext_text_type(it->type));
		break;
	case PT_SAMPLE:
		buf_append(t, it->series.p, it->series.len);
		buf_putc(t, ' ');
		buf_put_float(t, it->value);
		buf_putc(t, '\n');
		break;
	default:
		break;
	}
}

/* Append an item's line to a family; its line index + 1. */
static uint32_t
pb_add_line(struct pushbody *b, struct pb_family *f, const struct pt_item *it)
{
	struct pb_line	*l;

	if (b->nline == b->line_cap) {
		b->line_cap = b->line_cap == 0 ? 64 : b->line_cap * 2;
		b->line = xreallocarray(b->line, b->line_cap, sizeof *b->line);
	}
	l = &b->line[b->nline++];
	l->off = b->text.len;
	pb_render_item(&b->text, it);
	l->len = (uint32_t)(b->text.len - l->off);
	l->next = 0;
	if (f->last != 0)
		b->line[f->last - 1].next = (uint32_t)b->nline;
	else
		f->first = (uint32_t)b->nline;
	f->last = (uint32_t)b->nline;
	return ((uint32_t)b->nline);
}

/*
 * Give a family that has no TYPE line an explicit "# TYPE <name> untyped"
 * before its first sample. The parser gives a sample to the family of the
 * last TYPE line when its name is that family's name or the name plus a
 * suffix of its type (_total, _bucket, ...), else to its own name. Once
 * families are rendered one after the other, the last TYPE line before an
 * untyped family is another family's, which could claim its samples when
 * the text is parsed again (h_sum after "# TYPE h summary"): its own TYPE
 * line keeps the family it had, so a rendered push parses back the same.
 */
static void
pb_add_untyped(struct pushbody *b, struct pb_family *f,
    const struct pt_item *sample)
{
	struct pt_item	t;

	memset(&t, 0, sizeof t);
	t.kind = PT_TYPE;
	t.name = sample->family;
	t.type = PT_UNTYPED;
	pb_add_line(b, f, &t);
	f->has_type = true;
}

/* Bytes one label takes in a TimeSeries (rwenc_labels' layout). */
static size_t
pb_label_len(size_t nlen, size_t vlen)
{
	size_t	inner;

	inner = 1 + rwenc_varint_len(nlen) + nlen + 1 +
	    rwenc_varint_len(vlen) + vlen;
	return (1 + rwenc_varint_len(inner) + inner);
}

/* Unescape a label value into the scratch buffer. */
static struct pt_str
pb_unescape(struct buf *scratch, const struct pt_label *l)
{
	struct pt_str	v = l->value;

	if (!l->escaped)
		return (v);
	buf_reset(scratch);
	buf_reserve(scratch, v.len + 1);
	v.len = pt_unescape_value(l->value, (char *)scratch->data);
	v.p = (const char *)scratch->data;
	return (v);
}

/* Hash one label (name and unescaped value). */
static uint64_t
pb_label_hash(struct pt_str name, struct pt_str value)
{
	return (pb_mix(series_hash(name.p, name.len) * 0x9e3779b97f4a7c15ULL ^
	    series_hash(value.p, value.len)));
}

/* Split stored series bytes ("name{labels}") into name and labels. */
static void
pb_split_series(const char *s, size_t len, struct pt_str *name,
    struct pt_str *labels)
{
	const char	*brace = memchr(s, '{', len), *end = s + len;

	labels->p = NULL;
	labels->len = 0;
	if (brace == NULL) {
		name->p = s;
		name->len = len;
		return;
	}
	name->p = s;
	name->len = (size_t)(brace - s);
	while (name->len > 0 && (s[name->len - 1] == ' ' ||
	    s[name->len - 1] == '\t'))
		name->len--;
	while (end > brace && end[-1] != '}')
		end--;
	labels->p = brace + 1;
	labels->len = end > brace + 1 ? (size_t)(end - 1 - (brace + 1)) : 0;
}

/* Find a label by name in raw labels; its unescaped value in dst. */
static bool
pb_label_get(struct pt_str labels, struct pt_str name, struct buf *dst,
    struct pt_str *value)
{
	struct pt_label	l;
	size_t		pos = 0;

	while (pt_label_next(labels, &pos, &l)) {
		if (l.name.len == name.len &&
		    memcmp(l.name.p, name.p, name.len) == 0) {
			*value = pb_unescape(dst, &l);
			return (true);
		}
	}
	return (false);
}

/*
 * Tell whether two series are the same: the same name and label set, in
 * any order (the parser has refused duplicate label names), an empty value
 * being no label (a{x=""} is a, as in Prometheus and remote write).
 */
static bool
pb_same_series(struct pushbody *b, const struct pb_series *e,
    const struct pt_item *it, struct buf *tmp)
{
	const struct pb_line	*ln = &b->line[e->line - 1];
	struct pt_str		 name, labels, v1, v2;
	struct pt_label		 l;
	size_t			 pos = 0, n1 = 0, n2 = 0;

	pb_split_series((const char *)b->text.data + ln->off, e->len, &name,
	    &labels);
	if (name.len != it->name.len || memcmp(name.p, it->name.p,
	    name.len) != 0)
		return (false);
	while (pt_label_next(labels, &pos, &l))
		n1 += l.value.len > 0;
	pos = 0;
	while (pt_label_next(it->labels, &pos, &l))
		n2 += l.value.len > 0;
	if (n1 != n2)
		return (false);
	pos = 0;
	while (pt_label_next(it->labels, &pos, &l)) {
		if (l.value.len == 0)
			continue;
		if (!pb_label_get(labels, l.name, tmp, &v1))
			return (false);
		v2 = pb_unescape(&b->scratch, &l);
		if (v1.len != v2.len || memcmp(v1.p, v2.p, v1.len) != 0)
			return (false);
	}
	return (true);
}

/* Double the series table (or make it) and re-insert every series. */
static void
pb_grow_series(struct pushbody *b)
{
	struct pb_series	*old = b->sslot;
	size_t			 n, i, j, mask, nold = b->nsslot;

	n = nold == 0 ? 256 : nold * 2;
	b->sslot = xcalloc(n, sizeof *b->sslot);
	b->nsslot = n;
	mask = n - 1;
	for (i = 0; i < nold; i++) {
		if (old[i].line == 0)
			continue;
		for (j = old[i].hash & mask; b->sslot[j].line != 0;
		    j = (j + 1) & mask)
			continue;
		b->sslot[j] = old[i];
	}
	free(old);
}

/*
 * Check a sample before it is kept: its labels encode within a series'
 * limit with room for the grouping labels, and its series is not in the
 * body already. Returns its hash for pb_note_series.
 */
static bool
pb_check_sample(struct pushbody *b, const struct pt_item *it,
    uint64_t *hash, char *err, size_t errlen)
{
	struct pt_label		 l;
	struct pt_str		 v, name = { "__name__", 8 };
	struct pb_series	*e;
	struct buf		 tmp;
	size_t			 pos = 0, enc, i, mask;
	uint64_t		 h;
	bool			 dup = false;

	enc = pb_label_len(8, it->name.len);
	h = pb_label_hash(name, it->name);
	while (pt_label_next(it->labels, &pos, &l)) {
		v = pb_unescape(&b->scratch, &l);
		enc += pb_label_len(l.name.len, v.len);
		if (v.len > 0)
			h += pb_label_hash(l.name, v);
	}
	if (it->series.len > SERIES_MAX_LEN ||
	    enc + PUSHBODY_SPLICE_RESERVE > SERIES_MAX_LEN) {
		snprintf(err, errlen, "line %zu: series %.*s%s is too long to "
		    "forward (%zu bytes of labels encoded, at most %u)",
		    it->line, (int)(it->name.len < 64 ? it->name.len : 64),
		    it->name.p, it->name.len < 64 ? "" : "...", enc,
		    (unsigned)(SERIES_MAX_LEN - PUSHBODY_SPLICE_RESERVE));
		return (false);
	}
	*hash = h = pb_mix(h);
	if (b->nsslot == 0)
		return (true);
	buf_init(&tmp);
	mask = b->nsslot - 1;
	for (i = h & mask; b->sslot[i].line != 0 && !dup; i = (i + 1) & mask) {
		e = &b->sslot[i];
		dup = e->hash == h && pb_same_series(b, e, it, &tmp);
	}
	buf_free(&tmp);
	if (dup) {
		snprintf(err, errlen, "line %zu: series %.*s%s given twice",
		    it->line, (int)(it->series.len < 200 ? it->series.len :
		    200), it->series.p, it->series.len < 200 ? "" : "...");
		return (false);
	}
	return (true);
}

/* Note a kept sample's series for the duplicate check. */
static void
pb_note_series(struct pushbody *b, uint64_t hash, uint32_t line,
    size_t len)
{
	size_t	i, mask;

	if ((b->nseries + 1) * 2 > b->nsslot)
		pb_grow_series(b);
	mask = b->nsslot - 1;
	for (i = hash & mask; b->sslot[i].line != 0; i = (i + 1) & mask)
		continue;
	b->sslot[i].hash = hash;
	b->sslot[i].line = line;
	b->sslot[i].len = (uint32_t)len;
	b->nseries++;
}

/* Resolve limits: 0 is the default. */
static void
pb_limits(const struct pushbody_limits *lim, size_t *maxf, size_t *maxs)
{
	*maxf = lim != NULL && lim->max_families != 0 ? lim->max_families :
	    PUSHBODY_MAX_FAMILIES;
	*maxs = lim != NULL && lim->max_samples != 0 ? lim->max_samples :
	    PUSHBODY_MAX_SAMPLES;
}

/* Check a HELP or TYPE line against what its family has had. */
static bool
pb_check_meta(const struct pb_family *f, const struct pt_item *it, char *err,
    size_t errlen)
{
	const char	*what = NULL;

	if (it->kind == PT_TYPE && f->nsamples > 0)
		what = "TYPE line after the samples of metric";
	else if (it->kind == PT_TYPE && f->has_type)
		what = "second TYPE line for metric";
	else if (it->kind == PT_HELP && f->has_help)
		what = "second HELP line for metric";
	if (what == NULL)
		return (true);
	snprintf(err, errlen, "line %zu: %s %.*s", it->line, what,
	    (int)(it->name.len < 200 ? it->name.len : 200), it->name.p);
	return (false);
}

/* Parse a text-format body into an empty pushbody. */
enum pushbody_status
pushbody_parse(struct pushbody *b, const char *body, size_t len,
    const struct pushbody_limits *lim, char *err, size_t errlen)
{
	struct promtext		 p;
	struct pt_item		 it;
	struct pb_family	*f;
	enum pt_kind		 k;
	enum pushbody_status	 st = PUSHBODY_INVALID;
	size_t			 maxf, maxs;
	uint64_t		 hash = 0;
	uint32_t		 line;

	pb_clear(b);
	pb_limits(lim, &maxf, &maxs);
	promtext_init(&p, body, len, PT_FORMAT_TEXT);
	for (;;) {
		k = promtext_next(&p, &it, err, errlen);
		if (k == PT_EOF)
			break;
		if (k == PT_ERROR)
			goto fail;
		if (k != PT_SAMPLE && k != PT_HELP && k != PT_TYPE)
			continue;
		if (k == PT_SAMPLE && it.has_ts) {
			snprintf(err, errlen, "line %zu: pushed metrics must "
			    "not have timestamps", it.line);
			goto fail;
		}
		f = pb_family(b, k == PT_SAMPLE ? it.family : it.name, maxf);
		if (f == NULL) {
			snprintf(err, errlen, "line %zu: more than %zu metric "
			    "families in one push (limit max_families)",
			    it.line, maxf);
			st = PUSHBODY_TOO_LARGE;
			goto fail;
		}
		if (k != PT_SAMPLE) {
			if (!pb_check_meta(f, &it, err, errlen))
				goto fail;
			if (k == PT_TYPE)
				f->has_type = true;
			else
				f->has_help = true;
			pb_add_line(b, f, &it);
			continue;
		}
		if (b->nsamples >= maxs) {
			snprintf(err, errlen, "line %zu: more than %zu samples "
			    "in one push (limit max_samples)", it.line, maxs);
			st = PUSHBODY_TOO_LARGE;
			goto fail;
		}
		/* The family pointer stays valid: no family is added here. */
		if (!pb_check_sample(b, &it, &hash, err, errlen))
			goto fail;
		if (!f->has_type)
			pb_add_untyped(b, f, &it);
		line = pb_add_line(b, f, &it);
		pb_note_series(b, hash, line, it.series.len);
		f->nsamples++;
		b->nsamples++;
	}
	pb_series_free(b);
	buf_free(&b->scratch);
	return (PUSHBODY_OK);

fail:
	pb_clear(b);
	return (st);
}

/* Append one family's lines. */
static void
pb_render_family(const struct pushbody *b, const struct pb_family *f,
    struct buf *out)
{
	const struct pb_line	*l;
	uint32_t		 i;

	for (i = f->first; i != 0; i = l->next) {
		l = &b->line[i - 1];
		buf_append(out, b->text.data + l->off, l->len);
	}
}

/* Append every family, in order, as one text-format body. */
void
pushbody_render(const struct pushbody *b, struct buf *out)
{
	size_t	i;

	for (i = 0; i < b->nfam; i++)
		pb_render_family(b, &b->fam[i], out);
}

/* Number of families. */
size_t
pushbody_families(const struct pushbody *b)
{
	return (b->nfam);
}

/* Number of samples. */
size_t
pushbody_samples(const struct pushbody *b)
{
	return (b->nsamples);
}

/* Merge a parsed push into a group's pushbody (PUT: replace, POST: merge). */
enum pushbody_status
pushbody_merge(struct pushbody *dst, struct pushbody *push, bool replace,
    const struct pushbody_limits *lim, char *err, size_t errlen)
{
	struct pushbody_limits	 none = { SIZE_MAX, SIZE_MAX };
	const struct pb_family	*f, *g;
	struct pushbody		*m, tmp;
	enum pushbody_status	 st;
	struct buf		 text;
	char			 why[256];
	const char		*reason;
	size_t			 i, slot;

	buf_init(&text);
	if (!replace) {
		for (i = 0; i < dst->nfam; i++) {
			f = &dst->fam[i];
			g = pb_find(push, (const char *)dst->text.data +
			    f->name_off, f->name_len, f->hash, &slot);
			if (g != NULL)
				pb_render_family(push, g, &text);
			else
				pb_render_family(dst, f, &text);
		}
	}
	for (i = 0; i < push->nfam; i++) {
		g = &push->fam[i];
		if (replace || !pushbody_has(dst,
		    (const char *)push->text.data + g->name_off, g->name_len))
			pb_render_family(push, g, &text);
	}
	pushbody_free(push);
	m = pushbody_new();
	st = pushbody_parse(m, (const char *)text.data, text.len,
	    lim != NULL ? lim : &none, why, sizeof why);
	buf_free(&text);
	if (st != PUSHBODY_OK) {
		/* Line numbers are the merged group's: say what clashed. */
		reason = why;
		if (strncmp(reason, "line ", 5) == 0 &&
		    strstr(reason, ": ") != NULL)
			reason = strstr(reason, ": ") + 2;
		snprintf(err, errlen, "%s with the metrics already in the "
		    "group: %s", st == PUSHBODY_TOO_LARGE ? "too large" :
		    "conflicts", reason);
		pushbody_free(m);
		return (st);
	}
	tmp = *dst;
	*dst = *m;
	*m = tmp;
	pushbody_free(m);
	return (PUSHBODY_OK);
}
