/*
 * relabel: Prometheus's relabel.go in C. Rules are checked as Prometheus's
 * Config.Validate checks them (same messages), regexes compiled anchored
 * (regex.c), and replacement templates split once into literal and group
 * pieces following Go's Regexp.Expand ($name takes the longest run of
 * letters, digits and _, so $1x is the group called "1x"; ${1}; $$ is $;
 * a malformed $ is kept as text). Each rule sees the set the previous one
 * left, sorted by name, as in Prometheus 2.x. Two things Prometheus would
 * write and rwbridge does not: a labelmap result that is not a valid label
 * name (remote write receivers reject it), and, for every action, an empty
 * value (Prometheus's label builder removes the label instead).
 */
#include <inttypes.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wctype.h>

#include <cjson/cJSON.h>

#include "md5.h"
#include "regex.h"
#include "relabel.h"
#include "xmalloc.h"

enum relabel_action {
	RELABEL_REPLACE,
	RELABEL_KEEP,
	RELABEL_DROP,
	RELABEL_KEEPEQUAL,
	RELABEL_DROPEQUAL,
	RELABEL_HASHMOD,
	RELABEL_LABELMAP,
	RELABEL_LABELDROP,
	RELABEL_LABELKEEP,
	RELABEL_LOWERCASE,
	RELABEL_UPPERCASE
};

static const char *const relabel_actions[] = {
	[RELABEL_REPLACE] = "replace",
	[RELABEL_KEEP] = "keep",
	[RELABEL_DROP] = "drop",
	[RELABEL_KEEPEQUAL] = "keepequal",
	[RELABEL_DROPEQUAL] = "dropequal",
	[RELABEL_HASHMOD] = "hashmod",
	[RELABEL_LABELMAP] = "labelmap",
	[RELABEL_LABELDROP] = "labeldrop",
	[RELABEL_LABELKEEP] = "labelkeep",
	[RELABEL_LOWERCASE] = "lowercase",
	[RELABEL_UPPERCASE] = "uppercase"
};
#define RELABEL_NACTIONS (sizeof relabel_actions / sizeof relabel_actions[0])

/* Prometheus's DefaultRelabelConfig. */
#define RELABEL_DEFAULT_SEPARATOR	";"
#define RELABEL_DEFAULT_REGEX		"(.*)"
#define RELABEL_DEFAULT_REPLACEMENT	"$1"

/* A piece of a template: literal text, or a group's match. */
#define TSEG_LITERAL	(-1)
#define TSEG_NONE	(-2)	/* a group that does not exist: nothing */

struct tseg {
	size_t	 off;		/* literal: into the template */
	size_t	 len;
	int	 group;
};

struct tmpl {
	char		*s;
	struct tseg	*seg;
	size_t		 nseg;
	bool		 vars;	/* has a $ */
};

struct relabel_rule {
	enum relabel_action	 action;
	char			**src;
	size_t			 nsrc;
	char			*sep;
	struct regex		*re;
	struct tmpl		 target;
	struct tmpl		 repl;
	uint64_t		 modulus;
};

struct relabel {
	unsigned		 refs;
	struct relabel_rule	*rules;
	size_t			 n;
	locale_t		 loc;		/* for lower/uppercase */
	uint64_t		 match_errors;
};

/* Owned strings of a label set: chunks that never move. */
struct relabel_chunk {
	struct relabel_chunk	*next;
	size_t			 used;
	size_t			 cap;
	char			 data[];
};

/* What a parse needs besides the JSON. */
struct rparse {
	relabel_error_fn	 fn;
	void			*arg;
	int			 nerr;
	struct regex		*letter;	/* Go's IsLetter || IsDigit */
};

/* Report an error at a path. */
static void __attribute__((format(printf, 3, 4)))
rerr(struct rparse *p, const char *path, const char *fmt, ...)
{
	va_list	ap;
	char	msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->fn(p->arg, path, msg);
	p->nerr++;
}

