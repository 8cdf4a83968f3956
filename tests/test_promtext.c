/*
 * Unit tests for promtext, the zero-copy exposition parser: the real vLLM
 * and SGLang captures in $FIXTURES/exposition (exact counts, spot values,
 * families), tables of text-format and OpenMetrics inputs rendered item by
 * item, a table of bad inputs with the exact "line N col M" of the offending
 * byte, pt_parse_float against Go's strconv.ParseFloat as Prometheus uses it,
 * and a seeded mutation loop over a real capture that must stay ASan/UBSan
 * clean. Every input is copied to an exact-size heap buffer with no NUL
 * after it, so a read past the end shows under ASan.
 *
 * Behaviour this file pins down (choices, not accidents):
 * - CRLF is accepted in the text format: a '\r' before '\n' ends the value,
 *   timestamp, TYPE word and HELP text, and "\r\n" alone is a blank line.
 *   OpenMetrics with CRLF fails at the first '\r' (it has no CRLF).
 * - A NUL byte is allowed inside a label value (as Prometheus's lexer
 *   allows); anywhere else it is an error at its column.
 * - pt_parse_float accepts Inf/Infinity with an optional sign and NaN
 *   without one, in any case, as Go's ParseFloat does; it refuses hex floats
 *   ("0x10" and "0x1p-2") and '_', as Prometheus's parseFloat does.
 * - A sample outside its TYPE line's family (g_total under a gauge g, a bare
 *   h under a histogram h) is reported as its own untyped family.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "promtext.h"
#include "tap.h"
#include "xmalloc.h"

/* A string literal and its length, NULs inside included. */
#define S(s)	s, sizeof(s) - 1

#define TEXT	PT_FORMAT_TEXT
#define OM	PT_FORMAT_OPENMETRICS

static const char *const type_names[] = {
	"untyped", "counter", "gauge", "histogram", "gaugehistogram",
	"summary", "info", "stateset"
};

/* Name a type for messages. */
static const char *
type_name(enum pt_type t)
{
	if ((size_t)t >= sizeof type_names / sizeof type_names[0])
		return ("?");
	return (type_names[t]);
}

/* Copy len bytes to an exact-size heap buffer, with no NUL after them. */
static char *
dup_exact(const char *s, size_t len)
{
	char	*b;

	b = xmalloc(len > 0 ? len : 1);
	if (len > 0)
		memcpy(b, s, len);
	return (b);
}

/* Copy a pt_str into a NUL-terminated C string (truncated to fit). */
static const char *
cstr(struct pt_str s, char *dst, size_t dstlen)
{
	size_t	n = s.len < dstlen - 1 ? s.len : dstlen - 1;

	if (n > 0)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
	return (dst);
}

/* Append s to b, bytes below 0x20 and 0x7f as \xNN. */
static void
put_esc(struct buf *b, const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			buf_printf(b, "\\x%02x", c);
		else
			buf_putc(b, c);
	}
}

/* Append a sample's labels as name=unescaped,... */
static void
put_labels(struct buf *b, struct pt_str labels)
{
	struct pt_label	 l;
	size_t		 pos = 0, n;
	char		*v;
	int		 first = 1;

	buf_putc(b, '[');
	if (labels.p != NULL) {
		while (pt_label_next(labels, &pos, &l)) {
			if (!first)
				buf_putc(b, ',');
			first = 0;
			put_esc(b, l.name.p, l.name.len);
			buf_putc(b, '=');
			v = xmalloc(l.value.len + 1);
			n = pt_unescape_value(l.value, v);
			put_esc(b, v, n);
			free(v);
		}
	}
	buf_putc(b, ']');
}

/* Append one item as "LINE:K ..." (S sample, H help, T type, U unit). */
static void
put_item(struct buf *b, const struct pt_item *it)
{
	char	*h;
	size_t	 n;

	switch (it->kind) {
	case PT_SAMPLE:
		buf_printf(b, "%zu:S ", it->line);
		put_esc(b, it->series.p, it->series.len);
		buf_printf(b, " %.17g", it->value);
		if (it->has_ts)
			buf_printf(b, " @%" PRId64, it->ts_ms);
		buf_putc(b, ' ');
		put_esc(b, it->family.p, it->family.len);
		buf_printf(b, " %s ", type_name(it->type));
		put_labels(b, it->labels);
		break;
	case PT_HELP:
		buf_printf(b, "%zu:H ", it->line);
		put_esc(b, it->name.p, it->name.len);
		h = xmalloc(it->text.len + 1);
		n = pt_unescape_help(it->text, h);
		buf_printf(b, " \"");
		put_esc(b, h, n);
		buf_putc(b, '"');
		free(h);
		break;
	case PT_TYPE:
		buf_printf(b, "%zu:T ", it->line);
		put_esc(b, it->name.p, it->name.len);
		buf_printf(b, " %s", type_name(it->type));
		break;
	case PT_UNIT:
		buf_printf(b, "%zu:U ", it->line);
		put_esc(b, it->name.p, it->name.len);
		buf_printf(b, " \"");
		put_esc(b, it->text.p, it->text.len);
		buf_putc(b, '"');
		break;
	default:
		buf_printf(b, "kind %d", it->kind);
		break;
	}
}

/*
 * Parse a whole page into b as items joined by " | ", ending in "EOF" or
 * "E <error>". Returns the last kind; p is left for further calls.
 */
static enum pt_kind
render(struct promtext *p, struct buf *b)
{
	struct pt_item	it;
	enum pt_kind	k;
	char		err[256];
	int		n;

	buf_reset(b);
	for (n = 0; n < 10000; n++) {
		err[0] = '\0';
		k = promtext_next(p, &it, err, sizeof err);
		if (n > 0)
			buf_printf(b, " | ");
		if (k == PT_EOF) {
			buf_printf(b, "EOF");
			break;
		}
		if (k == PT_ERROR) {
			buf_printf(b, "E %s", err);
			break;
		}
		put_item(b, &it);
	}
	buf_putc(b, '\0');
	return (k);
}

struct rcase {
	const char	*name;
	enum pt_format	 fmt;
	const char	*in;
	size_t		 len;
	const char	*want;
};

/* Inputs that parse, and every item they give. */
static const struct rcase rcases[] = {
	{ "HELP, TYPE and a counter", TEXT,
	    S("# HELP a_total Total things.\n# TYPE a_total counter\n"
	    "a_total 3\n"),
	    "1:H a_total \"Total things.\" | 2:T a_total counter | "
	    "3:S a_total 3 a_total counter [] | EOF" },
	{ "colons in metric names", TEXT,
	    S("# TYPE vllm:num_requests_running gauge\n"
	    "vllm:num_requests_running{model_name=\"m\"} 2\n"),
	    "1:T vllm:num_requests_running gauge | "
	    "2:S vllm:num_requests_running{model_name=\"m\"} 2 "
	    "vllm:num_requests_running gauge [model_name=m] | EOF" },
	{ "names with digits and underscores", TEXT,
	    S("a1:b_2{_l=\"x\",L_9=\"y\"} 1\n"),
	    "1:S a1:b_2{_l=\"x\",L_9=\"y\"} 1 a1:b_2 untyped [_l=x,L_9=y] | "
	    "EOF" },
	{ "label value escapes", TEXT,
	    S("a{p=\"C:\\\\dir\",q=\"say \\\"hi\\\"\",r=\"l1\\nl2\"} 1\n"),
	    "1:S a{p=\"C:\\\\dir\",q=\"say \\\"hi\\\"\",r=\"l1\\nl2\"} 1 a "
	    "untyped [p=C:\\dir,q=say \"hi\",r=l1\\x0al2] | EOF" },
	{ "HELP escapes", TEXT,
	    S("# HELP a back\\\\slash and\\nnewline\n"),
	    "1:H a \"back\\slash and\\x0anewline\" | EOF" },
	{ "HELP without text", TEXT, S("# HELP a\n"), "1:H a \"\" | EOF" },
	{ "NaN, +Inf, -Inf", TEXT, S("a NaN\nb +Inf\nc -Inf\n"),
	    "1:S a nan a untyped [] | 2:S b inf b untyped [] | "
	    "3:S c -inf c untyped [] | EOF" },
	{ "Go-style floats", TEXT,
	    S("a 1e+06\nb 6.7359739904e+010\nc -0.0\n"
	    "d 1.7688785631220756e+09\ne 0.1\n"),
	    "1:S a 1000000 a untyped [] | 2:S b 67359739904 b untyped [] | "
	    "3:S c -0 c untyped [] | 4:S d 1768878563.1220756 d untyped [] | "
	    "5:S e 0.10000000000000001 e untyped [] | EOF" },
	{ "timestamps", TEXT,
	    S("a 1 1700000000000\nb 2 -5\nc 3 0\nd 4 +7\ne 5\n"),
	    "1:S a 1 @1700000000000 a untyped [] | 2:S b 2 @-5 b untyped [] | "
	    "3:S c 3 @0 c untyped [] | 4:S d 4 @7 d untyped [] | "
	    "5:S e 5 e untyped [] | EOF" },
	{ "tabs as separators", TEXT, S("a\t1\t2\n"),
	    "1:S a 1 @2 a untyped [] | EOF" },
	{ "counter and gauge", TEXT,
	    S("# TYPE c counter\nc 1\n# TYPE g gauge\ng 2\n"),
	    "1:T c counter | 2:S c 1 c counter [] | 3:T g gauge | "
	    "4:S g 2 g gauge [] | EOF" },
	{ "histogram", TEXT,
	    S("# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\n"
	    "h_bucket{le=\"+Inf\"} 2\nh_sum 0.75\nh_count 2\n"),
	    "1:T h histogram | 2:S h_bucket{le=\"0.5\"} 1 h histogram [le=0.5] "
	    "| 3:S h_bucket{le=\"+Inf\"} 2 h histogram [le=+Inf] | "
	    "4:S h_sum 0.75 h histogram [] | 5:S h_count 2 h histogram [] | "
	    "EOF" },
	{ "summary and untyped", TEXT,
	    S("# TYPE s summary\ns{quantile=\"0.5\"} 0.25\ns_sum 3\ns_count 4\n"
	    "# TYPE u untyped\nu 5\n"),
	    "1:T s summary | 2:S s{quantile=\"0.5\"} 0.25 s summary "
	    "[quantile=0.5] | 3:S s_sum 3 s summary [] | "
	    "4:S s_count 4 s summary [] | 5:T u untyped | "
	    "6:S u 5 u untyped [] | EOF" },
	{ "samples outside the TYPE family are untyped", TEXT,
	    S("# TYPE g gauge\ng_total 1\ng_sum 2\n# TYPE h histogram\nh 3\n"
	    "hx_bucket 4\nother 5\n"),
	    "1:T g gauge | 2:S g_total 1 g_total untyped [] | "
	    "3:S g_sum 2 g_sum untyped [] | 4:T h histogram | "
	    "5:S h 3 h untyped [] | 6:S hx_bucket 4 hx_bucket untyped [] | "
	    "7:S other 5 other untyped [] | EOF" },
	{ "_created gauge family as prometheus_client writes it", TEXT,
	    S("# HELP x_total Reqs.\n# TYPE x_total counter\n"
	    "x_total{a=\"b\"} 5.0\n# HELP x_created Reqs.\n"
	    "# TYPE x_created gauge\nx_created{a=\"b\"} 1.7e+09\n"),
	    "1:H x_total \"Reqs.\" | 2:T x_total counter | "
	    "3:S x_total{a=\"b\"} 5 x_total counter [a=b] | "
	    "4:H x_created \"Reqs.\" | 5:T x_created gauge | "
	    "6:S x_created{a=\"b\"} 1700000000 x_created gauge [a=b] | EOF" },
	{ "_total and _created inside counter, histogram, summary", TEXT,
	    S("# TYPE y counter\ny_total 1\ny_created 2\n# TYPE h histogram\n"
	    "h_created 3\n# TYPE s summary\ns_created 4\n"),
	    "1:T y counter | 2:S y_total 1 y counter [] | "
	    "3:S y_created 2 y counter [] | 4:T h histogram | "
	    "5:S h_created 3 h histogram [] | 6:T s summary | "
	    "7:S s_created 4 s summary [] | EOF" },
	{ "last line without a newline", TEXT, S("a 1\nb 2"),
	    "1:S a 1 a untyped [] | 2:S b 2 b untyped [] | EOF" },
	{ "TYPE as the last line without a newline", TEXT,
	    S("# TYPE a gauge"), "1:T a gauge | EOF" },
	{ "empty input", TEXT, S(""), "EOF" },
	{ "only blank lines", TEXT, S("\n \n\t\n"), "EOF" },
	{ "blank lines and trailing spaces (HELP keeps its own)", TEXT,
	    S("\n\na 1   \n  \n\t\nb{c=\"d\"} 2 3  \n# TYPE t gauge  \n"
	    "# HELP t x  \n"),
	    "3:S a 1 a untyped [] | 6:S b{c=\"d\"} 2 @3 b untyped [c=d] | "
	    "7:T t gauge | 8:H t \"x  \" | EOF" },
	{ "label set with a trailing comma", TEXT, S("a{b=\"c\",} 1\n"),
	    "1:S a{b=\"c\",} 1 a untyped [b=c] | EOF" },
	{ "empty label set", TEXT, S("a{} 1\n"),
	    "1:S a{} 1 a untyped [] | EOF" },
	{ "empty label value", TEXT, S("a{b=\"\",c=\"d\"} 1\n"),
	    "1:S a{b=\"\",c=\"d\"} 1 a untyped [b=,c=d] | EOF" },
	{ "plain comments, # EOF and # UNIT are skipped in text", TEXT,
	    S("# just a comment\n#\n# EOF\n# UNIT a s\na 1\n"),
	    "5:S a 1 a untyped [] | EOF" },
	{ "CRLF line ends are accepted", TEXT,
	    S("# HELP a h\r\n# TYPE a gauge\r\na{b=\"c\"} 1 5\r\n\r\nb 2\r\n"
	    "c 3 \r\n"),
	    "1:H a \"h\" | 2:T a gauge | 3:S a{b=\"c\"} 1 @5 a gauge [b=c] | "
	    "5:S b 2 b untyped [] | 6:S c 3 c untyped [] | EOF" },
	{ "NUL inside a label value (Prometheus allows it)", TEXT,
	    S("a{b=\"x\0y\"} 1\n"),
	    "1:S a{b=\"x\\x00y\"} 1 a untyped [b=x\\x00y] | EOF" },

	{ "OM: # EOF ends the input", OM,
	    S("# TYPE a counter\na_total 1\n# EOF\n"),
	    "1:T a counter | 2:S a_total 1 a counter [] | EOF" },
	{ "OM: # EOF without a newline", OM, S("a 1\n# EOF"),
	    "1:S a 1 a untyped [] | EOF" },
	{ "OM: UNIT", OM,
	    S("# TYPE d_seconds gauge\n# UNIT d_seconds seconds\n"
	    "# HELP d_seconds Dur.\nd_seconds 1.5\n# EOF\n"),
	    "1:T d_seconds gauge | 2:U d_seconds \"seconds\" | "
	    "3:H d_seconds \"Dur.\" | "
	    "4:S d_seconds 1.5 d_seconds gauge [] | EOF" },
	{ "spaces before the brace, value right after it", TEXT,
	    S("a {l=\"1\"} 1\nb\t{l=\"2\"}2 -9223372036854775808\n"
	    "c 3 9223372036854775807\n"),
	    "1:S a {l=\"1\"} 1 a untyped [l=1] | "
	    "2:S b\\x09{l=\"2\"} 2 @-9223372036854775808 b untyped [l=2] | "
	    "3:S c 3 @9223372036854775807 c untyped [] | EOF" },
	{ "bare HELP and TYPE are comments, as promtool takes them", TEXT,
	    S("# HELP\n# TYPE \n# HELP\r\na 1\n"),
	    "4:S a 1 a untyped [] | EOF" },
	{ "valid UTF-8 in a label value", TEXT,
	    S("a{y=\"caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\"} 1\n"),
	    "1:S a{y=\"caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\"} 1 a untyped "
	    "[y=caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80] | EOF" },
	{ "OM: info, stateset and gaugehistogram families", OM,
	    S("# TYPE b info\nb_info{v=\"1.0\"} 1\n"
	    "# TYPE s stateset\ns{s=\"on\"} 1\ns{s=\"off\"} 0\n"
	    "# TYPE q gaugehistogram\nq_bucket{le=\"+Inf\"} 2\nq_gcount 2\n"
	    "q_gsum 0.5\n# EOF\n"),
	    "1:T b info | 2:S b_info{v=\"1.0\"} 1 b info [v=1.0] | "
	    "3:T s stateset | 4:S s{s=\"on\"} 1 s stateset [s=on] | "
	    "5:S s{s=\"off\"} 0 s stateset [s=off] | 6:T q gaugehistogram | "
	    "7:S q_bucket{le=\"+Inf\"} 2 q gaugehistogram [le=+Inf] | "
	    "8:S q_gcount 2 q gaugehistogram [] | "
	    "9:S q_gsum 0.5 q gaugehistogram [] | EOF" },
	{ "OM: timestamps are seconds, truncated to milliseconds", OM,
	    S("a 1 1.0019\n# EOF\n"),
	    "1:S a 1 @1001 a untyped [] | EOF" },
	{ "OM: an unknown escape stays as written", OM,
	    S("a{k=\"x\\zy\"} 1\n# EOF\n"),
	    "1:S a{k=\"x\\zy\"} 1 a untyped [k=x\\zy] | EOF" },
	{ "OM: counter _total and _created", OM,
	    S("# TYPE r counter\nr_total{m=\"x\"} 7\n"
	    "r_created{m=\"x\"} 1700000000.5\n# EOF\n"),
	    "1:T r counter | 2:S r_total{m=\"x\"} 7 r counter [m=x] | "
	    "3:S r_created{m=\"x\"} 1700000000.5 r counter [m=x] | EOF" },
	{ "OM: info", OM,
	    S("# TYPE build info\nbuild_info{version=\"1.2\"} 1\n# EOF\n"),
	    "1:T build info | 2:S build_info{version=\"1.2\"} 1 build info "
	    "[version=1.2] | EOF" },
	{ "OM: stateset", OM,
	    S("# TYPE st stateset\nst{st=\"a\"} 1\nst{st=\"b\"} 0\n# EOF\n"),
	    "1:T st stateset | 2:S st{st=\"a\"} 1 st stateset [st=a] | "
	    "3:S st{st=\"b\"} 0 st stateset [st=b] | EOF" },
	{ "OM: gaugehistogram", OM,
	    S("# TYPE gh gaugehistogram\ngh_bucket{le=\"+Inf\"} 3\n"
	    "gh_gsum 2\ngh_gcount 3\n# EOF\n"),
	    "1:T gh gaugehistogram | 2:S gh_bucket{le=\"+Inf\"} 3 gh "
	    "gaugehistogram [le=+Inf] | 3:S gh_gsum 2 gh gaugehistogram [] | "
	    "4:S gh_gcount 3 gh gaugehistogram [] | EOF" },
	{ "OM: unknown type", OM, S("# TYPE q unknown\nq 1\n# EOF\n"),
	    "1:T q untyped | 2:S q 1 q untyped [] | EOF" },
	{ "OM: timestamps are float seconds", OM,
	    S("a 1 1.5\nb 2 -1\nc 3 1700000000.123\n# EOF\n"),
	    "1:S a 1 @1500 a untyped [] | 2:S b 2 @-1000 b untyped [] | "
	    "3:S c 3 @1700000000123 c untyped [] | EOF" },
	{ "OM: exemplars", OM,
	    S("# TYPE h histogram\n"
	    "h_bucket{le=\"1\"} 2 # {trace_id=\"abc\"} 0.5 1.0\n"
	    "h_bucket{le=\"+Inf\"} 2 # {t=\"x\"} 1\n"
	    "h_count 2\nh_sum 0.5\n# EOF\n"),
	    "1:T h histogram | 2:S h_bucket{le=\"1\"} 2 h histogram [le=1] | "
	    "3:S h_bucket{le=\"+Inf\"} 2 h histogram [le=+Inf] | "
	    "4:S h_count 2 h histogram [] | "
	    "5:S h_sum 0.5 h histogram [] | EOF" },
	{ "OM: HELP may escape a quote", OM,
	    S("# HELP a say \\\"hi\\\"\n# EOF\n"),
	    "1:H a \"say \"hi\"\" | EOF" },
};

