/*
 * targetcli: `rwbridge targets list|set|add|remove`, a small client of a
 * running rwbridge's registration API for shell scripts and humans. It is
 * a short-lived command, so it uses curl's easy interface and blocks; the
 * daemon never does. It exits 0 on success, 1 when the request fails (with
 * the server's own message) and 2 on a usage error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "buf.h"
#include "config.h"
#include "duration.h"
#include "targetcli.h"
#include "xmalloc.h"

#define CLI_DEFAULT_URL	"http://127.0.0.1:9108"

static const char cli_usage[] =
"usage: rwbridge targets list [--group GROUP] [--json]\n"
"       rwbridge targets set GROUP [HOST:PORT...] [settings]\n"
"       rwbridge targets add GROUP HOST:PORT... [settings]\n"
"       rwbridge targets remove GROUP [HOST:PORT]\n"
"\n"
"Register rollout servers with a running rwbridge. set replaces the group\n"
"(no HOST:PORT empties it), add adds to it, remove drops the group or one\n"
"target of it. HOST:PORT is 10.0.0.5:8000, [::1]:8000 or node-3:8000.\n"
"\n"
"Settings (set, add):\n"
"  --label NAME=VALUE      a label for every target; repeatable\n"
"  --interval DUR          scrape interval (default: rwbridge's)\n"
"  --timeout DUR           scrape timeout (default: rwbridge's)\n"
"  --metrics-path PATH     default /metrics\n"
"  --scheme http|https     default http\n"
"  --job NAME              job label (default: rwbridge's --job)\n"
"\n"
"Options:\n"
"  --url URL               rwbridge to talk to (default $RWBRIDGE_URL or\n"
"                          " CLI_DEFAULT_URL ")\n"
"  --api-token-file FILE   bearer token (default $RWBRIDGE_API_TOKEN_FILE)\n"
"  --json                  list: print the API's JSON as it is\n"
"  --help                  show this help\n"
"\n"
"Exit status: 0 done, 1 the request failed, 2 usage error.\n";

enum {
	CLI_LABEL = 256,
	CLI_INTERVAL,
	CLI_TIMEOUT,
	CLI_METRICS_PATH,
	CLI_SCHEME,
	CLI_JOB,
	CLI_URL,
	CLI_TOKEN_FILE,
	CLI_GROUP,
	CLI_JSON,
	CLI_HELP
};

static const struct option cli_options[] = {
	{ "label",		required_argument, NULL, CLI_LABEL },
	{ "interval",		required_argument, NULL, CLI_INTERVAL },
	{ "timeout",		required_argument, NULL, CLI_TIMEOUT },
	{ "metrics-path",	required_argument, NULL, CLI_METRICS_PATH },
	{ "scheme",		required_argument, NULL, CLI_SCHEME },
	{ "job",		required_argument, NULL, CLI_JOB },
	{ "url",		required_argument, NULL, CLI_URL },
	{ "api-token-file",	required_argument, NULL, CLI_TOKEN_FILE },
	{ "group",		required_argument, NULL, CLI_GROUP },
	{ "json",		no_argument,	   NULL, CLI_JSON },
	{ "help",		no_argument,	   NULL, CLI_HELP },
	{ NULL,			0,		   NULL, 0 }
};

/* What the command line asked for. */
struct cli {
	const char	*cmd;
	const char	*url;
	const char	*token_file;
	char		*token;
	const char	*group;
	const char	**labels;	/* "name=value" */
	size_t		 nlabels;
	const char	*interval;
	const char	*timeout;
	const char	*metrics_path;
	const char	*scheme;
	const char	*job;
	bool		 json;
	bool		 settings;	/* any of the settings above */
	char		**args;		/* after the command */
	int		 nargs;
};

/* A finished request. */
struct cli_resp {
	long		 code;
	struct buf	 body;
};

/* Complain about the command line and return the usage status. */
static int __attribute__((format(printf, 1, 2)))
cli_usage_error(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "rwbridge targets: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see rwbridge targets --help)\n");
	return (2);
}

