/*
 * test_tspec: the target-spec parser. Good file_sd documents become the
 * expected scrape URLs, jobs, labels and settings; bad ones are refused with
 * the exact message, naming the JSON path of the first problem. API bodies
 * go through the same entry parser with its stricter rules. tspec is pure,
 * so this links the core library alone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tspec.h"
#include "xmalloc.h"

#include "tap.h"

/* A good document and what it must turn into. */
struct good_case {
	const char	*name;
	const char	*doc;
	size_t		 nspecs;
	const char	*urls;		/* space-separated, in order */
	const char	*job;		/* of the first spec; NULL: none */
	const char	*labels;	/* of the first spec: "a=1,b=2" */
	int64_t		 interval_ms;	/* of the first spec */
	int64_t		 timeout_ms;
};

static const struct good_case good[] = {
	{ "empty list", "[]", 0, "", NULL, "", 0, 0 },
	{ "empty list with spaces", " \n[ ]\n\n", 0, "", NULL, "", 0, 0 },
	{ "Ray's discovery file",
	  "[{\"labels\": {\"job\": \"ray\"}, \"targets\": "
	  "[\"10.0.0.5:44217\", \"10.0.0.6:44217\", \"10.0.0.6:8080\"]}]",
	  3, "http://10.0.0.5:44217/metrics http://10.0.0.6:44217/metrics "
	  "http://10.0.0.6:8080/metrics", "ray", "", 0, 0 },
	{ "labels kept, sorted as given",
	  "[{\"targets\":[\"h:1\"],\"labels\":{\"model_name\":\"Qwen/Qwen3\","
	  "\"rollout\":\"r1\"}}]",
	  1, "http://h:1/metrics", NULL, "model_name=Qwen/Qwen3,rollout=r1",
	  0, 0 },
	{ "__metrics_path__ and __scheme__ set the URL",
	  "[{\"targets\":[\"h.example.com:8443\"],\"labels\":{"
	  "\"__metrics_path__\":\"/vllm/metrics\",\"__scheme__\":\"https\"}}]",
	  1, "https://h.example.com:8443/vllm/metrics", NULL, "", 0, 0 },
	{ "other __ labels are dropped",
	  "[{\"targets\":[\"h:1\"],\"labels\":{\"__meta_ray_node\":\"x\","
	  "\"__param_a\":\"b\",\"zone\":\"a\"}}]",
	  1, "http://h:1/metrics", NULL, "zone=a", 0, 0 },
	{ "__scrape_interval__ and __scrape_timeout__",
	  "[{\"targets\":[\"h:1\"],\"labels\":{\"__scrape_interval__\":\"5s\","
	  "\"__scrape_timeout__\":\"2s\"}}]",
	  1, "http://h:1/metrics", NULL, "", 5000, 2000 },
	{ "IPv6 and host names",
	  "[{\"targets\":[\"[::1]:8000\",\"[fe80::1]:1\",\"node-3.ray:65535\","
	  "\"127.0.0.1:1\"]}]",
	  4, "http://[::1]:8000/metrics http://[fe80::1]:1/metrics "
	  "http://node-3.ray:65535/metrics http://127.0.0.1:1/metrics",
	  NULL, "", 0, 0 },
	{ "entries without targets or labels; extra keys ignored",
	  "[{},{\"labels\":null},{\"targets\":[\"a:1\"],\"labels\":{},"
	  "\"comment\":\"x\"}]",
	  1, "http://a:1/metrics", NULL, "", 0, 0 },
	{ "a target listed twice keeps the last entry's labels",
	  "[{\"targets\":[\"a:1\",\"b:2\"],\"labels\":{\"v\":\"1\"}},"
	  "{\"targets\":[\"a:1\"],\"labels\":{\"v\":\"2\"}}]",
	  2, "http://b:2/metrics http://a:1/metrics", NULL, "v=1", 0, 0 },
	{ "UTF-8 label values",
	  "[{\"targets\":[\"a:1\"],\"labels\":{\"who\":\"\\u00e9t\\u00e9 "
	  "\xe2\x9c\x93\"}}]",
	  1, "http://a:1/metrics", NULL, "who=\xc3\xa9t\xc3\xa9 \xe2\x9c\x93",
	  0, 0 },
};

/* A bad document and the exact message. */
struct bad_case {
	const char	*name;
	const char	*doc;
	const char	*err;
};

