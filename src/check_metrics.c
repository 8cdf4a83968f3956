/*
 * check_metrics: validate a page with the same parser the scraper uses, so
 * a page that passes here is a page rwbridge will ingest. The format is
 * OpenMetrics when --format says so or the page ends with "# EOF", the text
 * format otherwise. A text page is also held to the rules `promtool check
 * metrics` (Prometheus's text parser, expfmt) applies across lines and the
 * scraper does not: one TYPE and one HELP per metric name anywhere in the
 * page, no TYPE after the family's samples, le (histogram) and quantile
 * (summary) label values that are floats, and no trailing blanks or '\r'
 * after a sample or a TYPE, and a final newline (the scraper takes both, as
 * Prometheus's does). OpenMetrics has its own rules, which the parser
 * checks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check_metrics.h"
#include "promtext.h"
#include "series.h"
#include "xmalloc.h"

#define CHECK_MAX_BYTES	(256u << 20)

/* A metric family of a text page as expfmt keys it: by name. */
struct check_family {
	struct check_family	*next;
	const char		*name;	/* points into the page */
	size_t			 len;
	bool			 typed;	/* a TYPE line or a sample seen */
	enum pt_type		 type;
	bool			 help;
};

/* The families of a page, hashed by name. */
struct check_families {
	struct check_family	**bucket;
	size_t			  nbucket;
	size_t			  n;
};

/* Read all of f into b; false if it is too large or unreadable. */
static bool
check_read(FILE *f, struct buf *b)
{
	size_t	n;

	for (;;) {
		buf_reserve(b, 65536);
		n = fread(b->data + b->len, 1, b->cap - b->len, f);
		b->len += n;
		if (b->len > CHECK_MAX_BYTES)
			return (false);
		if (n == 0)
			return (!ferror(f));
	}
}

/* Tell whether the page ends with an OpenMetrics "# EOF" line. */
static bool
check_is_openmetrics(const struct buf *b)
{
	size_t	len = b->len, n = strlen("# EOF");

	while (len > 0 && (b->data[len - 1] == '\n' ||
	    b->data[len - 1] == '\r'))
		len--;
	return (len >= n && memcmp(b->data + len - n, "# EOF", n) == 0 &&
	    (len == n || b->data[len - n - 1] == '\n'));
}

/* Find the family named name..len; NULL if there is none. */
static struct check_family *
check_lookup(const struct check_families *t, const char *name, size_t len)
{
	struct check_family	*f;

	if (t->nbucket == 0)
		return (NULL);
	f = t->bucket[series_hash(name, len) & (t->nbucket - 1)];
	for (; f != NULL; f = f->next) {
		if (f->len == len && memcmp(f->name, name, len) == 0)
			return (f);
	}
	return (NULL);
}

/* Add a family named name..len (not there yet). */
static struct check_family *
check_insert(struct check_families *t, const char *name, size_t len)
{
	struct check_family	*f, *next, **old = t->bucket;
	size_t			 i, oldn = t->nbucket, h;

	if (t->n >= t->nbucket) {
		t->nbucket = oldn == 0 ? 256 : oldn * 2;
		t->bucket = xcalloc(t->nbucket, sizeof *t->bucket);
		for (i = 0; i < oldn; i++) {
			for (f = old[i]; f != NULL; f = next) {
				next = f->next;
				h = series_hash(f->name, f->len) &
				    (t->nbucket - 1);
				f->next = t->bucket[h];
				t->bucket[h] = f;
			}
		}
		free(old);
	}
	f = xcalloc(1, sizeof *f);
	f->name = name;
	f->len = len;
	h = series_hash(name, len) & (t->nbucket - 1);
	f->next = t->bucket[h];
	t->bucket[h] = f;
	t->n++;
	return (f);
}

/* Release the families. */
static void
check_families_free(struct check_families *t)
{
	struct check_family	*f, *next;
	size_t			 i;

	for (i = 0; i < t->nbucket; i++) {
		for (f = t->bucket[i]; f != NULL; f = next) {
			next = f->next;
			free(f);
		}
	}
	free(t->bucket);
}

/*
 * Find the family a HELP, TYPE or sample name belongs to as expfmt does:
 * the family of that exact name; else, for name_sum or name_count, a
 * summary named name; for name_sum, name_count or name_bucket a histogram
 * named name; else a new family.
 */
