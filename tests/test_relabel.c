/*
 * Unit tests for relabel and regex: a table of relabel configs applied to
 * label sets (every action, defaults, separators, groups, Go's expansion
 * rules, empty matches, invalid target names), RE2-versus-PCRE2 syntax
 * cases, bad configs with the JSON path and reason, and relabel_equal
 * (the same rules by definition: equal; each field different: not).
 * Configs are written with ' for " to keep the table readable. A failure
 * names the case and prints the set it got and the set it wanted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "regex.h"
#include "relabel.h"
#include "tap.h"

struct rcase {
	const char	*name;
	const char	*config;	/* JSON, ' for " */
	const char	*in;		/* name=value,... (no , in values) */
	const char	*want;		/* sorted result, or "DROP" */
};

static const struct rcase cases[] = {
	{ "replace: defaults copy a label",
	    "[{'source_labels':['a'],'target_label':'b'}]",
	    "a=x", "a=x,b=x" },
	{ "replace: action name is case-insensitive",
	    "[{'source_labels':['a'],'target_label':'b','action':'RePlAcE'}]",
	    "a=x", "a=x,b=x" },
	{ "replace: regex group",
	    "[{'source_labels':['__name__'],'regex':'vllm:(.*)_total',"
	    "'target_label':'kind'}]",
	    "__name__=vllm:prompt_tokens_total",
	    "__name__=vllm:prompt_tokens_total,kind=prompt_tokens" },
	{ "replace: no match changes nothing",
	    "[{'source_labels':['__name__'],'regex':'vllm:(.*)_total',"
	    "'target_label':'kind'}]",
	    "__name__=up", "__name__=up" },
	{ "replace: separator and ${2}_$1",
	    "[{'source_labels':['a','b'],'separator':'-','regex':'(.*)-(.*)',"
	    "'target_label':'c','replacement':'${2}_$1'}]",
	    "a=x,b=y", "a=x,b=y,c=y_x" },
	{ "replace: default separator ; between sources",
	    "[{'source_labels':['a','b'],'target_label':'c'}]",
	    "a=x,b=y", "a=x,b=y,c=x;y" },
	{ "replace: an absent source joins as empty",
	    "[{'source_labels':['a','nope'],'target_label':'c'}]",
	    "a=x", "a=x,c=x;" },
	{ "replace: $1x is the group named 1x (empty), so a is removed",
	    "[{'source_labels':['a'],'target_label':'a','replacement':'$1x'}]",
	    "a=v,b=w", "b=w" },
	{ "replace: ${1}x",
	    "[{'source_labels':['a'],'target_label':'b','replacement':'${1}x'}]",
	    "a=v", "a=v,b=vx" },
	{ "replace: $$ is a dollar",
	    "[{'source_labels':['a'],'target_label':'b','replacement':'$$1'}]",
	    "a=v", "a=v,b=$1" },
	{ "replace: a malformed $ is kept",
	    "[{'source_labels':['a'],'target_label':'b',"
	    "'replacement':'${1-$'}]",
	    "a=v", "a=v,b=${1-$" },
	{ "replace: $0 is the whole match",
	    "[{'source_labels':['a'],'regex':'v(.)','target_label':'b',"
	    "'replacement':'<$0|$1|$2>'}]",
	    "a=vw", "a=vw,b=<vw|w|>" },
	{ "replace: named groups by $name and ${name}",
	    "[{'source_labels':['__address__'],"
	    "'regex':'(?P<host>[^:]+):(?P<port>\\\\d+)','target_label':'h',"
	    "'replacement':'${port}@$host'}]",
	    "__address__=10.0.0.1:8000",
	    "__address__=10.0.0.1:8000,h=8000@10.0.0.1" },
	{ "replace: a group past the last is empty",
	    "[{'source_labels':['a'],'target_label':'b',"
	    "'replacement':'$7z${7}'}]",
	    "a=v", "a=v" },
	{ "replace: leading zero is a name, not a number",
	    "[{'source_labels':['a'],'target_label':'b',"
	    "'replacement':'x${01}'}]",
	    "a=v", "a=v,b=x" },
	{ "replace: empty regex matches only the empty value",
	    "[{'source_labels':['nope'],'regex':'','target_label':'t',"
	    "'replacement':'empty'}]",
	    "a=v", "a=v,t=empty" },
	{ "replace: empty regex, non-empty value: no change",
	    "[{'source_labels':['a'],'regex':'','target_label':'t',"
	    "'replacement':'empty'}]",
	    "a=v", "a=v" },
	{ "replace: static value with no sources",
	    "[{'target_label':'env','replacement':'prod'}]",
	    "a=v", "a=v,env=prod" },
	{ "replace: empty result removes the target",
	    "[{'source_labels':['nope'],'target_label':'a'}]",
	    "a=v,b=w", "b=w" },
	{ "replace: target template",
	    "[{'source_labels':['a'],'target_label':'x_${1}'}]",
	    "a=y", "a=y,x_y=y" },
	{ "replace: an invalid expanded target name changes nothing",
	    "[{'source_labels':['a'],'target_label':'$1'}]",
	    "a=1bad", "a=1bad" },
	{ "replace: regex is anchored at both ends",
	    "[{'source_labels':['a'],'regex':'b','target_label':'t',"
	    "'replacement':'hit'}]",
	    "a=abc", "a=abc" },
	{ "replace: alternation inside the anchors",
	    "[{'source_labels':['a'],'regex':'x|abc','target_label':'t',"
	    "'replacement':'hit'}]",
	    "a=abc", "a=abc,t=hit" },
	{ "keep: match keeps",
	    "[{'source_labels':['__name__'],'regex':'vllm:.*',"
	    "'action':'keep'}]",
	    "__name__=vllm:x", "__name__=vllm:x" },
	{ "keep: no match drops",
	    "[{'source_labels':['__name__'],'regex':'vllm:.*',"
	    "'action':'keep'}]",
	    "__name__=python_gc_objects_collected_total", "DROP" },
	{ "drop: match drops",
	    "[{'source_labels':['__name__'],'regex':'python_gc_.*|http_.*',"
	    "'action':'drop'}]",
	    "__name__=http_requests_total", "DROP" },
	{ "drop: no match keeps",
	    "[{'source_labels':['__name__'],'regex':'python_gc_.*|http_.*',"
	    "'action':'drop'}]",
	    "__name__=vllm:x", "__name__=vllm:x" },
	{ "drop: empty regex drops series without the label",
	    "[{'source_labels':['model_name'],'regex':'','action':'drop'}]",
	    "__name__=x", "DROP" },
	{ "keepequal: equal keeps",
	    "[{'source_labels':['a'],'target_label':'b',"
	    "'action':'keepequal'}]",
	    "a=x,b=x", "a=x,b=x" },
	{ "keepequal: different drops",
	    "[{'source_labels':['a'],'target_label':'b',"
	    "'action':'keepequal'}]",
	    "a=x,b=y", "DROP" },
	{ "keepequal: both absent are equal",
	    "[{'source_labels':['a'],'target_label':'b',"
	    "'action':'keepequal'}]",
	    "c=z", "c=z" },
	{ "dropequal: equal drops",
	    "[{'source_labels':['a'],'target_label':'b',"
	    "'action':'dropequal'}]",
	    "a=x,b=x", "DROP" },
	{ "dropequal: different keeps",
	    "[{'source_labels':['a'],'target_label':'b',"
	    "'action':'dropequal'}]",
	    "a=x,b=y", "a=x,b=y" },
	{ "hashmod: md5, last 8 bytes big-endian, mod 4",
	    "[{'source_labels':['__address__'],'modulus':4,"
	    "'target_label':'shard','action':'hashmod'}]",
	    "__address__=10.0.0.1:8000",
	    "__address__=10.0.0.1:8000,shard=3" },
	{ "hashmod: joined sources",
	    "[{'source_labels':['a','b'],'modulus':3,"
	    "'target_label':'s','action':'hashmod'}]",
	    "a=a,b=b", "a=a,b=b,s=2" },
	{ "hashmod: empty value",
	    "[{'source_labels':['nope'],'modulus':7,"
	    "'target_label':'s','action':'hashmod'}]",
	    "a=v", "a=v,s=1" },
	{ "hashmod: mod 1000",
	    "[{'source_labels':['__name__'],'modulus':1000,"
	    "'target_label':'s','action':'hashmod'}]",
	    "__name__=vllm:num_requests_running",
	    "__name__=vllm:num_requests_running,s=863" },
	{ "labelmap: ${1}",
	    "[{'regex':'__meta_(.*)','replacement':'${1}',"
	    "'action':'labelmap'}]",
	    "__meta_zone=z,__meta_rack=r,a=v",
	    "__meta_rack=r,__meta_zone=z,a=v,rack=r,zone=z" },
	{ "labelmap: default replacement",
	    "[{'regex':'x_(.*)','action':'labelmap'}]",
	    "x_a=1,x_b=2", "a=1,b=2,x_a=1,x_b=2" },
	{ "labelmap: an invalid result name is skipped",
	    "[{'regex':'x_(.*)','action':'labelmap'}]",
	    "x_1=1", "x_1=1" },
	{ "labelmap: prefix",
	    "[{'regex':'(.*)','replacement':'p_$1','action':'labelmap'}]",
	    "a=1,b=2", "a=1,b=2,p_a=1,p_b=2" },
	{ "labeldrop",
	    "[{'regex':'exported_.*','action':'labeldrop'}]",
	    "__name__=m,exported_job=j,exported_instance=i,job=k",
	    "__name__=m,job=k" },
	{ "labeldrop: anchored, so a substring does not drop",
	    "[{'regex':'job','action':'labeldrop'}]",
	    "exported_job=j,job=k", "exported_job=j" },
	{ "labelkeep",
	    "[{'regex':'__name__|job','action':'labelkeep'}]",
	    "__name__=m,instance=i,job=k", "__name__=m,job=k" },
	{ "lowercase",
	    "[{'source_labels':['a'],'target_label':'b','action':'lowercase'}]",
	    "a=HeLLo \xc3\x80\xc3\x89", "a=HeLLo \xc3\x80\xc3\x89,b=hello "
	    "\xc3\xa0\xc3\xa9" },
	{ "uppercase",
	    "[{'source_labels':['a'],'target_label':'b','action':'uppercase'}]",
	    "a=v1.\xc3\xa9\xc4\xb1", "a=v1.\xc3\xa9\xc4\xb1,b=V1.\xc3\x89I" },
	{ "uppercase: invalid UTF-8 becomes U+FFFD, as in Go",
	    "[{'source_labels':['a'],'target_label':'b','action':'uppercase'}]",
	    "a=x\xffy", "a=x\xffy,b=X\xef\xbf\xbdY" },
	{ "lowercase: empty value removes the target",
	    "[{'source_labels':['nope'],'target_label':'b',"
	    "'action':'lowercase'}]",
	    "a=v,b=w", "a=v" },
	{ "chain: a later rule sees an earlier one's label",
	    "[{'source_labels':['__name__'],'regex':'(vllm|sglang):.*',"
	    "'target_label':'engine'},"
	    "{'source_labels':['engine'],'regex':'sglang','action':'drop'},"
	    "{'regex':'engine','action':'labeldrop'}]",
	    "__name__=vllm:x", "__name__=vllm:x" },
	{ "chain: and drops the other engine",
	    "[{'source_labels':['__name__'],'regex':'(vllm|sglang):.*',"
	    "'target_label':'engine'},"
	    "{'source_labels':['engine'],'regex':'sglang','action':'drop'}]",
	    "__name__=sglang:x", "DROP" },
	{ "no rules: unchanged",
	    "[]", "a=v", "a=v" },

	/* RE2 syntax where PCRE2's default differs. */
	{ "re2: \\s is not \\v",
	    "[{'source_labels':['a'],'regex':'x\\\\sy','action':'keep'}]",
	    "a=x\vy", "DROP" },
	{ "re2: \\s is a space",
	    "[{'source_labels':['a'],'regex':'x\\\\sy','action':'keep'}]",
	    "a=x y", "a=x y" },
	{ "re2: \\S in a class",
	    "[{'source_labels':['a'],'regex':'[\\\\S]+','action':'keep'}]",
	    "a=x\vy", "a=x\vy" },
	{ "re2: \\v is one character",
	    "[{'source_labels':['a'],'regex':'x\\\\vy','action':'keep'}]",
	    "a=x\ny", "DROP" },
	{ "re2: $ only at the very end",
	    "[{'source_labels':['a'],'regex':'abc','action':'keep'}]",
	    "a=abc\n", "DROP" },
	{ "re2: . does not match a newline",
	    "[{'source_labels':['a'],'regex':'.*','action':'keep'}]",
	    "a=x\ny", "DROP" },
	{ "re2: (?s). does",
	    "[{'source_labels':['a'],'regex':'(?s).*','action':'keep'}]",
	    "a=x\ny", "a=x\ny" },
	{ "re2: (?i)",
	    "[{'source_labels':['a'],'regex':'(?i)abc','action':'keep'}]",
	    "a=AbC", "a=AbC" },
	{ "re2: octal \\101 is A, not a backreference",
	    "[{'source_labels':['a'],'regex':'(x)\\\\101','action':'keep'}]",
	    "a=xA", "a=xA" },
	{ "re2: \\pL and \\p{Greek}",
	    "[{'source_labels':['a'],'regex':'\\\\pL+\\\\p{Greek}',"
	    "'action':'keep'}]",
	    "a=ab\xce\xb1", "a=ab\xce\xb1" },
	{ "re2: \\d is ASCII only",
	    "[{'source_labels':['a'],'regex':'\\\\d','action':'keep'}]",
	    "a=\xd9\xa3", "DROP" },
	{ "re2: \\Q...\\E",
	    "[{'source_labels':['a'],'regex':'\\\\Qa.b*\\\\E','action':'keep'}]",
	    "a=a.b*", "a=a.b*" },
	{ "re2: a lone { is a literal",
	    "[{'source_labels':['a'],'regex':'x{y','action':'keep'}]",
	    "a=x{y", "a=x{y" },
	{ "re2: lazy quantifier",
	    "[{'source_labels':['a'],'regex':'(.*?)(b*)','target_label':'t',"
	    "'replacement':'$2'}]",
	    "a=abb", "a=abb,t=bb" },
	{ "re2: a ] first in a class is literal, [ inside is literal",
	    "[{'source_labels':['a'],'regex':'[][]+','action':'keep'}]",
	    "a=[]", "a=[]" },
	{ "re2: [[:alpha:]]",
	    "[{'source_labels':['a'],'regex':'[[:alpha:]]+','action':'keep'}]",
	    "a=abc", "a=abc" },
	{ "re2: a)(b compiles inside the anchors, as in Prometheus",
	    "[{'source_labels':['a'],'regex':'a)(b','target_label':'t',"
	    "'replacement':'$1'}]",
	    "a=ab", "a=ab,t=b" },
};

