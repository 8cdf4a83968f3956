/*
 * promtext: the exposition parser. It walks the body once, line by line,
 * with byte-class tables instead of per-character calls, validating as it
 * goes so that label sets can later be iterated without checks. Numbers are
 * parsed exactly: the common short decimals by Clinger's fast path (exact
 * with one multiply or divide by an exact power of ten), everything else by
 * strtod on a bounded copy after our own grammar check, so hex floats and
 * other forms Prometheus refuses are refused here too.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buf.h"
#include "promtext.h"
#include "xmalloc.h"

#define C_NAME0		0x01	/* [a-zA-Z_:] first byte of a metric name */
#define C_NAME		0x02	/* [a-zA-Z0-9_:] */
#define C_LNAME0	0x04	/* [a-zA-Z_] first byte of a label name */
#define C_LNAME		0x08	/* [a-zA-Z0-9_] */
#define C_SPACE		0x10	/* ' ' '\t' */

static unsigned char	pt_class[256];
static int		pt_class_ready;

/* Fill the byte-class table once. */
static void
pt_class_init(void)
{
	int	c;

	for (c = 0; c < 256; c++) {
		unsigned char	k = 0;
		int		alpha = (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z');
		int		digit = c >= '0' && c <= '9';

		if (alpha || c == '_' || c == ':')
			k |= C_NAME0 | C_NAME;
		if (digit)
			k |= C_NAME;
		if (alpha || c == '_')
			k |= C_LNAME0 | C_LNAME;
		if (digit)
			k |= C_LNAME;
		if (c == ' ' || c == '\t')
			k |= C_SPACE;
		pt_class[c] = k;
	}
	pt_class_ready = 1;
}

/* Tell whether s equals the NUL-terminated c. */
bool
pt_str_eq(struct pt_str s, const char *c)
{
	size_t	len = strlen(c);

	return (s.len == len && (len == 0 || memcmp(s.p, c, len) == 0));
}

/* Start parsing buf. */
void
promtext_init(struct promtext *p, const char *buf, size_t len,
    enum pt_format fmt)
{
	if (!pt_class_ready)
		pt_class_init();
	memset(p, 0, sizeof *p);
	if (buf == NULL)	/* an empty page: NULL + 0 is undefined */
		buf = "";
	p->buf = buf;
	p->p = buf;
	p->end = buf + len;
	p->format = fmt;
}

/* Hint at the series of the next sample. */
void
promtext_hint(struct promtext *p, const void *key, size_t len)
{
	p->hint.p = key;
	p->hint.len = len;
}

/* Map a Content-Type header to the format it names. */
enum pt_format
promtext_format_from_content_type(const char *ct)
{
	if (ct != NULL && strncasecmp(ct, "application/openmetrics-text",
	    28) == 0)
		return (PT_FORMAT_OPENMETRICS);
	return (PT_FORMAT_TEXT);
}

/* Powers of ten that doubles hold exactly. */
static const double pt_pow10[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* Parse a float as Go's ParseFloat does for the exposition format. */
bool
pt_parse_float(const char *s, size_t len, double *out)
{
	const char	*p = s, *end = s + len;
	uint64_t	 mant = 0;
	int		 ndigits = 0, exp10 = 0, eexp = 0, esign = 1, any = 0;
	int		 neg = 0, dropped = 0;
	char		 copy[128];

	if (len == 0)
		return (false);
	if (*p == '+' || *p == '-') {
		neg = *p == '-';
		p++;
	}
	/* Inf, Infinity, NaN in any case (digits skip all three tests). */
	if (end - p == 3 && (p[0] | 0x20) == 'i' &&
	    strncasecmp(p, "inf", 3) == 0) {
		*out = neg ? -INFINITY : INFINITY;
		return (true);
	}
	if (end - p == 8 && strncasecmp(p, "infinity", 8) == 0) {
		*out = neg ? -INFINITY : INFINITY;
		return (true);
	}
	if (end - p == 3 && (p[0] | 0x20) == 'n' &&
	    strncasecmp(p, "nan", 3) == 0 && p == s) {
		*out = NAN;
		return (true);
	}
	while (p < end && *p >= '0' && *p <= '9') {
		any = 1;
		if (ndigits < 19) {
			if (mant != 0 || *p != '0') {
				mant = mant * 10 + (uint64_t)(*p - '0');
				ndigits++;
			}
		} else {
			exp10++;
			dropped = 1;
		}
		p++;
	}
	if (p < end && *p == '.') {
		p++;
		while (p < end && *p >= '0' && *p <= '9') {
			any = 1;
			if (ndigits < 19) {
				if (mant != 0 || *p != '0') {
					mant = mant * 10 + (uint64_t)(*p - '0');
					ndigits++;
				}
				exp10--;
			} else
				dropped = 1;
			p++;
		}
	}
	if (!any)
		return (false);
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-')) {
			esign = *p == '-' ? -1 : 1;
			p++;
		}
		if (p == end || *p < '0' || *p > '9')
			return (false);
		while (p < end && *p >= '0' && *p <= '9') {
			if (eexp < 100000)
				eexp = eexp * 10 + (*p - '0');
			p++;
		}
	}
	if (p != end)
		return (false);
	exp10 += esign * eexp;
	if (!dropped && ndigits <= 15 && exp10 >= -22 && exp10 <= 22) {
		double	d = (double)mant;

		d = exp10 < 0 ? d / pt_pow10[-exp10] : d * pt_pow10[exp10];
		*out = neg ? -d : d;
		return (true);
	}
	if (mant == 0 && !dropped) {
		*out = neg ? -0.0 : 0.0;
		return (true);
	}
	if (len >= sizeof copy)
		return (false);
	memcpy(copy, s, len);
	copy[len] = '\0';
	errno = 0;
	*out = strtod(copy, NULL);
	/* Go's ParseFloat refuses overflow but takes underflow as 0. */
	if (errno == ERANGE && isinf(*out))
		return (false);
	return (true);
}

/* Write "line N col M: msg" into err and stop the parser. */
static enum pt_kind
pt_fail(struct promtext *p, const char *at, char *err, size_t errlen,
    const char *fmt, ...)
{
	const char	*ls = at;
	char		 msg[200];
	va_list		 ap;

	while (ls > p->buf && ls[-1] != '\n')
		ls--;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "line %zu col %zu: %s", p->line,
		    (size_t)(at - ls) + 1, msg);
	p->done = true;
	p->p = p->end;
	promtext_free(p);
	return (PT_ERROR);
}

/* Find the end of the line starting at s (the '\n' or the buffer end). */
static const char *
pt_eol(const struct promtext *p, const char *s)
{
	const char	*nl;

	nl = memchr(s, '\n', (size_t)(p->end - s));
	return (nl != NULL ? nl : p->end);
}

/* Skip spaces and tabs. */
static const char *
pt_skip_space(const char *s, const char *end)
{
	while (s < end && (pt_class[(unsigned char)*s] & C_SPACE))
		s++;
	return (s);
}

/* Read a metric name at s; returns its end (s if none). */
static const char *
pt_metric_name(const char *s, const char *end)
{
	if (s == end || !(pt_class[(unsigned char)*s] & C_NAME0))
		return (s);
	s++;
	while (s < end && (pt_class[(unsigned char)*s] & C_NAME))
		s++;
	return (s);
}

/* Read a label name at s; returns its end (s if none). */
static const char *
pt_label_name(const char *s, const char *end)
{
	if (s == end || !(pt_class[(unsigned char)*s] & C_LNAME0))
		return (s);
	s++;
	while (s < end && (pt_class[(unsigned char)*s] & C_LNAME))
		s++;
	return (s);
}