/* Run the table of good inputs. */
static void
test_render(void)
{
	const struct rcase	*c;
	struct promtext		 p;
	struct pt_item		 it;
	struct buf		 b;
	char			*in;
	size_t			 i;

	buf_init(&b);
	for (i = 0; i < sizeof rcases / sizeof rcases[0]; i++) {
		c = &rcases[i];
		in = dup_exact(c->in, c->len);
		promtext_init(&p, in, c->len, c->fmt);
		render(&p, &b);
		is_str((char *)b.data, c->want, "%s: items", c->name);
		is_int(promtext_next(&p, &it, NULL, 0), PT_EOF,
		    "%s: next after the end is EOF", c->name);
		free(in);
	}
	buf_free(&b);
}

struct ecase {
	const char	*name;
	enum pt_format	 fmt;
	const char	*in;
	size_t		 len;
	const char	*want;
	bool		 prefix;	/* compare strlen(want) bytes */
};

/* Inputs that fail, and the error; columns are counted by hand. */
static const struct ecase ecases[] = {
	{ "missing value", TEXT, S("a\n"), "line 1 col 2: missing value",
	    false },
	{ "missing value after labels on line 2", TEXT,
	    S("x 1\na{b=\"c\"}\n"), "line 2 col 9: missing value", false },
	{ "missing value after a space", TEXT, S("a \n"),
	    "line 1 col 3: missing value", false },
	{ "bad value abc", TEXT, S("a abc\n"),
	    "line 1 col 3: invalid value \"abc\"", false },
	{ "bad value 1.2.3 after labels", TEXT, S("a{b=\"c\"} 1.2.3\n"),
	    "line 1 col 10: invalid value \"1.2.3\"", false },
	{ "value glued to garbage", TEXT, S("a 1x\n"),
	    "line 1 col 3: invalid value \"1x\"", false },
	{ "hex float value", TEXT, S("a 0x1p-2\n"),
	    "line 1 col 3: invalid value \"0x1p-2\"", false },
	{ "unterminated label value (at its quote)", TEXT,
	    S("a{b=\"c} 1\n"), "line 1 col 5: unterminated label value",
	    false },
	{ "bad escape \\q", TEXT, S("a{b=\"x\\q\"} 1\n"),
	    "line 1 col 7: invalid escape sequence in label value", false },
	{ "label name starting with a digit", TEXT, S("a{1b=\"x\"} 1\n"),
	    "line 1 col 3: invalid label name", false },
	{ "missing = in labels", TEXT, S("a{b\"x\"} 1\n"),
	    "line 1 col 4: expected '=' after label name", false },
	{ "unquoted label value", TEXT, S("a{b=x} 1\n"),
	    "line 1 col 5: expected '\"' to start the label value", false },
	{ "empty label between commas", TEXT, S("a{b=\"c\",,} 1\n"),
	    "line 1 col 9: invalid label name", false },
	{ "unterminated label set", TEXT, S("a{b=\"c\"\n"),
	    "line 1 col 8: expected ',' or '}' after label value", false },
	{ "unterminated empty label set", TEXT, S("a{"),
	    "line 1 col 3: unterminated label set", false },
	{ "duplicate label name", TEXT, S("a{b=\"1\",b=\"2\"} 1\n"),
	    "line 1 col 9: duplicate label name \"b\"", false },
	{ "text glued to the label set", TEXT, S("a{b=\"c\"}x 1\n"),
	    "line 1 col 9: invalid value \"x\"", false },
	{ "garbage after the value", TEXT, S("a 1 x\n"),
	    "line 1 col 5: invalid timestamp \"x\"", false },
	{ "float timestamp in text format", TEXT, S("a 1 1.5\n"),
	    "line 1 col 5: invalid timestamp \"1.5\"", false },
	{ "garbage after the timestamp", TEXT, S("a 1 2 x\n"),
	    "line 1 col 7: unexpected text after timestamp", false },
	{ "a tab counts as one column", TEXT, S("a\t1\tx\n"),
	    "line 1 col 5: invalid timestamp \"x\"", false },
	{ "NUL in a metric name", TEXT, S("a\0b 1\n"),
	    "line 1 col 2: invalid character after metric name", false },
	{ "NUL after the value", TEXT, S("a 1\0\n"),
	    "line 1 col 3: invalid value \"1", true },
	{ "NUL as the first byte", TEXT, S("\0a 1\n"),
	    "line 1 col 1: invalid metric name", false },
	{ "metric name starting with a digit", TEXT, S("1a 1\n"),
	    "line 1 col 1: invalid metric name", false },
	{ "error on line 5 after good lines", TEXT,
	    S("# TYPE a gauge\na 1\n\nb{c=\"d\"} 2\nb{c=\"d\" 3\n"),
	    "line 5 col 9: expected ',' or '}' after label value", false },
	{ "duplicate TYPE for a family", TEXT,
	    S("# TYPE a gauge\na 1\n# TYPE a counter\n"),
	    "line 3 col 8: second TYPE line for metric a", false },
	{ "TYPE with an unknown type", TEXT, S("# TYPE a foo\n"),
	    "line 1 col 10: unknown metric type \"foo\"", false },
	{ "TYPE info is OpenMetrics only", TEXT, S("# TYPE a info\n"),
	    "line 1 col 10: unknown metric type \"info\"", false },
	{ "TYPE words are case-sensitive", TEXT, S("# TYPE a Gauge\n"),
	    "line 1 col 10: unknown metric type \"Gauge\"", false },
	{ "TYPE without a type", TEXT, S("# TYPE a\n"),
	    "line 1 col 9: missing type after TYPE a", false },
	{ "HELP name starting with a digit", TEXT, S("# HELP 1a x\n"),
	    "line 1 col 8: invalid metric name in HELP line", false },
	{ "HELP name with a brace", TEXT, S("# HELP a{ x\n"),
	    "line 1 col 9: invalid character in metric name", false },
	{ "HELP bad escape", TEXT, S("# HELP a x\\q\n"),
	    "line 1 col 11: invalid escape sequence in HELP", false },
	{ "HELP ending in a backslash", TEXT, S("# HELP a x\\\n"),
	    "line 1 col 11: invalid escape sequence in HELP", false },
	{ "HELP \\\" is OpenMetrics only", TEXT,
	    S("# HELP a say \\\"hi\\\"\n"),
	    "line 1 col 14: invalid escape sequence in HELP", false },
	/* Bug: everything after a '\r' that does not end the line is lost. */
	{ "garbage after a bare CR", TEXT, S("a 1\rx\n"), "line 1 col ",
	    true },

	{ "OM: empty line", OM, S("a 1\n\n# EOF\n"),
	    "line 2 col 1: empty line", false },
	{ "OM: missing # EOF", OM, S("# TYPE a counter\na_total 1\n"),
	    "line 3 col 1: missing # EOF", false },
	{ "OM: content after # EOF", OM, S("# EOF\na 1\n"),
	    "line 2 col 1: unexpected content after # EOF", false },
	{ "OM: plain comment", OM, S("# hello\n# EOF\n"),
	    "line 1 col 3: unexpected comment (only HELP, TYPE, UNIT and EOF "
	    "are allowed)", false },
	{ "OM: CRLF fails at the first '\\r'", OM, S("a 1\r\n# EOF\r\n"),
	    "line 1 col 3: invalid value \"1\r\"", false },
	{ "OM: bad timestamp", OM, S("a 1 abc\n# EOF\n"),
	    "line 1 col 5: invalid timestamp \"abc\"", false },
	{ "OM: exemplar without braces", OM,
	    S("a_bucket{le=\"1\"} 1 # x\n# EOF\n"),
	    "line 1 col 20: expected \"# {\" to start an exemplar", false },
	{ "timestamp past int64", TEXT, S("a 1 9223372036854775808\n"),
	    "line 1 col 5: invalid timestamp \"9223372036854775808\"", false },
	{ "invalid UTF-8 in a label value", TEXT,
	    S("a{x=\"ok\",y=\"ab\xff\"} 1\n"),
	    "line 1 col 15: invalid UTF-8 in label value", false },
	{ "overlong UTF-8 in a label value", TEXT, S("a{y=\"\xc0\xaf\"} 1\n"),
	    "line 1 col 6: invalid UTF-8 in label value", false },
	{ "UTF-16 surrogate in a label value", TEXT,
	    S("a{y=\"\xed\xa0\x80\"} 1\n"),
	    "line 1 col 6: invalid UTF-8 in label value", false },
	{ "code point past U+10FFFF in a label value", TEXT,
	    S("a{y=\"\xf4\x90\x80\x80\"} 1\n"),
	    "line 1 col 6: invalid UTF-8 in label value", false },
	{ "truncated UTF-8 at the end of a label value", TEXT,
	    S("a{y=\"x\xe2\x98\"} 1\n"),
	    "line 1 col 7: invalid UTF-8 in label value", false },
	{ "OM: a value and a space end the page (no overread)", OM,
	    S("a 1 "), "line 1 col 5: invalid timestamp \"\"", false },
	{ "OM: invalid UTF-8 in a label value", OM,
	    S("a{y=\"\x80\"} 1\n# EOF\n"),
	    "line 1 col 6: invalid UTF-8 in label value", false },
	{ "OM: group revisited", OM,
	    S("# TYPE g gauge\ng{k=\"1\"} 1\ng{k=\"2\"} 1\ng{k=\"1\"} 2\n"
	    "# EOF\n"),
	    "line 4 col 1: samples of one label group of g are not together",
	    false },
	{ "OM: family split by another", OM,
	    S("a 1\nb 1\na 2\n# EOF\n"),
	    "line 4 col 1: metric name a is already used by an earlier family",
	    false },
	{ "OM: histogram count disagrees with +Inf", OM,
	    S("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 3\nh_count 2\n"
	    "h_sum 1\n# EOF\n"),
	    "line 5 col 1: histogram h: the count does not match the +Inf "
	    "bucket", false },
};