struct ecase {
	const char	*name;
	const char	*config;
	const char	*want;		/* the error, path included */
};

static const struct ecase ecases[] = {
	{ "unbalanced (", "[{'source_labels':['a'],'regex':'(a'}]",
	    "$.r[0].regex: missing closing parenthesis at offset 2" },
	{ "missing ) at offset 4",
	    "[{'target_label':'a'},{'target_label':'b'},{'regex':'abc(d'}]",
	    "$.r[2].regex: missing closing parenthesis at offset 5" },
	{ "backreference", "[{'regex':'(a)\\\\1'}]",
	    "$.r[0].regex: invalid escape sequence (backreferences are not "
	    "supported) at offset 3" },
	{ "lookahead", "[{'regex':'a(?=b)'}]",
	    "$.r[0].regex: invalid or unsupported Perl syntax at offset 1" },
	{ "lookbehind", "[{'regex':'(?<=b)a'}]",
	    "$.r[0].regex: invalid or unsupported Perl syntax at offset 0" },
	{ "atomic group", "[{'regex':'(?>a)'}]",
	    "$.r[0].regex: invalid or unsupported Perl syntax at offset 0" },
	{ "possessive", "[{'regex':'a*+'}]",
	    "$.r[0].regex: invalid nested repetition operator at offset 2" },
	{ "nested repeat", "[{'regex':'a{2}{3}'}]",
	    "$.r[0].regex: invalid nested repetition operator at offset 4" },
	{ "repeat count", "[{'regex':'a{1001}'}]",
	    "$.r[0].regex: invalid repeat count at offset 1" },
	{ "\\Z", "[{'regex':'a\\\\Z'}]",
	    "$.r[0].regex: invalid escape sequence at offset 1" },
	{ "(*VERB)", "[{'regex':'(*FAIL)'}]",
	    "$.r[0].regex: missing argument to repetition operator at "
	    "offset 1" },
	{ "bad class", "[{'regex':'[z-a]'}]",
	    "$.r[0].regex: range out of order in character class at offset 3" },
	{ "unknown action", "[{'action':'rename'}]",
	    "$.r[0].action: unknown relabel action \"rename\"" },
	{ "empty action", "[{'action':''}]",
	    "$.r[0].action: relabel action cannot be empty" },
	{ "replace without target_label", "[{'source_labels':['a']}]",
	    "$.r[0]: relabel configuration for replace action requires "
	    "'target_label' value" },
	{ "invalid target_label", "[{'target_label':'a-b'}]",
	    "$.r[0].target_label: \"a-b\" is invalid 'target_label' for "
	    "replace action" },
	{ "invalid target_label template", "[{'target_label':'a$'}]",
	    "$.r[0].target_label: \"a$\" is invalid 'target_label' for "
	    "replace action" },
	{ "hashmod without modulus",
	    "[{'action':'hashmod','target_label':'s'}]",
	    "$.r[0].modulus: relabel configuration for hashmod requires "
	    "non-zero modulus" },
	{ "hashmod with a template target",
	    "[{'action':'hashmod','target_label':'$1','modulus':2}]",
	    "$.r[0].target_label: \"$1\" is invalid 'target_label' for "
	    "hashmod action" },
	{ "labeldrop with source_labels",
	    "[{'action':'labeldrop','source_labels':['a']}]",
	    "$.r[0]: labeldrop action requires only 'regex', and no other "
	    "fields" },
	{ "keepequal with a regex",
	    "[{'action':'keepequal','target_label':'b','regex':'x'}]",
	    "$.r[0]: keepequal action requires only 'source_labels' and "
	    "`target_label`, and no other fields" },
	{ "lowercase with a replacement",
	    "[{'action':'lowercase','target_label':'b','replacement':'x'}]",
	    "$.r[0].replacement: 'replacement' can not be set for lowercase "
	    "action" },
	{ "labelmap with an invalid replacement",
	    "[{'action':'labelmap','replacement':'a-$1'}]",
	    "$.r[0].replacement: \"a-$1\" is invalid 'replacement' for "
	    "labelmap action" },
	{ "bad source label", "[{'source_labels':['ok','1a']}]",
	    "$.r[0].source_labels[1]: \"1a\" is not a valid label name" },
	{ "unknown key", "[{'target_label':'x','regexp':'a'}]",
	    "$.r[0]: unknown key \"regexp\"" },
	{ "negative modulus",
	    "[{'action':'hashmod','target_label':'s','modulus':-1}]",
	    "$.r[0].modulus: want a whole number" },
	{ "a string where a list goes", "[{'source_labels':'a'}]",
	    "$.r[0].source_labels: want a list of label names" },
	{ "not a list", "{'action':'keep'}",
	    "$.r: want a list of relabel configs" },
	{ "not an object", "[3]",
	    "$.r[0]: want a relabel config object" },
};