/* Tell whether name ends in suffix and the rest equals family. */
static bool
pt_has_suffix(struct pt_str name, struct pt_str fam, const char *suffix)
{
	size_t	sl = strlen(suffix);

	return (name.len == fam.len + sl &&
	    memcmp(name.p, fam.p, fam.len) == 0 &&
	    memcmp(name.p + fam.len, suffix, sl) == 0);
}

/* Tell whether the l bytes at s are the string literal lit. */
#define PT_IS(s, l, lit)	((l) == sizeof(lit) - 1 && \
	memcmp((s), (lit), sizeof(lit) - 1) == 0)

/* Tell whether a sample name belongs to the current TYPE family. */
static bool
pt_in_family(const struct promtext *p, struct pt_str name)
{
	struct pt_str	 f = p->family;
	const char	*x;
	size_t		 xl;

	if (f.len == 0 || name.len < f.len || memcmp(name.p, f.p, f.len) != 0)
		return (false);
	if (name.len == f.len)
		return (p->family_type != PT_HISTOGRAM &&
		    p->family_type != PT_GAUGEHISTOGRAM);
	x = name.p + f.len;	/* the suffix */
	xl = name.len - f.len;
	switch (p->family_type) {
	case PT_COUNTER:
		return (PT_IS(x, xl, "_total") || PT_IS(x, xl, "_created"));
	case PT_HISTOGRAM:
		return (PT_IS(x, xl, "_bucket") || PT_IS(x, xl, "_sum") ||
		    PT_IS(x, xl, "_count") || PT_IS(x, xl, "_created"));
	case PT_SUMMARY:
		return (PT_IS(x, xl, "_sum") || PT_IS(x, xl, "_count") ||
		    PT_IS(x, xl, "_created"));
	default:	/* the text format has no other suffixed types */
		return (false);
	}
}

/* TYPE words and which format knows each: text, OpenMetrics or both. */
enum { PT_WORD_TEXT = 1, PT_WORD_OM = 2 };
static const struct {
	const char	*word;
	enum pt_type	 type;
	int		 formats;
} pt_type_words[] = {
	{ "counter", PT_COUNTER, PT_WORD_TEXT | PT_WORD_OM },
	{ "gauge", PT_GAUGE, PT_WORD_TEXT | PT_WORD_OM },
	{ "histogram", PT_HISTOGRAM, PT_WORD_TEXT | PT_WORD_OM },
	{ "summary", PT_SUMMARY, PT_WORD_TEXT | PT_WORD_OM },
	{ "untyped", PT_UNTYPED, PT_WORD_TEXT },
	{ "unknown", PT_UNTYPED, PT_WORD_OM },
	{ "gaugehistogram", PT_GAUGEHISTOGRAM, PT_WORD_OM },
	{ "info", PT_INFO, PT_WORD_OM },
	{ "stateset", PT_STATESET, PT_WORD_OM },
};
#define PT_NTYPE_WORDS	(sizeof pt_type_words / sizeof pt_type_words[0])

/* Map a TYPE word to a type; false if unknown. */
static bool
pt_type_word(const struct promtext *p, const char *s, size_t len,
    enum pt_type *t)
{
	int	want = p->format == PT_FORMAT_OPENMETRICS ? PT_WORD_OM :
		    PT_WORD_TEXT;
	size_t	i;

	for (i = 0; i < PT_NTYPE_WORDS; i++) {
		if (strlen(pt_type_words[i].word) == len &&
		    memcmp(pt_type_words[i].word, s, len) == 0 &&
		    (pt_type_words[i].formats & want)) {
			*t = pt_type_words[i].type;
			return (true);
		}
	}
	return (false);
}

/* Name a type as the text format's TYPE line does. */
const char *
promtext_text_type(enum pt_type t)
{
	size_t	i;

	for (i = 0; i < PT_NTYPE_WORDS; i++)
		if (pt_type_words[i].type == t &&
		    (pt_type_words[i].formats & PT_WORD_TEXT))
			return (pt_type_words[i].word);
	return ("untyped");
}

/* Parse a "# ..." line; PT_EOF with *skip set for plain comments. */
static enum pt_kind
pt_comment(struct promtext *p, const char *s, const char *eol,
    struct pt_item *it, char *err, size_t errlen, bool *skip)
{
	const char	*w, *we, *n, *ne, *t;
	enum pt_kind	 kind;

	*skip = false;
	w = pt_skip_space(s + 1, eol);
	we = w;
	while (we < eol && !(pt_class[(unsigned char)*we] & C_SPACE))
		we++;
	if ((size_t)(we - w) == 4 && memcmp(w, "HELP", 4) == 0)
		kind = PT_HELP;
	else if ((size_t)(we - w) == 4 && memcmp(w, "TYPE", 4) == 0)
		kind = PT_TYPE;
	else {
		*skip = true;
		return (PT_EOF);
	}
	/* "# HELP" or "# TYPE" and nothing else is a comment (promtool). */
	n = pt_skip_space(we, eol);
	if (n == eol || (*n == '\r' && n + 1 == eol)) {
		*skip = true;
		return (PT_EOF);
	}
	ne = pt_metric_name(n, eol);
	if (ne == n)
		return (pt_fail(p, n, err, errlen, "invalid metric name in "
		    "%.4s line", w));
	if (ne < eol && !(pt_class[(unsigned char)*ne] & C_SPACE))
		return (pt_fail(p, ne, err, errlen, "invalid character in "
		    "metric name"));
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->line = p->line;
	it->name.p = n;
	it->name.len = (size_t)(ne - n);
	t = ne < eol ? ne + 1 : eol;
	if (kind != PT_HELP)
		t = pt_skip_space(ne, eol);
	it->text.p = t;
	it->text.len = (size_t)(eol - t);
	/* Trailing spaces and a '\r' are not part of the text. */
	while (it->text.len > 0 && (it->text.p[it->text.len - 1] == '\r' ||
	    (kind != PT_HELP && it->text.p[it->text.len - 1] == ' ')))
		it->text.len--;
	if (kind == PT_HELP) {
		size_t	i;

		for (i = 0; i < it->text.len; i++) {
			if (it->text.p[i] != '\\')
				continue;
			if (i + 1 == it->text.len || (it->text.p[i + 1] !=
			    '\\' && it->text.p[i + 1] != 'n'))
				return (pt_fail(p, it->text.p + i, err, errlen,
				    "invalid escape sequence in HELP"));
			i++;
		}
	}
	if (kind == PT_TYPE) {
		if (it->text.len == 0)
			return (pt_fail(p, t, err, errlen, "missing type after "
			    "TYPE %.*s", (int)it->name.len, it->name.p));
		if (!pt_type_word(p, it->text.p, it->text.len, &it->type))
			return (pt_fail(p, t, err, errlen, "unknown metric "
			    "type \"%.*s\"", (int)it->text.len, it->text.p));
		if (p->family.len == it->name.len &&
		    memcmp(p->family.p, it->name.p, it->name.len) == 0)
			return (pt_fail(p, n, err, errlen, "second TYPE line "
			    "for metric %.*s", (int)it->name.len, it->name.p));
		p->family = it->name;
		p->family_type = it->type;
	}
	return (kind);
}

/* The label names of one label set seen so far (the first 64 of them). */
struct pt_dup {
	const char	*names[64];
	size_t		 lens[64];
	size_t		 n;
};

/*
 * Tell whether the label name n..ne was already in the set that starts at
 * start, and note it. Past 64 names look back through the raw text.
 */
