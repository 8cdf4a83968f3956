/*
 * Unit tests for config: durations both ways, target addresses, a full file
 * with every section, a table of bad files whose first error must name
 * the JSON path (or line and column) of what is wrong, and a table of API
 * groups' TLS and auth compared by config_http_equal (the same settings
 * parsed twice: equal; each field different: not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "tap.h"

static char	dir[] = "/tmp/test_config.XXXXXX";

/* Write text to a file in the test directory; return its path. */
static const char *
write_file(const char *name, const char *text)
{
	static char	path[300];
	FILE		*f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return (path);
}

static const struct {
	const char	*in;
	long long	 ms;	/* -1: invalid */
	const char	*out;
} durations[] = {
	{ "500ms", 500, "500ms" },
	{ "5s", 5000, "5s" },
	{ "1m", 60000, "1m" },
	{ "1m30s", 90000, "1m30s" },
	{ "1h30m", 5400000, "1h30m" },
	{ "2h", 7200000, "2h" },
	{ "1s500ms", 1500, "1s500ms" },
	{ "0", 0, "0s" },
	{ "1d", 86400000, "1d" },	/* Prometheus's notation */
	{ "", -1, NULL },
	{ "5", -1, NULL },
	{ "5x", -1, NULL },
	{ "s", -1, NULL },
	{ "-5s", -1, NULL },
	{ "1.5s", -1, NULL },
	{ "30s1m", -1, NULL },
	{ "5s5s", -1, NULL },
	{ "99999999999999999999s", -1, NULL },
};

/* Durations as Prometheus writes them. */
static void
test_durations(void)
{
	int64_t	ms;
	char	buf[32];
	size_t	i;
	bool	ok_;

	for (i = 0; i < sizeof durations / sizeof durations[0]; i++) {
		ok_ = duration_parse(durations[i].in, &ms);
		if (durations[i].ms < 0) {
			ok(!ok_, "duration \"%s\" is rejected",
			    durations[i].in);
			continue;
		}
		ok(ok_, "duration \"%s\" parses", durations[i].in);
		is_int(ms, durations[i].ms, "duration \"%s\" in ms",
		    durations[i].in);
		is_str(duration_format(ms, buf, sizeof buf), durations[i].out,
		    "duration %lld ms formats", durations[i].ms);
	}
}

static const struct {
	const char	*in;
	const char	*url;	/* NULL: rejected */
} targets[] = {
	{ "10.0.0.5:8000", "http://10.0.0.5:8000/metrics" },
	{ "localhost:30000", "http://localhost:30000/metrics" },
	{ "http://h:1/metrics", "http://h:1/metrics" },
	{ "https://h:443", "https://h:443/metrics" },
	{ "http://h/custom/path", "http://h/custom/path" },
	{ "[::1]:9000", "http://[::1]:9000/metrics" },
	{ "h", NULL },
	{ "h:0", NULL },
	{ "h:70000", NULL },
	{ "h:80x", NULL },
	{ "ftp://h:21", NULL },
	{ "h :80", NULL },
	{ ":80", NULL },
};

/* --target addresses. */
static void
test_targets(void)
{
	struct config	cfg;
	char		err[256];
	size_t		i;
	bool		ok_;

	for (i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		config_init(&cfg);
		ok_ = config_add_target(&cfg, targets[i].in, err, sizeof err);
		if (targets[i].url == NULL)
			ok(!ok_ && strstr(err, targets[i].in) != NULL,
			    "target \"%s\" is rejected naming it (%s)",
			    targets[i].in, ok_ ? "accepted" : err);
		else if (ok(ok_, "target \"%s\" is accepted", targets[i].in))
			is_str(cfg.targets[0].url, targets[i].url,
			    "target \"%s\" URL", targets[i].in);
		config_free(&cfg);
	}
}