/* The length of the UTF-8 sequence starting with byte c (1 if invalid). */
static size_t
utf8_len(unsigned char c)
{
	if (c < 0xc0)
		return (1);
	if (c < 0xe0)
		return (2);
	if (c < 0xf0)
		return (3);
	return (c < 0xf8 ? 4 : 1);
}

/* The length of the name at s as Go's extract reads it (letters, digits, _). */
static size_t
tmpl_name_len(struct rparse *p, const char *s, size_t len)
{
	size_t	i = 0, n;

	while (i < len) {
		if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '_') {
			i++;
			continue;
		}
		if ((unsigned char)s[i] < 0x80)
			break;
		n = utf8_len((unsigned char)s[i]);
		if (i + n > len || regex_match(p->letter, s + i, n) != 1)
			break;
		i += n;
	}
	return (i);
}

/* Append a segment. */
static void
tmpl_add(struct tmpl *t, size_t off, size_t len, int group)
{
	if (group == TSEG_LITERAL && len == 0)
		return;
	t->seg = xreallocarray(t->seg, t->nseg + 1, sizeof *t->seg);
	t->seg[t->nseg].off = off;
	t->seg[t->nseg].len = len;
	t->seg[t->nseg].group = group;
	t->nseg++;
}

/* Split template s into pieces, resolving group names against re. */
static void
tmpl_parse(struct rparse *p, struct tmpl *t, const char *s,
    const struct regex *re)
{
	size_t		 len = strlen(s), i = 0, lit = 0, n, j;
	const char	*name;
	bool		 brace;
	long		 num;

	memset(t, 0, sizeof *t);
	t->s = xstrdup(s);
	t->vars = strchr(s, '$') != NULL;
	while (i < len) {
		if (s[i] != '$') {
			i++;
			continue;
		}
		tmpl_add(t, lit, i - lit, TSEG_LITERAL);
		i++;
		if (i < len && s[i] == '$') {		/* $$ is $ */
			lit = i++;
			continue;
		}
		brace = i < len && s[i] == '{';
		name = s + i + brace;
		n = tmpl_name_len(p, name, len - i - brace);
		if (n == 0 || (brace && (i + 1 + n >= len ||
		    name[n] != '}'))) {
			lit = i - 1;			/* malformed: the $ */
			continue;
		}
		num = 0;
		for (j = 0; j < n; j++) {
			if (name[j] < '0' || name[j] > '9' || num >= 100000000) {
				num = -1;
				break;
			}
			num = num * 10 + (name[j] - '0');
		}
		if (name[0] == '0' && n > 1)
			num = -1;
		if (num < 0)
			num = regex_group_number(re, name, n);
		else if ((size_t)num > regex_ngroups(re))
			num = -1;
		tmpl_add(t, 0, 0, num < 0 ? TSEG_NONE : (int)num);
		i += n + 2 * brace;
		lit = i;
	}
	tmpl_add(t, lit, len - lit, TSEG_LITERAL);
}

/* Expand a template against the last match of re on subject s into b. */
static void
tmpl_expand(const struct tmpl *t, const struct regex *re, const char *s,
    struct buf *b)
{
	size_t	i, a, e;

	for (i = 0; i < t->nseg; i++) {
		if (t->seg[i].group == TSEG_LITERAL)
			buf_append(b, t->s + t->seg[i].off, t->seg[i].len);
		else if (t->seg[i].group >= 0 &&
		    regex_group(re, (size_t)t->seg[i].group, &a, &e))
			buf_append(b, s + a, e - a);
	}
}

/* Free a template. */
static void
tmpl_free(struct tmpl *t)
{
	free(t->s);
	free(t->seg);
}

/*
 * Tell whether s is a valid target_label template: Prometheus's
 * relabelTarget, ^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$, scanned by
 * hand (the nested repeats backtrack badly): a letter, _ or $var first,
 * then word characters and $var.
 */