static inline __attribute__((always_inline)) bool
pt_label_dup(struct pt_dup *d, const char *start, const char *n,
    const char *ne)
{
	struct pt_label	 l;
	size_t		 i, pos = 0, len = (size_t)(ne - n);

	for (i = 0; i < d->n && i < 64; i++) {
		if (d->lens[i] == len && memcmp(d->names[i], n, len) == 0)
			return (true);
	}
	while (d->n >= 64 && pt_label_next((struct pt_str){ start,
	    (size_t)(n - start) }, &pos, &l)) {
		if (l.name.len == len && memcmp(l.name.p, n, len) == 0)
			return (true);
	}
	if (d->n < 64) {
		d->names[d->n] = n;
		d->lens[d->n] = len;
	}
	d->n++;
	return (false);
}

/*
 * Find the first byte of s..end that is not valid UTF-8 as Go's
 * utf8.ValidString sees it (no overlong forms, surrogates or code points
 * past U+10FFFF); NULL if there is none.
 */
static const char *
pt_utf8_bad(const char *s, const char *end)
{
	const unsigned char	*u = (const unsigned char *)s;
	const unsigned char	*e = (const unsigned char *)end;
	unsigned char		 lo, hi;
	size_t			 n, i;

	while (u < e) {
		if (*u < 0x80) {
			u++;
			continue;
		}
		lo = 0x80;
		hi = 0xbf;
		if (*u >= 0xc2 && *u <= 0xdf)
			n = 1;
		else if (*u >= 0xe0 && *u <= 0xef) {
			n = 2;
			if (*u == 0xe0)
				lo = 0xa0;
			else if (*u == 0xed)
				hi = 0x9f;
		} else if (*u >= 0xf0 && *u <= 0xf4) {
			n = 3;
			if (*u == 0xf0)
				lo = 0x90;
			else if (*u == 0xf4)
				hi = 0x8f;
		} else
			return ((const char *)u);
		if ((size_t)(e - u) <= n)
			return ((const char *)u);
		for (i = 1; i <= n; i++) {
			if (u[i] < (i == 1 ? lo : 0x80) ||
			    u[i] > (i == 1 ? hi : 0xbf))
				return ((const char *)u);
		}
		u += n + 1;
	}
	return (NULL);
}

/*
 * Read the label name at n into n..*ne: a valid name, not reserved, not
 * already in the set that starts at start.
 */
static inline __attribute__((always_inline)) enum pt_kind
pt_label_checked(struct promtext *p, struct pt_dup *d, const char *start,
    const char *n, const char *eol, const char **ne, char *err,
    size_t errlen)
{
	*ne = pt_label_name(n, eol);
	if (*ne == n)
		return (pt_fail(p, n, err, errlen, n == eol ?
		    "unterminated label set" : "invalid label name"));
	if (*ne - n >= 2 && n[0] == '_' && n[1] == '_')
		return (pt_fail(p, n, err, errlen, "label name \"%.*s\" is "
		    "reserved", (int)(*ne - n), n));
	if (pt_label_dup(d, start, n, *ne))
		return (pt_fail(p, n, err, errlen, "duplicate label name "
		    "\"%.*s\"", (int)(*ne - n), n));
	return (PT_SAMPLE);
}

/*
 * Find invalid UTF-8 in s..end, looking closer only when a byte has its
 * high bit set: sixteen bytes at a time where SSE2 is (every x86-64), else
 * eight, the last block overlapping the one before. Most pages are ASCII.
 */
static const char *
pt_high_utf8_bad(const char *s, const char *end)
{
	size_t		 len = (size_t)(end - s), i;
	uint64_t	 w, hi = 0;

#ifdef __SSE2__
	if (len >= 16) {
		for (i = 0; i + 16 <= len; i += 16)
			hi |= (uint64_t)_mm_movemask_epi8(_mm_loadu_si128(
			    (const __m128i *)(const void *)(s + i)));
		hi |= (uint64_t)_mm_movemask_epi8(_mm_loadu_si128(
		    (const __m128i *)(const void *)(end - 16)));
		return (hi != 0 ? pt_utf8_bad(s, end) : NULL);
	}
#endif
	if (len >= 8) {
		for (i = 0; i + 8 <= len; i += 8) {
			memcpy(&w, s + i, sizeof w);
			hi |= w;
		}
		memcpy(&w, end - 8, sizeof w);
		hi |= w;
	} else {
		for (i = 0; i < len; i++)
			hi |= (unsigned char)s[i];
	}
	return ((hi & 0x8080808080808080ULL) != 0 ? pt_utf8_bad(s, end) :
	    NULL);
}

/* Check the labels between braces; *close gets the '}' position. */
static enum pt_kind
pt_labels(struct promtext *p, const char *s, const char *eol,
    const char **close, char *err, size_t errlen)
{
	const char	*n, *ne, *v, *prev, *start = s, *bad;
	struct pt_dup	 d;

	d.n = 0;
	for (;;) {
		s = pt_skip_space(s, eol);
		if (s < eol && *s == '}')
			break;
		n = s;
		/* pt_label_checked, spelled out: as a call it costs 3%. */
		ne = pt_label_name(n, eol);
		if (ne == n)
			return (pt_fail(p, n, err, errlen, s == eol ?
			    "unterminated label set" : "invalid label name"));
		if (ne - n >= 2 && n[0] == '_' && n[1] == '_')
			return (pt_fail(p, n, err, errlen, "label name "
			    "\"%.*s\" is reserved", (int)(ne - n), n));
		if (pt_label_dup(&d, start, n, ne))
			return (pt_fail(p, n, err, errlen,
			    "duplicate label name \"%.*s\"", (int)(ne - n), n));
		s = pt_skip_space(ne, eol);
		if (s == eol || *s != '=')
			return (pt_fail(p, s, err, errlen, "expected '=' after "
			    "label name"));
		s = pt_skip_space(s + 1, eol);
		if (s == eol || *s != '"')
			return (pt_fail(p, s, err, errlen, "expected '\"' to "
			    "start the label value"));
		v = ++s;
		for (prev = NULL; s < eol && *s != '"'; s++) {
			if (*s != '\\')
				continue;
			prev = s++;
			if (s == eol || (*s != '\\' && *s != '"' && *s != 'n'))
				return (pt_fail(p, prev, err, errlen,
				    "invalid escape sequence in label value"));
		}
		if (s == eol)
			return (pt_fail(p, v - 1, err, errlen,
			    "unterminated label value"));
		s = pt_skip_space(s + 1, eol);
		if (s < eol && *s == ',') {
			s++;
			continue;
		}
		if (s < eol && *s == '}')
			break;
		return (pt_fail(p, s, err, errlen, "expected ',' or '}' after "
		    "label value"));
	}
	*close = s;
	/* Only a label value can hold a byte past ASCII here. */
	bad = pt_high_utf8_bad(start, s);
	if (bad != NULL)
		return (pt_fail(p, bad, err, errlen, "invalid UTF-8 in label "
		    "value"));
	return (PT_SAMPLE);
}

/* Parse an integer millisecond timestamp (the text format's). */
static bool
pt_timestamp(const char *s, size_t len, int64_t *ms)
{
	uint64_t	 v = 0;
	size_t		 i = 0;
	int		 neg = 0;

	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	/* Any int64, as Go's ParseInt takes it: 19 digits at most. */
	if (i == len || len - i > 19)
		return (false);
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (false);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX + (uint64_t)neg)
		return (false);
	*ms = neg ? (int64_t)(0 - v) : (int64_t)v;
	return (true);
}

/*
 * Take the hint if the line at s starts with it and a space follows: the
 * series is then the hint's bytes, checked when they were first parsed.
 */