/* Parse to the first error; returns its kind, err the message. */
static enum pt_kind
parse_to_error(struct promtext *p, char *err, size_t errlen)
{
	struct pt_item	it;
	enum pt_kind	k;
	int		n;

	for (n = 0; n < 100000; n++) {
		err[0] = '\0';
		k = promtext_next(p, &it, err, errlen);
		if (k == PT_EOF || k == PT_ERROR)
			return (k);
	}
	return (PT_EOF);
}

/* Run the table of bad inputs, then call the parser again after each. */
static void
test_errors(void)
{
	const struct ecase	*c;
	struct promtext		 p;
	struct pt_item		 it;
	enum pt_kind		 k;
	char			*in, err[256], got[256];
	size_t			 i, n;

	for (i = 0; i < sizeof ecases / sizeof ecases[0]; i++) {
		c = &ecases[i];
		in = dup_exact(c->in, c->len);
		promtext_init(&p, in, c->len, c->fmt);
		k = parse_to_error(&p, err, sizeof err);
		is_int(k, PT_ERROR, "%s: PT_ERROR", c->name);
		n = strlen(c->want);
		snprintf(got, sizeof got, "%.*s", c->prefix ? (int)n :
		    (int)sizeof got, err);
		is_str(got, c->want, "%s: error", c->name);
		k = promtext_next(&p, &it, err, sizeof err);
		is_int(k, PT_EOF, "%s: next after the error is EOF", c->name);
		k = promtext_next(&p, &it, NULL, 0);
		is_int(k, PT_EOF, "%s: and again", c->name);
		free(in);
	}
}

/* Check errors that need a built input or a small or missing err buffer. */
static void
test_errors_built(void)
{
	struct promtext	 p;
	struct pt_item	 it;
	struct pt_label	 l;
	struct buf	 b;
	enum pt_kind	 k;
	const char	*dup;
	char		 err[256], want[256], small[8];
	size_t		 i, n, col, pos;
	const size_t	 huge = 1 << 20;

	buf_init(&b);

	/* OM input missing "# EOF" with no final newline. */
	promtext_init(&p, "a_total 1", 9, OM);
	k = parse_to_error(&p, err, sizeof err);
	ok(k == PT_ERROR && (strcmp(err, "line 1 col 10: missing # EOF") == 0 ||
	    strcmp(err, "line 2 col 1: missing # EOF") == 0),
	    "OM: missing # EOF without a newline: a real position: got \"%s\"",
	    err);

	/* A 1 MiB label value is fine. */
	buf_printf(&b, "a{b=\"");
	for (i = 0; i < huge; i++)
		buf_putc(&b, 'x');
	buf_printf(&b, "\"} 7\n");
	promtext_init(&p, (char *)b.data, b.len, TEXT);
	k = promtext_next(&p, &it, err, sizeof err);
	is_int(k, PT_SAMPLE, "huge label value: a sample");
	is_int((long long)it.labels.len, (long long)huge + 4,
	    "huge label value: labels length");
	is_double(it.value, 7, 0, "huge label value: value");

	/* A 1 MiB metric name on line 2, then a bad timestamp. */
	buf_reset(&b);
	buf_printf(&b, "ok 1\n");
	for (i = 0; i < huge; i++)
		buf_putc(&b, 'a');
	buf_printf(&b, " 1 x\n");
	promtext_init(&p, (char *)b.data, b.len, TEXT);
	k = parse_to_error(&p, err, sizeof err);
	is_int(k, PT_ERROR, "huge line: PT_ERROR");
	snprintf(want, sizeof want, "line 2 col %zu: invalid timestamp \"x\"",
	    huge + 4);
	is_str(err, want, "huge line: error");

	/* A 1 MiB bad value: the message is bounded by err's size. */
	buf_reset(&b);
	buf_printf(&b, "a ");
	for (i = 0; i < huge; i++)
		buf_putc(&b, 'z');
	promtext_init(&p, (char *)b.data, b.len, TEXT);
	k = parse_to_error(&p, err, 64);
	is_int(k, PT_ERROR, "huge value: PT_ERROR");
	is_int((long long)strlen(err), 63, "huge value: message truncated");
	ok(strncmp(err, "line 1 col 3: invalid value \"zzz", 32) == 0,
	    "huge value: prefix: got \"%.40s\"", err);

	/* A small err buffer and no err buffer. */
	promtext_init(&p, "a abc\n", 6, TEXT);
	k = parse_to_error(&p, small, sizeof small);
	is_int(k, PT_ERROR, "small err buffer: PT_ERROR");
	is_str(small, "line 1 ", "small err buffer: truncated");
	promtext_init(&p, "a abc\n", 6, TEXT);
	k = promtext_next(&p, &it, NULL, 0);
	is_int(k, PT_ERROR, "no err buffer: PT_ERROR");

	/* 100 distinct labels: no fixed limit. */
	buf_reset(&b);
	buf_printf(&b, "a{");
	for (i = 0; i < 100; i++)
		buf_printf(&b, "l%zu=\"v\",", i);
	buf_printf(&b, "} 1\n");
	promtext_init(&p, (char *)b.data, b.len, TEXT);
	k = promtext_next(&p, &it, err, sizeof err);
	is_int(k, PT_SAMPLE, "100 labels: a sample");
	n = pos = 0;
	while (k == PT_SAMPLE && pt_label_next(it.labels, &pos, &l))
		n++;
	is_int((long long)n, 100, "100 labels: pt_label_next count");

	/*
	 * 70 labels, then the 70th again. Prometheus refuses duplicate label
	 * names wherever they are.
	 */
	for (i = 0; i < 2; i++) {
		dup = i == 0 ? "l5" : "l69";
		buf_reset(&b);
		buf_printf(&b, "a{");
		for (n = 0; n < 70; n++)
			buf_printf(&b, "l%zu=\"v\",", n);
		col = b.len + 1;
		buf_printf(&b, "%s=\"w\"} 1\n", dup);
		promtext_init(&p, (char *)b.data, b.len, TEXT);
		k = parse_to_error(&p, err, sizeof err);
		is_int(k, PT_ERROR, "duplicate %s after 70 labels: PT_ERROR",
		    dup);
		snprintf(want, sizeof want,
		    "line 1 col %zu: duplicate label name \"%s\"", col, dup);
		is_str(err, want, "duplicate %s after 70 labels: error", dup);
	}
	buf_free(&b);
}

struct fcase {
	const char	*in;
	bool		 ok;
	double		 want;
	const char	*why;
};

/* Floats; Go's strconv.ParseFloat behind Prometheus's parseFloat rules. */
static const struct fcase fcases[] = {
	{ "1", true, 1, "" },
	{ "1.5", true, 1.5, "" },
	{ "-2", true, -2, "" },
	{ "1e3", true, 1000, "" },
	{ "1E-3", true, 1e-3, "" },
	{ "1e+06", true, 1e6, "Go style" },
	{ "6.7359739904e+010", true, 67359739904.0, "Go style" },
	{ "1.7688785631220756e+09", true, 1.7688785631220756e+09,
	    "17 digits" },
	{ "0.1", true, 0.1, "correctly rounded" },
	{ "9007199254740993", true, 9007199254740992.0, "ties to even" },
	{ "123456789012345678901234567890", true,
	    123456789012345678901234567890.0, "more than 19 digits" },
	{ "00012", true, 12, "leading zeros" },
	{ ".5", true, 0.5, "Go accepts" },
	{ "5.", true, 5, "Go accepts" },
	{ "4.9e-324", true, 4.9e-324, "denormal" },
	{ "1e308", true, 1e308, "" },
	{ "1e-400", true, 0, "Go underflows to 0 without an error" },
	{ "1e400", false, 0, "Go: ErrRange, Prometheus fails the scrape" },
	{ "+Inf", true, INFINITY, "" },
	{ "-Inf", true, -INFINITY, "" },
	{ "Inf", true, INFINITY, "Go accepts" },
	{ "+inf", true, INFINITY, "Go: any case" },
	{ "-inf", true, -INFINITY, "Go: any case" },
	{ "INF", true, INFINITY, "Go: any case" },
	{ "Infinity", true, INFINITY, "Go accepts" },
	{ "-infinity", true, -INFINITY, "Go accepts" },
	{ "NaN", true, NAN, "" },
	{ "nan", true, NAN, "Go: any case" },
	{ "nAN", true, NAN, "Go: any case" },
	{ "+NaN", false, 0, "Go: no sign on NaN" },
	{ "-nan", false, 0, "Go: no sign on NaN" },
	{ "In", false, 0, "" },
	{ "Infin", false, 0, "Go: prefix of Infinity" },
	{ "0x10", false, 0, "Go: hex mantissa needs a p exponent" },
	{ "0x1p-2", false, 0, "Prometheus's parseFloat refuses p" },
	{ "1_000", false, 0, "Prometheus's parseFloat refuses _" },
	{ "", false, 0, "" },
	{ "1.2.3", false, 0, "" },
	{ " 1", false, 0, "leading space" },
	{ "1 ", false, 0, "trailing space" },
	{ ".", false, 0, "" },
	{ "+", false, 0, "" },
	{ "-", false, 0, "" },
	{ "e3", false, 0, "" },
	{ "1e", false, 0, "" },
	{ "1e+", false, 0, "" },
	{ "1,5", false, 0, "no locale" },
};

/* Run the pt_parse_float table and a few checks on -0. */
static void
test_parse_float(void)
{
	const struct fcase	*c;
	double			 d;
	char			*in;
	size_t			 i, len;
	bool			 r;

	for (i = 0; i < sizeof fcases / sizeof fcases[0]; i++) {
		c = &fcases[i];
		len = strlen(c->in);
		in = dup_exact(c->in, len);
		d = -12345;
		r = pt_parse_float(in, len, &d);
		is_int(r, c->ok, "pt_parse_float \"%s\" %s (%s)", c->in,
		    c->ok ? "accepted" : "refused", c->why);
		if (c->ok && r)
			is_double(d, c->want, 0, "pt_parse_float \"%s\": value",
			    c->in);
		free(in);
	}
	r = pt_parse_float("-0.0", 4, &d);
	ok(r && d == 0 && signbit(d), "pt_parse_float \"-0.0\": negative zero");
	r = pt_parse_float("-0", 2, &d);
	ok(r && d == 0 && signbit(d), "pt_parse_float \"-0\": negative zero");
	r = pt_parse_float("0e-5", 4, &d);
	ok(r && d == 0 && !signbit(d),
	    "pt_parse_float \"0e-5\": positive zero");
	/* The length bounds the number: "12" of "123". */
	r = pt_parse_float("123", 2, &d);
	ok(r && d == 12, "pt_parse_float reads only len bytes");
}

struct ctcase {
	const char	*ct;
	enum pt_format	 want;
};

static const struct ctcase ctcases[] = {
	{ "text/plain; version=0.0.4", TEXT },
	{ "text/plain; version=0.0.4; charset=utf-8", TEXT },
	{ "application/openmetrics-text; version=1.0.0; charset=utf-8", OM },
	{ "application/openmetrics-text", OM },
	{ "Application/OpenMetrics-Text; version=0.0.1", OM },
	{ "application/json", TEXT },
	{ "", TEXT },
	{ NULL, TEXT },
};