static const char good[] =
"{\n"
"  \"global\": {\"job\": \"verl\", \"listen\": \"0.0.0.0:9108\",\n"
"    \"scrape_interval\": \"5s\", \"scrape_timeout\": \"2s\",\n"
"    \"state_dir\": \"state\", \"api_token_file\": \"token\",\n"
"    \"max_body_bytes\": \"16MiB\", \"log_level\": \"warn\",\n"
"    \"self_scrape\": false},\n"
"  \"targets\": [\"10.0.0.1:8000\",\n"
"    {\"targets\": [\"10.0.0.2:8000\", \"10.0.0.3:8000\"],\n"
"     \"labels\": {\"model_name\": \"qwen\"}, \"interval\": \"1s\",\n"
"     \"job\": \"sglang\"}],\n"
"  \"file_sd\": [\"/tmp/ray/prom_metrics_service_discovery.json\",\n"
"    \"rel.json\"],\n"
"  \"remote_write\": [\"http://p:9090/api/v1/write\",\n"
"    {\"url\": \"https://mimir/api/v1/push\", \"name\": \"mimir\",\n"
"     \"headers\": {\"X-Scope-OrgID\": \"rl\"},\n"
"     \"basic_auth\": {\"username\": \"u\", \"password_file\": \"token\"},\n"
"     \"shards\": 4, \"max_samples_per_send\": 5000,\n"
"     \"batch_send_deadline\": \"1s\",\n"
"     \"queue\": {\"max_bytes\": \"1GiB\", \"fsync\": \"batch\"}}],\n"
"  \"pushgateway\": {\"url\": \"http://pg:9091\",\n"
"    \"grouping\": {\"cluster\": \"a\"}},\n"
"  \"derive\": {\"windows\": [\"30s\", \"2m\", \"10m\"], \"tail_k\": 4}\n"
"}\n";

/* Every section of a good file lands in the struct. */
static void
test_good(void)
{
	struct config	cfg;
	char		err[512], path[300];
	const char	*f;

	write_file("token", "s3cret\n");
	f = write_file("good.json", good);
	config_init(&cfg);
	if (!ok(config_load(&cfg, f, err, sizeof err), "good file loads"))
		printf("# %s\n", err);
	ok(config_finish(&cfg, err, sizeof err), "good file finishes");
	is_str(cfg.job, "verl", "global.job");
	is_str(cfg.listen, "0.0.0.0:9108", "global.listen");
	is_int(cfg.scrape_interval_ms, 5000, "global.scrape_interval");
	is_int(cfg.scrape_timeout_ms, 2000, "global.scrape_timeout");
	is_int(cfg.max_body_bytes, 16 << 20, "global.max_body_bytes");
	ok(!cfg.self_scrape, "global.self_scrape");
	snprintf(path, sizeof path, "%s/state", dir);
	is_str(cfg.state_dir, path, "state_dir is relative to the file");
	snprintf(path, sizeof path, "%s/state/queue", dir);
	is_str(cfg.queue_dir, path, "queue_dir defaults under state_dir");
	is_str(cfg.api_token, "s3cret", "token read, newline trimmed");
	is_int(cfg.ntargets, 3, "three targets");
	is_str(cfg.targets[2].url, "http://10.0.0.3:8000/metrics",
	    "static_config target URL");
	is_str(cfg.targets[2].job, "sglang", "static_config job");
	is_int(cfg.targets[1].interval_ms, 1000, "static_config interval");
	ok(cfg.targets[1].nlabels == 1 &&
	    strcmp(cfg.targets[1].labels[0].value, "qwen") == 0,
	    "static_config labels");
	ok(cfg.targets[0].job == NULL, "a bare target has the global job");
	is_int(cfg.nfile_sd, 2, "two file_sd files");
	snprintf(path, sizeof path, "%s/rel.json", dir);
	is_str(cfg.file_sd[1], path, "file_sd is relative to the file");
	is_int(cfg.nremote_writes, 2, "two remote_write endpoints");
	is_int(cfg.remote_writes[0].shards, 1, "default shards");
	is_int(cfg.remote_writes[0].fsync, CONFIG_FSYNC_INTERVAL,
	    "default fsync");
	is_int(cfg.remote_writes[0].queue_max_bytes, 256 << 20,
	    "default queue budget");
	is_int(cfg.remote_writes[1].shards, 4, "shards");
	is_int(cfg.remote_writes[1].max_samples_per_send, 5000, "batch size");
	is_int(cfg.remote_writes[1].batch_deadline_ms, 1000, "deadline");
	is_int(cfg.remote_writes[1].queue_max_bytes, 1 << 30, "queue budget");
	is_int(cfg.remote_writes[1].fsync, CONFIG_FSYNC_BATCH, "fsync batch");
	is_str(cfg.remote_writes[1].basic_password, "s3cret",
	    "password_file read");
	is_str(cfg.remote_writes[1].headers[0].value, "rl", "headers");
	is_str(cfg.pushgateway.url, "http://pg:9091", "pushgateway url");
	is_int(cfg.pushgateway.ngrouping, 1, "pushgateway grouping");
	is_int(cfg.derive.nwindows, 3, "derive windows");
	is_int(cfg.derive.windows_ms[2], 600000, "derive window 10m");
	is_double(cfg.derive.tail_k, 4, 0, "derive tail_k");
	ok(cfg.derive.enabled, "derive on by default");
	config_free(&cfg);

	config_init(&cfg);
	ok(config_finish(&cfg, err, sizeof err), "no file: defaults finish");
	is_str(cfg.job, "rollout", "default job");
	is_str(cfg.listen, "127.0.0.1:9108", "default listen");
	is_int(cfg.scrape_interval_ms, 15000, "default interval");
	is_int(cfg.scrape_timeout_ms, 10000, "default timeout");
	ok(cfg.queue_dir == NULL, "no state dir: memory queue");
	config_free(&cfg);
}