static struct check_family *
check_resolve(struct check_families *t, struct pt_str n)
{
	static const struct {
		const char	*suffix;
		enum pt_type	 type;
	} parents[] = {
		{ "_sum", PT_SUMMARY }, { "_count", PT_SUMMARY },
		{ "_sum", PT_HISTOGRAM }, { "_count", PT_HISTOGRAM },
		{ "_bucket", PT_HISTOGRAM },
	};
	struct check_family	*f;
	size_t			 i, sl;

	f = check_lookup(t, n.p, n.len);
	if (f != NULL)
		return (f);
	for (i = 0; i < sizeof parents / sizeof parents[0]; i++) {
		sl = strlen(parents[i].suffix);
		if (n.len <= sl || memcmp(n.p + n.len - sl, parents[i].suffix,
		    sl) != 0)
			continue;
		f = check_lookup(t, n.p, n.len - sl);
		if (f != NULL && f->typed && f->type == parents[i].type)
			return (f);
	}
	return (check_insert(t, n.p, n.len));
}

/* Tell whether label name of a sample, if it has one, is a float. */
static bool
check_float_label(const struct pt_item *it, const char *name,
    const char **at)
{
	struct pt_label	 l;
	size_t		 pos = 0, n;
	double		 d;
	char		 v[128];

	while (pt_label_next(it->labels, &pos, &l)) {
		if (!pt_str_eq(l.name, name))
			continue;
		*at = l.value.p;
		if (l.value.len >= sizeof v)
			return (false);
		n = pt_unescape_value(l.value, v);
		return (pt_parse_float(v, n, &d));
	}
	return (true);
}

/* Write "name:line:col: message" for a position in the page. */
static void
check_report(FILE *err, const char *name, const struct buf *b, size_t line,
    const char *at, const char *msg, struct pt_str what)
{
	const char	*ls = at, *start = (const char *)b->data;

	while (ls > start && ls[-1] != '\n')
		ls--;
	fprintf(err, "%s:%zu:%zu: %s \"%.*s\"\n", name, line,
	    (size_t)(at - ls) + 1, msg, (int)what.len, what.p);
}

/* Find the end of the line holding s: its '\n' or the page's end. */
static const char *
check_eol(const struct buf *b, const char *s)
{
	const char	*end = (const char *)b->data + b->len;
	const char	*nl = memchr(s, '\n', (size_t)(end - s));

	return (nl != NULL ? nl : end);
}

/*
 * Apply expfmt's rules to one item of a text page; false (after reporting
 * it) if the item breaks one.
 */
static bool
check_text_item(struct check_families *t, const struct pt_item *it,
    const struct buf *b, const char *name, FILE *err)
{
	struct check_family	*f = check_resolve(t, it->name);
	const char		*at;
	struct pt_str		 fam = { f->name, f->len }, raw;
	const char		*eol;

	if (it->kind == PT_TYPE) {
		eol = check_eol(b, it->text.p);
		raw = (struct pt_str){ it->text.p, (size_t)(eol - it->text.p) };
		if (raw.len != it->text.len) {
			check_report(err, name, b, it->line, it->text.p,
			    "unknown metric type", raw);
			return (false);
		}
		if (f->typed) {
			check_report(err, name, b, it->line, it->name.p,
			    "second TYPE line, or TYPE after the samples, of "
			    "metric", fam);
			return (false);
		}
		f->typed = true;
		f->type = it->type;
	} else if (it->kind == PT_HELP) {
		if (f->help) {
			check_report(err, name, b, it->line, it->name.p,
			    "second HELP line for metric", fam);
			return (false);
		}
		f->help = true;
	} else if (it->kind == PT_SAMPLE) {
		eol = check_eol(b, it->series.p);
		if (eol[-1] == ' ' || eol[-1] == '\t' || eol[-1] == '\r') {
			check_report(err, name, b, it->line, eol - 1,
			    "a blank or carriage return ends the line of",
			    it->name);
			return (false);
		}
		if (!f->typed) {
			f->typed = true;
			f->type = PT_UNTYPED;
		}
		if (f->type == PT_HISTOGRAM &&
		    !check_float_label(it, "le", &at)) {
			check_report(err, name, b, it->line, at, "expected a "
			    "float as le label value of histogram", fam);
			return (false);
		}
		if (f->type == PT_SUMMARY &&
		    !check_float_label(it, "quantile", &at)) {
			check_report(err, name, b, it->line, at, "expected a "
			    "float as quantile label value of summary", fam);
			return (false);
		}
	}
	return (true);
}