static inline bool
pt_hinted(struct promtext *p, const char *s, const char *eol,
    struct pt_item *it)
{
	size_t		 len = p->hint.len;
	const char	*brace;

	p->hint.len = 0;
	if (len == 0 || (size_t)(eol - s) <= len ||
	    !(pt_class[(unsigned char)s[len]] & C_SPACE) ||
	    memcmp(s, p->hint.p, len) != 0)
		return (false);
	it->series.p = s;
	it->series.len = len;
	it->name.p = s;
	brace = memchr(s, '{', len);
	if (brace != NULL) {
		it->name.len = (size_t)(brace - s);
		it->labels.p = brace + 1;
		it->labels.len = len - it->name.len - 2;
		/* The text format allows spaces before the brace. */
		while (pt_class[(unsigned char)s[it->name.len - 1]] & C_SPACE)
			it->name.len--;
	} else
		it->name.len = len;
	it->hinted = true;
	return (true);
}

/* Parse a sample line from s to eol. */
static enum pt_kind
pt_sample(struct promtext *p, const char *s, const char *eol,
    struct pt_item *it, char *err, size_t errlen)
{
	const char	*ne, *close, *v, *ve, *t, *te;
	enum pt_kind	 k;

	memset(it, 0, sizeof *it);
	it->kind = PT_SAMPLE;
	it->line = p->line;
	if (pt_hinted(p, s, eol, it))
		ne = s + it->series.len;
	else {
		ne = pt_metric_name(s, eol);
		if (ne == s)
			return (pt_fail(p, s, err, errlen, "invalid metric "
			    "name"));
		it->name.p = s;
		it->name.len = (size_t)(ne - s);
		it->series.p = s;
		/* Prometheus takes spaces between the name and the brace. */
		if (ne < eol && (pt_class[(unsigned char)*ne] & C_SPACE)) {
			v = pt_skip_space(ne, eol);
			if (v < eol && *v == '{')
				ne = v;
		}
		if (ne < eol && *ne == '{') {
			k = pt_labels(p, ne + 1, eol, &close, err, errlen);
			if (k == PT_ERROR)
				return (k);
			it->labels.p = ne + 1;
			it->labels.len = (size_t)(close - ne - 1);
			ne = close + 1;
		}
		it->series.len = (size_t)(ne - s);
	}
	if (ne < eol && (pt_class[(unsigned char)*ne] & C_SPACE))
		v = pt_skip_space(ne, eol);
	else if (ne < eol && ne[-1] == '}')
		v = ne;		/* ...and a value right after the brace */
	else
		return (pt_fail(p, ne, err, errlen, ne == eol ?
		    "missing value" : "invalid character after metric name"));
	ve = v;
	while (ve < eol && !(pt_class[(unsigned char)*ve] & C_SPACE) &&
	    *ve != '\r')
		ve++;
	if (ve == v)
		return (pt_fail(p, v, err, errlen, "missing value"));
	if (!pt_parse_float(v, (size_t)(ve - v), &it->value))
		return (pt_fail(p, v, err, errlen, "invalid value \"%.*s\"",
		    (int)(ve - v), v));
	t = pt_skip_space(ve, eol);
	if (t < eol && !(*t == '\r' && t + 1 == eol)) {
		te = t;
		while (te < eol && !(pt_class[(unsigned char)*te] & C_SPACE) &&
		    *te != '\r')
			te++;
		if (!pt_timestamp(t, (size_t)(te - t), &it->ts_ms))
			return (pt_fail(p, t, err, errlen, "invalid timestamp "
			    "\"%.*s\"", (int)(te - t), t));
		it->has_ts = true;
		te = pt_skip_space(te, eol);
		if (te < eol && !(*te == '\r' && te + 1 == eol))
			return (pt_fail(p, te, err, errlen, "unexpected text "
			    "after timestamp"));
	}
	if (pt_in_family(p, it->name)) {
		it->family = p->family;
		it->type = p->family_type;
	} else {
		it->family = it->name;
		it->type = PT_UNTYPED;
	}
	return (PT_SAMPLE);
}

/*
 * OpenMetrics 1.0 text. Besides one line's grammar (single spaces, no
 * blank lines, float timestamps in seconds, exemplars) the format has
 * rules across lines, checked as the OpenMetrics project's parser test
 * data expects: a family's HELP, TYPE and UNIT come once each and before
 * its samples; a name belongs to one family only; a family's label groups
 * are contiguous and their timestamps do not go backwards; a histogram's
 * buckets ascend to +Inf and agree with _count; values fit the type.
 */

/* One string of a pt_set: its hash and where its bytes are in the arena. */
struct pt_set_ent {
	uint64_t	 hash;
	size_t		 off;
	size_t		 len;
	bool		 used;
};

/* A set of byte strings (copied into an arena) with exact membership. */
struct pt_set {
	struct buf		 arena;
	struct pt_set_ent	*ent;
	size_t			 cap;
	size_t			 n;
};

/* A histogram group being read: what the end-of-group checks need. */
struct pt_hist {
	bool	 active;
	bool	 has_bucket;
	bool	 has_count;
	bool	 has_sum;
	bool	 has_gsum;
	bool	 neg_bucket;
	bool	 neg_gsum;
	double	 bucket;		/* the last le */
	double	 value;			/* the last bucket's value */
	double	 count;
};

struct pt_om {
	struct pt_set	 names;		/* names taken by finished families */
	struct pt_set	 groups;	/* label groups of the current family */
	struct buf	 group;		/* the last sample's group, canonical */
	struct buf	 scratch;	/* the current sample's group */
	struct pt_label	*labs;		/* a sample's labels, to sort */
	size_t		 labs_cap;
	bool		 in_family;	/* the current family: */
	struct pt_str	 name;
	enum pt_type	 type;
	bool		 typed;
	bool		 has_help;
	bool		 has_unit;
	bool		 has_samples;
	struct pt_str	 unit;
	bool		 has_group;	/* the last sample's group is known */
	bool		 group_has_ts;
	double		 group_ts;
	struct pt_hist	 h;
};

/* The sample names a family of each type has, as suffixes of its name. */
static const char *const pt_om_suffixes[][5] = {
	[PT_UNTYPED] = { "", NULL },
	[PT_COUNTER] = { "_total", "_created", NULL },
	[PT_GAUGE] = { "", NULL },
	[PT_HISTOGRAM] = { "_count", "_sum", "_bucket", "_created", NULL },
	[PT_GAUGEHISTOGRAM] = { "_gcount", "_gsum", "_bucket", NULL },
	[PT_SUMMARY] = { "", "_count", "_sum", "_created", NULL },
	[PT_INFO] = { "_info", NULL },
	[PT_STATESET] = { "", NULL },
};

/* Hash bytes (FNV-1a). */
static uint64_t
pt_hash(const void *key, size_t len)
{
	const unsigned char	*k = key;
	uint64_t		 h = 0xcbf29ce484222325ULL;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= k[i];
		h *= 0x100000001b3ULL;
	}
	return (h);
}

/* Double a set's table. */
static void
pt_set_grow(struct pt_set *st)
{
	struct pt_set_ent	*old = st->ent;
	size_t			 oldcap = st->cap, i, j;

	st->cap = oldcap == 0 ? 16 : oldcap * 2;
	st->ent = xcalloc(st->cap, sizeof *st->ent);
	for (i = 0; i < oldcap; i++) {
		if (!old[i].used)
			continue;
		j = old[i].hash & (st->cap - 1);
		while (st->ent[j].used)
			j = (j + 1) & (st->cap - 1);
		st->ent[j] = old[i];
	}
	free(old);
}