/* Read the token file, without trailing white space; -1 on error. */
static int
cli_read_token(const char *path, char **tokenp)
{
	FILE	*f;
	char	 buf[4096];
	size_t	 len;

	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "rwbridge targets: %s: %s\n", path,
		    strerror(errno));
		return (-1);
	}
	len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[len] = '\0';
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	if (len == 0 || strchr(buf, '\n') != NULL) {
		fprintf(stderr, "rwbridge targets: %s: want one line with the "
		    "token\n", path);
		return (-1);
	}
	*tokenp = xstrdup(buf);
	return (0);
}

/* Collect the response body. */
static size_t
cli_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct buf	*b = arg;

	buf_append(b, p, size * n);
	return (size * n);
}

/* Send one request; -1 (after saying why) if rwbridge was not reached. */
static int
cli_request(const struct cli *c, const char *method, const char *path,
    const char *body, struct cli_resp *r)
{
	CURL			*easy;
	struct curl_slist	*hdrs = NULL;
	char			*url, *auth = NULL, errbuf[CURL_ERROR_SIZE];
	size_t			 ulen;
	CURLcode		 rc;

	ulen = strlen(c->url);
	while (ulen > 0 && c->url[ulen - 1] == '/')
		ulen--;
	xasprintf(&url, "%.*s%s", (int)ulen, c->url, path);
	easy = curl_easy_init();
	if (easy == NULL) {
		fprintf(stderr, "rwbridge targets: curl_easy_init failed\n");
		free(url);
		return (-1);
	}
	errbuf[0] = '\0';
	buf_init(&r->body);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "rwbridge-targets/"
	    RWBRIDGE_VERSION);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 60000L);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, cli_write_cb);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &r->body);
	if (body != NULL) {
		hdrs = curl_slist_append(hdrs,
		    "Content-Type: application/json");
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(body));
	}
	if (c->token != NULL) {
		xasprintf(&auth, "Authorization: Bearer %s", c->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(easy);
	if (rc == CURLE_OK)
		curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r->code);
	else
		fprintf(stderr, "rwbridge targets: cannot reach %s: %s\n", url,
		    errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(easy);
	free(auth);
	free(url);
	if (rc != CURLE_OK) {
		buf_free(&r->body);
		return (-1);
	}
	buf_putc(&r->body, '\0');
	r->body.len--;
	return (0);
}

/* Parse a successful reply; print the server's error and NULL if not. */
static cJSON *
cli_result(const struct cli_resp *r)
{
	cJSON		*doc;
	const cJSON	*st, *e;

	doc = cJSON_ParseWithLength((const char *)r->body.data, r->body.len);
	st = cJSON_GetObjectItemCaseSensitive(doc, "status");
	if (r->code == 200 && cJSON_IsString(st) &&
	    strcmp(st->valuestring, "success") == 0)
		return (doc);
	e = cJSON_GetObjectItemCaseSensitive(doc, "error");
	if (cJSON_IsString(e))
		fprintf(stderr, "rwbridge targets: %s (HTTP %ld)\n",
		    e->valuestring, r->code);
	else
		fprintf(stderr, "rwbridge targets: unexpected reply, HTTP %ld "
		    "(is --url an rwbridge?)\n", r->code);
	cJSON_Delete(doc);
	return (NULL);
}

/* Print the warnings of a reply, if any. */
static void
cli_warnings(const cJSON *doc)
{
	const cJSON	*w;

	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(doc,
	    "warnings")) {
		if (cJSON_IsString(w))
			fprintf(stderr, "rwbridge targets: warning: %s\n",
			    w->valuestring);
	}
}

/* The API path of a group, escaped. */
static char *
cli_group_path(const char *group)
{
	char	*esc, *path;

	esc = curl_easy_escape(NULL, group, 0);
	if (esc == NULL) {
		fprintf(stderr, "rwbridge targets: out of memory\n");
		exit(1);
	}
	xasprintf(&path, "/api/v1/targets/%s", esc);
	curl_free(esc);
	return (path);
}