static const struct bad_case bad[] = {
	{ "empty document", "", "malformed JSON: empty document" },
	{ "truncated", "[{\"targets\":", "malformed JSON at line 1, column 12 "
	  "(offset 11)" },
	{ "syntax error on line 2", "[\n {\"targets\" [] }]",
	  "malformed JSON at line 2, column 13 (offset 14)" },
	{ "trailing garbage", "[] x", "malformed JSON at line 1, column 4 "
	  "(offset 3)" },
	{ "not an array", "{\"targets\":[]}",
	  "$: want an array of {\"targets\":[...],\"labels\":{...}} entries" },
	{ "entry not an object", "[[]]",
	  "$[0]: want an object with \"targets\" and \"labels\"" },
	{ "targets not an array", "[{\"targets\":\"a:1\"}]",
	  "$[0].targets: want an array of \"host:port\" strings" },
	{ "target not a string", "[{\"targets\":[\"a:1\",7]}]",
	  "$[0].targets[1]: want a \"host:port\" string" },
	{ "missing port in the third entry",
	  "[{\"targets\":[]},{},{\"targets\":[\"10.0.0.5\"]}]",
	  "$[2].targets[0]: invalid target \"10.0.0.5\": missing port "
	  "(want host:port)" },
	{ "empty port", "[{\"targets\":[\"a:\"]}]",
	  "$[0].targets[0]: invalid target \"a:\": missing port "
	  "(want host:port)" },
	{ "port 0", "[{\"targets\":[\"a:0\"]}]",
	  "$[0].targets[0]: invalid target \"a:0\": port must be a number "
	  "from 1 to 65535" },
	{ "port 65536", "[{\"targets\":[\"a:65536\"]}]",
	  "$[0].targets[0]: invalid target \"a:65536\": port must be a number "
	  "from 1 to 65535" },
	{ "port not a number", "[{\"targets\":[\"a:8x\"]}]",
	  "$[0].targets[0]: invalid target \"a:8x\": port must be a number "
	  "from 1 to 65535" },
	{ "a URL", "[{\"targets\":[\"http://a:1/metrics\"]}]",
	  "$[0].targets[0]: invalid target \"http://a:1/metrics\": want "
	  "host:port, not a URL (set scheme and metrics_path separately)" },
	{ "bare IPv6", "[{\"targets\":[\"::1:8000\"]}]",
	  "$[0].targets[0]: invalid target \"::1:8000\": an IPv6 address "
	  "needs brackets, as in [::1]:8000" },
	{ "bad IPv6", "[{\"targets\":[\"[::g]:1\"]}]",
	  "$[0].targets[0]: invalid target \"[::g]:1\": bad IPv6 address" },
	{ "IPv6 without port", "[{\"targets\":[\"[::1]\"]}]",
	  "$[0].targets[0]: invalid target \"[::1]\": missing port "
	  "(want host:port)" },
	{ "bad IPv4", "[{\"targets\":[\"10.0.0.256:1\"]}]",
	  "$[0].targets[0]: invalid target \"10.0.0.256:1\": bad IPv4 "
	  "address" },
	{ "bad host name", "[{\"targets\":[\"a b:1\"]}]",
	  "$[0].targets[0]: invalid target \"a b:1\": bad host name" },
	{ "empty host", "[{\"targets\":[\":1\"]}]",
	  "$[0].targets[0]: invalid target \":1\": empty host" },
	{ "control characters are escaped", "[{\"targets\":[\"a\\n:1\"]}]",
	  "$[0].targets[0]: invalid target \"a\\x0a:1\": bad host name" },
	{ "labels not an object", "[{\"targets\":[],\"labels\":[]}]",
	  "$[0].labels: want an object of strings" },
	{ "label value not a string",
	  "[{\"targets\":[\"a:1\"],\"labels\":{\"x\":1}}]",
	  "$[0].labels.x: value must be a string" },
	{ "invalid label name",
	  "[{\"targets\":[\"a:1\"]},{\"targets\":[\"a:1\"],"
	  "\"labels\":{\"a-b\":\"x\"}}]",
	  "$[1].labels[\"a-b\"]: invalid label name (want "
	  "[a-zA-Z_][a-zA-Z0-9_]*)" },
	{ "label name starting with a digit",
	  "[{\"targets\":[\"a:1\"],\"labels\":{\"1a\":\"x\"}}]",
	  "$[0].labels[\"1a\"]: invalid label name (want "
	  "[a-zA-Z_][a-zA-Z0-9_]*)" },
	{ "label value not UTF-8",
	  "[{\"targets\":[\"a:1\"],\"labels\":{\"x\":\"\xff\"}}]",
	  "$[0].labels.x: value is not valid UTF-8" },
	{ "duplicate label", "[{\"targets\":[\"a:1\"],\"labels\":{\"x\":\"1\","
	  "\"x\":\"2\"}}]", "$[0].labels.x: duplicate label" },
	{ "duplicate key", "[{\"targets\":[],\"targets\":[]}]",
	  "$[0]: duplicate key \"targets\"" },
	{ "bad __scheme__",
	  "[{\"targets\":[\"a:1\"],\"labels\":{\"__scheme__\":\"ftp\"}}]",
	  "$[0].labels.__scheme__: scheme must be \"http\" or \"https\", not "
	  "\"ftp\"" },
	{ "bad __metrics_path__",
	  "[{\"targets\":[\"a:1\"],\"labels\":{\"__metrics_path__\":\"m\"}}]",
	  "$[0].labels.__metrics_path__: invalid metrics path \"m\" (want "
	  "/path, printable, no ? or #)" },
	{ "__scrape_interval__ under the minimum",
	  "[{\"targets\":[\"a:1\"],\"labels\":{\"__scrape_interval__\":"
	  "\"10ms\"}}]",
	  "$[0].labels.__scrape_interval__: interval \"10ms\" is below the "
	  "minimum of 100ms" },
	{ "bad __scrape_interval__",
	  "[{\"targets\":[\"a:1\"],\"labels\":{\"__scrape_interval__\":"
	  "\"5x\"}}]",
	  "$[0].labels.__scrape_interval__: invalid duration \"5x\" (use e.g. "
	  "500ms, 5s, 1m)" },
	{ "__scrape_timeout__ longer than __scrape_interval__",
	  "[{\"targets\":[\"a:1\"],\"labels\":{\"__scrape_interval__\":\"5s\","
	  "\"__scrape_timeout__\":\"10s\"}}]",
	  "$[0]: timeout 10s is longer than the interval 5s" },
	{ "empty job", "[{\"targets\":[\"a:1\"],\"labels\":{\"job\":\"\"}}]",
	  "$[0].labels.job: job must be non-empty UTF-8 of at most 4096 "
	  "bytes" },
};