static bool
relabel_target_ok(const char *s)
{
	size_t	i = 0, n, len = strlen(s);

#define W(c)	(((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || \
		    ((c) >= '0' && (c) <= '9') || (c) == '_')
	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return (false);
	while (i < len) {
		if (W(s[i])) {
			i++;
			continue;
		}
		if (s[i] != '$')
			return (false);
		i++;
		if (i < len && s[i] == '{') {
			for (n = i + 1; n < len && W(s[n]); n++)
				;
			if (n == i + 1 || n >= len || s[n] != '}')
				return (false);
			i = n + 1;
			continue;
		}
		if (i >= len || !W(s[i]))
			return (false);
	}
#undef W
	return (true);
}

/* Free one rule. */
static void
rule_free(struct relabel_rule *r)
{
	size_t	i;

	for (i = 0; i < r->nsrc; i++)
		free(r->src[i]);
	free(r->src);
	free(r->sep);
	regex_free(r->re);
	tmpl_free(&r->target);
	tmpl_free(&r->repl);
}

/* Take a string member; false (and an error) when it is not one. */
static bool
rstring(struct rparse *p, const cJSON *e, const char *path, const char **dst)
{
	if (!cJSON_IsString(e)) {
		rerr(p, path, "want a string");
		return (false);
	}
	*dst = e->valuestring;
	return (true);
}

/* Read source_labels. */
static bool
rsources(struct rparse *p, const cJSON *e, const char *path,
    struct relabel_rule *r)
{
	const cJSON	*l;
	char		 sub[544];
	int		 k = 0;

	if (!cJSON_IsArray(e)) {
		rerr(p, path, "want a list of label names");
		return (false);
	}
	r->src = xcalloc((size_t)cJSON_GetArraySize(e) + 1, sizeof *r->src);
	for (l = e->child; l != NULL; l = l->next, k++) {
		snprintf(sub, sizeof sub, "%s[%d]", path, k);
		if (!cJSON_IsString(l) || !label_name_valid(l->valuestring,
		    strlen(l->valuestring))) {
			rerr(p, sub, "%s%s%s is not a valid label name",
			    cJSON_IsString(l) ? "\"" : "",
			    cJSON_IsString(l) ? l->valuestring : "value",
			    cJSON_IsString(l) ? "\"" : "");
			return (false);
		}
		r->src[r->nsrc++] = xstrdup(l->valuestring);
	}
	return (true);
}

/* Find an action by name, case-insensitively as Prometheus does. */
static bool
raction(const char *s, enum relabel_action *a)
{
	size_t	i;

	for (i = 0; i < RELABEL_NACTIONS; i++) {
		if (strcasecmp(s, relabel_actions[i]) == 0) {
			*a = (enum relabel_action)i;
			return (true);
		}
	}
	return (false);
}

/* Read and check one relabel config object. */
static bool
rule_parse(struct rparse *p, const cJSON *v, const char *path,
    struct relabel_rule *r)
{
	const cJSON	*e;
	const char	*regex = RELABEL_DEFAULT_REGEX, *target = "";
	const char	*repl = RELABEL_DEFAULT_REPLACEMENT, *act = NULL;
	const char	*sep = RELABEL_DEFAULT_SEPARATOR, *what;
	char		 sub[512], err[256];
	bool		 has_src = false, has_regex = false, has_sep = false;
	bool		 has_repl = false, has_mod = false, ok = true;
	enum relabel_action a;
	double		 d;