/* Tell whether key is in the set, and add it. */
static bool
pt_set_add(struct pt_set *st, const void *key, size_t len)
{
	uint64_t		 h = pt_hash(key, len);
	struct pt_set_ent	*e;
	size_t			 i;

	if ((st->n + 1) * 2 > st->cap)
		pt_set_grow(st);
	for (i = h & (st->cap - 1);; i = (i + 1) & (st->cap - 1)) {
		e = &st->ent[i];
		if (!e->used)
			break;
		if (e->hash == h && e->len == len && (len == 0 ||
		    memcmp(st->arena.data + e->off, key, len) == 0))
			return (true);
	}
	e->used = true;
	e->hash = h;
	e->off = st->arena.len;
	e->len = len;
	buf_append(&st->arena, key, len);
	st->n++;
	return (false);
}

/* Empty a set; a big table is released rather than wiped. */
static void
pt_set_clear(struct pt_set *st)
{
	if (st->cap > 256) {
		free(st->ent);
		st->ent = NULL;
		st->cap = 0;
	} else if (st->cap > 0)
		memset(st->ent, 0, st->cap * sizeof *st->ent);
	st->n = 0;
	buf_reset(&st->arena);
}

/* Release a set. */
static void
pt_set_free(struct pt_set *st)
{
	free(st->ent);
	buf_free(&st->arena);
}

/* Release what an OpenMetrics parse holds. */
void
promtext_free(struct promtext *p)
{
	struct pt_om	*om = p->om;

	if (om == NULL)
		return;
	pt_set_free(&om->names);
	pt_set_free(&om->groups);
	buf_free(&om->group);
	buf_free(&om->scratch);
	free(om->labs);
	free(om);
	p->om = NULL;
}

/* Find the end of the token at s: the next space or the line's end. */
static const char *
pt_om_token(const char *s, const char *eol)
{
	while (s < eol && *s != ' ')
		s++;
	return (s);
}

/* Parse an OpenMetrics timestamp: finite seconds, maybe fractional. */
static bool
pt_om_time(const char *s, const char *e, double *sec)
{
	return (pt_parse_float(s, (size_t)(e - s), sec) && isfinite(*sec));
}

/* Turn seconds into milliseconds as Prometheus does (truncating). */
static int64_t
pt_om_ms(double sec)
{
	double	ms = sec * 1000;

	if (ms >= 9.2e18)
		return (INT64_MAX);
	if (ms <= -9.2e18)
		return (INT64_MIN);
	return ((int64_t)ms);
}

/*
 * Check an OpenMetrics label set from s (just after '{'): no spaces, no
 * empty terms. *close gets the '}'; *cps, if not NULL, the length of the
 * names and unescaped values in code points (for the exemplar limit).
 */
static enum pt_kind
pt_om_labels(struct promtext *p, const char *s, const char *eol,
    const char **close, size_t *cps, char *err, size_t errlen)
{
	const char	*n, *ne, *v, *bad, *start = s;
	struct pt_dup	 d;
	unsigned char	 hi;
	size_t		 cp = 0;

	d.n = 0;
	if (s < eol && *s == '}')
		goto done;
	for (;;) {
		n = s;
		if (pt_label_checked(p, &d, start, n, eol, &ne, err,
		    errlen) == PT_ERROR)
			return (PT_ERROR);
		if (ne == eol || *ne != '=')
			return (pt_fail(p, ne, err, errlen, "expected '=' after "
			    "label name"));
		s = ne + 1;
		if (s == eol || *s != '"')
			return (pt_fail(p, s, err, errlen, "expected '\"' to "
			    "start the label value"));
		v = ++s;
		cp += (size_t)(ne - n);
		for (hi = 0; s < eol && *s != '"'; s++) {
			hi |= (unsigned char)*s;
			if ((*s & 0xc0) != 0x80)
				cp++;
			/* \\ \" \n are one character; others stay two. */
			if (*s == '\\' && s + 1 < eol && (s[1] == '\\' ||
			    s[1] == '"' || s[1] == 'n'))
				s++;
		}
		if (s == eol)
			return (pt_fail(p, v - 1, err, errlen,
			    "unterminated label value"));
		bad = (hi & 0x80) ? pt_utf8_bad(v, s) : NULL;
		if (bad != NULL)
			return (pt_fail(p, bad, err, errlen, "invalid UTF-8 "
			    "in label value"));
		s++;
		if (s < eol && *s == '}')
			break;
		if (s == eol || *s != ',')
			return (pt_fail(p, s, err, errlen, "expected ',' or '}' "
			    "after label value"));
		s++;
	}
done:
	*close = s;
	if (cps != NULL)
		*cps = cp;
	return (PT_SAMPLE);
}

/* Find label name in a checked label set; false if it is not there. */
static bool
pt_om_label(struct pt_str labels, struct pt_str name, struct pt_label *l)
{
	size_t	pos = 0;

	while (pt_label_next(labels, &pos, l)) {
		if (l->name.len == name.len && memcmp(l->name.p, name.p,
		    name.len) == 0)
			return (true);
	}
	return (false);
}

/*
 * Read the float in label name (le, quantile): false if it is missing or
 * not a number; *canonical tells whether an infinity is written +Inf.
 */
static bool
pt_om_label_float(struct pt_str labels, const char *name, double *d,
    bool *canonical)
{
	struct pt_label	 l;
	char		 v[128];
	size_t		 n;

	if (!pt_om_label(labels, (struct pt_str){ name, strlen(name) }, &l) ||
	    l.value.len >= sizeof v / 2)
		return (false);
	n = pt_unescape_value(l.value, v);
	if (n == 3 && memcmp(v, "NaN", 3) == 0)
		return (false);
	if (!pt_parse_float(v, n, d))
		return (false);
	*canonical = !isinf(*d) || *d < 0 || (n == 4 &&
	    memcmp(v, "+Inf", 4) == 0);
	return (true);
}

/* Append a length-prefixed field to b. */
static void
pt_om_put_field(struct buf *b, const char *s, size_t len)
{
	uint32_t	n = (uint32_t)len;

	buf_append(b, &n, sizeof n);
	buf_append(b, s, len);
}

/*
 * Write a sample's label group into om->scratch: its labels sorted by
 * name, unescaped, without the one that tells samples of a group apart
 * (le of a bucket, quantile of a summary, the state of a stateset). All
 * samples of an info family are one group.
 */
static void
pt_om_group(struct pt_om *om, const struct pt_item *it, const char *suffix)
{
	struct pt_str	 ex = { NULL, 0 };
	struct pt_label	 l;
	size_t		 pos = 0, n = 0, i, j;

	buf_reset(&om->scratch);
	if (om->type == PT_INFO)
		return;
	if ((om->type == PT_HISTOGRAM || om->type == PT_GAUGEHISTOGRAM) &&
	    strcmp(suffix, "_bucket") == 0)
		ex = (struct pt_str){ "le", 2 };
	else if (om->type == PT_SUMMARY && suffix[0] == '\0')
		ex = (struct pt_str){ "quantile", 8 };
	else if (om->type == PT_STATESET)
		ex = om->name;
	while (pt_label_next(it->labels, &pos, &l)) {
		if (l.name.len == ex.len && memcmp(l.name.p, ex.p,
		    ex.len) == 0)
			continue;
		if (n == om->labs_cap) {
			om->labs_cap = om->labs_cap == 0 ? 16 :
			    om->labs_cap * 2;
			om->labs = xreallocarray(om->labs, om->labs_cap,
			    sizeof *om->labs);
		}
		/* Insertion sort: names in one set are distinct. */
		for (i = n; i > 0; i--) {
			struct pt_str	a = om->labs[i - 1].name;
			size_t		m = a.len < l.name.len ? a.len :
			    l.name.len;
			int		c = memcmp(a.p, l.name.p, m);

			if (c < 0 || (c == 0 && a.len < l.name.len))
				break;
			om->labs[i] = om->labs[i - 1];
		}
		om->labs[i] = l;
		n++;
	}
	for (j = 0; j < n; j++) {
		pt_om_put_field(&om->scratch, om->labs[j].name.p,
		    om->labs[j].name.len);
		buf_reserve(&om->scratch, sizeof(uint32_t) +
		    om->labs[j].value.len);
		pos = om->scratch.len;
		om->scratch.len += sizeof(uint32_t);
		i = pt_unescape_value(om->labs[j].value,
		    (char *)om->scratch.data + om->scratch.len);
		memcpy(om->scratch.data + pos, &(uint32_t){ (uint32_t)i },
		    sizeof(uint32_t));
		om->scratch.len += i;
	}
}