static const struct {
	const char	*json;
	const char	*want;	/* substring of the first error */
} bad[] = {
	{ "{\"global\": {\"scrape_interval\": \"5x\"}}",
	    "$.global.scrape_interval: invalid duration \"5x\"" },
	{ "{\"global\": {\"scrape_interval\": \"1ms\"}}",
	    "$.global.scrape_interval: interval \"1ms\" is below the minimum "
	    "of 100ms" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"interval\": \"99ms\"}]}",
	    "$.targets[0].interval: interval \"99ms\" is below the minimum" },
	{ "{\"global\": {\"push_max_groups\": 0}}",
	    "$.global.push_max_groups: want a whole number from 1" },
	{ "{\"global\": {\"intervall\": \"5s\"}}",
	    "$.global: unknown key \"intervall\"" },
	{ "{\"targets\": [\"a:1\", \"b:99999\"]}", "$.targets[1]: \"b:99999\"" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"interval\": 5}]}",
	    "$.targets[0].interval: want a duration" },
	{ "{\"targets\": [{\"labels\": {\"x\": \"y\"}}]}",
	    "$.targets[0]: missing \"targets\"" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"labels\": "
	    "{\"bad-name\": \"v\"}}]}",
	    "$.targets[0].labels.bad-name: invalid label name" },
	{ "{\"remote_write\": [{\"url\": \"p:9090\"}]}",
	    "$.remote_write[0]: \"p:9090\": want an http:// or https:// URL" },
	{ "{\"remote_write\": [{\"url\": \"http://p\", \"shards\": 0}]}",
	    "$.remote_write[0].shards: want a whole number from 1 to 64" },
	{ "{\"remote_write\": [{\"url\": \"http://p\", \"queue\": "
	    "{\"fsync\": \"always\"}}]}",
	    "$.remote_write[0].queue.fsync: want \"batch\", \"interval\" or "
	    "\"never\", not \"always\"" },
	{ "{\"remote_write\": [{\"url\": \"http://p\", "
	    "\"bearer_token_file\": \"/nonexistent/t\"}]}",
	    "$.remote_write[0].bearer_token_file: /nonexistent/t: No such" },
	{ "{\"global\": {\"scrape_interval\": \"1s\", \"scrape_timeout\": "
	    "\"2s\"}}", "$.global.scrape_timeout: longer than" },
	{ "{\"derive\": {\"windows\": []}}", "$.derive.windows: want a list" },
	{ "{\"job\": \"x\", \"job\": \"y\"}", "$: duplicate key \"job\"" },
	{ "[]", "$: want an object" },
	{ "{\n  \"global\": {\n    \"job\": \"x\",\n  }\n}",
	    "line 4 col " },
	{ "{\"global\": {}} trailing", "line 1 col 16: invalid JSON" },
	{ "", "line 1 col 1: invalid JSON" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"metric_relabel_configs\": "
	    "[{\"action\": \"drop\"}, {\"action\": \"drop\"}, "
	    "{\"regex\": \"abc(d\", \"action\": \"keep\"}]}]}",
	    "$.targets[0].metric_relabel_configs[2].regex: missing closing "
	    "parenthesis at offset 5" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"relabel_configs\": "
	    "[{\"action\": \"rename\"}]}]}",
	    "$.targets[0].relabel_configs[0].action: unknown relabel action "
	    "\"rename\"" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"relabel_configs\": "
	    "[{\"source_labels\": [\"a\"]}]}]}",
	    "$.targets[0].relabel_configs[0]: relabel configuration for "
	    "replace action requires 'target_label' value" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"relabel_configs\": "
	    "{}}]}",
	    "$.targets[0].relabel_configs: want a list of relabel configs" },
	{ "{\"remote_write\": [{\"url\": \"http://p\", "
	    "\"write_relabel_configs\": [{\"regex\": \"a{2}{3}\"}]}]}",
	    "$.remote_write[0].write_relabel_configs[0].regex: invalid nested "
	    "repetition operator at offset 4" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"sample_limit\": -1}]}",
	    "$.targets[0].sample_limit: want a whole number" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"honor_labels\": "
	    "\"yes\"}]}", "$.targets[0].honor_labels: want true or false" },
	{ "{\"global\": {\"label_limit\": 1.5}}",
	    "$.global.label_limit: want a whole number" },
	{ "{\"global\": {\"body_size_limit\": \"10XB\"}}",
	    "$.global.body_size_limit: want a size in bytes" },
	{ "{\"global\": {\"external_labels\": {\"__x\": \"v\"}}}",
	    "$.global.external_labels.__x: invalid label name" },
	{ "{\"global\": {\"external_labels\": {\"x\": 1}}}",
	    "$.global.external_labels.x: want a string" },
	{ "{\"global\": {\"cluster\": {\"members_count\": 3, "
	    "\"member_num\": 3}}}",
	    "$.global.cluster: member_num 3: must be below members_count 3" },
	{ "{\"global\": {\"cluster\": {\"members_count\": 2, "
	    "\"replication_factor\": 3}}}",
	    "$.global.cluster: replication_factor 3: must be 1 to "
	    "members_count 2" },
	{ "{\"global\": {\"cluster\": {\"members_count\": 0}}}",
	    "$.global.cluster.members_count: want a whole number from 1 to "
	    "1024" },
	{ "{\"global\": {\"cluster\": {\"member_num\": -1}}}",
	    "$.global.cluster.member_num: want a whole number" },
	{ "{\"global\": {\"cluster\": {\"members\": 2}}}",
	    "$.global.cluster: unknown key \"members\"" },
	{ "{\"global\": {\"cluster\": 3}}",
	    "$.global.cluster: want an object" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"scheme\": \"ftp\"}]}",
	    "$.targets[0].scheme: want \"http\" or \"https\"" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"basic_auth\": "
	    "{\"password\": \"p\"}}]}",
	    "$.targets[0].basic_auth: missing \"username\"" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"authorization\": "
	    "{\"credentials_file\": \"/nonexistent/t\"}}]}",
	    "$.targets[0].authorization.credentials_file: /nonexistent/t" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"tls_config\": "
	    "{\"cert_file\": \"c.pem\"}}]}",
	    "$.targets[0].tls_config: cert_file and key_file go together" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"params\": "
	    "{\"x\": \"1\"}}]}",
	    "$.targets[0].params.x: want a list of strings" },
	{ "{\"targets\": [{\"targets\": [\"a:1\"], \"authorization\": "
	    "{\"credentials\": \"t\"}, \"basic_auth\": {\"username\": "
	    "\"u\"}}]}",
	    "$.targets[0]: at most one of basic_auth, authorization and "
	    "bearer_token_file" },
	{ "{\"file_sd\": [{\"files\": [\"a.json\"], \"targets\": [\"a:1\"]}]}",
	    "$.file_sd[0]: \"targets\" is not a key of a file_sd group" },
	{ "{\"file_sd\": [{\"job\": \"x\"}]}",
	    "$.file_sd[0].files: want a non-empty list of file names" },
	{ "{\"file_sd\": [{\"files\": [\"a.json\"], \"metric_relabel_configs\": "
	    "[{\"action\": \"keep\", \"regex\": \"(\"}]}]}",
	    "$.file_sd[0].metric_relabel_configs[0].regex: missing closing "
	    "parenthesis at offset 1" },
};

