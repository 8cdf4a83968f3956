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

#include "promtext.h"

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

/* Tell whether a sample name belongs to the current TYPE family. */
static bool
pt_in_family(const struct promtext *p, struct pt_str name)
{
	struct pt_str	f = p->family;

	if (f.len == 0)
		return (false);
	if (name.len == f.len && memcmp(name.p, f.p, f.len) == 0)
		return (p->family_type != PT_HISTOGRAM &&
		    p->family_type != PT_GAUGEHISTOGRAM);
	switch (p->family_type) {
	case PT_COUNTER:
		return (pt_has_suffix(name, f, "_total") ||
		    pt_has_suffix(name, f, "_created"));
	case PT_HISTOGRAM:
		return (pt_has_suffix(name, f, "_bucket") ||
		    pt_has_suffix(name, f, "_sum") ||
		    pt_has_suffix(name, f, "_count") ||
		    pt_has_suffix(name, f, "_created"));
	case PT_GAUGEHISTOGRAM:
		return (pt_has_suffix(name, f, "_bucket") ||
		    pt_has_suffix(name, f, "_gsum") ||
		    pt_has_suffix(name, f, "_gcount"));
	case PT_SUMMARY:
		return (pt_has_suffix(name, f, "_sum") ||
		    pt_has_suffix(name, f, "_count") ||
		    pt_has_suffix(name, f, "_created"));
	case PT_INFO:
		return (pt_has_suffix(name, f, "_info"));
	default:
		return (false);
	}
}

/* Map a TYPE word to a type; false if unknown. */
static bool
pt_type_word(const struct promtext *p, const char *s, size_t len,
    enum pt_type *t)
{
	static const struct {
		const char	*word;
		enum pt_type	 type;
		bool		 om_only;
	} words[] = {
		{ "counter", PT_COUNTER, false },
		{ "gauge", PT_GAUGE, false },
		{ "histogram", PT_HISTOGRAM, false },
		{ "summary", PT_SUMMARY, false },
		{ "untyped", PT_UNTYPED, false },
		{ "unknown", PT_UNTYPED, true },
		{ "gaugehistogram", PT_GAUGEHISTOGRAM, true },
		{ "info", PT_INFO, true },
		{ "stateset", PT_STATESET, true },
	};
	size_t	i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (strlen(words[i].word) == len &&
		    memcmp(words[i].word, s, len) == 0 &&
		    (!words[i].om_only || p->format == PT_FORMAT_OPENMETRICS)) {
			*t = words[i].type;
			return (true);
		}
	}
	return (false);
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
	if ((size_t)(we - w) == 3 && memcmp(w, "EOF", 3) == 0 &&
	    p->format == PT_FORMAT_OPENMETRICS) {
		if (we != eol || (eol < p->end && eol + 1 < p->end))
			return (pt_fail(p, eol, err, errlen,
			    "unexpected content after # EOF"));
		p->done = true;
		p->p = p->end;
		return (PT_EOF);
	}
	if ((size_t)(we - w) == 4 && memcmp(w, "HELP", 4) == 0)
		kind = PT_HELP;
	else if ((size_t)(we - w) == 4 && memcmp(w, "TYPE", 4) == 0)
		kind = PT_TYPE;
	else if ((size_t)(we - w) == 4 && memcmp(w, "UNIT", 4) == 0 &&
	    p->format == PT_FORMAT_OPENMETRICS)
		kind = PT_UNIT;
	else {
		if (p->format == PT_FORMAT_OPENMETRICS)
			return (pt_fail(p, s, err, errlen,
			    "unexpected comment (only HELP, TYPE, UNIT and "
			    "EOF are allowed)"));
		*skip = true;
		return (PT_EOF);
	}
	if (we == eol || !(pt_class[(unsigned char)*we] & C_SPACE))
		return (pt_fail(p, we, err, errlen, "missing metric name "
		    "after %.4s", w));
	n = pt_skip_space(we, eol);
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
			    '\\' && it->text.p[i + 1] != 'n' &&
			    (it->text.p[i + 1] != '"' ||
			    p->format != PT_FORMAT_OPENMETRICS)))
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

/* Check the labels between braces; *close gets the '}' position. */
static enum pt_kind
pt_labels(struct promtext *p, const char *s, const char *eol,
    const char **close, char *err, size_t errlen)
{
	const char	*n, *ne, *v, *names[64], *prev, *start = s;
	size_t		 lens[64], nlabels = 0, i, pos;
	struct pt_label	 l;

	for (;;) {
		s = pt_skip_space(s, eol);
		if (s < eol && *s == '}') {
			*close = s;
			return (PT_SAMPLE);
		}
		n = s;
		ne = pt_label_name(n, eol);
		if (ne == n)
			return (pt_fail(p, n, err, errlen, s == eol ?
			    "unterminated label set" : "invalid label name"));
		if (ne - n >= 2 && n[0] == '_' && n[1] == '_')
			return (pt_fail(p, n, err, errlen, "label name "
			    "\"%.*s\" is reserved", (int)(ne - n), n));
		for (i = 0; i < nlabels && i < 64; i++) {
			if (lens[i] == (size_t)(ne - n) &&
			    memcmp(names[i], n, lens[i]) == 0)
				return (pt_fail(p, n, err, errlen,
				    "duplicate label name \"%.*s\"",
				    (int)(ne - n), n));
		}
		/* Past 64 names, look back through the raw text instead. */
		for (pos = 0; nlabels >= 64 && pt_label_next((struct pt_str){
		    start, (size_t)(n - start) }, &pos, &l);) {
			if (l.name.len == (size_t)(ne - n) &&
			    memcmp(l.name.p, n, l.name.len) == 0)
				return (pt_fail(p, n, err, errlen,
				    "duplicate label name \"%.*s\"",
				    (int)(ne - n), n));
		}
		if (nlabels < 64) {
			names[nlabels] = n;
			lens[nlabels] = (size_t)(ne - n);
		}
		nlabels++;
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
		if (s < eol && *s == '}') {
			*close = s;
			return (PT_SAMPLE);
		}
		return (pt_fail(p, s, err, errlen, "expected ',' or '}' after "
		    "label value"));
	}
}