/* Map Content-Type headers to formats. */
static void
test_content_type(void)
{
	size_t	i;

	for (i = 0; i < sizeof ctcases / sizeof ctcases[0]; i++)
		is_int(promtext_format_from_content_type(ctcases[i].ct),
		    ctcases[i].want, "content type \"%s\"",
		    ctcases[i].ct != NULL ? ctcases[i].ct : "(null)");
}

/* Return the first sample of in. */
static enum pt_kind
first_sample(struct promtext *p, const char *in, size_t len,
    struct pt_item *it)
{
	enum pt_kind	k;
	char		err[256];

	promtext_init(p, in, len, TEXT);
	do
		k = promtext_next(p, it, err, sizeof err);
	while (k != PT_SAMPLE && k != PT_EOF && k != PT_ERROR);
	return (k);
}

/* Check series is the same raw bytes from parse to parse, and borrowed. */
static void
test_series(void)
{
	static const char	 a[] = "a{b=\"c\"} 1\n";
	static const char	 b[] = "# TYPE a gauge\na{b=\"c\"}   2 123\n";
	static const char	 c[] = "a{c=\"2\",b=\"1\"} 1\n";
	static const char	 d[] = "a{b=\"1\",c=\"2\"} 1\n";
	struct promtext		 p;
	struct pt_item		 i1, i2;
	char			*x, *y, s[64];

	x = dup_exact(a, sizeof a - 1);
	y = dup_exact(a, sizeof a - 1);
	first_sample(&p, x, sizeof a - 1, &i1);
	first_sample(&p, y, sizeof a - 1, &i2);
	is_str(cstr(i1.series, s, sizeof s), "a{b=\"c\"}", "series: raw bytes");
	ok(i1.series.len == i2.series.len && memcmp(i1.series.p, i2.series.p,
	    i1.series.len) == 0, "series: same line, two parses, same bytes");
	ok(i1.series.p == x && i1.name.p == x && i1.labels.p == x + 2 &&
	    i2.series.p == y, "series: points into the buffer (zero-copy)");
	free(x);
	free(y);

	x = dup_exact(a, sizeof a - 1);
	y = dup_exact(b, sizeof b - 1);
	first_sample(&p, x, sizeof a - 1, &i1);
	first_sample(&p, y, sizeof b - 1, &i2);
	ok(i1.series.len == i2.series.len && memcmp(i1.series.p, i2.series.p,
	    i1.series.len) == 0, "series: other value, timestamp, spacing and "
	    "TYPE give the same bytes");
	free(x);
	free(y);

	first_sample(&p, "a  1\n", 5, &i1);
	is_str(cstr(i1.series, s, sizeof s), "a", "series: no labels");
	first_sample(&p, c, sizeof c - 1, &i1);
	first_sample(&p, d, sizeof d - 1, &i2);
	ok(!(i1.series.len == i2.series.len && memcmp(i1.series.p,
	    i2.series.p, i1.series.len) == 0),
	    "series: raw, so label order matters");
}

/* Check pt_label_next, the unescapers and pt_str_eq directly. */
static void
test_helpers(void)
{
	static const char	 raw[] = "a=\"1\", b = \"x\\\"y\" ,c=\"\"";
	struct pt_str		 labels = { raw, sizeof raw - 1 }, v;
	struct pt_label		 l;
	size_t			 pos = 0, n;
	char			 s[64], out[64];

	ok(pt_label_next(labels, &pos, &l), "label_next: first");
	is_str(cstr(l.name, s, sizeof s), "a", "label_next: first name");
	is_str(cstr(l.value, s, sizeof s), "1", "label_next: first value");
	ok(!l.escaped, "label_next: first not escaped");
	ok(pt_label_next(labels, &pos, &l), "label_next: second");
	is_str(cstr(l.name, s, sizeof s), "b", "label_next: second name");
	is_str(cstr(l.value, s, sizeof s), "x\\\"y",
	    "label_next: second value raw");
	ok(l.escaped, "label_next: second escaped");
	n = pt_unescape_value(l.value, out);
	is_int((long long)n, 3, "label_next: second unescaped length");
	ok(n == 3 && memcmp(out, "x\"y", 3) == 0, "label_next: second value");
	ok(pt_label_next(labels, &pos, &l), "label_next: third");
	is_str(cstr(l.name, s, sizeof s), "c", "label_next: third name");
	is_int((long long)l.value.len, 0, "label_next: third value empty");
	ok(!pt_label_next(labels, &pos, &l), "label_next: no fourth");

	v.p = "a\\\\b\\\"c\\nd";
	v.len = strlen(v.p);
	n = pt_unescape_value(v, out);
	ok(n == 7 && memcmp(out, "a\\b\"c\nd", 7) == 0,
	    "unescape_value: \\\\ \\\" \\n");
	v.p = "a\\\\b\\nc";
	v.len = strlen(v.p);
	n = pt_unescape_help(v, out);
	ok(n == 5 && memcmp(out, "a\\b\nc", 5) == 0,
	    "unescape_help: \\\\ \\n");

	v.p = "abc";
	v.len = 3;
	ok(pt_str_eq(v, "abc"), "pt_str_eq: equal");
	ok(!pt_str_eq(v, "ab"), "pt_str_eq: shorter");
	ok(!pt_str_eq(v, "abcd"), "pt_str_eq: longer");
}

/* Read a whole file into an exact-size buffer; NULL if it cannot. */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f;
	char	*data = NULL, chunk[8192];
	size_t	 n;

	*len = 0;
	f = fopen(path, "rb");
	if (f == NULL)
		return (NULL);
	for (;;) {
		n = fread(chunk, 1, sizeof chunk, f);
		if (n == 0)
			break;
		data = xrealloc(data, *len + n);
		memcpy(data + *len, chunk, n);
		*len += n;
	}
	fclose(f);
	if (data == NULL)
		data = xmalloc(1);
	return (data);
}

static const char	*fixtures = "../shared/fixtures";

/*
 * The real captures. Counted independently in the shell, for F in each:
 *   samples: grep -v '^#' F | grep -cv '^[[:space:]]*$'
 *   TYPE:    grep -c '^# TYPE ' F       HELP: grep -c '^# HELP ' F
 *   lines:   awk 'END { print NR }' F   (v1 has no final newline)
 *   labels:  grep -v '^#' F | grep -o '="' | wc -l
 */
struct fixture {
	const char	*file;
	size_t		 samples;
	size_t		 types;
	size_t		 helps;
	size_t		 lines;
	size_t		 labels;
};

static const struct fixture fixture_files[] = {
	{ "vllm-v1-deepseek.prom", 420, 83, 83, 586, 1106 },
	{ "vllm-v0-qwen3.prom", 260, 22, 22, 304, 502 },
	{ "sglang-2024.prom", 91, 12, 12, 115, 166 },
};

/* A sample looked up by its raw series bytes (line from grep -n). */
struct spot {
	const char	*file;
	size_t		 line;
	const char	*series;
	double		 value;
	const char	*family;
	enum pt_type	 type;
	const char	*label;
	const char	*label_value;
};

static const struct spot spots[] = {
	{ "vllm-v1-deepseek.prom", 74,
	    "vllm:kv_cache_usage_perc{engine=\"0\","
	    "model_name=\"DeepSeek-V3.1\"}",
	    0.00021202162620592713, "vllm:kv_cache_usage_perc", PT_GAUGE,
	    "model_name", "DeepSeek-V3.1" },
	{ "vllm-v1-deepseek.prom", 18,
	    "python_info{implementation=\"CPython\",major=\"3\",minor=\"12\","
	    "patchlevel=\"3\",version=\"3.12.3\"}",
	    1, "python_info", PT_GAUGE, "version", "3.12.3" },
	{ "vllm-v1-deepseek.prom", 21, "process_virtual_memory_bytes",
	    6.7359739904e+010, "process_virtual_memory_bytes", PT_GAUGE,
	    NULL, NULL },
	{ "vllm-v1-deepseek.prom", 36, "process_max_fds", 1e+06,
	    "process_max_fds", PT_GAUGE, NULL, NULL },
	{ "vllm-v1-deepseek.prom", 39,
	    "vllm:spec_decode_num_drafts_total{engine=\"0\","
	    "model_name=\"DeepSeek-V3.1\"}",
	    15106, "vllm:spec_decode_num_drafts_total", PT_COUNTER,
	    "engine", "0" },
	{ "vllm-v1-deepseek.prom", 42,
	    "vllm:spec_decode_num_drafts_created{engine=\"0\","
	    "model_name=\"DeepSeek-V3.1\"}",
	    1.7688785631220756e+09, "vllm:spec_decode_num_drafts_created",
	    PT_GAUGE, "model_name", "DeepSeek-V3.1" },
	{ "vllm-v1-deepseek.prom", 159,
	    "vllm:request_prompt_tokens_bucket{engine=\"0\",le=\"+Inf\","
	    "model_name=\"DeepSeek-V3.1\"}",
	    133, "vllm:request_prompt_tokens", PT_HISTOGRAM, "le", "+Inf" },
	{ "vllm-v1-deepseek.prom", 160,
	    "vllm:request_prompt_tokens_count{engine=\"0\","
	    "model_name=\"DeepSeek-V3.1\"}",
	    133, "vllm:request_prompt_tokens", PT_HISTOGRAM, "engine", "0" },
	{ "vllm-v1-deepseek.prom", 161,
	    "vllm:request_prompt_tokens_sum{engine=\"0\","
	    "model_name=\"DeepSeek-V3.1\"}",
	    10052, "vllm:request_prompt_tokens", PT_HISTOGRAM,
	    "model_name", "DeepSeek-V3.1" },
	{ "vllm-v1-deepseek.prom", 535,
	    "http_request_size_bytes_count{handler=\"/v1/chat/completions\"}",
	    133, "http_request_size_bytes", PT_SUMMARY,
	    "handler", "/v1/chat/completions" },
	{ "vllm-v1-deepseek.prom", 586,
	    "http_request_duration_seconds_created{handler=\"/v1/chat/"
	    "completions\",method=\"POST\"}",
	    1.768878978201754e+09, "http_request_duration_seconds_created",
	    PT_GAUGE, "method", "POST" },
	{ "vllm-v0-qwen3.prom", 292,
	    "vllm:gpu_cache_usage_perc{model_name=\"Qwen/Qwen3-0.6B\"}",
	    0, "vllm:gpu_cache_usage_perc", PT_GAUGE,
	    "model_name", "Qwen/Qwen3-0.6B" },
	{ "vllm-v0-qwen3.prom", 6,
	    "vllm:lora_requests_info{max_lora=\"1\",running_lora_adapters=\"\","
	    "waiting_lora_adapters=\"\"}",
	    1.755178079975038e+09, "vllm:lora_requests_info", PT_GAUGE,
	    "running_lora_adapters", "" },
	{ "vllm-v0-qwen3.prom", 9,
	    "vllm:iteration_tokens_total_sum{model_name=\"Qwen/Qwen3-0.6B\"}",
	    48826, "vllm:iteration_tokens_total", PT_HISTOGRAM,
	    "model_name", "Qwen/Qwen3-0.6B" },
	{ "vllm-v0-qwen3.prom", 23,
	    "vllm:iteration_tokens_total_bucket{le=\"+Inf\","
	    "model_name=\"Qwen/Qwen3-0.6B\"}",
	    1325, "vllm:iteration_tokens_total", PT_HISTOGRAM, "le", "+Inf" },
	{ "vllm-v0-qwen3.prom", 295,
	    "vllm:num_preemptions_total{model_name=\"Qwen/Qwen3-0.6B\"}",
	    0, "vllm:num_preemptions_total", PT_COUNTER, NULL, NULL },
	{ "sglang-2024.prom", 9,
	    "sglang:token_usage{model_name=\"meta-llama/"
	    "Llama-3.1-8B-Instruct\"}",
	    0.28, "sglang:token_usage", PT_GAUGE,
	    "model_name", "meta-llama/Llama-3.1-8B-Instruct" },
	{ "sglang-2024.prom", 3,
	    "sglang:prompt_tokens_total{model_name=\"meta-llama/"
	    "Llama-3.1-8B-Instruct\"}",
	    8.128902e+06, "sglang:prompt_tokens_total", PT_COUNTER, NULL,
	    NULL },
	{ "sglang-2024.prom", 15,
	    "sglang:time_to_first_token_seconds_sum{model_name=\"meta-llama/"
	    "Llama-3.1-8B-Instruct\"}",
	    2.3518979474117756e+06, "sglang:time_to_first_token_seconds",
	    PT_HISTOGRAM, NULL, NULL },
	{ "sglang-2024.prom", 20,
	    "sglang:time_to_first_token_seconds_bucket{le=\"0.04\","
	    "model_name=\"meta-llama/Llama-3.1-8B-Instruct\"}",
	    1, "sglang:time_to_first_token_seconds", PT_HISTOGRAM,
	    "le", "0.04" },
	{ "sglang-2024.prom", 37,
	    "sglang:time_to_first_token_seconds_count{model_name=\"meta-llama/"
	    "Llama-3.1-8B-Instruct\"}",
	    11008, "sglang:time_to_first_token_seconds", PT_HISTOGRAM,
	    NULL, NULL },
};

#define NSPOTS	(sizeof spots / sizeof spots[0])

/* Find label name in labels and unescape its value into out. */
static bool
label_get(struct pt_str labels, const char *name, char *out, size_t outlen)
{
	struct pt_label	l;
	size_t		pos = 0, n;

	if (labels.p == NULL)
		return (false);
	while (pt_label_next(labels, &pos, &l)) {
		if (!pt_str_eq(l.name, name))
			continue;
		if (l.value.len >= outlen)
			return (false);
		n = pt_unescape_value(l.value, out);
		out[n] = '\0';
		return (true);
	}
	return (false);
}