struct eqcase {
	const char	*name;
	const char	*a;		/* JSON, ' for " */
	const char	*b;
	bool		 want;		/* relabel_equal(a, b) */
};

#define EQ_RULE	"{'source_labels':['a','b'],'separator':'-'," \
	    "'regex':'(.*)','target_label':'t','replacement':'x$1'," \
	    "'action':'replace'}"
#define EQ_HASH	"{'source_labels':['a'],'target_label':'s'," \
	    "'modulus':4,'action':'hashmod'}"

static const struct eqcase eqcases[] = {
	{ "the same JSON parsed twice", "[" EQ_RULE "," EQ_HASH "]",
	    "[" EQ_RULE "," EQ_HASH "]", true },
	{ "no rules", "[]", "[]", true },
	{ "defaults omitted or spelled out",
	    "[{'source_labels':['a'],'target_label':'b'}]",
	    "[{'source_labels':['a'],'separator':';','regex':'(.*)',"
	    "'target_label':'b','replacement':'$1','action':'replace'}]",
	    true },
	{ "keys in another order",
	    "[{'target_label':'b','source_labels':['a']}]",
	    "[{'source_labels':['a'],'target_label':'b'}]", true },
	{ "the action's case",
	    "[{'regex':'go_.*','action':'DROP'}]",
	    "[{'regex':'go_.*','action':'drop'}]", true },
	{ "another action",
	    "[{'regex':'go_.*','action':'keep'}]",
	    "[{'regex':'go_.*','action':'drop'}]", false },
	{ "another source label",
	    "[{'source_labels':['a'],'target_label':'b'}]",
	    "[{'source_labels':['c'],'target_label':'b'}]", false },
	{ "one more source label",
	    "[{'source_labels':['a'],'target_label':'b'}]",
	    "[{'source_labels':['a','c'],'target_label':'b'}]", false },
	{ "source labels in another order",
	    "[{'source_labels':['a','c'],'target_label':'b'}]",
	    "[{'source_labels':['c','a'],'target_label':'b'}]", false },
	{ "another separator",
	    "[{'source_labels':['a'],'target_label':'b','separator':','}]",
	    "[{'source_labels':['a'],'target_label':'b'}]", false },
	{ "another regex",
	    "[{'regex':'go_.*','action':'drop'}]",
	    "[{'regex':'go_.+','action':'drop'}]", false },
	{ "a regex written otherwise",
	    "[{'regex':'a','action':'drop'}]",
	    "[{'regex':'(?:a)','action':'drop'}]", false },
	{ "another target label",
	    "[{'source_labels':['a'],'target_label':'b'}]",
	    "[{'source_labels':['a'],'target_label':'c'}]", false },
	{ "another replacement",
	    "[{'source_labels':['a'],'target_label':'b','replacement':'${1}'}]",
	    "[{'source_labels':['a'],'target_label':'b'}]", false },
	{ "another modulus", "[" EQ_HASH "]",
	    "[{'source_labels':['a'],'target_label':'s','modulus':5,"
	    "'action':'hashmod'}]", false },
	{ "the rules in another order", "[" EQ_RULE "," EQ_HASH "]",
	    "[" EQ_HASH "," EQ_RULE "]", false },
	{ "one rule more", "[" EQ_RULE "]", "[" EQ_RULE "," EQ_HASH "]",
	    false },
	{ "one rule against none", "[" EQ_RULE "]", "[]", false },
};