	memset(r, 0, sizeof *r);
	if (!cJSON_IsObject(v)) {
		rerr(p, path, "want a relabel config object");
		return (false);
	}
	for (e = v->child; e != NULL; e = e->next) {
		snprintf(sub, sizeof sub, "%s.%s", path, e->string);
		if (strcmp(e->string, "source_labels") == 0) {
			has_src = true;
			ok &= rsources(p, e, sub, r);
		} else if (strcmp(e->string, "separator") == 0) {
			has_sep = true;
			ok &= rstring(p, e, sub, &sep);
		} else if (strcmp(e->string, "regex") == 0) {
			has_regex = true;
			ok &= rstring(p, e, sub, &regex);
		} else if (strcmp(e->string, "target_label") == 0)
			ok &= rstring(p, e, sub, &target);
		else if (strcmp(e->string, "replacement") == 0) {
			has_repl = true;
			ok &= rstring(p, e, sub, &repl);
		} else if (strcmp(e->string, "action") == 0)
			ok &= rstring(p, e, sub, &act);
		else if (strcmp(e->string, "modulus") == 0) {
			has_mod = true;
			d = cJSON_IsNumber(e) ? e->valuedouble : -1;
			if (!(d >= 0 && d <= 9007199254740992.0) ||
			    d != (double)(uint64_t)d) {
				rerr(p, sub, "want a whole number");
				ok = false;
			} else
				r->modulus = (uint64_t)d;
		} else {
			rerr(p, path, "unknown key \"%s\"", e->string);
			ok = false;
		}
	}
	if (!ok)
		return (false);
	r->sep = xstrdup(sep);

	a = RELABEL_REPLACE;
	snprintf(sub, sizeof sub, "%s.action", path);
	if (act != NULL && (act[0] == '\0' || !raction(act, &a))) {
		rerr(p, sub, act[0] == '\0' ? "relabel action cannot be "
		    "empty" : "unknown relabel action \"%s\"", act);
		return (false);
	}
	r->action = a;
	what = relabel_actions[a];
	snprintf(sub, sizeof sub, "%s.regex", path);
	r->re = regex_new(regex, true, err, sizeof err);
	if (r->re == NULL) {
		rerr(p, sub, "%s", err);
		return (false);
	}

	/* Config.Validate, check for check. */
	snprintf(sub, sizeof sub, "%s.target_label", path);
	if (a == RELABEL_HASHMOD && r->modulus == 0) {
		snprintf(sub, sizeof sub, "%s.modulus", path);
		rerr(p, sub, "relabel configuration for hashmod requires "
		    "non-zero modulus");
		return (false);
	}
	if ((a == RELABEL_REPLACE || a == RELABEL_HASHMOD ||
	    a == RELABEL_LOWERCASE || a == RELABEL_UPPERCASE ||
	    a == RELABEL_KEEPEQUAL || a == RELABEL_DROPEQUAL) &&
	    target[0] == '\0') {
		rerr(p, path, "relabel configuration for %s action requires "
		    "'target_label' value", what);
		return (false);
	}
	if ((a == RELABEL_REPLACE && !relabel_target_ok(target)) ||
	    ((a == RELABEL_LOWERCASE || a == RELABEL_UPPERCASE ||
	    a == RELABEL_KEEPEQUAL || a == RELABEL_DROPEQUAL ||
	    a == RELABEL_HASHMOD) &&
	    !label_name_valid(target, strlen(target)))) {
		rerr(p, sub, "\"%s\" is invalid 'target_label' for %s action",
		    target, what);
		return (false);
	}
	snprintf(sub, sizeof sub, "%s.replacement", path);
	if ((a == RELABEL_LOWERCASE || a == RELABEL_UPPERCASE ||
	    a == RELABEL_KEEPEQUAL || a == RELABEL_DROPEQUAL) && has_repl &&
	    strcmp(repl, RELABEL_DEFAULT_REPLACEMENT) != 0) {
		rerr(p, sub, "'replacement' can not be set for %s action",
		    what);
		return (false);
	}
	if (a == RELABEL_LABELMAP && !relabel_target_ok(repl)) {
		rerr(p, sub, "\"%s\" is invalid 'replacement' for %s action",
		    repl, what);
		return (false);
	}
	if ((a == RELABEL_KEEPEQUAL || a == RELABEL_DROPEQUAL) &&
	    (has_regex || has_mod || has_sep || has_repl)) {
		rerr(p, path, "%s action requires only 'source_labels' and "
		    "`target_label`, and no other fields", what);
		return (false);
	}
	if ((a == RELABEL_LABELDROP || a == RELABEL_LABELKEEP) &&
	    (has_src || target[0] != '\0' || has_mod || has_sep ||
	    has_repl)) {
		rerr(p, path, "%s action requires only 'regex', and no other "
		    "fields", what);
		return (false);
	}
	tmpl_parse(p, &r->target, target, r->re);
	tmpl_parse(p, &r->repl, repl, r->re);
	return (true);
}