/* Check one spot sample against the item found for it. */
static void
check_spot(const struct spot *sp, const struct pt_item *it, bool found)
{
	char	s[256];

	ok(found, "%s line %zu: sample found", sp->file, sp->line);
	if (!found)
		return;
	is_int((long long)it->line, (long long)sp->line, "%s line %zu: line",
	    sp->file, sp->line);
	is_double(it->value, sp->value, 0, "%s line %zu: value", sp->file,
	    sp->line);
	is_str(cstr(it->family, s, sizeof s), sp->family,
	    "%s line %zu: family", sp->file, sp->line);
	is_str(type_name(it->type), type_name(sp->type), "%s line %zu: type",
	    sp->file, sp->line);
	if (sp->label == NULL)
		return;
	if (!label_get(it->labels, sp->label, s, sizeof s))
		s[0] = '\0';
	is_str(s, sp->label_value, "%s line %zu: label %s", sp->file, sp->line,
	    sp->label);
}

/* Parse each capture: counts, spot values, families. */
static void
test_fixtures(void)
{
	const struct fixture	*f;
	struct promtext		 p;
	struct pt_item		 it, spot_it[NSPOTS];
	struct pt_label		 l;
	bool			 found[NSPOTS];
	enum pt_kind		 k;
	char			 path[1024], err[256];
	char			*data;
	size_t			 i, j, len, ns, nt, nh, nl, nu, last, pos;

	for (i = 0; i < sizeof fixture_files / sizeof fixture_files[0]; i++) {
		f = &fixture_files[i];
		snprintf(path, sizeof path, "%s/exposition/%s", fixtures,
		    f->file);
		data = slurp(path, &len);
		if (!ok(data != NULL, "%s: read %s", f->file, path))
			continue;
		memset(found, 0, sizeof found);
		ns = nt = nh = nl = nu = last = 0;
		promtext_init(&p, data, len, TEXT);
		err[0] = '\0';
		for (;;) {
			k = promtext_next(&p, &it, err, sizeof err);
			if (k == PT_EOF || k == PT_ERROR)
				break;
			last = it.line;
			if (k == PT_TYPE)
				nt++;
			else if (k == PT_HELP)
				nh++;
			if (k != PT_SAMPLE)
				continue;
			ns++;
			if (it.type == PT_UNTYPED)
				nu++;
			pos = 0;
			while (it.labels.p != NULL &&
			    pt_label_next(it.labels, &pos, &l))
				nl++;
			for (j = 0; j < NSPOTS; j++) {
				if (strcmp(spots[j].file, f->file) == 0 &&
				    pt_str_eq(it.series, spots[j].series)) {
					spot_it[j] = it;
					found[j] = true;
				}
			}
		}
		is_int(k, PT_EOF, "%s: parses to EOF%s%s", f->file,
		    err[0] != '\0' ? ": " : "", err);
		is_int((long long)ns, (long long)f->samples, "%s: samples",
		    f->file);
		is_int((long long)nt, (long long)f->types, "%s: TYPE lines",
		    f->file);
		is_int((long long)nh, (long long)f->helps, "%s: HELP lines",
		    f->file);
		is_int((long long)nl, (long long)f->labels, "%s: labels",
		    f->file);
		is_int((long long)nu, 0, "%s: every sample is in its family",
		    f->file);
		is_int((long long)last, (long long)f->lines, "%s: last line",
		    f->file);
		for (j = 0; j < NSPOTS; j++) {
			if (strcmp(spots[j].file, f->file) == 0)
				check_spot(&spots[j], &spot_it[j], found[j]);
		}
		free(data);
	}
}

static uint32_t	rng_state = 0x9e3779b9;

/* Return the next number of a fixed xorshift32 sequence. */
static uint32_t
rng(void)
{
	uint32_t	x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rng_state = x;
	return (x);
}

/* Tell whether s lies inside [buf, buf + len). */
static bool
inside(struct pt_str s, const char *buf, size_t len)
{
	if (s.len == 0)
		return (true);
	return (s.p >= buf && s.p + s.len <= buf + len);
}

/*
 * Mutate and truncate the v1 capture 2000 times and parse each to the end:
 * no crash, no read outside the buffer, every error "line ...", every
 * string inside the buffer, labels iterable and unescapable.
 */
static void
test_fuzz(void)
{
	static const char	 bytes[] = "\n\r\t \"\\{}=,#eE+-.09aZ_:x";
	struct promtext		 p;
	struct pt_item		 it;
	struct pt_label		 l;
	enum pt_kind		 k;
	char			 path[1024], err[256], bad[256];
	char			*orig, *data, *tmp;
	size_t			 len, n, i, j, pos, errlen, calls;
	size_t			 lastline;
	int			 iter, nmut;
	unsigned		 errors = 0, finished = 0, badprefix = 0;
	unsigned		 outside = 0, badline = 0, notdone = 0;
	unsigned		 samples = 0;

	snprintf(path, sizeof path, "%s/exposition/vllm-v1-deepseek.prom",
	    fixtures);
	orig = slurp(path, &len);
	if (!ok(orig != NULL, "fuzz: read %s", path))
		return;
	bad[0] = '\0';
	for (iter = 0; iter < 2000; iter++) {
		n = len;
		if (iter % 3 != 0)
			n = rng() % (len + 1);
		data = dup_exact(orig, n);
		nmut = iter % 3 == 1 ? 0 : 1 + (int)(rng() % 8);
		for (j = 0; n > 0 && j < (size_t)nmut; j++) {
			if (rng() % 4 == 0)
				data[rng() % n] = (char)(rng() & 0xff);
			else
				data[rng() % n] = bytes[rng() %
				    (sizeof bytes - 1)];
			if (rng() % 8 == 0)
				data[rng() % n] = '\0';
		}
		errlen = iter % 5 == 0 ? 6 : sizeof err;
		promtext_init(&p, data, n, iter % 4 == 3 ? OM : TEXT);
		lastline = 0;
		for (calls = 0; calls <= n + 2; calls++) {
			err[0] = '\0';
			k = promtext_next(&p, &it, iter % 7 == 0 ? NULL : err,
			    iter % 7 == 0 ? 0 : errlen);
			if (k == PT_EOF) {
				finished++;
				break;
			}
			if (k == PT_ERROR) {
				errors++;
				if (iter % 7 != 0 &&
				    strncmp(err, "line ", 5) != 0) {
					if (badprefix++ == 0)
						snprintf(bad, sizeof bad,
						    "%s", err);
				}
				break;
			}
			if (it.line <= lastline)
				badline++;
			lastline = it.line;
			if (!inside(it.name, data, n) ||
			    !inside(it.series, data, n) ||
			    !inside(it.labels, data, n) ||
			    !inside(it.family, data, n) ||
			    !inside(it.text, data, n))
				outside++;
			if (k == PT_HELP) {
				tmp = xmalloc(it.text.len + 1);
				pt_unescape_help(it.text, tmp);
				free(tmp);
			}
			if (k != PT_SAMPLE || it.labels.p == NULL)
				continue;
			samples++;
			pos = 0;
			for (i = 0; i <= it.labels.len &&
			    pt_label_next(it.labels, &pos, &l); i++) {
				if (!inside(l.name, data, n) ||
				    !inside(l.value, data, n))
					outside++;
				tmp = xmalloc(l.value.len + 1);
				pt_unescape_value(l.value, tmp);
				free(tmp);
			}
		}
		if (calls > n + 2)
			notdone++;
		if (promtext_next(&p, &it, err, sizeof err) != PT_EOF)
			notdone++;
		free(data);
	}
	free(orig);
	is_int(finished + errors, 2000, "fuzz: 2000 runs end in EOF or error");
	ok(errors > 0 && finished > 0, "fuzz: both outcomes seen (%u errors, "
	    "%u clean, %u samples)", errors, finished, samples);
	is_int(badprefix, 0, "fuzz: every error starts with \"line \"%s%s",
	    bad[0] != '\0' ? ": first bad: " : "", bad);
	is_int(outside, 0, "fuzz: every string lies inside the buffer");
	is_int(badline, 0, "fuzz: item lines increase");
	is_int(notdone, 0, "fuzz: the parser stops and stays stopped");
}

/* Tell whether two samples are the same in every field. */
static bool
same_item(const struct pt_item *a, const struct pt_item *b)
{
	return (a->kind == b->kind && a->name.p == b->name.p &&
	    a->name.len == b->name.len && a->series.p == b->series.p &&
	    a->series.len == b->series.len && a->labels.len == b->labels.len &&
	    (a->labels.len == 0 || a->labels.p == b->labels.p) &&
	    a->family.p == b->family.p && a->family.len == b->family.len &&
	    a->type == b->type && memcmp(&a->value, &b->value,
	    sizeof a->value) == 0 && a->has_ts == b->has_ts &&
	    a->ts_ms == b->ts_ms && a->line == b->line);
}

/* The series keys of a page's samples, in order (*n of them). */
static struct pt_str *
page_keys(const char *data, size_t len, size_t *n)
{
	struct promtext	 p;
	struct pt_item	 it;
	struct pt_str	*keys;
	enum pt_kind	 k;

	keys = xreallocarray(NULL, len + 1, sizeof *keys);
	*n = 0;
	promtext_init(&p, data, len, PT_FORMAT_TEXT);
	while ((k = promtext_next(&p, &it, NULL, 0)) != PT_EOF &&
	    k != PT_ERROR) {
		if (k == PT_SAMPLE)
			keys[(*n)++] = it.series;
	}
	return (keys);
}

/* The next sample with this hint (a NUL-terminated key). */
static enum pt_kind
hinted_sample(struct promtext *p, const char *hint, struct pt_item *it,
    char *err, size_t errlen)
{
	enum pt_kind	k;

	promtext_hint(p, hint, strlen(hint));
	do
		k = promtext_next(p, it, err, errlen);
	while (k != PT_SAMPLE && k != PT_EOF && k != PT_ERROR);
	return (k);
}

/* Check hints: taken only on an exact key, and never change a result. */
static void
test_hint(void)
{
	static const char	 page[] =
	    "# TYPE foo counter\nfoo_total{a=\"1\"} 3\nfoo 4\n"
	    "foo_total{a=\"2\"} 5 123\nbar{x=\"y\"}\t6\nbar{x=\"y\"} z\n";
	struct promtext		 p;
	struct pt_item		 it, ref;
	char			 err[256], path[512], *data;
	size_t			 len, i, j, n, bad, hinted, nkeys;
	struct pt_str		*keys = NULL;
	enum pt_kind		 k, kr;
	struct promtext		 q;

	promtext_init(&p, page, sizeof page - 1, PT_FORMAT_TEXT);
	k = hinted_sample(&p, "foo_total{a=\"1\"}", &it, err, sizeof err);
	ok(k == PT_SAMPLE && it.hinted && it.value == 3 &&
	    it.name.len == 9 && it.labels.len == 5 &&
	    memcmp(it.labels.p, "a=\"1\"", 5) == 0 && it.type == PT_COUNTER,
	    "hint: an exact key is taken, name and labels set");
	k = hinted_sample(&p, "fo", &it, err, sizeof err);
	ok(k == PT_SAMPLE && !it.hinted && it.value == 4 &&
	    it.name.len == 3, "hint: a prefix of the name is not taken");
	k = hinted_sample(&p, "foo_total{a=\"1\"}", &it, err, sizeof err);
	ok(k == PT_SAMPLE && !it.hinted && it.has_ts && it.ts_ms == 123 &&
	    it.labels.len == 5 && it.labels.p[3] == '2',
	    "hint: another label value is not taken");
	k = hinted_sample(&p, "bar{x=\"y\"}", &it, err, sizeof err);
	ok(k == PT_SAMPLE && it.hinted && it.value == 6,
	    "hint: taken before a tab");
	k = hinted_sample(&p, "bar{x=\"y\"}", &it, err, sizeof err);
	ok(k == PT_ERROR && strcmp(err, "line 6 col 12: invalid value "
	    "\"z\"") == 0, "hint: the value is still checked: %s", err);

	promtext_init(&p, "foo 1\nfoo{a=\"1\"} 2\n", 20, PT_FORMAT_TEXT);
	k = hinted_sample(&p, "foo", &it, err, sizeof err);
	ok(k == PT_SAMPLE && it.hinted, "hint: a bare name is taken");
	k = promtext_next(&p, &it, err, sizeof err);
	ok(k == PT_SAMPLE && !it.hinted && it.labels.len == 5,
	    "hint: used by one sample only");
	promtext_init(&p, "foo{a=\"1\"} 2\n", 13, PT_FORMAT_TEXT);
	k = hinted_sample(&p, "foo", &it, err, sizeof err);
	ok(k == PT_SAMPLE && !it.hinted && it.labels.len == 5,
	    "hint: a bare name is not taken before a brace");

	/* Each capture hinted with its own keys, one line off and in step. */
	for (i = 0; i < sizeof fixture_files / sizeof fixture_files[0]; i++) {
		snprintf(path, sizeof path, "%s/exposition/%s", fixtures,
		    fixture_files[i].file);
		data = slurp(path, &len);
		if (data == NULL) {
			ok(0, "hint: read %s", path);
			continue;
		}
		free(keys);
		keys = page_keys(data, len, &nkeys);
		bad = hinted = 0;
		for (n = 0; n < 2; n++) {
			promtext_init(&p, data, len, PT_FORMAT_TEXT);
			promtext_init(&q, data, len, PT_FORMAT_TEXT);
			for (j = 0;; ) {
				if (j + n < nkeys)
					promtext_hint(&p, keys[j + n].p,
					    keys[j + n].len);
				k = promtext_next(&p, &it, err, sizeof err);
				kr = promtext_next(&q, &ref, err, sizeof err);
				if (k != kr || (k == PT_SAMPLE &&
				    !same_item(&it, &ref)))
					bad++;
				if (k != PT_SAMPLE && k != PT_HELP &&
				    k != PT_TYPE && k != PT_UNIT)
					break;
				if (k == PT_SAMPLE) {
					hinted += it.hinted;
					j++;
				}
			}
		}
		is_int((long long)bad, 0, "hint: %s parses the same hinted",
		    fixture_files[i].file);
		is_int((long long)hinted, (long long)nkeys,
		    "hint: %s: every in-step hint taken, no off-by-one",
		    fixture_files[i].file);
		free(data);
	}
	free(keys);
}