/* Bad files: the first error names where and what. */
static void
test_bad(void)
{
	struct config	 cfg;
	char		 err[512], name[32];
	const char	*f;
	size_t		 i;
	FILE		*devnull;
	bool		 ok_;

	devnull = fopen("/dev/null", "w");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(name, sizeof name, "bad%zu.json", i);
		f = write_file(name, bad[i].json);
		config_init(&cfg);
		err[0] = '\0';
		ok_ = config_load(&cfg, f, err, sizeof err);
		ok(!ok_ && strstr(err, bad[i].want) != NULL &&
		    strstr(err, name) != NULL, "bad file %zu: \"%s\" (got "
		    "\"%s\")", i, bad[i].want, err);
		config_free(&cfg);
		ok(config_check_file(f, devnull) > 0, "bad file %zu fails "
		    "check-config", i);
	}
	f = write_file("many.json", "{\"global\": {\"job\": 1, \"x\": 2},"
	    " \"targets\": [\"h\"]}");
	is_int(config_check_file(f, devnull), 3, "check-config reports every "
	    "error");
	ok(config_check_file("/nonexistent.json", devnull) == 1,
	    "a missing file is one error");
	fclose(devnull);
}

/* The scrape contract's keys: relabeling, limits, honor_*, external labels. */
static void
test_contract(void)
{
	struct config		 cfg;
	struct config_target	*t;
	const char		*f;
	char			 err[512];

	f = write_file("contract.json", "{\"global\": {\"sample_limit\": 100, "
	    "\"label_limit\": 30, \"body_size_limit\": \"1MiB\", "
	    "\"external_labels\": {\"cluster\": \"a\", \"region\": \"eu\"}},"
	    "\"targets\": [{\"targets\": [\"a:1\", \"b:2\"], "
	    "\"sample_limit\": 0, \"label_value_length_limit\": 200, "
	    "\"honor_labels\": true, \"honor_timestamps\": false, "
	    "\"relabel_configs\": [{\"source_labels\": [\"__address__\"], "
	    "\"modulus\": 2, \"target_label\": \"s\", \"action\": "
	    "\"hashmod\"}], \"metric_relabel_configs\": [{\"source_labels\": "
	    "[\"__name__\"], \"regex\": \"python_gc_.*\", \"action\": "
	    "\"drop\"}, {\"regex\": \"exported_.*\", \"action\": "
	    "\"labeldrop\"}]}, \"c:3\"], \"remote_write\": [{\"url\": "
	    "\"http://p/w\", \"write_relabel_configs\": [{\"target_label\": "
	    "\"via\", \"replacement\": \"rwbridge\"}]}]}");
	config_init(&cfg);
	ok(config_load(&cfg, f, err, sizeof err), "contract: loads (%s)",
	    err);
	ok(config_finish(&cfg, err, sizeof err), "contract: finishes");
	is_int((long long)cfg.ntargets, 3, "contract: three targets");
	t = &cfg.targets[0];
	is_int((long long)relabel_len(t->relabel), 1, "contract: "
	    "relabel_configs");
	is_int((long long)relabel_len(t->metric_relabel), 2, "contract: "
	    "metric_relabel_configs");
	ok(cfg.targets[1].metric_relabel == t->metric_relabel, "contract: a "
	    "group's targets share its compiled rules");
	ok(t->honor_labels && !t->honor_timestamps, "contract: honor_*");
	is_int((long long)t->limits.sample_limit, 0, "contract: 0 in a group "
	    "overrides the global limit");
	is_int((long long)t->limits.label_limit, 30, "contract: global "
	    "label_limit applies");
	is_int((long long)t->limits.label_value_length_limit, 200,
	    "contract: group label_value_length_limit");
	is_int((long long)t->limits.label_name_length_limit, 0, "contract: "
	    "no limit by default");
	is_int((long long)t->limits.body_size_limit, 1 << 20, "contract: "
	    "global body_size_limit");
	t = &cfg.targets[2];
	ok(t->relabel == NULL && t->metric_relabel == NULL, "contract: a "
	    "plain target has no rules");
	ok(!t->honor_labels && t->honor_timestamps, "contract: honor_* "
	    "defaults");
	is_int((long long)t->limits.sample_limit, 100, "contract: global "
	    "sample_limit");
	is_int((long long)cfg.nexternal_labels, 2, "contract: external "
	    "labels");
	is_str(cfg.external_labels[0].name, "cluster", "contract: external "
	    "label name");
	is_int((long long)relabel_len(cfg.remote_writes[0].write_relabel), 1,
	    "contract: write_relabel_configs");
	config_free(&cfg);

	f = write_file("https.json", "{\"targets\": [{\"targets\": [\"a:1\", "
	    "\"https://b:2\"], \"scheme\": \"https\", \"metrics_path\": "
	    "\"/m\", \"params\": {\"x\": [\"1\", \"a b\"], \"y\": [\"2\"]}, "
	    "\"tls_config\": {\"ca_file\": \"ca.pem\", "
	    "\"server_name\": \"n\"}, \"basic_auth\": {\"username\": \"u\", "
	    "\"password\": \"p\"}}, \"c:3\"]}");
	config_init(&cfg);
	ok(config_load(&cfg, f, err, sizeof err), "https: loads (%s)", err);
	is_str(cfg.targets[0].url, "https://a:1/m?x=1&x=a%20b&y=2",
	    "https: scheme, path and params make the URL");
	is_str(cfg.targets[1].url, "https://b:2/m?x=1&x=a%20b&y=2",
	    "https: a URL keeps its scheme, gets path and params");
	ok(cfg.targets[0].http != NULL && cfg.targets[0].http ==
	    cfg.targets[1].http, "https: the group's targets share its "
	    "settings");
	ok(cfg.targets[0].http != NULL && strcmp(cfg.targets[0].http->
	    basic_password, "p") == 0 && strstr(cfg.targets[0].http->
	    tls_ca_file, "/ca.pem") != NULL, "https: auth and a CA relative "
	    "to the file");
	ok(cfg.targets[2].http == NULL, "https: a plain target has none");
	config_free(&cfg);

	f = write_file("fsd.json", "{\"global\": {\"label_limit\": 9}, "
	    "\"file_sd\": [\"plain.json\", {\"files\": [\"a.json\", "
	    "\"b.json\"], \"job\": \"ray\", \"relabel_configs\": "
	    "[{\"target_label\": \"x\", \"replacement\": \"y\"}], "
	    "\"sample_limit\": 5, \"tls_config\": {\"insecure_skip_verify\": "
	    "true}}]}");
	config_init(&cfg);
	ok(config_load(&cfg, f, err, sizeof err) && config_finish(&cfg, err,
	    sizeof err), "file_sd groups: load (%s)", err);
	is_int((long long)cfg.nfile_sd, 3, "file_sd groups: three files");
	ok(cfg.file_sd_groups[0] == NULL, "file_sd groups: a plain path has "
	    "no settings");
	ok(cfg.file_sd_groups[1] != NULL && cfg.file_sd_groups[1] ==
	    cfg.file_sd_groups[2], "file_sd groups: the files of one object "
	    "share its settings");
	if (cfg.file_sd_groups[1] != NULL) {
		is_str(cfg.file_sd_groups[1]->job, "ray", "file_sd groups: job");
		is_int((long long)relabel_len(cfg.file_sd_groups[1]->relabel),
		    1, "file_sd groups: relabel_configs");
		is_int((long long)cfg.file_sd_groups[1]->limits.sample_limit,
		    5, "file_sd groups: sample_limit");
		is_int((long long)cfg.file_sd_groups[1]->limits.label_limit,
		    9, "file_sd groups: the global label_limit");
		ok(cfg.file_sd_groups[1]->http != NULL &&
		    cfg.file_sd_groups[1]->http->tls_insecure_skip_verify,
		    "file_sd groups: tls_config");
	}
	config_free(&cfg);
}

