/*
 * promtext: a zero-copy parser for the Prometheus text exposition format
 * 0.0.4 and OpenMetrics 1.0 text. The parser borrows the body buffer: every
 * pt_str it returns points into it and stays valid while the buffer does.
 * One call returns one item (a sample, or a HELP, TYPE or UNIT line) so the
 * caller streams a page without building it in memory. The text format
 * allocates nothing; OpenMetrics keeps the page's family names and the
 * current family's label groups (to check the format's rules across lines)
 * in memory the parser owns, released when promtext_next returns PT_EOF or
 * PT_ERROR, or by promtext_free for a caller that stops early.
 */
#ifndef RWBRIDGE_PROMTEXT_H
#define RWBRIDGE_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pt_str {
	const char	*p;
	size_t		 len;
};

enum pt_type {
	PT_UNTYPED = 0,		/* values match MetricMetadata.MetricType */
	PT_COUNTER = 1,
	PT_GAUGE = 2,
	PT_HISTOGRAM = 3,
	PT_GAUGEHISTOGRAM = 4,
	PT_SUMMARY = 5,
	PT_INFO = 6,
	PT_STATESET = 7
};

enum pt_format {
	PT_FORMAT_TEXT,		/* text/plain; version=0.0.4 */
	PT_FORMAT_OPENMETRICS	/* application/openmetrics-text */
};

enum pt_kind {
	PT_EOF,			/* end of input (or "# EOF" in OpenMetrics) */
	PT_SAMPLE,
	PT_HELP,
	PT_TYPE,
	PT_UNIT,
	PT_ERROR		/* err holds "line N col M: what is wrong" */
};

/*
 * One parsed line. For PT_SAMPLE: series is the raw bytes from the first byte
 * of the name to the closing brace (or the end of the name), identical from
 * scrape to scrape for the same series and so usable as a cache key; labels
 * is the raw text between the braces, escapes intact (see pt_label_next).
 * family/type are those of the TYPE line the sample belongs to (its name, or
 * its name less _bucket/_sum/_count/_total/_created/_gsum/_gcount/_info), or
 * the sample's own name and PT_UNTYPED.
 * For PT_HELP/PT_TYPE/PT_UNIT: name is the family, text the raw docstring or
 * unit (HELP escapes intact, see pt_unescape_help), type the declared type.
 */
struct pt_item {
	enum pt_kind	 kind;
	struct pt_str	 name;
	struct pt_str	 series;
	struct pt_str	 labels;
	struct pt_str	 family;
	struct pt_str	 text;
	enum pt_type	 type;
	double		 value;
	int64_t		 ts_ms;		/* valid when has_ts */
	bool		 has_ts;
	bool		 hinted;	/* series is the hint's bytes */
	size_t		 line;		/* 1-based line of this item */
};

/* One label of a sample. value is raw; escaped tells whether it has a '\'. */
struct pt_label {
	struct pt_str	 name;
	struct pt_str	 value;
	bool		 escaped;
};

struct promtext {
	const char	*buf;
	const char	*p;
	const char	*end;
	size_t		 line;
	enum pt_format	 format;
	struct pt_str	 family;	/* from the last TYPE line */
	enum pt_type	 family_type;
	struct pt_str	 hint;		/* for the next sample only */
	bool		 done;
	struct pt_om	*om;		/* OpenMetrics state, or NULL */
};

void		 promtext_init(struct promtext *, const char *, size_t,
		     enum pt_format);
enum pt_kind	 promtext_next(struct promtext *, struct pt_item *, char *,
		     size_t);
/* Release what an OpenMetrics parse holds; safe to call at any time. */
void		 promtext_free(struct promtext *);
enum pt_format	 promtext_format_from_content_type(const char *);
/*
 * The text format's TYPE word for a type: "untyped" for the types only
 * OpenMetrics has (gaugehistogram, info, stateset).
 */
const char	*promtext_text_type(enum pt_type);

/*
 * Say which series the next sample line probably is: the bytes of a series
 * promtext returned before, so already checked. If the line starts with
 * exactly them, they are not parsed again and the sample has hinted set.
 */
void		 promtext_hint(struct promtext *, const void *, size_t);
/* Iterate the labels of a sample promtext_next returned; *pos starts at 0. */
bool		 pt_label_next(struct pt_str, size_t *, struct pt_label *);
/*
 * Decode label value escapes (\\ \" \n) into dst (len bytes at most); any
 * other backslash stays as it is (OpenMetrics allows it, text refuses it).
 */
size_t		 pt_unescape_value(struct pt_str, char *);
/* Decode HELP escapes (\\ \n) into dst (len bytes at most). */
size_t		 pt_unescape_help(struct pt_str, char *);
/* Parse a float as the exposition format writes it (NaN, +Inf, 1e+06). */
bool		 pt_parse_float(const char *, size_t, double *);
/* Tell whether two pt_str are byte-equal. */
bool		 pt_str_eq(struct pt_str, const char *);

#endif