/* A string field of a JSON object, or "". */
static const char *
cli_str(const cJSON *o, const char *name)
{
	const cJSON	*v;

	v = cJSON_GetObjectItemCaseSensitive(o, name);
	return (cJSON_IsString(v) ? v->valuestring : "");
}

/* Describe how long ago a scrape was. */
static void
cli_ago(const cJSON *o, char *dst, size_t len)
{
	const cJSON	*v;
	struct timeval	 tv;
	double		 now, ago;
	size_t		 n;

	v = cJSON_GetObjectItemCaseSensitive(o, "lastScrape");
	if (!cJSON_IsNumber(v) || v->valuedouble <= 0) {
		snprintf(dst, len, "never");
		return;
	}
	gettimeofday(&tv, NULL);
	now = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
	ago = now - v->valuedouble;
	if (ago < 0)
		ago = 0;
	/* Whole seconds, in the notation of the durations it was given. */
	duration_format((int64_t)(ago + 0.5) * 1000, dst, len);
	n = strlen(dst);
	snprintf(dst + n, len - n, " ago");
}

/* Print the targets as a table. */
static void
cli_table(const cJSON *doc)
{
	const cJSON	*arr, *t;
	int		 w[3] = { 5, 8, 6 };
	int		 n;
	char		 ago[32];

	arr = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    doc, "data"), "activeTargets");
	cJSON_ArrayForEach(t, arr) {
		n = (int)strlen(cli_str(t, "group"));
		if (n > w[0])
			w[0] = n;
		n = (int)strlen(cli_str(t, "instance"));
		if (n > w[1])
			w[1] = n;
		n = (int)strlen(cli_str(t, "health"));
		if (n > w[2])
			w[2] = n;
	}
	printf("%-*s  %-*s  %-*s  %-12s  %s\n", w[0], "GROUP", w[1],
	    "INSTANCE", w[2], "HEALTH", "LAST_SCRAPE", "ERROR");
	cJSON_ArrayForEach(t, arr) {
		cli_ago(t, ago, sizeof ago);
		printf("%-*s  %-*s  %-*s  %-12s  %s\n", w[0],
		    cli_str(t, "group"), w[1], cli_str(t, "instance"), w[2],
		    cli_str(t, "health"), ago, cli_str(t, "lastError"));
	}
}

/* targets list. */
static int
cli_list(const struct cli *c)
{
	struct cli_resp	 r;
	cJSON		*doc;
	char		*path;

	if (c->nargs != 0)
		return (cli_usage_error("list takes no arguments, use "
		    "--group GROUP"));
	if (c->settings)
		return (cli_usage_error("list takes no scrape settings"));
	path = c->group != NULL ? cli_group_path(c->group) :
	    xstrdup("/api/v1/targets");
	if (cli_request(c, "GET", path, NULL, &r) != 0) {
		free(path);
		return (1);
	}
	free(path);
	doc = cli_result(&r);
	if (doc == NULL) {
		buf_free(&r.body);
		return (1);
	}
	if (c->json) {
		fwrite(r.body.data, 1, r.body.len, stdout);
		if (r.body.len == 0 || r.body.data[r.body.len - 1] != '\n')
			putchar('\n');
	} else
		cli_table(doc);
	cJSON_Delete(doc);
	buf_free(&r.body);
	return (0);
}