/* Replace ' with " in a copy. */
static char *
q(const char *s)
{
	char	*d = strdup(s), *p;

	for (p = d; *p != '\0'; p++)
		if (*p == '\'')
			*p = '"';
	return (d);
}

/* Render a set as name=value,... */
static void
render(const struct relabel_lset *ls, char *out, size_t len)
{
	size_t	i, n = 0;

	out[0] = '\0';
	for (i = 0; i < ls->n && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%.*s=%.*s",
		    i > 0 ? "," : "", (int)ls->v[i].name_len, ls->v[i].name,
		    (int)ls->v[i].value_len, ls->v[i].value);
}

/* Load "name=value,..." (kept alive in buf) into ls. */
static void
load(struct relabel_lset *ls, char *buf)
{
	char	*tok, *save = NULL, *eq;

	relabel_lset_reset(ls);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		eq = strchr(tok, '=');
		relabel_lset_add(ls, tok, (size_t)(eq - tok), eq + 1,
		    strlen(eq + 1));
	}
}

/* Run the action table, each case twice on one reused set. */
static void
test_cases(void)
{
	struct relabel_lset	 ls;
	struct relabel		*rl;
	size_t			 i;
	char			*cfg, *in, got[1024], err[512];
	int			 round;
	bool			 keep;

	relabel_lset_init(&ls);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cfg = q(cases[i].config);
		rl = relabel_parse_text(cfg, "$.r", err, sizeof err);
		if (!ok(rl != NULL, "%s: compiles", cases[i].name))
			printf("# %s\n", err);
		free(cfg);
		if (rl == NULL)
			continue;
		for (round = 0; round < 2; round++) {
			in = strdup(cases[i].in);
			load(&ls, in);
			keep = relabel_process(rl, &ls);
			if (keep)
				render(&ls, got, sizeof got);
			else
				snprintf(got, sizeof got, "DROP");
			is_str(got, cases[i].want, "%s (round %d)",
			    cases[i].name, round + 1);
			free(in);
		}
		relabel_free(rl);
	}
	relabel_lset_free(&ls);
}