/* An API body and the message (NULL: accepted, with nspecs targets). */
struct api_case {
	const char	*name;
	const char	*body;
	const char	*err;
	size_t		 nspecs;
	const char	*url;		/* of the first spec */
};

static const struct api_case api[] = {
	{ "full body", "{\"targets\":[\"10.0.0.5:34567\"],\"labels\":"
	  "{\"model_name\":\"m\"},\"interval\":\"5s\",\"timeout\":\"2s\","
	  "\"metrics_path\":\"/m\",\"scheme\":\"https\",\"job\":\"verl\"}",
	  NULL, 1, "https://10.0.0.5:34567/m" },
	{ "empty targets", "{\"targets\":[]}", NULL, 0, NULL },
	{ "job key and job label agree",
	  "{\"targets\":[\"a:1\"],\"job\":\"j\",\"labels\":{\"job\":\"j\"}}",
	  NULL, 1, "http://a:1/metrics" },
	{ "missing targets", "{\"labels\":{}}",
	  "$: missing \"targets\" (an empty list is fine)", 0, NULL },
	{ "unknown key", "{\"targets\":[],\"intervall\":\"5s\"}",
	  "$: unknown key \"intervall\" (want targets, labels, interval, "
	  "timeout, metrics_path, scheme, job or a scrape_config key: "
	  "relabel_configs, metric_relabel_configs, the limits, honor_labels, "
	  "honor_timestamps, params, tls_config, basic_auth, authorization, "
	  "bearer_token_file)", 0, NULL },
	{ "the scrape contract keys", "{\"targets\":[\"a:1\"],"
	  "\"scheme\":\"https\",\"metric_relabel_configs\":[{"
	  "\"source_labels\":[\"__name__\"],\"regex\":\"go_.*\","
	  "\"action\":\"drop\"}],\"relabel_configs\":[{\"target_label\":"
	  "\"zone\",\"replacement\":\"z\"}],\"sample_limit\":10,"
	  "\"label_limit\":5,\"label_name_length_limit\":50,"
	  "\"label_value_length_limit\":60,\"body_size_limit\":\"1MiB\","
	  "\"honor_labels\":true,\"honor_timestamps\":false,"
	  "\"params\":{\"q\":[\"a b\"]},\"tls_config\":{\"ca_file\":"
	  "\"/ca.pem\",\"server_name\":\"s\",\"insecure_skip_verify\":"
	  "false}}", NULL, 1, "https://a:1/metrics?q=a%20b" },
	{ "inline basic_auth password",
	  "{\"targets\":[],\"basic_auth\":{\"username\":\"u\","
	  "\"password\":\"p\"}}",
	  "$.basic_auth.password: secrets are given by file reference in API "
	  "groups: use password_file", 0, NULL },
	{ "inline authorization credentials",
	  "{\"targets\":[],\"authorization\":{\"credentials\":\"t\"}}",
	  "$.authorization.credentials: secrets are given by file reference "
	  "in API groups: use credentials_file", 0, NULL },
	{ "inline bearer_token", "{\"targets\":[],\"bearer_token\":\"t\"}",
	  "$.bearer_token: secrets are given by file reference in API groups: "
	  "use bearer_token_file", 0, NULL },
	{ "password_file that cannot be read",
	  "{\"targets\":[],\"basic_auth\":{\"username\":\"u\","
	  "\"password_file\":\"/nonexistent/pw\"}}",
	  "$.basic_auth.password_file: /nonexistent/pw: No such file or "
	  "directory", 0, NULL },
	{ "invalid regex", "{\"targets\":[],\"metric_relabel_configs\":[{"
	  "\"regex\":\"(a\",\"action\":\"drop\"}]}",
	  "$.metric_relabel_configs[0].regex: missing closing parenthesis at "
	  "offset 2", 0, NULL },
	{ "unknown action", "{\"targets\":[],\"relabel_configs\":[{"
	  "\"action\":\"rename\"}]}",
	  "$.relabel_configs[0].action: unknown relabel action \"rename\"", 0,
	  NULL },
	{ "replace without target_label",
	  "{\"targets\":[],\"metric_relabel_configs\":[{\"action\":"
	  "\"replace\"}]}",
	  "$.metric_relabel_configs[0]: relabel configuration for replace "
	  "action requires 'target_label' value", 0, NULL },
	{ "bad limit", "{\"targets\":[],\"sample_limit\":-1}",
	  "$.sample_limit: want a whole number from 0 to 1125899906842624", 0,
	  NULL },
	{ "contract key given twice",
	  "{\"targets\":[],\"sample_limit\":1,\"sample_limit\":2}",
	  "$: duplicate key \"sample_limit\"", 0, NULL },
	{ "setting not a string", "{\"targets\":[],\"interval\":5}",
	  "$.interval: want a string", 0, NULL },
	{ "bad interval", "{\"targets\":[],\"interval\":\"0s\"}",
	  "$.interval: invalid duration \"0s\" (use e.g. 500ms, 5s, 1m)", 0,
	  NULL },
	{ "interval under the minimum", "{\"targets\":[],\"interval\":\"1ms\"}",
	  "$.interval: interval \"1ms\" is below the minimum of 100ms", 0,
	  NULL },
	{ "timeout longer than interval",
	  "{\"targets\":[],\"interval\":\"1s\",\"timeout\":\"2s\"}",
	  "$: timeout 2s is longer than the interval 1s", 0, NULL },
	{ "bad scheme", "{\"targets\":[],\"scheme\":\"HTTP\"}",
	  "$.scheme: scheme must be \"http\" or \"https\", not \"HTTP\"", 0,
	  NULL },
	{ "__ labels are refused", "{\"targets\":[],\"labels\":"
	  "{\"__metrics_path__\":\"/x\"}}",
	  "$.labels.__metrics_path__: label names starting with \"__\" are "
	  "reserved", 0, NULL },
	{ "job key and job label disagree",
	  "{\"targets\":[],\"job\":\"a\",\"labels\":{\"job\":\"b\"}}",
	  "$.labels.job: job \"b\" conflicts with job \"a\"", 0, NULL },
};