/* Build the body of set/add; NULL (after saying why) on a bad setting. */
static char *
cli_body(const struct cli *c)
{
	cJSON		*doc, *targets, *labels;
	const char	*eq;
	char		*s, *name;
	int64_t		 ms;
	size_t		 i;
	int		 k;

	if (c->interval != NULL && (!duration_parse(c->interval, &ms) ||
	    ms <= 0)) {
		cli_usage_error("--interval: invalid duration \"%s\" (use e.g. "
		    "500ms, 5s, 1m)", c->interval);
		return (NULL);
	}
	if (c->timeout != NULL && (!duration_parse(c->timeout, &ms) ||
	    ms <= 0)) {
		cli_usage_error("--timeout: invalid duration \"%s\" (use e.g. "
		    "500ms, 5s, 1m)", c->timeout);
		return (NULL);
	}
	doc = cJSON_CreateObject();
	targets = cJSON_AddArrayToObject(doc, "targets");
	for (k = 1; k < c->nargs; k++)
		cJSON_AddItemToArray(targets, cJSON_CreateString(c->args[k]));
	if (c->nlabels > 0) {
		labels = cJSON_AddObjectToObject(doc, "labels");
		for (i = 0; i < c->nlabels; i++) {
			eq = strchr(c->labels[i], '=');
			if (eq == NULL || eq == c->labels[i]) {
				cli_usage_error("--label: want NAME=VALUE, not "
				    "\"%s\"", c->labels[i]);
				cJSON_Delete(doc);
				return (NULL);
			}
			name = xstrndup(c->labels[i],
			    (size_t)(eq - c->labels[i]));
			cJSON_AddStringToObject(labels, name, eq + 1);
			free(name);
		}
	}
	if (c->interval != NULL)
		cJSON_AddStringToObject(doc, "interval", c->interval);
	if (c->timeout != NULL)
		cJSON_AddStringToObject(doc, "timeout", c->timeout);
	if (c->metrics_path != NULL)
		cJSON_AddStringToObject(doc, "metrics_path", c->metrics_path);
	if (c->scheme != NULL)
		cJSON_AddStringToObject(doc, "scheme", c->scheme);
	if (c->job != NULL)
		cJSON_AddStringToObject(doc, "job", c->job);
	s = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return (s);
}

/* Send a write and report its outcome. */
static int
cli_write(const struct cli *c, const char *method, const char *path,
    const char *body, const char *target)
{
	struct cli_resp	 r;
	cJSON		*doc;
	const cJSON	*n;
	const char	*group = c->args[0];
	double		 left;

	if (cli_request(c, method, path, body, &r) != 0)
		return (1);
	doc = cli_result(&r);
	buf_free(&r.body);
	if (doc == NULL)
		return (1);
	cli_warnings(doc);
	n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
	    doc, "data"), "targets");
	left = cJSON_IsNumber(n) ? n->valuedouble : 0;
	if (strcmp(method, "DELETE") != 0)
		printf("group %s: %.0f target%s\n", group, left,
		    left == 1 ? "" : "s");
	else if (target != NULL)
		printf("removed %s from group %s (%.0f left)\n", target, group,
		    left);
	else
		printf("removed group %s\n", group);
	cJSON_Delete(doc);
	return (0);
}

/* targets set / add. */
static int
cli_set(const struct cli *c, bool replace)
{
	char	*body, *path;
	int	 rc;

	if (c->nargs < 1)
		return (cli_usage_error("%s: missing GROUP", c->cmd));
	if (!replace && c->nargs < 2)
		return (cli_usage_error("add: missing HOST:PORT"));
	if (c->group != NULL || c->json)
		return (cli_usage_error("%s takes no --group or --json",
		    c->cmd));
	body = cli_body(c);
	if (body == NULL)
		return (2);
	path = cli_group_path(c->args[0]);
	rc = cli_write(c, replace ? "PUT" : "POST", path, body, NULL);
	free(path);
	cJSON_free(body);
	return (rc);
}

/* targets remove. */
static int
cli_remove(const struct cli *c)
{
	char	*path, *full, *esc;
	int	 rc;

	if (c->nargs < 1 || c->nargs > 2)
		return (cli_usage_error("usage: remove GROUP [HOST:PORT]"));
	if (c->settings || c->group != NULL || c->json)
		return (cli_usage_error("remove takes only GROUP and "
		    "HOST:PORT"));
	path = cli_group_path(c->args[0]);
	if (c->nargs == 2) {
		esc = curl_easy_escape(NULL, c->args[1], 0);
		if (esc == NULL) {
			free(path);
			return (1);
		}
		xasprintf(&full, "%s?target=%s", path, esc);
		curl_free(esc);
		free(path);
		path = full;
	}
	rc = cli_write(c, "DELETE", path, NULL, c->nargs == 2 ? c->args[1] :
	    NULL);
	free(path);
	return (rc);
}

