/*
 * regex: RE2 syntax on PCRE2. Prometheus compiles relabel regexes with Go's
 * regexp (RE2 syntax, linear time). PCRE2 is the closest engine Debian
 * ships with a JIT: the same Perl-style leftmost-first semantics and group
 * numbering, and the same spelling for nearly everything RE2 has. Where
 * the two differ, the pattern is rewritten or refused before PCRE2 sees it:
 *
 * - refused, as Go refuses them: backreferences (\1), lookaround (?= (?!
 *   (?<= (?<!, atomic groups and other (?X constructs, possessive and
 *   nested quantifiers (a*+, a**, a{2}{3}), repeat counts over 1000,
 *   (*VERB)s, and escapes Go does not know (\Z \G \K \R \h \e \C ...);
 * - rewritten: \s and \S (Go: [\t\n\f\r ], PCRE2 also counts \v), \v (a
 *   character in Go, a class in PCRE2), octal \0 \012 (PCRE2 may read \12
 *   as a backreference), a literal [ inside a class;
 * - options: UTF, $ only at the very end (Go's $ without (?m)), newline LF
 *   only (Go's . excludes \n only), \d \w \b ASCII as in Go (no UCP).
 *
 * RE2 never backtracks; PCRE2 can, so a match limit keeps a pathological
 * pattern from hanging a scrape: such a match counts as no match and is
 * reported (-1). Invalid UTF-8 in a subject never matches a character here;
 * Go would read it as U+FFFD (scraped label values are checked to be UTF-8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH	8
#include <pcre2.h>
#ifdef HAVE_VALGRIND_VALGRIND_H
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND	0
#endif

#include "buf.h"
#include "regex.h"
#include "xmalloc.h"

/* Go's limit on {n,m}. */
#define REGEX_MAX_REPEAT	1000
/* Backtracking budget of one match (RE2 never needs one). */
#define REGEX_MATCH_LIMIT	1000000
#define REGEX_DEPTH_LIMIT	100000

struct regex {
	char			*pattern;
	pcre2_code		*code;
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
	size_t			 ngroups;
};

/* A pattern being translated: the output and where each byte came from. */
struct rx {
	const char	*in;
	size_t		 len;
	size_t		 i;
	struct buf	 out;
	size_t		*map;		/* out offset -> in offset */
	size_t		 mapcap;
	char		*err;
	size_t		 errlen;
};

/* Append n bytes that stand for input offset at. */
static void
rx_put(struct rx *r, const char *s, size_t n, size_t at)
{
	size_t	k;

	if (r->out.len + n > r->mapcap) {
		r->mapcap = (r->out.len + n) * 2 + 16;
		r->map = xreallocarray(r->map, r->mapcap, sizeof *r->map);
	}
	for (k = 0; k < n; k++)
		r->map[r->out.len + k] = at;
	buf_append(&r->out, s, n);
}

/* Record an error at input offset at; always false. */
static bool
rx_fail(struct rx *r, size_t at, const char *what)
{
	snprintf(r->err, r->errlen, "%s at offset %zu", what, at);
	return (false);
}

/* Tell whether c is an octal digit. */
static bool
rx_octal(char c)
{
	return (c >= '0' && c <= '7');
}

/* Tell whether c is a hex digit. */
static bool
rx_hex(char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F'));
}

/* Tell whether c is an ASCII letter or digit. */
static bool
rx_alnum(char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'));
}

/*
 * Translate the escape at r->i (the backslash), inside a class or not.
 * Leaves r->i after it.
 */