/* Run the checks at the end of a histogram group; PT_ERROR on failure. */
static enum pt_kind
pt_om_hist_end(struct promtext *p, const char *at, char *err, size_t errlen)
{
	struct pt_om	*om = p->om;
	struct pt_hist	*h = &om->h;
	const char	*why = NULL;

	if (!h->active)
		return (PT_SAMPLE);
	if (!h->has_bucket || !(isinf(h->bucket) && h->bucket > 0))
		why = "the +Inf bucket is missing";
	else if (h->has_count && h->value != h->count)
		why = "the count does not match the +Inf bucket";
	else if (h->has_sum && !h->has_count)
		why = "_sum without _count";
	else if (h->has_gsum && !h->has_count)
		why = "_gsum without _gcount";
	else if (!h->has_sum && !h->has_gsum && h->has_count)
		why = "a count without _sum or _gsum";
	else if (h->neg_bucket && h->has_sum)
		why = "_sum with negative buckets";
	else if (!h->neg_bucket && h->neg_gsum)
		why = "a negative _gsum without negative buckets";
	memset(h, 0, sizeof *h);
	if (why != NULL)
		return (pt_fail(p, at, err, errlen, "histogram %.*s: %s",
		    (int)om->name.len, om->name.p, why));
	return (PT_SAMPLE);
}

/*
 * End the current family at the line at: finish its last histogram group,
 * claim its names (a name belongs to one family only) and check its unit.
 */
static enum pt_kind
pt_om_finish(struct promtext *p, const char *at, char *err, size_t errlen)
{
	struct pt_om		*om = p->om;
	const char *const	*suf;
	bool			 bare = false;
	size_t			 i;

	if (!om->in_family)
		return (PT_SAMPLE);
	if (pt_om_hist_end(p, at, err, errlen) == PT_ERROR)
		return (PT_ERROR);
	suf = pt_om_suffixes[om->typed ? om->type : PT_UNTYPED];
	for (i = 0; suf[i] != NULL || !bare; i++) {
		const char	*sx = suf[i] != NULL ? suf[i] : "";

		bare |= sx[0] == '\0';
		buf_reset(&om->scratch);
		buf_append(&om->scratch, om->name.p, om->name.len);
		buf_append(&om->scratch, sx, strlen(sx));
		if (pt_set_add(&om->names, om->scratch.data, om->scratch.len))
			return (pt_fail(p, at, err, errlen, "metric name "
			    "%.*s%s is already used by an earlier family",
			    (int)om->name.len, om->name.p, sx));
		if (suf[i] == NULL)
			break;
	}
	if (om->has_unit && om->unit.len > 0) {
		if (om->type == PT_INFO || om->type == PT_STATESET)
			return (pt_fail(p, at, err, errlen, "%.*s: an info or "
			    "stateset has no unit", (int)om->name.len,
			    om->name.p));
		if (om->name.len <= om->unit.len || memcmp(om->name.p +
		    om->name.len - om->unit.len, om->unit.p,
		    om->unit.len) != 0 || om->name.p[om->name.len -
		    om->unit.len - 1] != '_')
			return (pt_fail(p, at, err, errlen, "%.*s: the name "
			    "does not end with its unit _%.*s",
			    (int)om->name.len, om->name.p, (int)om->unit.len,
			    om->unit.p));
	}
	om->in_family = false;
	return (PT_SAMPLE);
}

/* Start a family named name; nothing of it known yet. */
static void
pt_om_start(struct pt_om *om, struct pt_str name)
{
	om->in_family = true;
	om->name = name;
	om->type = PT_UNTYPED;
	om->typed = om->has_help = om->has_unit = om->has_samples = false;
	om->has_group = false;
	memset(&om->h, 0, sizeof om->h);
	pt_set_clear(&om->groups);
}

/* Tell whether name is a sample name of the current family; *suffix. */
static bool
pt_om_member(const struct pt_om *om, struct pt_str name,
    const char **suffix)
{
	const char *const	*suf;

	if (!om->in_family)
		return (false);
	suf = pt_om_suffixes[om->typed ? om->type : PT_UNTYPED];
	for (; *suf != NULL; suf++) {
		if (pt_has_suffix(name, om->name, *suf)) {
			*suffix = *suf;
			return (true);
		}
	}
	return (false);
}

/* Check a "# HELP|TYPE|UNIT name text" line. */
static enum pt_kind
pt_om_comment(struct promtext *p, const char *s, const char *eol,
    struct pt_item *it, char *err, size_t errlen)
{
	struct pt_om	*om = p->om;
	const char	*w, *we, *n, *ne, *t;
	enum pt_kind	 kind;
	struct pt_str	 name;

	if (s + 1 == eol || s[1] != ' ')
		return (pt_fail(p, s + 1, err, errlen, "expected a space "
		    "after '#'"));
	w = s + 2;
	we = pt_om_token(w, eol);
	if (we - w == 4 && memcmp(w, "HELP", 4) == 0)
		kind = PT_HELP;
	else if (we - w == 4 && memcmp(w, "TYPE", 4) == 0)
		kind = PT_TYPE;
	else if (we - w == 4 && memcmp(w, "UNIT", 4) == 0)
		kind = PT_UNIT;
	else
		return (pt_fail(p, w, err, errlen, "unexpected comment "
		    "(only HELP, TYPE, UNIT and EOF are allowed)"));
	if (we == eol)
		return (pt_fail(p, we, err, errlen, "missing metric name "
		    "after %.4s", w));
	n = we + 1;
	ne = pt_metric_name(n, eol);
	if (ne == n)
		return (pt_fail(p, n, err, errlen, "invalid metric name in "
		    "%.4s line", w));
	if (ne < eol && *ne != ' ')
		return (pt_fail(p, ne, err, errlen, "invalid character in "
		    "metric name"));
	if (ne == eol)
		return (pt_fail(p, ne, err, errlen, "missing %s after the "
		    "metric name", kind == PT_HELP ? "docstring" :
		    kind == PT_TYPE ? "type" : "unit"));
	t = ne + 1;
	name = (struct pt_str){ n, (size_t)(ne - n) };
	if (om->in_family && name.len == om->name.len &&
	    memcmp(name.p, om->name.p, name.len) == 0) {
		if (om->has_samples)
			return (pt_fail(p, s, err, errlen, "%.4s line for "
			    "metric %.*s after its samples", w,
			    (int)name.len, name.p));
	} else {
		if (pt_om_finish(p, s, err, errlen) == PT_ERROR)
			return (PT_ERROR);
		pt_om_start(om, name);
	}
	memset(it, 0, sizeof *it);
	it->kind = kind;
	it->line = p->line;
	it->name = name;
	it->text = (struct pt_str){ t, (size_t)(eol - t) };
	if (kind == PT_HELP && om->has_help)
		return (pt_fail(p, s, err, errlen, "second HELP line for "
		    "metric %.*s", (int)name.len, name.p));
	if (kind == PT_UNIT && om->has_unit)
		return (pt_fail(p, s, err, errlen, "second UNIT line for "
		    "metric %.*s", (int)name.len, name.p));
	if (kind == PT_TYPE && om->typed)
		return (pt_fail(p, s, err, errlen, "second TYPE line for "
		    "metric %.*s", (int)name.len, name.p));
	if (kind == PT_TYPE && !pt_type_word(p, t, (size_t)(eol - t),
	    &it->type))
		return (pt_fail(p, t, err, errlen, "unknown metric type "
		    "\"%.*s\"", (int)(eol - t), t));
	if (kind == PT_HELP)
		om->has_help = true;
	else if (kind == PT_UNIT) {
		om->has_unit = true;
		om->unit = it->text;
	} else {
		om->typed = true;
		om->type = it->type;
	}
	return (kind);
}