/* Join a spec's labels as "a=1,b=2". */
static void
join_labels(const struct target_spec *sp, char *dst, size_t len)
{
	size_t	i, o = 0;

	dst[0] = '\0';
	for (i = 0; i < sp->nlabels && o < len; i++)
		o += (size_t)snprintf(dst + o, len - o, "%s%s=%s",
		    i == 0 ? "" : ",", sp->labels[i].name,
		    sp->labels[i].value);
}

/* Join every spec's URL, space-separated. */
static void
join_urls(const struct tspec_group *g, char *dst, size_t len)
{
	size_t	i, o = 0;

	dst[0] = '\0';
	for (i = 0; i < g->nspecs && o < len; i++)
		o += (size_t)snprintf(dst + o, len - o, "%s%s",
		    i == 0 ? "" : " ", g->specs[i].url);
}

/* Run the good documents. */
static void
test_good(void)
{
	struct tspec_group	 g;
	const struct good_case	*c;
	char			 err[512], got[1024];
	size_t			 i;
	bool			 ok_;

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		c = &good[i];
		err[0] = '\0';
		ok_ = tspec_parse_file_sd(c->doc, strlen(c->doc), &g, err,
		    sizeof err);
		if (!ok(ok_, "good: %s: parses", c->name)) {
			printf("# error: %s\n", err);
			continue;
		}
		is_int((long long)g.nspecs, (long long)c->nspecs,
		    "good: %s: target count", c->name);
		join_urls(&g, got, sizeof got);
		is_str(got, c->urls, "good: %s: URLs", c->name);
		if (g.nspecs > 0) {
			is_str(g.specs[0].job, c->job, "good: %s: job",
			    c->name);
			join_labels(&g.specs[0], got, sizeof got);
			is_str(got, c->labels, "good: %s: labels", c->name);
			is_int(g.specs[0].interval_ms, c->interval_ms,
			    "good: %s: interval", c->name);
			is_int(g.specs[0].timeout_ms, c->timeout_ms,
			    "good: %s: timeout", c->name);
		}
		tspec_group_free(&g);
	}
}

