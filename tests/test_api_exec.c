/*
 * test_api_exec: the target registration API without a listener. A table
 * of requests runs in order against one registry (so later cases see what
 * earlier ones registered): every route, every error with its status and
 * message, the Allow and WWW-Authenticate headers, the bearer token and
 * the loopback rule, and a registry that is shutting down. A failure names
 * the case and the first differing value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "glue.h"
#include "state.h"
#include "xmalloc.h"

#include "tap.h"

enum conf {
	CONF_LOOPBACK,		/* no token, 127.0.0.1 */
	CONF_TOKEN,		/* token "t" */
	CONF_OPEN		/* no token, 0.0.0.0 */
};

struct acase {
	const char		*name;
	enum conf		 conf;
	enum evhttp_cmd_type	 method;
	const char		*rest;
	const char		*query;
	const char		*body;
	const char		*auth;
	int			 code;
	const char		*want;		/* in the body */
	const char		*allow;
	bool			 challenge;
};

#define GET	EVHTTP_REQ_GET
#define PUT	EVHTTP_REQ_PUT
#define POST	EVHTTP_REQ_POST
#define DEL	EVHTTP_REQ_DELETE
#define T1	"{\"targets\":[\"127.0.0.1:1\"]}"

static const struct acase cases[] = {
	{ "empty listing", CONF_LOOPBACK, GET, "", NULL, NULL, NULL, 200,
	  "\"activeTargets\":[],\"droppedTargets\":[]", NULL, false },
	{ "listing with a slash", CONF_LOOPBACK, GET, "/", NULL, NULL, NULL,
	  200, "\"status\":\"success\"", NULL, false },
	{ "HEAD lists", CONF_LOOPBACK, EVHTTP_REQ_HEAD, "", NULL, NULL, NULL,
	  200, "activeTargets", NULL, false },
	{ "write on the collection", CONF_LOOPBACK, POST, "", NULL, T1, NULL,
	  405, "use PUT, POST or DELETE on /api/v1/targets/{group}",
	  "GET, HEAD", false },
	{ "unknown method", CONF_LOOPBACK, EVHTTP_REQ_PATCH, "/a", NULL, NULL,
	  NULL, 405, "use GET, PUT, POST or DELETE",
	  "GET, HEAD, PUT, POST, DELETE", false },
	{ "register a group", CONF_LOOPBACK, PUT, "/a", NULL, T1, NULL, 200,
	  "\"group\":\"a\",\"targets\":1", NULL, false },
	{ "list the group", CONF_LOOPBACK, GET, "/a", NULL, NULL, NULL, 200,
	  "\"scrapeUrl\":\"http://127.0.0.1:1/metrics\"", NULL, false },
	{ "unknown group", CONF_LOOPBACK, GET, "/zz", NULL, NULL, NULL, 404,
	  "unknown group \\\"zz\\\"", NULL, false },
	{ "reserved group static", CONF_LOOPBACK, PUT, "/static", NULL, T1,
	  NULL, 403, "group \\\"static\\\" belongs to rwbridge", NULL, false },
	{ "reserved group file_sd", CONF_LOOPBACK, PUT, "/file_sd:x.json",
	  NULL, T1, NULL, 403, "belongs to rwbridge", NULL, false },
	{ "invalid group name", CONF_LOOPBACK, PUT, "/a%20b", NULL, T1, NULL,
	  400, "invalid group name \\\"a b\\\"", NULL, false },
	{ "NUL in a group name", CONF_LOOPBACK, PUT, "/a%00b", NULL, T1, NULL,
	  400, "malformed group name", NULL, false },
	{ "PUT takes no query", CONF_LOOPBACK, PUT, "/a", "x=1", T1, NULL,
	  400, "PUT takes no query parameters", NULL, false },
	{ "POST takes no query", CONF_LOOPBACK, POST, "/a", "x=1", T1, NULL,
	  400, "POST takes no query parameters", NULL, false },
	{ "broken JSON", CONF_LOOPBACK, PUT, "/a", NULL, "{\"targets\":",
	  NULL, 400, "line 1", NULL, false },
	{ "trailing garbage", CONF_LOOPBACK, PUT, "/a", NULL, T1 " x", NULL,
	  400, "line 1", NULL, false },
	{ "not an object", CONF_LOOPBACK, PUT, "/a", NULL, "[]", NULL, 400,
	  "$: want an object", NULL, false },
	{ "bad address", CONF_LOOPBACK, PUT, "/a", NULL,
	  "{\"targets\":[\"nohost\"]}", NULL, 400, "$.targets[0]",
	  NULL, false },
	{ "unknown key", CONF_LOOPBACK, PUT, "/a", NULL,
	  "{\"targets\":[],\"bogus\":\"1\"}", NULL, 400,
	  "$: unknown key \\\"bogus\\\"", NULL, false },
	{ "add a target", CONF_LOOPBACK, POST, "/a", NULL,
	  "{\"targets\":[\"127.0.0.1:2\"]}", NULL, 200, "\"targets\":2",
	  NULL, false },
	{ "remove one target", CONF_LOOPBACK, DEL, "/a", "target=127.0.0.1:2",
	  NULL, NULL, 200, "\"targets\":1", NULL, false },
	{ "remove a target not there", CONF_LOOPBACK, DEL, "/a",
	  "target=127.0.0.1:9", NULL, NULL, 404,
	  "target \\\"127.0.0.1:9\\\" is not in group \\\"a\\\"", NULL, false },
	{ "unknown query parameter", CONF_LOOPBACK, DEL, "/a", "foo=1", NULL,
	  NULL, 400, "unknown query parameter \\\"foo\\\"", NULL, false },
	{ "two targets at once", CONF_LOOPBACK, DEL, "/a",
	  "target=127.0.0.1:1&target=127.0.0.1:2", NULL, NULL, 400,
	  "one target per request", NULL, false },
	{ "bad target address", CONF_LOOPBACK, DEL, "/a", "target=x:y", NULL,
	  NULL, 400, "x:y", NULL, false },
	{ "delete an unknown group", CONF_LOOPBACK, DEL, "/nope", NULL, NULL,
	  NULL, 404, "unknown group \\\"nope\\\"", NULL, false },
	{ "delete the group", CONF_LOOPBACK, DEL, "/a", NULL, NULL, NULL, 200,
	  "\"targets\":0", NULL, false },
	{ "the group is gone", CONF_LOOPBACK, GET, "/a", NULL, NULL, NULL,
	  404, "unknown group", NULL, false },
	{ "token: missing", CONF_TOKEN, GET, "", NULL, NULL, NULL, 401,
	  "missing bearer token", NULL, true },
	{ "token: wrong", CONF_TOKEN, PUT, "/a", NULL, T1, "Bearer x", 401,
	  "wrong bearer token", NULL, true },
	{ "token: not a bearer", CONF_TOKEN, PUT, "/a", NULL, T1, "Basic t",
	  401, "wrong bearer token", NULL, true },
	{ "token: right", CONF_TOKEN, PUT, "/a", NULL, T1, "Bearer t", 200,
	  "\"targets\":1", NULL, false },
	{ "open listener: reads are fine", CONF_OPEN, GET, "/a", NULL, NULL,
	  NULL, 200, "127.0.0.1:1", NULL, false },
	{ "open listener: writes need a token", CONF_OPEN, DEL, "/a", NULL,
	  NULL, NULL, 403, "writes are refused on a non-loopback listener",
	  NULL, false },
};