/* Tell whether a value is a whole number (counts and buckets). */
static bool
pt_is_whole(double v)
{
	return (isfinite(v) && v == floor(v));
}

/*
 * Check a sample against its family: its suffix's rules, its label group
 * and timestamp against the samples before it, the histogram group it
 * belongs to. at is the line's first byte.
 */
static enum pt_kind
pt_om_check(struct promtext *p, struct pt_item *it, const char *at,
    double ts, bool exemplar, char *err, size_t errlen)
{
	struct pt_om	*om = p->om;
	struct pt_hist	*h = &om->h;
	struct pt_label	 l;
	const char	*suffix = "";
	double		 le = 0, q, v = it->value;
	bool		 canon, same, counter_like, bucket;

	if (!pt_om_member(om, it->name, &suffix)) {
		if (pt_om_finish(p, at, err, errlen) == PT_ERROR)
			return (PT_ERROR);
		pt_om_start(om, it->name);
		om->typed = true;	/* "unknown" */
	}
	om->has_samples = true;
	it->family = om->name;
	it->type = om->type;
	bucket = strcmp(suffix, "_bucket") == 0;
	if (om->type == PT_STATESET && !pt_om_label(it->labels, om->name, &l))
		return (pt_fail(p, at, err, errlen, "stateset sample without "
		    "the label %.*s", (int)om->name.len, om->name.p));
	if (bucket && (!pt_om_label_float(it->labels, "le", &le, &canon) ||
	    !canon))
		return (pt_fail(p, at, err, errlen, "invalid or missing le "
		    "label"));
	if (bucket && !pt_is_whole(v))
		return (pt_fail(p, at, err, errlen, "a bucket's value must be "
		    "a whole number"));
	if ((strcmp(suffix, "_count") == 0 || strcmp(suffix, "_gcount") == 0) &&
	    !pt_is_whole(v))
		return (pt_fail(p, at, err, errlen, "a count must be a whole "
		    "number"));
	if (om->type == PT_SUMMARY && suffix[0] == '\0' &&
	    (!pt_om_label_float(it->labels, "quantile", &q, &canon) ||
	    !(q >= 0 && q <= 1)))
		return (pt_fail(p, at, err, errlen, "invalid or missing "
		    "quantile label"));
	pt_om_group(om, it, suffix);
	same = om->has_group && om->group.len == om->scratch.len &&
	    (om->group.len == 0 || memcmp(om->group.data, om->scratch.data,
	    om->group.len) == 0);
	if (om->has_group && !same && pt_set_add(&om->groups,
	    om->scratch.data, om->scratch.len))
		return (pt_fail(p, at, err, errlen, "samples of one label "
		    "group of %.*s are not together", (int)om->name.len,
		    om->name.p));
	if (!om->has_group)
		pt_set_add(&om->groups, om->scratch.data, om->scratch.len);
	if (same && om->group_has_ts != it->has_ts)
		return (pt_fail(p, at, err, errlen, "a label group mixes "
		    "samples with and without timestamps"));
	if (same && it->has_ts && om->group_ts > ts && om->type != PT_INFO)
		return (pt_fail(p, at, err, errlen, "timestamps go backwards "
		    "within a label group"));
	if (om->type == PT_HISTOGRAM || om->type == PT_GAUGEHISTOGRAM) {
		if (!same || om->group_ts != ts)
			if (pt_om_hist_end(p, at, err, errlen) == PT_ERROR)
				return (PT_ERROR);
		h->active = true;
		if (bucket) {
			h->neg_bucket |= le < 0;
			if (h->has_bucket && le <= h->bucket)
				return (pt_fail(p, at, err, errlen, "buckets "
				    "of %.*s out of order", (int)om->name.len,
				    om->name.p));
			if (v < h->value)
				return (pt_fail(p, at, err, errlen, "bucket "
				    "values of %.*s go down",
				    (int)om->name.len, om->name.p));
			h->has_bucket = true;
			h->bucket = le;
			h->value = v;
		} else if (strcmp(suffix, "_count") == 0 ||
		    strcmp(suffix, "_gcount") == 0) {
			h->has_count = true;
			h->count = v;
		} else if (strcmp(suffix, "_sum") == 0)
			h->has_sum = true;
		else if (strcmp(suffix, "_gsum") == 0) {
			h->has_gsum = true;
			h->neg_gsum |= v < 0;
		}
	}
	buf_reset(&om->group);
	buf_append(&om->group, om->scratch.data, om->scratch.len);
	om->has_group = true;
	om->group_has_ts = it->has_ts;
	om->group_ts = ts;
	if (om->type == PT_STATESET && v != 0 && v != 1)
		return (pt_fail(p, at, err, errlen, "a stateset sample must be "
		    "0 or 1"));
	if (om->type == PT_INFO && v != 1)
		return (pt_fail(p, at, err, errlen, "an info sample must be "
		    "1"));
	if (om->type == PT_SUMMARY && suffix[0] == '\0' && v < 0)
		return (pt_fail(p, at, err, errlen, "a quantile value cannot "
		    "be negative"));
	counter_like = suffix[0] != '\0' && strcmp(suffix, "_created") != 0 &&
	    strcmp(suffix, "_info") != 0;
	if (counter_like && isnan(v))
		return (pt_fail(p, at, err, errlen, "%s cannot be NaN",
		    suffix));
	if (counter_like && v < 0 && strcmp(suffix, "_gsum") != 0)
		return (pt_fail(p, at, err, errlen, "%s cannot be negative",
		    suffix));
	if (exemplar && !bucket && strcmp(suffix, "_total") != 0)
		return (pt_fail(p, at, err, errlen, "only counters' _total and "
		    "histogram buckets have exemplars"));
	return (PT_SAMPLE);
}