/* Two API groups' TLS and auth (' for ", D/ for the test directory). */
static const struct {
	const char	*name;
	const char	*a;
	const char	*b;
	bool		 want;		/* config_http_equal(a, b) */
} https[] = {
#define HB	"'basic_auth':{'username':'u','password_file':'D/pw'}"
#define HT	"'tls_config':{'ca_file':'D/ca.pem','cert_file':'D/c.pem'," \
	    "'key_file':'D/k.pem','server_name':'n'}"
#define HA	"'authorization':{'type':'Bearer','credentials_file':'D/tok'}"
	{ "the same JSON parsed twice", "{" HT "," HB "}", "{" HT "," HB "}",
	    true },
	{ "authorization parsed twice", "{" HA "}", "{" HA "}", true },
	{ "keys in another order", "{" HB "," HT "}", "{" HT "," HB "}",
	    true },
	{ "the default type spelled out", "{" HA "}",
	    "{'authorization':{'credentials_file':'D/tok'}}", true },
	{ "bearer_token_file and authorization alike",
	    "{'bearer_token_file':'D/tok'}",
	    "{'authorization':{'credentials_file':'D/tok'}}", true },
	{ "no settings and some", "{}", "{" HT "}", false },
	{ "another username", "{" HB "}",
	    "{'basic_auth':{'username':'v','password_file':'D/pw'}}", false },
	{ "another password", "{" HB "}",
	    "{'basic_auth':{'username':'u','password_file':'D/pw2'}}", false },
	{ "another file with the same password", "{" HB "}",
	    "{'basic_auth':{'username':'u','password_file':'D/pw-same'}}",
	    true },
	{ "no password", "{" HB "}", "{'basic_auth':{'username':'u'}}",
	    false },
	{ "another credentials type", "{" HA "}",
	    "{'authorization':{'type':'Token','credentials_file':'D/tok'}}",
	    false },
	{ "other credentials", "{" HA "}",
	    "{'authorization':{'type':'Bearer','credentials_file':'D/pw'}}",
	    false },
	{ "another ca_file", "{" HT "}",
	    "{'tls_config':{'ca_file':'D/ca2.pem','cert_file':'D/c.pem',"
	    "'key_file':'D/k.pem','server_name':'n'}}", false },
	{ "another cert_file", "{" HT "}",
	    "{'tls_config':{'ca_file':'D/ca.pem','cert_file':'D/c2.pem',"
	    "'key_file':'D/k.pem','server_name':'n'}}", false },
	{ "another key_file", "{" HT "}",
	    "{'tls_config':{'ca_file':'D/ca.pem','cert_file':'D/c.pem',"
	    "'key_file':'D/k2.pem','server_name':'n'}}", false },
	{ "another server_name", "{" HT "}",
	    "{'tls_config':{'ca_file':'D/ca.pem','cert_file':'D/c.pem',"
	    "'key_file':'D/k.pem','server_name':'m'}}", false },
	{ "insecure_skip_verify", "{" HT "}",
	    "{'tls_config':{'ca_file':'D/ca.pem','cert_file':'D/c.pem',"
	    "'key_file':'D/k.pem','server_name':'n',"
	    "'insecure_skip_verify':true}}", false },
#undef HB
#undef HT
#undef HA
};