static bool
rx_escape(struct rx *r, bool class)
{
	size_t		 at = r->i, n, v;
	char		 c, tmp[16];
	const char	*s;

	if (at + 1 >= r->len)
		return (rx_fail(r, at, "trailing backslash"));
	c = r->in[at + 1];
	r->i = at + 2;
	switch (c) {
	case '1': case '2': case '3': case '4': case '5': case '6': case '7':
		if (r->i >= r->len || !rx_octal(r->in[r->i]))
			return (rx_fail(r, at, "invalid escape sequence "
			    "(backreferences are not supported)"));
		/* FALLTHROUGH */
	case '0':
		v = (unsigned)(c - '0');
		for (n = 0; n < 2 && r->i < r->len && rx_octal(r->in[r->i]);
		    n++)
			v = v * 8 + (unsigned)(r->in[r->i++] - '0');
		snprintf(tmp, sizeof tmp, "\\x{%zx}", v);
		rx_put(r, tmp, strlen(tmp), at);
		return (true);
	case '8': case '9':
		return (rx_fail(r, at, "invalid escape sequence "
		    "(backreferences are not supported)"));
	case 'a':
		rx_put(r, "\\x07", 4, at);
		return (true);
	case 'v':
		rx_put(r, "\\x0b", 4, at);
		return (true);
	case 'f': case 't': case 'n': case 'r': case 'd': case 'D':
	case 'w': case 'W':
		rx_put(r, r->in + at, 2, at);
		return (true);
	case 's':
		s = class ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]";
		rx_put(r, s, strlen(s), at);
		return (true);
	case 'S':
		s = class ? "\\x00-\\x08\\x0b\\x0e-\\x1f\\x21-\\x{10ffff}" :
		    "[^\\t\\n\\f\\r ]";
		rx_put(r, s, strlen(s), at);
		return (true);
	case 'A': case 'z': case 'b': case 'B':
		if (class)
			return (rx_fail(r, at, "invalid escape sequence in "
			    "a character class"));
		rx_put(r, r->in + at, 2, at);
		return (true);
	case 'x':
		if (r->i < r->len && r->in[r->i] == '{') {
			for (n = r->i + 1; n < r->len && rx_hex(r->in[n]); n++)
				;
			if (n == r->i + 1 || n >= r->len || r->in[n] != '}' ||
			    n - r->i - 1 > 8)
				return (rx_fail(r, at, "invalid escape "
				    "sequence"));
			v = strtoul(r->in + r->i + 1, NULL, 16);
			if (v > 0x10ffff)
				return (rx_fail(r, at, "invalid escape "
				    "sequence"));
			n++;
		} else {
			if (r->i + 2 > r->len || !rx_hex(r->in[r->i]) ||
			    !rx_hex(r->in[r->i + 1]))
				return (rx_fail(r, at, "invalid escape "
				    "sequence"));
			n = r->i + 2;
		}
		rx_put(r, r->in + at, n - at, at);
		r->i = n;
		return (true);
	case 'p': case 'P':
		if (r->i < r->len && r->in[r->i] == '{') {
			s = memchr(r->in + r->i, '}', r->len - r->i);
			if (s == NULL)
				return (rx_fail(r, at, "invalid character "
				    "class range"));
			n = (size_t)(s - r->in) + 1;
		} else if (r->i < r->len && rx_alnum(r->in[r->i]))
			n = r->i + 1;
		else
			return (rx_fail(r, at, "invalid character class "
			    "range"));
		rx_put(r, r->in + at, n - at, at);
		r->i = n;
		return (true);
	case 'Q':
		if (class)
			return (rx_fail(r, at, "invalid escape sequence in "
			    "a character class"));
		/* Literal text up to \E or the end, quoted byte by byte. */
		while (r->i < r->len) {
			if (r->in[r->i] == '\\' && r->i + 1 < r->len &&
			    r->in[r->i + 1] == 'E') {
				r->i += 2;
				break;
			}
			if ((unsigned char)r->in[r->i] < 0x80 &&
			    !rx_alnum(r->in[r->i]))
				rx_put(r, "\\", 1, r->i);
			rx_put(r, r->in + r->i, 1, r->i);
			r->i++;
		}
		return (true);
	default:
		if ((unsigned char)c < 0x80 && !rx_alnum(c)) {
			rx_put(r, r->in + at, 2, at);
			return (true);
		}
		return (rx_fail(r, at, "invalid escape sequence"));
	}
}

/* Translate a character class; r->i is at its '['. */
static bool
rx_class(struct rx *r)
{
	const char	*e;
	size_t		 start = r->i, n;

	rx_put(r, "[", 1, r->i++);
	if (r->i < r->len && r->in[r->i] == '^')
		rx_put(r, "^", 1, r->i++);
	/* A ']' first is a literal. */
	if (r->i < r->len && r->in[r->i] == ']')
		rx_put(r, "\\]", 2, r->i++);
	while (r->i < r->len) {
		switch (r->in[r->i]) {
		case ']':
			rx_put(r, "]", 1, r->i++);
			return (true);
		case '\\':
			if (!rx_escape(r, true))
				return (false);
			break;
		case '[':
			if (r->i + 1 < r->len && r->in[r->i + 1] == ':') {
				e = strstr(r->in + r->i + 2, ":]");
				if (e != NULL) {
					n = (size_t)(e - r->in) + 2 - r->i;
					rx_put(r, r->in + r->i, n, r->i);
					r->i += n;
					break;
				}
			}
			rx_put(r, "\\[", 2, r->i++);
			break;
		default:
			rx_put(r, r->in + r->i, 1, r->i);
			r->i++;
		}
	}
	return (rx_fail(r, start, "missing closing ]"));
}