/* Compile a JSON array of relabel configs. */
struct relabel *
relabel_parse(const cJSON *v, const char *path, relabel_error_fn fn,
    void *arg)
{
	struct relabel	*rl;
	struct rparse	 p;
	const cJSON	*e;
	char		 sub[256], err[256];
	size_t		 i;
	int		 k = 0;

	memset(&p, 0, sizeof p);
	p.fn = fn;
	p.arg = arg;
	if (!cJSON_IsArray(v)) {
		rerr(&p, path, "want a list of relabel configs");
		return (NULL);
	}
	p.letter = regex_new("[\\p{L}\\p{Nd}]", true, err, sizeof err);
	if (p.letter == NULL) {
		rerr(&p, path, "internal regex: %s", err);
		return (NULL);
	}
	rl = xcalloc(1, sizeof *rl);
	rl->refs = 1;
	rl->rules = xcalloc((size_t)cJSON_GetArraySize(v) + 1,
	    sizeof *rl->rules);
	for (e = v->child; e != NULL; e = e->next, k++) {
		snprintf(sub, sizeof sub, "%s[%d]", path, k);
		if (rule_parse(&p, e, sub, &rl->rules[rl->n]))
			rl->n++;
		else
			rule_free(&rl->rules[rl->n]);
	}
	regex_free(p.letter);
	for (i = 0; i < rl->n; i++) {
		if (rl->rules[i].action == RELABEL_LOWERCASE ||
		    rl->rules[i].action == RELABEL_UPPERCASE) {
			rl->loc = newlocale(LC_CTYPE_MASK, "C.UTF-8",
			    (locale_t)0);
			break;
		}
	}
	if (p.nerr > 0) {
		relabel_free(rl);
		return (NULL);
	}
	return (rl);
}

/* Where relabel_parse_text keeps its first error. */
struct relabel_errbuf {
	char	*s;
	size_t	 len;
};

/* Keep the first error of relabel_parse_text. */
static void
relabel_first_err(void *arg, const char *path, const char *msg)
{
	struct relabel_errbuf	*e = arg;

	if (e->s[0] == '\0')
		snprintf(e->s, e->len, "%s: %s", path, msg);
}

/* Compile relabel configs from JSON text. */
struct relabel *
relabel_parse_text(const char *text, const char *path, char *err,
    size_t errlen)
{
	struct relabel		*rl;
	struct relabel_errbuf	 e;
	cJSON			*v;

	err[0] = '\0';
	v = cJSON_Parse(text);
	if (v == NULL) {
		snprintf(err, errlen, "%s: invalid JSON", path);
		return (NULL);
	}
	e.s = err;
	e.len = errlen;
	rl = relabel_parse(v, path, relabel_first_err, &e);
	cJSON_Delete(v);
	return (rl);
}

/* Take another reference. */
struct relabel *
relabel_ref(struct relabel *rl)
{
	if (rl != NULL)
		rl->refs++;
	return (rl);
}

/* Drop a reference. */
void
relabel_free(struct relabel *rl)
{
	size_t	i;

	if (rl == NULL || --rl->refs > 0)
		return;
	for (i = 0; i < rl->n; i++)
		rule_free(&rl->rules[i]);
	free(rl->rules);
	if (rl->loc != (locale_t)0)
		freelocale(rl->loc);
	free(rl);
}

/* The number of rules. */
size_t
relabel_len(const struct relabel *rl)
{
	return (rl == NULL ? 0 : rl->n);
}