/* Every bad config is refused with its path and reason. */
static void
test_errors(void)
{
	struct relabel	*rl;
	size_t		 i;
	char		*cfg, err[512];

	for (i = 0; i < sizeof ecases / sizeof ecases[0]; i++) {
		cfg = q(ecases[i].config);
		rl = relabel_parse_text(cfg, "$.r", err, sizeof err);
		ok(rl == NULL, "%s: refused", ecases[i].name);
		if (rl == NULL)
			is_str(err, ecases[i].want, "%s: message",
			    ecases[i].name);
		relabel_free(rl);
		free(cfg);
	}
}

/* Lists are equal by their rules' definitions, each way round. */
static void
test_equal(void)
{
	const struct eqcase	*c;
	struct relabel		*a, *b;
	size_t			 i;
	char			*ja, *jb, err[512];

	for (i = 0; i < sizeof eqcases / sizeof eqcases[0]; i++) {
		c = &eqcases[i];
		ja = q(c->a);
		jb = q(c->b);
		a = relabel_parse_text(ja, "$.a", err, sizeof err);
		if (a == NULL)
			printf("# %s: %s\n", c->name, err);
		b = relabel_parse_text(jb, "$.b", err, sizeof err);
		if (b == NULL)
			printf("# %s: %s\n", c->name, err);
		if (ok(a != NULL && b != NULL, "equal: %s: both compile",
		    c->name)) {
			is_int(relabel_equal(a, b), c->want, "equal: %s",
			    c->name);
			is_int(relabel_equal(b, a), c->want,
			    "equal: %s (swapped)", c->name);
			ok(relabel_equal(a, a), "equal: %s: a list equals "
			    "itself", c->name);
		}
		relabel_free(a);
		relabel_free(b);
		free(ja);
		free(jb);
	}
	a = relabel_parse_text("[]", "$", err, sizeof err);
	ok(relabel_equal(NULL, a) && relabel_equal(a, NULL) &&
	    relabel_equal(NULL, NULL), "equal: no list is an empty list");
	relabel_free(a);
	a = relabel_parse_text("[{\"regex\":\"a\",\"action\":\"drop\"}]",
	    "$", err, sizeof err);
	ok(!relabel_equal(NULL, a) && !relabel_equal(a, NULL),
	    "equal: no list is not a list of one rule");
	relabel_free(a);
}