/* Parse a repeat {n}, {n,} or {n,m} at r->i; false if it is not one. */
static bool
rx_repeat(const struct rx *r, size_t *end, long *lo, long *hi)
{
	size_t	i = r->i + 1;
	long	a = 0, b;

	if (i >= r->len || r->in[i] < '0' || r->in[i] > '9')
		return (false);
	for (; i < r->len && r->in[i] >= '0' && r->in[i] <= '9'; i++)
		a = a > 100000 ? a : a * 10 + (r->in[i] - '0');
	b = a;
	if (i < r->len && r->in[i] == ',') {
		i++;
		b = -1;
		if (i < r->len && r->in[i] >= '0' && r->in[i] <= '9')
			for (b = 0; i < r->len && r->in[i] >= '0' &&
			    r->in[i] <= '9'; i++)
				b = b > 100000 ? b : b * 10 + (r->in[i] - '0');
	}
	if (i >= r->len || r->in[i] != '}')
		return (false);
	*end = i + 1;
	*lo = a;
	*hi = b;
	return (true);
}

/* Translate a "(?" group opening at r->i. */
static bool
rx_group(struct rx *r)
{
	size_t	at = r->i, i = r->i + 2;
	char	c;

	if (i >= r->len)
		return (rx_fail(r, at, "missing closing )"));
	c = r->in[i];
	if (c == ':' || (c == 'P' && i + 1 < r->len && r->in[i + 1] == '<') ||
	    (c == '<' && i + 1 < r->len && r->in[i + 1] != '=' &&
	    r->in[i + 1] != '!')) {
		rx_put(r, "(?", 2, at);
		r->i = i;
		return (true);
	}
	/* Flags: (?imsU-imsU) or (?imsU-imsU:...). */
	for (; i < r->len; i++) {
		c = r->in[i];
		if (c == ')' || c == ':')
			break;
		if (c != 'i' && c != 'm' && c != 's' && c != 'U' && c != '-')
			return (rx_fail(r, at, "invalid or unsupported Perl "
			    "syntax"));
	}
	if (i >= r->len || i == at + 2 || r->in[i - 1] == '-')
		return (rx_fail(r, at, "invalid or unsupported Perl syntax"));
	rx_put(r, r->in + at, i - at, at);
	r->i = i;
	return (true);
}

/* Translate a whole RE2 pattern into r->out. */
static bool
rx_translate(struct rx *r)
{
	size_t	end;
	long	lo, hi;
	int	quant = 0;	/* 1: after a quantifier, 2: and its '?' */
	char	c;

	while (r->i < r->len) {
		c = r->in[r->i];
		switch (c) {
		case '*': case '+': case '?':
			if (quant == 1 && c == '?') {
				quant = 2;
				rx_put(r, "?", 1, r->i++);
				continue;
			}
			if (quant != 0)
				return (rx_fail(r, r->i, "invalid nested "
				    "repetition operator"));
			quant = 1;
			rx_put(r, &c, 1, r->i++);
			continue;
		case '{':
			if (!rx_repeat(r, &end, &lo, &hi)) {
				rx_put(r, "\\{", 2, r->i++);
				break;
			}
			if (quant != 0)
				return (rx_fail(r, r->i, "invalid nested "
				    "repetition operator"));
			if (lo > REGEX_MAX_REPEAT || hi > REGEX_MAX_REPEAT ||
			    (hi >= 0 && hi < lo))
				return (rx_fail(r, r->i, "invalid repeat "
				    "count"));
			rx_put(r, r->in + r->i, end - r->i, r->i);
			r->i = end;
			quant = 1;
			continue;
		case '\\':
			if (!rx_escape(r, false))
				return (false);
			break;
		case '[':
			if (!rx_class(r))
				return (false);
			break;
		case '(':
			if (r->i + 1 < r->len && r->in[r->i + 1] == '?') {
				if (!rx_group(r))
					return (false);
				break;
			}
			if (r->i + 1 < r->len && r->in[r->i + 1] == '*')
				return (rx_fail(r, r->i + 1, "missing "
				    "argument to repetition operator"));
			rx_put(r, "(", 1, r->i++);
			break;
		default:
			rx_put(r, &c, 1, r->i++);
		}
		quant = 0;
	}
	return (true);
}