/* Tell whether two rules have the same canonical definition. */
static bool
rule_equal(const struct relabel_rule *a, const struct relabel_rule *b)
{
	size_t	i;

	if (a->action != b->action || a->modulus != b->modulus ||
	    a->nsrc != b->nsrc || strcmp(a->sep, b->sep) != 0 ||
	    strcmp(regex_pattern(a->re), regex_pattern(b->re)) != 0 ||
	    strcmp(a->target.s, b->target.s) != 0 ||
	    strcmp(a->repl.s, b->repl.s) != 0)
		return (false);
	for (i = 0; i < a->nsrc; i++) {
		if (strcmp(a->src[i], b->src[i]) != 0)
			return (false);
	}
	return (true);
}

/* Tell whether two lists hold the same rules in the same order. */
bool
relabel_equal(const struct relabel *a, const struct relabel *b)
{
	size_t	i;

	if (a == b)
		return (true);
	if (relabel_len(a) != relabel_len(b))
		return (false);
	for (i = 0; i < relabel_len(a); i++) {
		if (!rule_equal(&a->rules[i], &b->rules[i]))
			return (false);
	}
	return (true);
}

/* Matches abandoned at the backtracking limit. */
uint64_t
relabel_match_errors(const struct relabel *rl)
{
	return (rl == NULL ? 0 : rl->match_errors);
}

/* Start an empty set. */
void
relabel_lset_init(struct relabel_lset *ls)
{
	memset(ls, 0, sizeof *ls);
	buf_init(&ls->val);
	buf_init(&ls->exp);
}