/*
 * Mutated pages parse the same with hints as without: every item and every
 * error message, with hints taken from the unmutated page's series.
 */
static void
test_fuzz_hint(void)
{
	static const char	 bytes[] = "\n\t \"\\{}=,#0x";
	struct promtext		 p, q;
	struct pt_item		 it, ref;
	struct pt_str		*keys;
	enum pt_kind		 k, kr;
	char			 path[1024], err[256], rerr[256], *orig, *data;
	size_t			 len, n, j, nkeys = 0, calls;
	int			 iter, m;
	unsigned		 differ = 0, taken = 0;

	snprintf(path, sizeof path, "%s/exposition/vllm-v1-deepseek.prom",
	    fixtures);
	orig = slurp(path, &len);
	if (!ok(orig != NULL, "fuzz hint: read %s", path))
		return;
	keys = page_keys(orig, len, &nkeys);
	for (iter = 0; iter < 1000; iter++) {
		n = iter % 2 == 0 ? len : rng() % (len + 1);
		data = dup_exact(orig, n);
		for (m = 0; n > 0 && m < 1 + (int)(rng() % 6); m++)
			data[rng() % n] = bytes[rng() % (sizeof bytes - 1)];
		promtext_init(&p, data, n, iter % 4 == 3 ? OM : TEXT);
		promtext_init(&q, data, n, iter % 4 == 3 ? OM : TEXT);
		for (j = 0, calls = 0; calls <= n + 2; calls++) {
			/* Hint the key in step, sometimes one ahead. */
			if (j + (size_t)(iter % 3 == 0) < nkeys)
				promtext_hint(&p, keys[j + (iter % 3 == 0)].p,
				    keys[j + (iter % 3 == 0)].len);
			err[0] = rerr[0] = '\0';
			k = promtext_next(&p, &it, err, sizeof err);
			kr = promtext_next(&q, &ref, rerr, sizeof rerr);
			if (k != kr || strcmp(err, rerr) != 0 ||
			    (k == PT_SAMPLE && !same_item(&it, &ref))) {
				differ++;
				break;
			}
			if (k == PT_EOF || k == PT_ERROR)
				break;
			if (k == PT_SAMPLE) {
				taken += it.hinted;
				j++;
			}
		}
		free(data);
	}
	free(keys);
	free(orig);
	is_int(differ, 0, "fuzz hint: 1000 mutated pages parse the same with "
	    "hints (%u hints taken)", taken);
}

/* Run every group of checks and print the plan. */
/*
 * The OpenMetrics project's parser test data (tests/testdata/parsers in
 * OpenObservability/OpenMetrics) is the reference for what OpenMetrics
 * accepts. Its files are not copied here: each of its cases is written
 * again below, under the case's name, as a page that tests the same rule.
 * valid is the case's shouldParse. All 44 valid and 167 invalid cases.
 */
struct omcase {
	const char	*name;
	const char	*in;
	size_t		 len;
	bool		 valid;
};

#define X10	"abcdefghij"
#define X120	X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define HIST	"# TYPE m histogram\n"
#define GHIST	"# TYPE m gaugehistogram\n"
#define SUMM	"# TYPE m summary\n"
#define CTR	"# TYPE m counter\n"
#define GAUGE	"# TYPE m gauge\n"