/* Parse an API group's contract written with ' and D/; NULL on error. */
static struct config_target *
http_group(const char *text, const char *name)
{
	struct config_target	*g;
	struct cJSON		*v;
	char			 json[1024], err[512];
	size_t			 i, n = 0;

	for (i = 0; text[i] != '\0' && n + sizeof dir < sizeof json; i++) {
		if (text[i] == 'D' && text[i + 1] == '/')
			n += (size_t)snprintf(json + n, sizeof json - n, "%s",
			    dir);
		else
			json[n++] = text[i] == '\'' ? '"' : text[i];
	}
	json[n] = '\0';
	v = cJSON_Parse(json);
	g = v != NULL ? config_group_parse(v, "$", err, sizeof err) : NULL;
	if (g == NULL)
		printf("# %s: %s: %s\n", name, json, v == NULL ? "JSON" : err);
	cJSON_Delete(v);
	return (g);
}

/* Groups reach their targets alike by content, not by pointer. */
static void
test_http_equal(void)
{
	struct config_target	*a, *b;
	size_t			 i;

	write_file("pw", "s3cret\n");
	write_file("pw-same", "s3cret\n");
	write_file("pw2", "other\n");
	write_file("tok", "tok-42\n");
	for (i = 0; i < sizeof https / sizeof https[0]; i++) {
		a = http_group(https[i].a, https[i].name);
		b = http_group(https[i].b, https[i].name);
		if (ok(a != NULL && b != NULL, "http equal: %s: both parse",
		    https[i].name)) {
			ok(a->http != b->http || a->http == NULL,
			    "http equal: %s: two objects", https[i].name);
			is_int(config_http_equal(a->http, b->http),
			    https[i].want, "http equal: %s", https[i].name);
			is_int(config_http_equal(b->http, a->http),
			    https[i].want, "http equal: %s (swapped)",
			    https[i].name);
		}
		config_group_free(a);
		config_group_free(b);
	}
	ok(config_http_equal(NULL, NULL), "http equal: none and none");
}