/* Free a set's memory. */
void
relabel_lset_free(struct relabel_lset *ls)
{
	struct relabel_chunk	*c, *next;

	for (c = ls->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(ls->v);
	free(ls->snap);
	buf_free(&ls->val);
	buf_free(&ls->exp);
	relabel_lset_init(ls);
}

/* Empty the set; keep the newest chunk. */
void
relabel_lset_reset(struct relabel_lset *ls)
{
	struct relabel_chunk	*c, *next;

	ls->n = 0;
	if (ls->chunks == NULL)
		return;
	for (c = ls->chunks->next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	ls->chunks->next = NULL;
	ls->chunks->used = 0;
}

/* Copy n bytes into the set's own storage. */
static const char *
lset_copy(struct relabel_lset *ls, const char *s, size_t n)
{
	struct relabel_chunk	*c = ls->chunks;
	char			*d;

	if (c == NULL || c->cap - c->used < n) {
		c = xmalloc(sizeof *c + (n > 4096 ? n : 4096));
		c->cap = n > 4096 ? n : 4096;
		c->used = 0;
		c->next = ls->chunks;
		ls->chunks = c;
	}
	d = c->data + c->used;
	if (n > 0)
		memcpy(d, s, n);
	c->used += n;
	return (d);
}

/* Compare a name with label l's. */
static int
lset_cmp(const char *name, size_t len, const struct label *l)
{
	int	c;

	c = memcmp(name, l->name, len < l->name_len ? len : l->name_len);
	if (c != 0)
		return (c);
	return (len < l->name_len ? -1 : len > l->name_len);
}

/* The index of name, or where it would go (*found false). */
static size_t
lset_find(const struct relabel_lset *ls, const char *name, size_t len,
    bool *found)
{
	size_t	lo = 0, hi = ls->n, mid;
	int	c;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = lset_cmp(name, len, &ls->v[mid]);
		if (c == 0) {
			*found = true;
			return (mid);
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*found = false;
	return (lo);
}

/* Remove a label. */
static void
lset_del(struct relabel_lset *ls, const char *name, size_t len)
{
	size_t	i;
	bool	found;

	i = lset_find(ls, name, len, &found);
	if (!found)
		return;
	memmove(&ls->v[i], &ls->v[i + 1], (ls->n - i - 1) * sizeof *ls->v);
	ls->n--;
}

/* Set a label to pointers the caller keeps valid; empty value removes. */
static void
lset_put(struct relabel_lset *ls, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	size_t	i;
	bool	found;

	if (vlen == 0) {
		lset_del(ls, name, nlen);
		return;
	}
	i = lset_find(ls, name, nlen, &found);
	if (!found) {
		if (ls->n == ls->cap) {
			ls->cap = ls->cap == 0 ? 16 : ls->cap * 2;
			ls->v = xreallocarray(ls->v, ls->cap, sizeof *ls->v);
		}
		memmove(&ls->v[i + 1], &ls->v[i], (ls->n - i) * sizeof *ls->v);
		ls->n++;
	}
	ls->v[i].name = name;
	ls->v[i].name_len = nlen;
	ls->v[i].value = value;
	ls->v[i].value_len = vlen;
}

/* Set a label, copying name and value. */
static void
lset_set(struct relabel_lset *ls, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	if (vlen == 0) {
		lset_del(ls, name, nlen);
		return;
	}
	name = lset_copy(ls, name, nlen);
	value = lset_copy(ls, value, vlen);
	lset_put(ls, name, nlen, value, vlen);
}

/* Add a borrowed label. */
void
relabel_lset_add(struct relabel_lset *ls, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	lset_put(ls, name, nlen, value, vlen);
}

/* A label's value; NULL when absent. */
const struct label *
relabel_lset_get(const struct relabel_lset *ls, const char *name, size_t len)
{
	size_t	i;
	bool	found;

	i = lset_find(ls, name, len, &found);
	return (found ? &ls->v[i] : NULL);
}

/* Copy the set into snap, for the actions that walk it while changing it. */
static void
lset_snapshot(struct relabel_lset *ls)
{
	if (ls->n > ls->snapcap) {
		ls->snapcap = ls->n * 2;
		ls->snap = xreallocarray(ls->snap, ls->snapcap,
		    sizeof *ls->snap);
	}
	if (ls->n > 0)
		memcpy(ls->snap, ls->v, ls->n * sizeof *ls->v);
}

/* Match with the error counted; true on a match. */
static bool
rmatch(struct relabel *rl, struct regex *re, const char *s, size_t len)
{
	int	m;

	m = regex_match(re, s, len);
	if (m < 0)
		rl->match_errors++;
	return (m == 1);
}

/* Append s lower- or uppercased (Go's strings.ToLower/ToUpper) to b. */
static void
relabel_case(const struct relabel *rl, const char *s, size_t len, bool up,
    struct buf *b)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n, k;
	uint32_t		 c;
	char			 o[4];

	while (i < len) {
		n = utf8_len(p[i]);
		c = n == 1 ? p[i] : p[i] & (0x7f >> n);
		for (k = 1; k < n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				break;
			c = c << 6 | (p[i + k] & 0x3f);
		}
		if (k < n || (n == 1 && c >= 0x80) || (n == 2 && c < 0x80) ||
		    (n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 ||
		    c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff)) {
			c = 0xfffd;			/* as Go decodes it */
			n = 1;
		}
		i += n;
		if (c < 0x80)
			c = up ? (c >= 'a' && c <= 'z' ? c - 32 : c) :
			    (c >= 'A' && c <= 'Z' ? c + 32 : c);
		else if (rl->loc != (locale_t)0)
			c = (uint32_t)(up ? towupper_l((wint_t)c, rl->loc) :
			    towlower_l((wint_t)c, rl->loc));
		if (c < 0x80) {
			buf_putc(b, (uint8_t)c);
			continue;
		}
		if (c < 0x800) {
			o[0] = (char)(0xc0 | c >> 6);
			n = 1;
		} else if (c < 0x10000) {
			o[0] = (char)(0xe0 | c >> 12);
			o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
			n = 2;
		} else {
			o[0] = (char)(0xf0 | c >> 18);
			o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
			o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
			n = 3;
		}
		o[n++] = (char)(0x80 | (c & 0x3f));
		buf_append(b, o, n);
	}
}

/* Apply one rule; false when it drops the set. */
static bool
relabel_one(struct relabel *rl, struct relabel_rule *r,
    struct relabel_lset *ls)
{
	const struct label	*l;
	const char		*val;
	size_t			 i, vlen, tlen, n;
	uint8_t			 sum[16];
	uint64_t		 h;
	char			 num[24];

	buf_reset(&ls->val);
	for (i = 0; i < r->nsrc; i++) {
		if (i > 0)
			buf_append(&ls->val, r->sep, strlen(r->sep));
		l = relabel_lset_get(ls, r->src[i], strlen(r->src[i]));
		if (l != NULL)
			buf_append(&ls->val, l->value, l->value_len);
	}
	buf_putc(&ls->val, '\0');	/* data never NULL */
	val = (const char *)ls->val.data;
	vlen = ls->val.len - 1;
	buf_reset(&ls->exp);

	switch (r->action) {
	case RELABEL_DROP:
		return (!rmatch(rl, r->re, val, vlen));
	case RELABEL_KEEP:
		return (rmatch(rl, r->re, val, vlen));
	case RELABEL_DROPEQUAL:
	case RELABEL_KEEPEQUAL:
		l = relabel_lset_get(ls, r->target.s, strlen(r->target.s));
		n = l != NULL ? l->value_len : 0;
		return ((n == vlen && (n == 0 || memcmp(l->value, val,
		    n) == 0)) == (r->action == RELABEL_KEEPEQUAL));
	case RELABEL_REPLACE:
		if (!rmatch(rl, r->re, val, vlen))
			break;
		tmpl_expand(&r->target, r->re, val, &ls->exp);
		tlen = ls->exp.len;
		if (!label_name_valid((const char *)ls->exp.data, tlen))
			break;
		tmpl_expand(&r->repl, r->re, val, &ls->exp);
		lset_set(ls, (const char *)ls->exp.data, tlen,
		    (const char *)ls->exp.data + tlen, ls->exp.len - tlen);
		break;
	case RELABEL_LOWERCASE:
	case RELABEL_UPPERCASE:
		relabel_case(rl, val, vlen, r->action == RELABEL_UPPERCASE,
		    &ls->exp);
		lset_set(ls, r->target.s, strlen(r->target.s),
		    (const char *)ls->exp.data, ls->exp.len);
		break;
	case RELABEL_HASHMOD:
		md5_sum(val, vlen, sum);
		for (h = 0, i = 8; i < 16; i++)
			h = h << 8 | sum[i];
		snprintf(num, sizeof num, "%" PRIu64, h % r->modulus);
		lset_set(ls, r->target.s, strlen(r->target.s), num,
		    strlen(num));
		break;
	case RELABEL_LABELMAP:
		lset_snapshot(ls);
		n = ls->n;
		for (i = 0; i < n; i++) {
			l = &ls->snap[i];
			if (!rmatch(rl, r->re, l->name, l->name_len))
				continue;
			buf_reset(&ls->exp);
			tmpl_expand(&r->repl, r->re, l->name, &ls->exp);
			if (label_name_valid((const char *)ls->exp.data,
			    ls->exp.len))
				lset_set(ls, (const char *)ls->exp.data,
				    ls->exp.len, l->value, l->value_len);
		}
		break;
	case RELABEL_LABELDROP:
	case RELABEL_LABELKEEP:
		lset_snapshot(ls);
		n = ls->n;
		for (i = 0; i < n; i++) {
			l = &ls->snap[i];
			if (rmatch(rl, r->re, l->name, l->name_len) ==
			    (r->action == RELABEL_LABELDROP))
				lset_del(ls, l->name, l->name_len);
		}
		break;
	}
	return (true);
}

/* Apply every rule in order. */
bool
relabel_process(struct relabel *rl, struct relabel_lset *ls)
{
	size_t	i;

	if (rl == NULL)
		return (true);
	for (i = 0; i < rl->n; i++) {
		if (!relabel_one(rl, &rl->rules[i], ls))
			return (false);
	}
	return (true);
}