static const struct omcase omcases[] = {
	/* Valid. */
	{ "counter_exemplars", S(CTR "# HELP m h\n"
	    "m_total 4 99 # {tr=\"q\"} 0.75\n# EOF\n"), true },
	{ "counter_exemplars_empty_brackets", S(CTR "# HELP m h\n"
	    "m_total{} 4 99 # {tr=\"q\"} 0.75\n# EOF\n"), true },
	{ "counter_unit", S("# HELP m_bytes Bytes.\n# TYPE m_bytes counter\n"
	    "# UNIT m_bytes bytes\nm_bytes_total 3.0\n"
	    "m_bytes_created 17.25\n# EOF\n"), true },
	{ "duplicate_timestamps_0", S(GAUGE "m{k=\"1\",z=\"y\"} 1 0.0000000000\n"
	    "m{k=\"1\",z=\"y\"} 2 0.0000000001\n"
	    "m{k=\"1\",z=\"y\"} 3 0.0000000010\n"
	    "m{k=\"2\",z=\"y\"} 4 0.0000000000\n# EOF\n"), true },
	{ "duplicate_timestamps_1", S(GAUGE "m{k=\"1\"} 1 7\nm{k=\"1\"} 2 7\n"
	    "m{k=\"2\"} 3 7\nm{k=\"2\"} 4 7\n# EOF\n"), true },
	{ "empty_brackets", S(CTR "m_total{} 2\n# EOF\n"), true },
	{ "empty_help", S(CTR "# HELP m \nm_total 2\n# EOF\n"), true },
	{ "empty_label", S(CTR "m_total{k=\"v\"} 1\nm_total{k=\"\"} 2\n# EOF\n"),
	    true },
	{ "empty_metadata", S("# HELP m \n# UNIT m \n# EOF\n"), true },
	{ "escaping", S(CTR "# HELP m x\\n\\\\y\\tz\n"
	    "m_total{k=\"q\\\"r\\ns\"} 1\nm_total{k=\"q\\\\r\\w\"} 2\n"
	    "m_total{k=\"q\\\"r\\ns # \"} 3\nm_total{k=\"q\\\\r\\w # \"} 4\n"
	    "# EOF\n"), true },
	{ "exemplars_wide_chars", S(HIST "m_bucket{le=\"+Inf\"} 2 "
	    "# {t=\"\xe2\x98\x83" "abcdef" X120 "\"} 1 1\n# EOF\n"), true },
	{ "exemplars_with_hash_in_label_values", S(HIST
	    "m_bucket{le=\"1.0\",k=\"v # \"} 0 # {t=\"a\",k=\"v # w\"} 0.5\n"
	    "m_bucket{le=\"2.0\",k=\"v # \"} 1 # {t=\"b\",k=\"v # w\"} 1.5\n"
	    "m_bucket{le=\"+Inf\",k=\"v # \"} 2 # {t=\"c\",k=\"v # w\"} 3\n"
	    "# EOF\n"), true },
	{ "float_gauge", S(GAUGE "m 2.5\n# EOF\n"), true },
	{ "gaugehistogram_exemplars", S(GHIST
	    "m_bucket{le=\"1.0\"} 0 50 # {t=\"a\"} 0.5\n"
	    "m_bucket{le=\"2.0\"} 1 50 # {t=\"b\"} 1.5\n"
	    "m_bucket{le=\"+Inf\"} 2 50 # {t=\"c\"} 3 50\n# EOF\n"), true },
	{ "hash_in_label_value", S(CTR "m_total{k=\"x # y\"} 1\n"
	    "m_total{k=\"} x # y # \"} 1\n# EOF\n"), true },
	{ "help_escaping", S("# TYPE m0 counter\n# HELP m0 \\x\n"
	    "m0_total 1\n# TYPE m1 counter\n# HELP m1 \\\\x\nm1_total 1\n"
	    "# TYPE m2 counter\n# HELP m2 x\\\\\nm2_total 1\n"
	    "# TYPE m3 counter\n# HELP m3 \\n\nm3_total 1\n"
	    "# TYPE m4 counter\n# HELP m4 \\\\\\n\nm4_total 1\n"
	    "# TYPE m5 counter\n# HELP m5 \\\"\nm5_total 1\n"
	    "# TYPE m6 counter\n# HELP m6 \\\\\"\nm6_total 1\n# EOF\n"), true },
	{ "histogram_exemplars", S(HIST "m_bucket{le=\"1.0\"} 0 # {t=\"a\"} 0.5\n"
	    "m_bucket{le=\"2.0\"} 1 # {t=\"b\"} 1.5\n"
	    "m_bucket{le=\"+Inf\"} 2 # {t=\"" X120 "abcdefg\"} 3 99\n# EOF\n"),
	    true },
	{ "histogram_noncanonical", S(HIST "m_bucket{le=\"0\"} 0\n"
	    "m_bucket{le=\"0.0000000001\"} 0\nm_bucket{le=\"1e-04\"} 0\n"
	    "m_bucket{le=\"1.2e-4\"} 0\nm_bucket{le=\"1\"} 0\n"
	    "m_bucket{le=\"1e+05\"} 0\nm_bucket{le=\"200000000000.0\"} 0\n"
	    "m_bucket{le=\"+Inf\"} 4\nm_count 4\nm_sum 3\n# EOF\n"), true },
	{ "info_timestamps", S("# TYPE m info\n"
	    "m_info{k=\"1\",z=\"y\"} 1 5\nm_info{k=\"2\",z=\"y\"} 1 4\n# EOF\n"),
	    true },
	{ "label_escaping", S("# TYPE m0 counter\nm0_total{k=\"\\x\",z=\"y\"} 1\n"
	    "# TYPE m1 counter\nm1_total{k=\"\\\\x\",z=\"y\"} 1\n"
	    "# TYPE m2 counter\nm2_total{k=\"x\\\\\",z=\"y\"} 1\n"
	    "# TYPE m3 counter\nm3_total{k=\"\\n\",z=\"y\"} 1\n"
	    "# TYPE m4 counter\nm4_total{k=\"\\\\\\n\",z=\"y\"} 1\n"
	    "# TYPE m5 counter\nm5_total{k=\"\\\"\",z=\"y\"} 1\n"
	    "# TYPE m6 counter\nm6_total{k=\"\\\\\\\"\",z=\"y\"} 1\n# EOF\n"),
	    true },
	{ "labels_and_infinite", S(GAUGE "m{k=\"p\"} +Inf\nm{k=\"n\"} -Inf\n"
	    "# EOF\n"), true },
	{ "labels_with_curly_braces", S(CTR "m_total{k=\"v\",z=\"{y}\"} 1\n"
	    "# EOF\n"), true },
	{ "leading_zeros_float_gauge", S(GAUGE "m 00000000000000000002.5e-1\n"
	    "# EOF\n"), true },
	{ "leading_zeros_simple_gauge", S(GAUGE "m 000000000000000000007\n"
	    "# EOF\n"), true },
	{ "nan", S("m NaN\n# EOF\n"), true },
	{ "nan_gauge", S(GAUGE "m NaN\n# EOF\n"), true },
	{ "negative_bucket_gaugehistogram", S(GHIST "m_bucket{le=\"-2.0\"} 1\n"
	    "m_bucket{le=\"2.0\"} 2\nm_bucket{le=\"+Inf\"} 3\nm_gcount 3\n"
	    "m_gsum -4\n# EOF\n"), true },
	{ "negative_bucket_histogram", S(HIST "m_bucket{le=\"-2.0\"} 0\n"
	    "m_bucket{le=\"2.0\"} 2\nm_bucket{le=\"+Inf\"} 3\n# EOF\n"), true },
	{ "no_metadata", S("m 3\n# EOF\n"), true },
	{ "no_newline_after_eof", S(GAUGE "m 3\n# EOF"), true },
	{ "null_byte", S(CTR "# HELP m x\0y\n# EOF\n"), true },
	{ "roundtrip", S("# HELP s A summary.\n# TYPE s summary\n"
	    "s{quantile=\"0.0\"} 0.0125\ns{quantile=\"0.5\"} 0.0137\n"
	    "s{quantile=\"1.0\"} 0.0213\ns_sum 56.1\ns_count 7476.0\n"
	    "# HELP q Empty quantiles.\n# TYPE q summary\n"
	    "q{quantile=\"0.9\"} NaN\nq_sum 8.5\nq_count 229.0\n"
	    "# HELP g A gauge.\n# TYPE g gauge\ng 2.4e+09\n"
	    "# HELP o Ops.\n# TYPE o counter\no_total{t=\"a\"} 28.0\n"
	    "o_total{t=\"b\"} 1.3e+06\n"
	    "# HELP h Buckets.\n# TYPE h histogram\nh_bucket{le=\"0.0\"} 0.0\n"
	    "h_bucket{le=\"1e-05\"} 0.0\nh_bucket{le=\"1.5e+06\"} 9.0\n"
	    "h_bucket{le=\"1e+23\"} 9.0\nh_bucket{le=\"+Inf\"} 9.0\n"
	    "h_count 9.0\nh_sum 77.5\nh_created 1.5e+09\n"
	    "# HELP b Labelled.\n# TYPE b histogram\n"
	    "b_bucket{k=\"x\",le=\"+Inf\"} 0.0\nb_bucket{k=\"y\",le=\"+Inf\"} 0.0\n"
	    "# EOF\n"), true },
	{ "simple_counter", S(CTR "# HELP m h\nm_total 2\n# EOF\n"), true },
	{ "simple_gauge", S(GAUGE "# HELP m h\nm 2\n# EOF\n"), true },
	{ "simple_gaugehistogram", S(GHIST "m_bucket{le=\"1.0\"} 1\n"
	    "m_bucket{le=\"+Inf\"} 4\nm_gcount 4\nm_gsum 3\n# EOF\n"), true },
	{ "simple_histogram", S(HIST "m_bucket{le=\"1.0\"} 1\n"
	    "m_bucket{le=\"+Inf\"} 4\nm_count 4\nm_sum 3\n# EOF\n"), true },
	{ "simple_stateset", S("# TYPE m stateset\nm{m=\"on\"} 1\n"
	    "m{m=\"off\"} 0.0\n# EOF\n"), true },
	{ "simple_summary", S(SUMM "m_count 2\nm_sum 3\n# EOF\n"), true },
	{ "summary_quantiles", S(SUMM "m_count 2\nm_sum 3\n"
	    "m{quantile=\"0.5\"} 0.25\nm{quantile=\"1\"} 0.5\n# EOF\n"), true },
	{ "timestamps", S(CTR "m_total{k=\"1\"} 1 000\nm_total{k=\"2\"} 1 0.0\n"
	    "m_total{k=\"3\"} 1 2.5\n"
	    "m_total{k=\"4\"} 1 98765432109876543210.0123456789\n"
	    "m_total{k=\"5\"} 1 2.5e3\n# TYPE n counter\nn_total 2 1700000000\n"
	    "# EOF\n"), true },
	{ "type_help_switched", S("# HELP m h\n# TYPE m counter\nm_total 1\n"
	    "# EOF\n"), true },
	{ "uint64_counter", S(CTR "m_total 18446744073709551615\n# EOF\n"),
	    true },
	{ "unit_gauge", S("# TYPE m_bytes gauge\n# UNIT m_bytes bytes\n"
	    "# HELP m_bytes h\nm_bytes 1\n# EOF\n"), true },
	{ "untyped", S("# HELP m Clients.\n# TYPE m unknown\n"
	    "m{host=\"a\",port=\"1\"} 10.0\nm{host=\"a\",port=\"2\"} 12.0\n"
	    "# EOF\n"), true },
	/* Invalid. */
	{ "bad_blank_line", S("m 1\n\n# EOF\n"), false },
	{ "bad_clashing_names_0", S(CTR CTR "# EOF\n"), false },
	{ "bad_clashing_names_1", S("# TYPE m info\n" CTR "# EOF\n"), false },
	{ "bad_clashing_names_2", S("# TYPE m_created gauge\n" CTR "# EOF\n"),
	    false },
	{ "bad_counter_values_0", S(CTR "m_total NaN\n# EOF\n"), false },
	{ "bad_counter_values_1", S(CTR "m_total -2\n# EOF\n"), false },
	{ "bad_counter_values_10", S(GHIST "m_bucket{le=\"+Inf\"} NaN\n# EOF\n"),
	    false },
	{ "bad_counter_values_11", S(GHIST "m_bucket{le=\"+Inf\"} -2\n"
	    "m_gcount -2\n# EOF\n"), false },
	{ "bad_counter_values_12", S(GHIST "m_bucket{le=\"+Inf\"} -2\n# EOF\n"),
	    false },
	{ "bad_counter_values_13", S(GHIST "m_bucket{le=\"+Inf\"} 2\n"
	    "m_gsum -2\n# EOF\n"), false },
	{ "bad_counter_values_14", S(GHIST "m_bucket{le=\"+Inf\"} 2\n"
	    "m_gsum NaN\n# EOF\n"), false },
	{ "bad_counter_values_15", S(SUMM "m_sum NaN\n# EOF\n"), false },
	{ "bad_counter_values_16", S(SUMM "m_count NaN\n# EOF\n"), false },
	{ "bad_counter_values_17", S(SUMM "m_sum -2\n# EOF\n"), false },
	{ "bad_counter_values_18", S(SUMM "m_count -2\n# EOF\n"), false },
	{ "bad_counter_values_19", S(SUMM "m{quantile=\"0.9\"} -2\n# EOF\n"),
	    false },
	{ "bad_counter_values_2", S(HIST "m_sum NaN\n# EOF\n"), false },
	{ "bad_counter_values_3", S(HIST "m_count NaN\n# EOF\n"), false },
	{ "bad_counter_values_4", S(HIST "m_bucket{le=\"+Inf\"} NaN\n# EOF\n"),
	    false },
	{ "bad_counter_values_5", S(HIST "m_sum -2\n# EOF\n"), false },
	{ "bad_counter_values_6", S(HIST "m_count -2\n# EOF\n"), false },
	{ "bad_counter_values_7", S(HIST "m_bucket{le=\"+Inf\"} -2\n# EOF\n"),
	    false },
	{ "bad_counter_values_8", S(HIST "m_bucket{le=\"-2.0\"} 1\n"
	    "m_bucket{le=\"+Inf\"} 3\nm_sum -2\n# EOF\n"), false },
	{ "bad_counter_values_9", S(HIST "m_bucket{le=\"-2.0\"} 1\n"
	    "m_bucket{le=\"+Inf\"} 3\nm_sum 2\n# EOF\n"), false },
	{ "bad_exemplar_complex_chars", S(HIST "m_bucket{le=\"+Inf\"} 2 "
	    "# {t=\"e\xcc\x81" X120 "abcdef\"} 1 1\n# EOF\n"), false },
	{ "bad_exemplar_timestamp_0", S(CTR "m_total 2 # {t=\"q\"} 0.5 NaN\n"
	    "# EOF\n"), false },
	{ "bad_exemplar_timestamp_1", S(CTR "m_total 2 # {t=\"q\"} 0.5 Inf\n"
	    "# EOF\n"), false },
	{ "bad_exemplar_timestamp_2", S(CTR "m_total 2 # {t=\"q\"} 0.5 -Inf\n"
	    "# EOF\n"), false },
	{ "bad_exemplars_0", S(HIST "m_bucket{le=\"+Inf\"} 2 #\n# EOF\n"),
	    false },
	{ "bad_exemplars_1", S(HIST "m_bucket{le=\"+Inf\"} 2# {} 2\n# EOF\n"),
	    false },
	{ "bad_exemplars_10", S(CTR "m_total 2 2 # t=\"q\"} 2\n# EOF\n"), false },
	{ "bad_exemplars_11", S(CTR "m_total 2 2 #t=\" # \"} 2\n# EOF\n"),
	    false },
	{ "bad_exemplars_12", S(CTR "m_total 2 2 t=\" # \"} 2\n# EOF\n"), false },
	{ "bad_exemplars_2", S(HIST "m_bucket{le=\"+Inf\"} 2 #{} 2\n# EOF\n"),
	    false },
	{ "bad_exemplars_3", S(HIST "m_bucket{le=\"+Inf\"} 2 # {}2\n# EOF\n"),
	    false },
	{ "bad_exemplars_4", S(HIST "m_bucket{le=\"+Inf\"} 2 # {} 2 \n# EOF\n"),
	    false },
	{ "bad_exemplars_5", S(HIST "m_bucket{le=\"+Inf\"} 2 # {} 2 2 \n"
	    "# EOF\n"), false },
	{ "bad_exemplars_6", S(HIST "m_bucket{le=\"+Inf\"} 2 # {t=\"" X120
	    "abcdefgh\"} 1 1\n# EOF\n"), false },
	{ "bad_exemplars_7", S(HIST "m_bucket{le=\"+Inf\"} 2 # {} 0x1p-2\n"
	    "# EOF\n"), false },
	{ "bad_exemplars_8", S(HIST "m_bucket{le=\"+Inf\"} 2 # {} 2 0x1p-2\n"
	    "# EOF\n"), false },
	{ "bad_exemplars_9", S(CTR "m_total 2 2 # {t=\"q\"}  \n# EOF\n"), false },
	{ "bad_exemplars_on_unallowed_metric_types_0", S(GAUGE
	    "m 2 # {t=\"q\"} 2\n# EOF\n"), false },
	{ "bad_exemplars_on_unallowed_metric_types_1", S("# TYPE m info\n"
	    "m_info 1 # {t=\"q\"} 2\n# EOF\n"), false },
	{ "bad_exemplars_on_unallowed_metric_types_2", S("# TYPE m stateset\n"
	    "m{m=\"on\"} 1 # {t=\"q\"} 2\n# EOF\n"), false },
	{ "bad_exemplars_on_unallowed_samples_0", S(HIST
	    "m_sum 2 # {t=\"q\"} 0.5\n# EOF\n"), false },
	{ "bad_exemplars_on_unallowed_samples_1", S(GHIST
	    "m_sum 2 # {t=\"q\"} 0.5\n# EOF\n"), false },
	{ "bad_exemplars_on_unallowed_samples_2", S("# TYPE m_bucket gauge\n"
	    "m_bucket 2 # {t=\"q\"} 0.5\n# EOF\n"), false },
	{ "bad_exemplars_on_unallowed_samples_3", S(CTR
	    "m_created 2 # {t=\"q\"} 0.5\n# EOF\n"), false },
	{ "bad_grouping_or_ordering_0", S(HIST "m_sum{k=\"1\"} 0\n"
	    "m_bucket{k=\"2\",le=\"+Inf\"} 0\nm_count{k=\"2\"} 0\n"
	    "m_sum{k=\"2\"} 0\nm_bucket{k=\"1\",le=\"+Inf\"} 0\n"
	    "m_count{k=\"1\"} 0\n# EOF\n"), false },
	{ "bad_grouping_or_ordering_1", S(HIST "m_bucket{k=\"1\",le=\"1\"} 0\n"
	    "m_bucket{k=\"2\",le=\"+Inf\"\"} 0\n"
	    "m_bucket{k=\"1\",le=\"+Inf\"} 0\n# EOF\n"), false },
	{ "bad_grouping_or_ordering_10", S(GAUGE "m 0 5\nm 0\n# EOF\n"), false },
	{ "bad_grouping_or_ordering_2", S(GHIST "m_gsum{k=\"1\"} 0\n"
	    "m_gsum{k=\"2\"} 0\nm_gcount{k=\"1\"} 0\n# EOF\n"), false },
	{ "bad_grouping_or_ordering_3", S(SUMM "quantile{quantile=\"0\"} 0\n"
	    "m_sum{k=\"1\"} 0\nquantile{quantile=\"1\"} 0\n# EOF\n"), false },
	{ "bad_grouping_or_ordering_4", S(GAUGE "m 0 -2\nm 0 -3\n# EOF\n"),
	    false },
	{ "bad_grouping_or_ordering_5", S(GAUGE "m 0 -2\nm 0 -2.5\n# EOF\n"),
	    false },
	{ "bad_grouping_or_ordering_6", S(GAUGE "m 0 2\nm 0 -2\n# EOF\n"),
	    false },
	{ "bad_grouping_or_ordering_7", S(GAUGE "m 0 2.5\nm 0 2\n# EOF\n"),
	    false },
	{ "bad_grouping_or_ordering_8", S(GAUGE "m 0 2\nm 0 0\n# EOF\n"), false },
	{ "bad_grouping_or_ordering_9", S(GAUGE "m 0\nm 0 5\n# EOF\n"), false },
	{ "bad_help_0", S("# HELP\n# EOF\n"), false },
	{ "bad_help_1", S("# HELP \n# EOF\n"), false },
	{ "bad_help_2", S("# HELP m\n# EOF\n"), false },
	{ "bad_help_3", S("# HELP m\t\n# EOF\n"), false },
	{ "bad_help_4", S(" # HELP m h\n# EOF\n"), false },
	{ "bad_histograms_0", S(HIST "m_sum 2\n# EOF\n"), false },
	{ "bad_histograms_1", S(HIST "m_bucket{le=\"+Inf\"} 0\nm_sum 0\n"
	    "# EOF\n"), false },
	{ "bad_histograms_10", S(HIST "m_bucket{le=\"1\"} 2\n"
	    "m_bucket{le=\"2\"} 2\nm_bucket{le=\"+Inf\"} 1\n# EOF\n"), false },
	{ "bad_histograms_11", S(HIST "m_bucket{le=\"+Inf\"} 0\nm_count 2\n"
	    "# EOF\n"), false },
	{ "bad_histograms_12", S(HIST "m_bucket{le=\"+inf\"} 0\n# EOF\n"),
	    false },
	{ "bad_histograms_13", S(HIST "m_count 2\nm_bucket{le=\"+Inf\"} 0\n"
	    "# EOF\n"), false },
	{ "bad_histograms_14", S(GHIST "m_bucket{le=\"+Inf\"} 0\nm_gcount 0\n"
	    "# EOF\n"), false },
	{ "bad_histograms_2", S(HIST "m_bucket{le=\"+Inf\"} 0\nm_count 0\n"
	    "# EOF\n"), false },
	{ "bad_histograms_3", S(HIST "m_bucket{le=\"-2\"} 0\n"
	    "m_bucket{le=\"+Inf\"} 0\nm_sum 0\nm_count 0\n# EOF\n"), false },
	{ "bad_histograms_4", S(HIST "m_bucket{le=\"+Inf\"} 0\n#m_sum 0\n"
	    "# EOF\n"), false },
	{ "bad_histograms_5", S(HIST "m_bucket{le=\"+Inf\"} 0\n#m_count 0\n"
	    "# EOF\n"), false },
	{ "bad_histograms_6", S(GHIST "m_gsum 2\n# EOF\n"), false },
	{ "bad_histograms_7", S(GHIST "m_bucket{le=\"+Inf\"} 2\nm_gsum -2\n"
	    "m_gcount 2\n# EOF\n"), false },
	{ "bad_histograms_8", S(GHIST "m_bucket{le=\"+Inf\"} 0\nm_gsum 0\n"
	    "# EOF\n"), false },
	{ "bad_histograms_9", S(HIST "m_bucket{le=\"3\"} 0\n"
	    "m_bucket{le=\"2\"} 0\nm_bucket{le=\"+Inf\"} 0\n# EOF\n"), false },
	{ "bad_info_and_stateset_values_0", S("# TYPE m info\n"
	    "m_info{k=\"v\"} 3\n# EOF\n"), false },
	{ "bad_info_and_stateset_values_1", S("# TYPE m stateset\n"
	    "m{m=\"on\"} 3\n# EOF\n"), false },
	{ "bad_invalid_labels_0", S("m{9=\"9\"} 1\n# EOF\n"), false },
	{ "bad_invalid_labels_1", S("m{9=\"9\"}1\n# EOF\n"), false },
	{ "bad_invalid_labels_2", S("m{k=\"1\",k=\"1\"} 1\n# EOF\n"), false },
	{ "bad_invalid_labels_3", S("m{k=\"1\"z} 1\n# EOF\n"), false },
	{ "bad_invalid_labels_4", S("m{9=\" # \"} 1\n# EOF\n"), false },
	{ "bad_invalid_labels_5", S("m{k=\" # \",k=\" # \"} 1\n# EOF\n"), false },
	{ "bad_invalid_labels_6", S("m{k=\" # \"}1\n# EOF\n"), false },
	{ "bad_invalid_labels_7", S("m{k=\" # \",z=}1\n# EOF\n"), false },
	{ "bad_invalid_labels_8", S("m{k=\" # \"z}1\n# EOF\n"), false },
	{ "bad_metadata", S("# BAR m x\n# EOF\n"), false },
	{ "bad_metadata_in_wrong_place_0", S("# HELP m x\nm 1\n" GAUGE
	    "# EOF\n"), false },
	{ "bad_metadata_in_wrong_place_1", S(GAUGE "m 1\n# HELP m x\n# EOF\n"),
	    false },
	{ "bad_metadata_in_wrong_place_2", S("# TYPE m_s gauge\nm_s 1\n"
	    "# UNIT m_s s\n# EOF\n"), false },
	{ "bad_metric_names_0", S("9m 1\n# EOF\n"), false },
	{ "bad_metric_names_1", S("m.n 1\n# EOF\n"), false },
	{ "bad_metric_names_2", S("m-n 1\n# EOF\n"), false },
	{ "bad_missing_equal_or_label_value_0", S("m{k} 1\n# EOF\n"), false },
	{ "bad_missing_equal_or_label_value_1", S("m{k\"v\"} 1\n# EOF\n"),
	    false },
	{ "bad_missing_equal_or_label_value_2", S("m{k\"\"} 1\n# EOF\n"), false },
	{ "bad_missing_equal_or_label_value_3", S("m{k=} 1\n# EOF\n"), false },
	{ "bad_missing_equal_or_label_value_4", S("m{k=\"} 1\n# EOF\n"), false },
	{ "bad_missing_or_extra_commas_0", S("m{k=\"1\"z=\"2\"} 1\n# EOF\n"),
	    false },
	{ "bad_missing_or_extra_commas_1", S("m{k=\"1\",,z=\"2\"} 1\n# EOF\n"),
	    false },
	{ "bad_missing_or_extra_commas_2", S("m{k=\"1\",z=\"2\",} 1\n# EOF\n"),
	    false },
	{ "bad_missing_or_invalid_labels_for_a_type_0", S(SUMM "m 0\n# EOF\n"),
	    false },
	{ "bad_missing_or_invalid_labels_for_a_type_1", S(SUMM
	    "m{quantile=\"-0.5\"} 0\n# EOF\n"), false },
	{ "bad_missing_or_invalid_labels_for_a_type_2", S(SUMM
	    "m{quantile=\"bar\"} 0\n# EOF\n"), false },
	{ "bad_missing_or_invalid_labels_for_a_type_3", S(SUMM
	    "m{quantile=\"1.5\"} 0\n# EOF\n"), false },
	{ "bad_missing_or_invalid_labels_for_a_type_4", S(SUMM
	    "m{quantile=\"NaN\"} 0\n# EOF\n"), false },
	{ "bad_missing_or_invalid_labels_for_a_type_5", S(HIST "m_bucket 0\n"
	    "# EOF\n"), false },
	{ "bad_missing_or_invalid_labels_for_a_type_6", S(GHIST "m_bucket 0\n"
	    "# EOF\n"), false },
	{ "bad_missing_or_invalid_labels_for_a_type_7", S("# TYPE m stateset\n"
	    "m 0\n# EOF\n"), false },
	{ "bad_missing_or_wrong_quotes_on_label_value_0", S("m{k=2} 1\n"
	    "# EOF\n"), false },
	{ "bad_missing_or_wrong_quotes_on_label_value_1", S("m{k=\"2} 1\n"
	    "# EOF\n"), false },
	{ "bad_missing_or_wrong_quotes_on_label_value_2", S("m{k='2'} 1\n"
	    "# EOF\n"), false },
	{ "bad_missing_value_0", S("m\n# EOF\n"), false },
	{ "bad_missing_value_1", S("m \n# EOF\n"), false },
	{ "bad_no_eof", S("m 1\n"), false },
	{ "bad_repeated_metadata_0", S("# HELP m \n# HELP m \n# EOF\n"), false },
	{ "bad_repeated_metadata_1", S("# HELP m y\n# HELP m y\n# EOF\n"),
	    false },
	{ "bad_repeated_metadata_2", S("# TYPE m untyped\n# TYPE m untyped\n"
	    "# EOF\n"), false },
	{ "bad_repeated_metadata_3", S("# UNIT m_b b\n# UNIT m_b b\n# EOF\n"),
	    false },
	{ "bad_stateset_info_values_0", S("# TYPE m stateset\nm 3\n# EOF\n"),
	    false },
	{ "bad_stateset_info_values_1", S("# TYPE m info\nm 3\n# EOF\n"), false },
	{ "bad_stateset_info_values_2", S("# TYPE m stateset\nm 3.0\n# EOF\n"),
	    false },
	{ "bad_stateset_info_values_3", S("# TYPE m info\nm 3.0\n# EOF\n"),
	    false },
	{ "bad_text_after_eof_0", S("m 1\n# EOF\nxyz"), false },
	{ "bad_text_after_eof_1", S("m 1\n# EOFxyz"), false },
	{ "bad_timestamp_0", S("m 1 q\n# EOF\n"), false },
	{ "bad_timestamp_1", S("m 1 2q\n# EOF\n"), false },
	{ "bad_timestamp_2", S("m 1 2_3\n# EOF\n"), false },
	{ "bad_timestamp_3", S("m 1 2.2.2\n# EOF\n"), false },
	{ "bad_timestamp_4", S("m 1 NaN\n# EOF\n"), false },
	{ "bad_timestamp_5", S("m 1 Inf\n# EOF\n"), false },
	{ "bad_timestamp_6", S("m 1  Inf\n# EOF\n"), false },
	{ "bad_timestamp_7", S("m 1 -Inf\n# EOF\n"), false },
	{ "bad_timestamp_8", S("m 1 0x1p-2\n# EOF\n"), false },
	{ "bad_type_0", S("# TYPE\n# EOF\n"), false },
	{ "bad_type_1", S("# TYPE \n# EOF\n"), false },
	{ "bad_type_2", S("# TYPE m\n# EOF\n"), false },
	{ "bad_type_3", S("# TYPE m\t\n# EOF\n"), false },
	{ "bad_type_4", S("# TYPE m foo\n# EOF\n"), false },
	{ "bad_type_5", S("# TYPE m foo \n# EOF\n"), false },
	{ "bad_type_6", S("# TYPE m counter \n# EOF\n"), false },
	{ "bad_type_7", S("# TYPE m untyped\n# EOF\n"), false },
	{ "bad_unit_0", S("# UNIT\n# EOF\n"), false },
	{ "bad_unit_1", S("# UNIT \n# EOF\n"), false },
	{ "bad_unit_2", S("# UNIT m\n# EOF\n"), false },
	{ "bad_unit_3", S("# UNIT m\t\n# EOF\n"), false },
	{ "bad_unit_4", S("# UNIT m bytes\n# EOF\n"), false },
	{ "bad_unit_5", S("# UNIT m_bytes bytes \n# EOF\n"), false },
	{ "bad_unit_6", S("# TYPE m_b info\n# UNIT m_b b\n# EOF\n"), false },
	{ "bad_unit_7", S("# TYPE m_b stateset\n# UNIT m_b b\n# EOF\n"), false },
	{ "bad_value_0", S("m q\n# EOF\n"), false },
	{ "bad_value_1", S("m  2\n# EOF\n"), false },
	{ "bad_value_10", S("m 0X2\n# EOF\n"), false },
	{ "bad_value_11", S("m 0o2\n# EOF\n"), false },
	{ "bad_value_12", S("m 0O2\n# EOF\n"), false },
	{ "bad_value_2", S("m 2\t\n# EOF\n"), false },
	{ "bad_value_3", S("m 2 \n# EOF\n"), false },
	{ "bad_value_4", S("m 2_3\n# EOF\n"), false },
	{ "bad_value_5", S("m 0x1p-2\n# EOF\n"), false },
	{ "bad_value_6", S("m 0x1P-2\n# EOF\n"), false },
	{ "bad_value_7", S("m 0b1\n# EOF\n"), false },
	{ "bad_value_8", S("m 0B1\n# EOF\n"), false },
	{ "bad_value_9", S("m 0x2\n# EOF\n"), false },
};