/* Read the options; 0, or the exit status for a usage error or --help. */
static int
cli_parse(struct cli *c, int argc, char **argv, bool *help)
{
	int	ch;

	*help = false;
	optind = 1;
	opterr = 1;
	while ((ch = getopt_long(argc, argv, "", cli_options, NULL)) != -1) {
		switch (ch) {
		case CLI_LABEL:
			c->labels = xreallocarray(c->labels, c->nlabels + 1,
			    sizeof *c->labels);
			c->labels[c->nlabels++] = optarg;
			c->settings = true;
			break;
		case CLI_INTERVAL:
			c->interval = optarg;
			c->settings = true;
			break;
		case CLI_TIMEOUT:
			c->timeout = optarg;
			c->settings = true;
			break;
		case CLI_METRICS_PATH:
			c->metrics_path = optarg;
			c->settings = true;
			break;
		case CLI_SCHEME:
			c->scheme = optarg;
			c->settings = true;
			break;
		case CLI_JOB:
			c->job = optarg;
			c->settings = true;
			break;
		case CLI_URL:
			c->url = optarg;
			break;
		case CLI_TOKEN_FILE:
			c->token_file = optarg;
			break;
		case CLI_GROUP:
			c->group = optarg;
			break;
		case CLI_JSON:
			c->json = true;
			break;
		case CLI_HELP:
			*help = true;
			return (0);
		default:
			fputs(cli_usage, stderr);
			return (2);
		}
	}
	if (optind >= argc)
		return (cli_usage_error("missing command (list, set, add or "
		    "remove)"));
	c->cmd = argv[optind];
	c->args = argv + optind + 1;
	c->nargs = argc - optind - 1;
	return (0);
}

/* Run `rwbridge targets ...`; argv[0] is "targets". */
int
targetcli_main(int argc, char **argv)
{
	struct cli	 c;
	const char	*env;
	bool		 help;
	int		 rc;

	memset(&c, 0, sizeof c);
	rc = cli_parse(&c, argc, argv, &help);
	if (help) {
		fputs(cli_usage, stdout);
		rc = 0;
		goto out;
	}
	if (rc != 0)
		goto out;
	if (c.url == NULL) {
		env = getenv("RWBRIDGE_URL");
		c.url = env != NULL && *env != '\0' ? env : CLI_DEFAULT_URL;
	}
	if (c.token_file == NULL) {
		env = getenv("RWBRIDGE_API_TOKEN_FILE");
		if (env != NULL && *env != '\0')
			c.token_file = env;
	}
	if (c.token_file != NULL && cli_read_token(c.token_file,
	    &c.token) != 0) {
		rc = 2;
		goto out;
	}
	if (strcmp(c.cmd, "list") != 0 && strcmp(c.cmd, "set") != 0 &&
	    strcmp(c.cmd, "add") != 0 && strcmp(c.cmd, "remove") != 0) {
		rc = cli_usage_error("unknown command \"%s\" (list, set, add "
		    "or remove)", c.cmd);
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "rwbridge targets: curl_global_init failed\n");
		rc = 1;
		goto out;
	}
	if (strcmp(c.cmd, "list") == 0)
		rc = cli_list(&c);
	else if (strcmp(c.cmd, "set") == 0)
		rc = cli_set(&c, true);
	else if (strcmp(c.cmd, "add") == 0)
		rc = cli_set(&c, false);
	else
		rc = cli_remove(&c);
	curl_global_cleanup();
out:
	free(c.labels);
	free(c.token);
	return (rc);
}