/* Compile a pattern. */
struct regex *
regex_new(const char *pattern, bool anchored, char *err, size_t errlen)
{
	static const char	 pre[] = "^(?:", post[] = ")$";
	struct regex		*re = NULL;
	pcre2_compile_context	*cctx = NULL;
	struct rx		 r;
	PCRE2_SIZE		 eoff;
	uint32_t		 n;
	size_t			 at, skip = anchored ? sizeof pre - 1 : 0;
	int			 ecode;
	char			 msg[256];

	memset(&r, 0, sizeof r);
	r.in = pattern;
	r.len = strlen(pattern);
	r.err = err;
	r.errlen = errlen;
	buf_init(&r.out);
	if (anchored)
		rx_put(&r, pre, skip, 0);
	if (!rx_translate(&r))
		goto fail;
	if (anchored)
		rx_put(&r, post, sizeof post - 1, r.len);
	buf_reserve(&r.out, 1);		/* data never NULL */

	cctx = pcre2_compile_context_create(NULL);
	pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
	pcre2_set_parens_nest_limit(cctx, 1000);
	re = xcalloc(1, sizeof *re);
	re->code = pcre2_compile((PCRE2_SPTR)r.out.data, r.out.len,
	    PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C |
	    PCRE2_NEVER_UCP | PCRE2_MATCH_INVALID_UTF, &ecode, &eoff, cctx);
	if (re->code == NULL) {
		pcre2_get_error_message(ecode, (PCRE2_UCHAR *)msg, sizeof msg);
		at = eoff < r.out.len ? r.map[eoff] : r.len;
		snprintf(err, errlen, "%s at offset %zu", msg, at);
		goto fail;
	}
	/* JIT code reads memory valgrind cannot follow: interpret there. */
	if (!RUNNING_ON_VALGRIND)
		(void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
	pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &n);
	re->ngroups = n;
	re->md = pcre2_match_data_create_from_pattern(re->code, NULL);
	re->mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(re->mctx, REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(re->mctx, REGEX_DEPTH_LIMIT);
	re->pattern = xstrdup(pattern);
	pcre2_compile_context_free(cctx);
	buf_free(&r.out);
	free(r.map);
	return (re);

fail:
	pcre2_compile_context_free(cctx);
	buf_free(&r.out);
	free(r.map);
	regex_free(re);
	return (NULL);
}

/* Free a regex; NULL is a no-op. */
void
regex_free(struct regex *re)
{
	if (re == NULL)
		return;
	pcre2_match_data_free(re->md);
	pcre2_match_context_free(re->mctx);
	pcre2_code_free(re->code);
	free(re->pattern);
	free(re);
}

/* The pattern as given. */
const char *
regex_pattern(const struct regex *re)
{
	return (re->pattern);
}

/* Match s. */
int
regex_match(struct regex *re, const char *s, size_t len)
{
	int	rc;

	rc = pcre2_match(re->code, (PCRE2_SPTR)(s != NULL ? s : ""), len, 0,
	    0, re->md, re->mctx);
	if (rc >= 0)
		return (1);
	if (rc == PCRE2_ERROR_NOMATCH)
		return (0);
	return (-1);
}

/* The number of capture groups. */
size_t
regex_ngroups(const struct regex *re)
{
	return (re->ngroups);
}

/* Group i of the last match. */
bool
regex_group(const struct regex *re, size_t i, size_t *start, size_t *end)
{
	PCRE2_SIZE	*ov;

	if (i > re->ngroups)
		return (false);
	ov = pcre2_get_ovector_pointer(re->md);
	if (ov[2 * i] == PCRE2_UNSET)
		return (false);
	*start = ov[2 * i];
	*end = ov[2 * i + 1];
	return (true);
}

/* The number of a named group. */
int
regex_group_number(const struct regex *re, const char *name, size_t len)
{
	char	tmp[256];
	int	n;

	if (len >= sizeof tmp)
		return (-1);
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	n = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)tmp);
	return (n > 0 ? n : -1);
}