/* Run the OpenMetrics reference cases: valid ones parse, invalid do not. */
static void
test_openmetrics_reference(void)
{
	struct promtext	 p;
	struct pt_item	 it;
	enum pt_kind	 k;
	size_t		 i, nvalid = 0;
	char		 err[256], *in;

	for (i = 0; i < sizeof omcases / sizeof omcases[0]; i++) {
		const struct omcase	*c = &omcases[i];

		in = dup_exact(c->in, c->len);
		promtext_init(&p, in, c->len, PT_FORMAT_OPENMETRICS);
		do
			k = promtext_next(&p, &it, err, sizeof err);
		while (k != PT_EOF && k != PT_ERROR);
		promtext_free(&p);
		ok((k == PT_EOF) == c->valid, "OpenMetrics reference %s: got "
		    "%s, want %s", c->name, k == PT_EOF ? "accepted" : err,
		    c->valid ? "accepted" : "rejected");
		nvalid += c->valid;
		free(in);
	}
	ok(nvalid == 44 && i - nvalid == 167, "OpenMetrics reference: %zu "
	    "valid and %zu invalid cases (want 44 and 167)", nvalid,
	    i - nvalid);
}

/*
 * Mutate every valid OpenMetrics reference page (seeded): each mutant must
 * end in PT_EOF or a "line N col M" error within its line count, under
 * ASan and UBSan, its memory released (LeakSanitizer checks).
 */
static void
test_fuzz_openmetrics(void)
{
	static const char	 bytes[] = "\n \"\\{}=,#_.+-019eEIfnNaTUHxq";
	struct promtext		 p;
	struct pt_item		 it;
	enum pt_kind		 k;
	char			 err[256], *data;
	size_t			 i, j, n, calls;
	int			 iter;
	unsigned		 ended = 0, errors = 0, stuck = 0, badmsg = 0;

	for (i = 0; i < sizeof omcases / sizeof omcases[0]; i++) {
		if (!omcases[i].valid)
			continue;
		for (iter = 0; iter < 300; iter++) {
			n = omcases[i].len;
			if (iter % 3 == 0)	/* cut anywhere, too */
				n = rng() % (n + 1);
			data = dup_exact(omcases[i].in, n);
			for (j = 0; n > 0 && j < 1 + rng() % 4; j++)
				data[rng() % n] = rng() % 5 == 0 ?
				    (char)(rng() & 0xff) :
				    bytes[rng() % (sizeof bytes - 1)];
			promtext_init(&p, data, n, PT_FORMAT_OPENMETRICS);
			for (calls = 0; calls <= n + 2; calls++) {
				k = promtext_next(&p, &it, err, sizeof err);
				if (k == PT_EOF || k == PT_ERROR)
					break;
			}
			ended += k == PT_EOF;
			errors += k == PT_ERROR;
			stuck += k != PT_EOF && k != PT_ERROR;
			badmsg += k == PT_ERROR && strncmp(err, "line ", 5) != 0;
			promtext_free(&p);
			free(data);
		}
	}
	ok(stuck == 0 && badmsg == 0 && ended > 0 && errors > 0,
	    "OpenMetrics mutants: %u parsed, %u errors, %u stuck, %u errors "
	    "without a line (want 0 stuck, 0 without)", ended, errors, stuck,
	    badmsg);
}

/* An empty page may come as NULL: no NULL + 0 (issue 19 item 7). */
static void
test_empty_null(void)
{
	struct promtext	 p;
	struct pt_item	 it;
	char		 err[128] = "";
	enum pt_kind	 k;

	promtext_init(&p, NULL, 0, PT_FORMAT_TEXT);
	k = promtext_next(&p, &it, err, sizeof err);
	is_int(k, PT_EOF, "NULL empty text page: PT_EOF");
	promtext_init(&p, NULL, 0, PT_FORMAT_OPENMETRICS);
	k = promtext_next(&p, &it, err, sizeof err);
	ok(k == PT_ERROR && strcmp(err, "line 1 col 1: missing # EOF") == 0,
	    "NULL empty OpenMetrics page: got \"%s\", want \"line 1 col 1: "
	    "missing # EOF\"", err);
	promtext_free(&p);
}

/* Each type's word on a text-format TYPE line. */
static void
test_text_type(void)
{
	static const struct {
		enum pt_type	 type;
		const char	*word;
	} cases[] = {
		{ PT_UNTYPED, "untyped" },
		{ PT_COUNTER, "counter" },
		{ PT_GAUGE, "gauge" },
		{ PT_HISTOGRAM, "histogram" },
		{ PT_GAUGEHISTOGRAM, "untyped" },
		{ PT_SUMMARY, "summary" },
		{ PT_INFO, "untyped" },
		{ PT_STATESET, "untyped" },
	};
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		is_str(promtext_text_type(cases[i].type), cases[i].word,
		    "text TYPE word of type %d", (int)cases[i].type);
}

int
main(void)
{
	const char	*env;

	env = getenv("FIXTURES");
	if (env != NULL && *env != '\0')
		fixtures = env;
	test_fixtures();
	test_render();
	test_errors();
	test_errors_built();
	test_parse_float();
	test_content_type();
	test_series();
	test_helpers();
	test_hint();
	test_fuzz();
	test_fuzz_hint();
	test_openmetrics_reference();
	test_empty_null();
	test_fuzz_openmetrics();
	test_text_type();
	return (tap_done());
}