static const struct {
	const char	*listen;
	bool		 ok;
} listens[] = {
	{ "127.0.0.1:9108", true },
	{ "0.0.0.0:0", true },
	{ "[::1]:9108", true },
	{ "localhost", false },
	{ ":9108", false },
	{ "h:99999", false },
	{ "h:9x", false },
	{ "[::1:9108", false },
};

/* Listen addresses are checked before anything starts. */
static void
test_listen(void)
{
	struct config	cfg;
	char		err[256];
	size_t		i;
	bool		ok_;

	for (i = 0; i < sizeof listens / sizeof listens[0]; i++) {
		config_init(&cfg);
		free(cfg.listen);
		cfg.listen = strdup(listens[i].listen);
		ok_ = config_finish(&cfg, err, sizeof err);
		ok(ok_ == listens[i].ok, "listen \"%s\" is %s%s%s",
		    listens[i].listen, listens[i].ok ? "accepted" : "refused",
		    ok_ ? "" : ": ", ok_ ? "" : err);
		config_free(&cfg);
	}
}

int
main(void)
{
	char	cmd[300];

	if (mkdtemp(dir) == NULL)
		abort();
	test_durations();
	test_targets();
	test_contract();
	test_http_equal();
	test_listen();
	test_good();
	test_bad();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return (1);
	return (tap_done());
}