/* Run the bad documents. */
static void
test_bad(void)
{
	struct tspec_group	 g;
	const struct bad_case	*c;
	char			 err[512];
	size_t			 i;
	bool			 ok_;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		c = &bad[i];
		err[0] = '\0';
		ok_ = tspec_parse_file_sd(c->doc, strlen(c->doc), &g, err,
		    sizeof err);
		ok(!ok_, "bad: %s: refused", c->name);
		is_str(err, c->err, "bad: %s: message", c->name);
		is_int((long long)g.nspecs, 0, "bad: %s: nothing kept",
		    c->name);
	}
}

/* Build a document with n labels or n targets and parse it. */
static void
test_limits(void)
{
	struct tspec_group	 g;
	struct buf		 b;
	char			 err[512], *v;
	size_t			 i;
	cJSON			*doc;

	buf_init(&b);
	buf_printf(&b, "[{\"targets\":[\"a:1\"],\"labels\":{");
	for (i = 0; i < 65; i++)
		buf_printf(&b, "%s\"l%zu\":\"v\"", i == 0 ? "" : ",", i);
	buf_printf(&b, "}}]");
	ok(!tspec_parse_file_sd((char *)b.data, b.len, &g, err, sizeof err),
	    "limits: 65 labels refused");
	is_str(err, "$[0].labels: 65 labels, at most 64",
	    "limits: 65 labels message");

	v = xmalloc(4098);
	memset(v, 'x', 4097);
	v[4097] = '\0';
	buf_reset(&b);
	buf_printf(&b, "[{\"targets\":[\"a:1\"],\"labels\":{\"x\":\"%s\"}}]",
	    v);
	ok(!tspec_parse_file_sd((char *)b.data, b.len, &g, err, sizeof err),
	    "limits: 4097-byte value refused");
	is_str(err, "$[0].labels.x: value is 4097 bytes, at most 4096",
	    "limits: 4097-byte value message");
	v[4096] = '\0';
	buf_reset(&b);
	buf_printf(&b, "[{\"targets\":[\"a:1\"],\"labels\":{\"x\":\"%s\"}}]",
	    v);
	ok(tspec_parse_file_sd((char *)b.data, b.len, &g, err, sizeof err),
	    "limits: 4096-byte value accepted");
	tspec_group_free(&g);
	free(v);

	/* 10001 targets: fine in a file, too many for one API request. */
	buf_reset(&b);
	buf_printf(&b, "{\"targets\":[");
	for (i = 0; i < 10001; i++)
		buf_printf(&b, "%s\"10.0.%zu.%zu:8000\"", i == 0 ? "" : ",",
		    i / 256, i % 256);
	buf_printf(&b, "]}");
	doc = cJSON_ParseWithLength((char *)b.data, b.len);
	tspec_group_init(&g);
	ok(!tspec_parse_entry(doc, "$", TSPEC_ENTRY_API, &g, err,
	    sizeof err), "limits: 10001 targets in one request refused");
	is_str(err, "$.targets: 10001 targets, at most 10000 per request",
	    "limits: 10001 targets message");
	tspec_group_free(&g);
	ok(tspec_parse_entry(doc, "$[0]", TSPEC_ENTRY_FILE, &g, err,
	    sizeof err), "limits: 10001 targets in a file entry accepted");
	is_int((long long)g.nspecs, 10001, "limits: 10001 specs");
	tspec_group_free(&g);
	cJSON_Delete(doc);

	/* A file may hold 100000 targets, over all its entries. */
	buf_reset(&b);
	buf_printf(&b, "[{\"targets\":[");
	for (i = 0; i < 100000; i++)
		buf_printf(&b, "%s\"h%zu:1\"", i == 0 ? "" : ",", i);
	buf_printf(&b, "]},{\"targets\":[\"x:1\"]}]");
	ok(!tspec_parse_file_sd((char *)b.data, b.len, &g, err, sizeof err),
	    "limits: 100001 targets in a file refused");
	is_str(err, "$[1].targets: more than 100000 targets in the file",
	    "limits: 100001 targets message");
	buf_reset(&b);
	buf_printf(&b, "[{\"targets\":[");
	for (i = 0; i < 100000; i++)
		buf_printf(&b, "%s\"h%zu:1\"", i == 0 ? "" : ",", i);
	buf_printf(&b, "]}]");
	ok(tspec_parse_file_sd((char *)b.data, b.len, &g, err, sizeof err),
	    "limits: 100000 targets in a file accepted");
	is_int((long long)g.nspecs, 100000, "limits: 100000 specs");
	tspec_group_free(&g);
	buf_free(&b);
}