/* Point the config at one of the test setups. */
static void
set_conf(struct config *cfg, enum conf c)
{
	free(cfg->api_token);
	free(cfg->listen);
	cfg->api_token = c == CONF_TOKEN ? xstrdup("t") : NULL;
	cfg->listen = xstrdup(c == CONF_OPEN ? "0.0.0.0:9091" :
	    "127.0.0.1:9091");
}

/* Run a request and return its reply (to free). */
static void
run(struct api *a, struct config *cfg, const struct acase *c,
    struct api_reply *rep)
{
	struct api_request	rq;

	set_conf(cfg, c->conf);
	memset(&rq, 0, sizeof rq);
	rq.method = c->method;
	rq.rest = c->rest;
	rq.query = c->query;
	rq.body = c->body;
	rq.len = c->body != NULL ? strlen(c->body) : 0;
	rq.authorization = c->auth;
	rq.peer = "127.0.0.1:1234";
	api_reply_init(rep);
	api_exec(a, &rq, rep);
	buf_putc(&rep->body, '\0');
	rep->body.len--;
}

/* Run a request and return its status. */
static int
status(struct api *a, const struct api_request *rq)
{
	struct api_reply	rep;
	int			code;

	api_reply_init(&rep);
	api_exec(a, rq, &rep);
	code = rep.code;
	api_reply_free(&rep);
	return (code);
}

int
main(void)
{
	struct glue		 g;
	struct state		*st;
	struct api		*a;
	struct api_reply	 rep;
	struct api_request	 rq;
	const struct acase	*c;
	uint64_t		 nreq, nerr, want_err = 0;
	char			*big;
	size_t			 i;

	glue_init(&g, 1000);
	st = state_new(g.base, g.targets, &g.cfg);
	a = api_new(g.targets, &g.cfg, st);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = &cases[i];
		run(a, &g.cfg, c, &rep);
		is_int(rep.code, c->code, "%s: status", c->name);
		if (!ok(strstr((char *)rep.body.data, c->want) != NULL,
		    "%s: body has %s", c->name, c->want))
			printf("# got %s\n", (char *)rep.body.data);
		is_str(rep.allow, c->allow, "%s: Allow", c->name);
		is_int(rep.challenge, c->challenge, "%s: WWW-Authenticate",
		    c->name);
		if (c->code != 200)
			want_err++;
		api_reply_free(&rep);
	}

	/* A body over the limit is refused before it is parsed. */
	big = xcalloc(1, (1u << 20) + 2);
	memset(big, ' ', (1u << 20) + 1);
	set_conf(&g.cfg, CONF_LOOPBACK);
	memset(&rq, 0, sizeof rq);
	rq.method = PUT;
	rq.rest = "/a";
	rq.body = big;
	rq.len = strlen(big);
	is_int(status(a, &rq), 413, "too large: status");
	free(big);
	want_err++;

	/* Shutting down: writes get 503, reads still work. */
	targets_stop(g.targets);
	rq.body = T1;
	rq.len = strlen(T1);
	is_int(status(a, &rq), 503, "stopping: a write gets 503");
	want_err++;
	rq.method = GET;
	rq.rest = "";
	is_int(status(a, &rq), 200, "stopping: a read still works");

	api_counts(a, &nreq, &nerr);
	is_int((long long)nreq, (long long)(sizeof cases / sizeof cases[0] +
	    3), "every request is counted");
	is_int((long long)nerr, (long long)want_err,
	    "every rejected request is counted as an error");
	api_free(a);
	state_free(st);
	glue_free(&g);
	return (tap_done());
}