/* References: the last free frees (ASan would see a double free). */
static void
test_refs(void)
{
	struct relabel	*rl, *r2;
	char		 err[256];

	rl = relabel_parse_text("[{\"regex\":\"a\",\"action\":\"drop\"}]",
	    "$", err, sizeof err);
	r2 = relabel_ref(rl);
	is_int((long long)relabel_len(r2), 1, "refs: one rule");
	relabel_free(rl);
	is_int((long long)relabel_len(r2), 1, "refs: alive after one free");
	relabel_free(r2);
	relabel_free(NULL);
	ok(relabel_process(NULL, NULL), "no rules keeps everything");
}

/* A pattern that backtracks forever in PCRE2 is cut off, not hung. */
static void
test_backtracking(void)
{
	struct relabel_lset	 ls;
	struct relabel		*rl;
	char			 err[256], in[64];

	rl = relabel_parse_text("[{\"source_labels\":[\"a\"],"
	    "\"regex\":\"(a*)*b\",\"action\":\"drop\"}]", "$", err,
	    sizeof err);
	relabel_lset_init(&ls);
	memset(in, 'a', 40);
	in[40] = '\0';
	relabel_lset_add(&ls, "a", 1, in, 40);
	ok(relabel_process(rl, &ls), "backtracking: no match keeps");
	ok(relabel_match_errors(rl) <= 1, "backtracking: at most one "
	    "abandoned match (%llu)",
	    (unsigned long long)relabel_match_errors(rl));
	relabel_lset_free(&ls);
	relabel_free(rl);
}

int
main(void)
{
	test_cases();
	test_errors();
	test_refs();
	test_equal();
	test_backtracking();
	return (tap_done());
}