/* Run API bodies through the strict entry parser. */
static void
test_api(void)
{
	struct tspec_group	 g;
	const struct api_case	*c;
	cJSON			*doc;
	char			 err[512];
	size_t			 i;
	bool			 ok_;

	for (i = 0; i < sizeof api / sizeof api[0]; i++) {
		c = &api[i];
		doc = cJSON_Parse(c->body);
		if (!ok(doc != NULL, "api: %s: test body is JSON", c->name))
			continue;
		tspec_group_init(&g);
		err[0] = '\0';
		ok_ = tspec_parse_entry(doc, "$", TSPEC_ENTRY_API, &g, err,
		    sizeof err);
		if (c->err == NULL) {
			if (ok(ok_, "api: %s: accepted", c->name)) {
				is_int((long long)g.nspecs,
				    (long long)c->nspecs, "api: %s: targets",
				    c->name);
				if (c->url != NULL && g.nspecs > 0)
					is_str(g.specs[0].url, c->url,
					    "api: %s: URL", c->name);
			} else
				printf("# error: %s\n", err);
		} else {
			ok(!ok_, "api: %s: refused", c->name);
			is_str(err, c->err, "api: %s: message", c->name);
		}
		tspec_group_free(&g);
		cJSON_Delete(doc);
	}
}

/* Check the UTF-8 validator on edge cases. */
static void
test_utf8(void)
{
	static const struct {
		const char	*s;
		bool		 valid;
	} u[] = {
		{ "", true },
		{ "plain", true },
		{ "\xc3\xa9", true },
		{ "\xf0\x9f\x98\x80", true },
		{ "\xc3", false },		/* truncated */
		{ "\xc0\xaf", false },		/* overlong */
		{ "\xed\xa0\x80", false },	/* surrogate */
		{ "\xf4\x90\x80\x80", false },	/* past U+10FFFF */
		{ "\x80", false },		/* lone continuation */
	};
	size_t	i;

	for (i = 0; i < sizeof u / sizeof u[0]; i++)
		is_int(tspec_utf8_valid(u[i].s, strlen(u[i].s)), u[i].valid,
		    "utf8: case %zu", i);
}

int
main(void)
{
	test_good();
	test_bad();
	test_limits();
	test_api();
	test_utf8();
	return (tap_done());
}