/* Check a file ("-" for stdin); return the exit status. */
int
check_metrics_run(const char *path, enum check_format format, FILE *out,
    FILE *err)
{
	struct buf		 b;
	struct promtext		 p;
	struct pt_item		 it;
	struct check_families	 fams;
	enum pt_kind		 k;
	enum pt_format		 fmt;
	FILE			*f;
	char			 msg[320];
	const char		*name = strcmp(path, "-") == 0 ? "(stdin)" : path;
	size_t			 samples = 0, families = 0, helps = 0;
	int			 rc = 1;

	buf_init(&b);
	memset(&fams, 0, sizeof fams);
	memset(&p, 0, sizeof p);
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		fprintf(err, "%s: %s\n", name, strerror(errno));
		goto done;
	}
	if (!check_read(f, &b)) {
		fprintf(err, "%s: cannot read (or larger than %u MiB)\n", name,
		    CHECK_MAX_BYTES >> 20);
		goto done;
	}
	if (format == CHECK_FORMAT_AUTO)
		fmt = check_is_openmetrics(&b) ? PT_FORMAT_OPENMETRICS :
		    PT_FORMAT_TEXT;
	else
		fmt = format == CHECK_FORMAT_OPENMETRICS ?
		    PT_FORMAT_OPENMETRICS : PT_FORMAT_TEXT;
	promtext_init(&p, (const char *)b.data, b.len, fmt);
	for (;;) {
		k = promtext_next(&p, &it, msg, sizeof msg);
		if (k == PT_EOF)
			break;
		if (k == PT_ERROR) {
			/* "line N col M: what" becomes "file:N:M: what". */
			size_t	line = 0, col = 0;
			int	off = 0;

			if (sscanf(msg, "line %zu col %zu: %n", &line, &col,
			    &off) == 2 && off > 0)
				fprintf(err, "%s:%zu:%zu: %s\n", name, line, col,
				    msg + off);
			else
				fprintf(err, "%s: %s\n", name, msg);
			goto done;
		}
		if (fmt == PT_FORMAT_TEXT &&
		    !check_text_item(&fams, &it, &b, name, err))
			goto done;
		if (k == PT_SAMPLE)
			samples++;
		else if (k == PT_TYPE)
			families++;
		else if (k == PT_HELP)
			helps++;
	}
	if (fmt == PT_FORMAT_TEXT && b.len > 0 && b.data[b.len - 1] != '\n') {
		fprintf(err, "%s:%zu: no newline at the end of the page\n",
		    name, p.line);
		goto done;
	}
	fprintf(out, "%s: %s, %zu samples, %zu families, %zu with HELP\n",
	    name, fmt == PT_FORMAT_OPENMETRICS ? "OpenMetrics" : "text",
	    samples, families, helps);
	rc = 0;
done:
	promtext_free(&p);
	check_families_free(&fams);
	if (f != NULL && f != stdin)
		fclose(f);
	buf_free(&b);
	return (rc);
}

/* Run "check-metrics [--format text|openmetrics] FILE|-". */
int
check_metrics_main(int argc, char **argv, FILE *out, FILE *err)
{
	enum check_format	 format = CHECK_FORMAT_AUTO;
	const char		*path = NULL, *v;
	int			 i;

	for (i = 1; i < argc; i++) {
		v = NULL;
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			v = argv[++i];
		else if (strncmp(argv[i], "--format=",
		    strlen("--format=")) == 0)
			v = argv[i] + strlen("--format=");
		else if (path == NULL && (argv[i][0] != '-' ||
		    strcmp(argv[i], "-") == 0)) {
			path = argv[i];
			continue;
		} else
			goto usage;
		if (strcmp(v, "text") == 0)
			format = CHECK_FORMAT_TEXT;
		else if (strcmp(v, "openmetrics") == 0)
			format = CHECK_FORMAT_OPENMETRICS;
		else {
			fprintf(err, "check-metrics: unknown format \"%s\" "
			    "(text or openmetrics)\n", v);
			return (2);
		}
	}
	if (path == NULL)
		goto usage;
	return (check_metrics_run(path, format, out, err));
usage:
	fprintf(err, "usage: rwbridge check-metrics [--format "
	    "text|openmetrics] FILE|-\n");
	return (2);
}