/* Parse an integer millisecond (text) or float second (OM) timestamp. */
static bool
pt_timestamp(const struct promtext *p, const char *s, size_t len,
    int64_t *ms)
{
	double		 d;
	int64_t		 v = 0;
	size_t		 i = 0;
	int		 neg = 0;

	if (p->format == PT_FORMAT_OPENMETRICS) {
		if (!pt_parse_float(s, len, &d) || !isfinite(d) ||
		    fabs(d) > 9.2e15)
			return (false);
		*ms = (int64_t)llround(d * 1000);
		return (true);
	}
	if (len > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == len || len - i > 18)
		return (false);
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (false);
		v = v * 10 + (s[i] - '0');
	}
	*ms = neg ? -v : v;
	return (true);
}

/*
 * Take the hint if the line at s starts with it and a space follows: the
 * series is then the hint's bytes, checked when they were first parsed.
 */
static bool
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
	if (pt_hinted(p, s, eol, it)) {
		ne = s + it->series.len;
		goto value;
	}
	ne = pt_metric_name(s, eol);
	if (ne == s)
		return (pt_fail(p, s, err, errlen, "invalid metric name"));
	it->name.p = s;
	it->name.len = (size_t)(ne - s);
	it->series.p = s;
	if (ne < eol && *ne == '{') {
		k = pt_labels(p, ne + 1, eol, &close, err, errlen);
		if (k == PT_ERROR)
			return (k);
		it->labels.p = ne + 1;
		it->labels.len = (size_t)(close - ne - 1);
		ne = close + 1;
	}
	it->series.len = (size_t)(ne - s);
value:
	if (ne == eol || !(pt_class[(unsigned char)*ne] & C_SPACE))
		return (pt_fail(p, ne, err, errlen, ne == eol ?
		    "missing value" : "invalid character after metric name"));
	v = pt_skip_space(ne, eol);
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
	if (t < eol && *t == '#' && p->format == PT_FORMAT_OPENMETRICS) {
		/* An exemplar: " # {labels} value [ts]"; checked loosely. */
		t = pt_skip_space(t + 1, eol);
		if (t == eol || *t != '{' || memchr(t, '}',
		    (size_t)(eol - t)) == NULL)
			return (pt_fail(p, t, err, errlen, "invalid exemplar"));
		t = eol;
	}
	if (t < eol && !(*t == '\r' && t + 1 == eol)) {
		te = t;
		while (te < eol && !(pt_class[(unsigned char)*te] & C_SPACE) &&
		    *te != '\r')
			te++;
		if (!pt_timestamp(p, t, (size_t)(te - t), &it->ts_ms))
			return (pt_fail(p, t, err, errlen, "invalid timestamp "
			    "\"%.*s\"", (int)(te - t), t));
		it->has_ts = true;
		te = pt_skip_space(te, eol);
		if (te < eol && *te == '#' &&
		    p->format == PT_FORMAT_OPENMETRICS)
			te = eol;
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

/* Return the next item of the page. */
enum pt_kind
promtext_next(struct promtext *p, struct pt_item *it, char *err,
    size_t errlen)
{
	const char	*s, *eol, *line;
	enum pt_kind	 k;
	bool		 skip;

	while (!p->done && p->p < p->end) {
		line = p->p;
		eol = pt_eol(p, line);
		p->p = eol < p->end ? eol + 1 : p->end;
		p->line++;
		s = pt_skip_space(line, eol);
		if (s == eol || (*s == '\r' && s + 1 == eol)) {
			if (p->format == PT_FORMAT_OPENMETRICS)
				return (pt_fail(p, s, err, errlen,
				    "empty line"));
			continue;
		}
		if (*s == '#') {
			k = pt_comment(p, s, eol, it, err, errlen, &skip);
			if (skip)
				continue;
			return (k);
		}
		return (pt_sample(p, s, eol, it, err, errlen));
	}
	if (!p->done && p->format == PT_FORMAT_OPENMETRICS) {
		/* After a final newline the missing line is the next one. */
		if (p->end == p->buf || p->end[-1] == '\n')
			p->line++;
		return (pt_fail(p, p->end, err, errlen, "missing # EOF"));
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
		if (v.p[i] == '\\' && i + 1 < v.len) {
			i++;
			dst[n++] = v.p[i] == 'n' ? '\n' : v.p[i];
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