/* Check an exemplar from t (its '#') to eol. */
static enum pt_kind
pt_om_exemplar(struct promtext *p, const char *t, const char *eol,
    char *err, size_t errlen)
{
	const char	*close, *v, *ve;
	double		 d;
	size_t		 cps;

	if (t + 1 == eol || t[1] != ' ' || t + 2 == eol || t[2] != '{')
		return (pt_fail(p, t, err, errlen, "expected \"# {\" to start "
		    "an exemplar"));
	t += 3;
	if (pt_om_labels(p, t, eol, &close, &cps, err, errlen) == PT_ERROR)
		return (PT_ERROR);
	if (cps > 128)
		return (pt_fail(p, t, err, errlen, "exemplar labels are %zu "
		    "characters long (at most 128)", cps));
	v = close + 1;
	if (v == eol || *v != ' ')
		return (pt_fail(p, v, err, errlen, "expected a space before "
		    "the exemplar value"));
	ve = pt_om_token(++v, eol);
	if (ve == v || !pt_parse_float(v, (size_t)(ve - v), &d))
		return (pt_fail(p, v, err, errlen, "invalid exemplar value"));
	if (ve == eol)
		return (PT_SAMPLE);
	v = ve + 1;
	ve = pt_om_token(v, eol);
	if (ve == v || ve != eol || !pt_om_time(v, ve, &d))
		return (pt_fail(p, v, err, errlen, "invalid exemplar "
		    "timestamp"));
	return (PT_SAMPLE);
}

/* Parse an OpenMetrics sample line from s to eol. */
static enum pt_kind
pt_om_sample(struct promtext *p, const char *s, const char *eol,
    struct pt_item *it, char *err, size_t errlen)
{
	const char	*ne, *close, *v, *ve, *t = NULL;
	double		 ts = 0;

	memset(it, 0, sizeof *it);
	it->kind = PT_SAMPLE;
	it->line = p->line;
	if (pt_hinted(p, s, eol, it))
		ne = s + it->series.len;
	else {
		ne = pt_metric_name(s, eol);
		if (ne == s)
			return (pt_fail(p, s, err, errlen, "invalid metric "
			    "name"));
		it->name = (struct pt_str){ s, (size_t)(ne - s) };
		it->series.p = s;
		if (ne < eol && *ne == '{') {
			if (pt_om_labels(p, ne + 1, eol, &close, NULL, err,
			    errlen) == PT_ERROR)
				return (PT_ERROR);
			it->labels = (struct pt_str){ ne + 1,
			    (size_t)(close - ne - 1) };
			ne = close + 1;
		}
		it->series.len = (size_t)(ne - s);
	}
	if (ne == eol || *ne != ' ')
		return (pt_fail(p, ne, err, errlen, ne == eol ?
		    "missing value" : "invalid character after metric name"));
	v = ne + 1;
	ve = pt_om_token(v, eol);
	if (ve == v)
		return (pt_fail(p, v, err, errlen, "missing value"));
	if (!pt_parse_float(v, (size_t)(ve - v), &it->value))
		return (pt_fail(p, v, err, errlen, "invalid value \"%.*s\"",
		    (int)(ve - v), v));
	if (ve < eol && ve + 1 < eol && ve[1] == '#')
		t = ve + 1;
	else if (ve < eol) {
		v = ve + 1;
		ve = pt_om_token(v, eol);
		if (ve == v || !pt_om_time(v, ve, &ts))
			return (pt_fail(p, v, err, errlen, "invalid timestamp "
			    "\"%.*s\"", (int)(ve - v), v));
		it->has_ts = true;
		it->ts_ms = pt_om_ms(ts);
		if (ve < eol && (ve + 1 == eol || ve[1] != '#'))
			return (pt_fail(p, ve + 1, err, errlen, "unexpected "
			    "text after timestamp"));
		if (ve < eol)
			t = ve + 1;
	}
	if (t != NULL && pt_om_exemplar(p, t, eol, err, errlen) == PT_ERROR)
		return (PT_ERROR);
	return (pt_om_check(p, it, s, ts, t != NULL, err, errlen));
}

/* Return the next item of an OpenMetrics page. */
static enum pt_kind
pt_om_next(struct promtext *p, struct pt_item *it, char *err, size_t errlen)
{
	const char	*line, *eol;

	if (p->done)
		return (PT_EOF);
	if (p->om == NULL)
		p->om = xcalloc(1, sizeof *p->om);
	if (p->p >= p->end) {
		/* After a final newline the missing line is the next one. */
		if (p->end == p->buf || p->end[-1] == '\n')
			p->line++;
		return (pt_fail(p, p->end, err, errlen, "missing # EOF"));
	}
	line = p->p;
	eol = pt_eol(p, line);
	p->p = eol < p->end ? eol + 1 : p->end;
	p->line++;
	if (line == eol)
		return (pt_fail(p, line, err, errlen, "empty line"));
	if (eol - line == 5 && memcmp(line, "# EOF", 5) == 0) {
		if (p->p < p->end) {
			p->line++;
			return (pt_fail(p, p->p, err, errlen, "unexpected "
			    "content after # EOF"));
		}
		if (pt_om_finish(p, line, err, errlen) == PT_ERROR)
			return (PT_ERROR);
		p->done = true;
		promtext_free(p);
		return (PT_EOF);
	}
	if (*line == '#')
		return (pt_om_comment(p, line, eol, it, err, errlen));
	return (pt_om_sample(p, line, eol, it, err, errlen));
}

/* Return the next item of the page. */
enum pt_kind
promtext_next(struct promtext *p, struct pt_item *it, char *err,
    size_t errlen)
{
	const char	*s, *eol, *line;
	enum pt_kind	 k;
	bool		 skip;

	if (p->format == PT_FORMAT_OPENMETRICS)
		return (pt_om_next(p, it, err, errlen));
	while (!p->done && p->p < p->end) {
		line = p->p;
		eol = pt_eol(p, line);
		p->p = eol < p->end ? eol + 1 : p->end;
		p->line++;
		s = pt_skip_space(line, eol);
		if (s == eol || (*s == '\r' && s + 1 == eol))
			continue;
		if (*s == '#') {
			k = pt_comment(p, s, eol, it, err, errlen, &skip);
			if (skip)
				continue;
			return (k);
		}
		return (pt_sample(p, s, eol, it, err, errlen));
	}
	p->done = true;
	return (PT_EOF);
}

/* Iterate the labels of a validated sample. */
bool
pt_label_next(struct pt_str labels, size_t *pos, struct pt_label *l)
{
	const char	*s, *end;

	if (labels.p == NULL || *pos >= labels.len)	/* no braces */
		return (false);
	s = labels.p + *pos;
	end = labels.p + labels.len;
	while (s < end && (pt_class[(unsigned char)*s] & C_SPACE ||
	    *s == ','))
		s++;
	if (s >= end)
		return (false);
	l->name.p = s;
	s = pt_label_name(s, end);
	l->name.len = (size_t)(s - l->name.p);
	while (s < end && *s != '"')
		s++;
	l->value.p = ++s;
	l->escaped = false;
	while (s < end && *s != '"') {
		if (*s == '\\') {
			l->escaped = true;
			s++;
		}
		s++;
	}
	l->value.len = (size_t)(s - l->value.p);
	*pos = (size_t)(s + 1 - labels.p);
	return (true);
}

/* Decode label value escapes into dst. */
size_t
pt_unescape_value(struct pt_str v, char *dst)
{
	size_t	i, n = 0;

	for (i = 0; i < v.len; i++) {
		if (v.p[i] == '\\' && i + 1 < v.len && (v.p[i + 1] == '\\' ||
		    v.p[i + 1] == '"' || v.p[i + 1] == 'n')) {
			i++;
			dst[n++] = v.p[i] == 'n' ? '\n' : v.p[i];
		} else if (v.p[i] == '\\' && i + 1 < v.len) {
			/* OpenMetrics keeps an unknown escape as written. */
			dst[n++] = v.p[i++];
			dst[n++] = v.p[i];
		} else
			dst[n++] = v.p[i];
	}
	return (n);
}

/* Decode HELP escapes into dst. */
size_t
pt_unescape_help(struct pt_str v, char *dst)
{
	return (pt_unescape_value(v, dst));
}
