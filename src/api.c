/*
 * api: the target registration API, so that rollout servers started on
 * random ports can be scraped without rewriting any Prometheus config.
 *
 *	GET    /api/v1/targets			every target, with its health
 *	GET    /api/v1/targets/{group}		one group (404 if unknown)
 *	PUT    /api/v1/targets/{group}		replace the group atomically
 *	POST   /api/v1/targets/{group}		add targets to the group
 *	DELETE /api/v1/targets/{group}		remove the group
 *	DELETE /api/v1/targets/{group}?target=host:port
 *
 * Bodies have the shape of a file_sd entry plus optional scrape settings
 * ({"targets":["10.0.0.5:34567"],"labels":{...},"interval":"5s"}) and go
 * through the same parser as file_sd files. A request is checked in full
 * before the registry is touched, so a rejected one changes nothing; a
 * successful write is logged and saved to the state file. The listing has
 * the shape of Prometheus's /api/v1/targets data.activeTargets.
 *
 * api_exec works on a plain request and reply, so every route and error is
 * unit-tested without a listener; api_handle_cb is the evhttp adapter.
 */
#include <sys/queue.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api.h"
#include "apigroup.h"
#include "tspec.h"
#include "httpd.h"
#include "log.h"
#include "xmalloc.h"

#define API_MAX_BODY	(1u << 20)
#define API_MAX_MSG	512		/* error messages are cut here */

struct api {
	struct targets		*targets;
	const struct config	*cfg;
	struct state		*state;
	uint64_t		 requests;
	uint64_t		 errors;
	size_t			 ngroups;	/* API groups, once counted */
	bool			 counted;
};

/* What a listing visits: the array to fill and an optional group. */
struct api_list {
	cJSON		*arr;
	const char	*group;		/* NULL: every group */
	size_t		 n;
};

/* Create the API over a registry. */
struct api *
api_new(struct targets *ts, const struct config *cfg, struct state *st)
{
	struct api	*a;

	a = xcalloc(1, sizeof *a);
	a->targets = ts;
	a->cfg = cfg;
	a->state = st;
	return (a);
}

/* Free the API (not what it borrows). */
void
api_free(struct api *a)
{
	free(a);
}

/* State files written. */
uint64_t
api_state_saves(const struct api *a)
{
	return (state_saves(a->state));
}

/* Requests handled and rejected. */
void
api_counts(const struct api *a, uint64_t *requests, uint64_t *errors)
{
	*requests = a->requests;
	*errors = a->errors;
}

/* Set up an empty reply. */
void
api_reply_init(struct api_reply *rep)
{
	memset(rep, 0, sizeof *rep);
	buf_init(&rep->body);
}

/* Free a reply's body. */
void
api_reply_free(struct api_reply *rep)
{
	buf_free(&rep->body);
}

/* Reply with an error and count it. */
static void __attribute__((format(printf, 4, 5)))
api_fail(struct api *a, struct api_reply *rep, int code, const char *fmt,
    ...)
{
	char	msg[API_MAX_MSG];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	a->errors++;
	rep->code = code;
	buf_reset(&rep->body);
	httpd_error_json(&rep->body, msg);
}

/* Reply with a JSON document. */
static void
api_reply_json(struct api_reply *rep, int code, cJSON *doc)
{
	char	*s;

	s = cJSON_PrintUnformatted(doc);
	rep->code = code;
	buf_reset(&rep->body);
	buf_append(&rep->body, s, strlen(s));
	buf_putc(&rep->body, '\n');
	cJSON_free(s);
}

/* Add one target to the JSON list (a targets_fn). */
static void
api_list_one(void *arg, struct target *t)
{
	struct api_list	*l = arg;
	cJSON		*o, *labels, *disc;
	size_t		 i;
	char		 ts[64];

	if (l->group != NULL && strcmp(l->group, t->group) != 0)
		return;
	l->n++;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "group", t->group);
	cJSON_AddStringToObject(o, "scrapeUrl", t->url);
	cJSON_AddStringToObject(o, "job", t->job);
	cJSON_AddStringToObject(o, "instance", t->instance);
	labels = cJSON_AddObjectToObject(o, "labels");
	cJSON_AddStringToObject(labels, "job", t->job);
	cJSON_AddStringToObject(labels, "instance", t->instance);
	disc = cJSON_AddObjectToObject(o, "discoveredLabels");
	for (i = 0; i < t->nlabels; i++) {
		cJSON_DeleteItemFromObject(labels, t->labels[i].name);
		cJSON_AddStringToObject(labels, t->labels[i].name,
		    t->labels[i].value);
		cJSON_AddStringToObject(disc, t->labels[i].name,
		    t->labels[i].value);
	}
	cJSON_AddStringToObject(o, "health", target_health_name(t->health));
	if (t->last_scrape_ms != 0) {
		snprintf(ts, sizeof ts, "%.3f",
		    (double)t->last_scrape_ms / 1000);
		cJSON_AddRawToObject(o, "lastScrape", ts);
	} else
		cJSON_AddNullToObject(o, "lastScrape");
	cJSON_AddNumberToObject(o, "lastScrapeDuration", t->last_duration);
	cJSON_AddNumberToObject(o, "lastSamples", (double)t->last_samples);
	cJSON_AddStringToObject(o, "lastError", t->last_error);
	cJSON_AddNumberToObject(o, "scrapeIntervalSeconds",
	    (double)t->interval_ms / 1000);
	cJSON_AddNumberToObject(o, "scrapeTimeoutSeconds",
	    (double)t->timeout_ms / 1000);
	cJSON_AddItemToArray(l->arr, o);
}

/* Add one dropped target to the list (a targets_foreach_dropped fn). */
static void
api_list_dropped_cb(void *arg, const char *discovered)
{
	cJSON	*arr = arg, *o, *labels;

	labels = cJSON_Parse(discovered);
	if (labels == NULL)
		return;
	o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "discoveredLabels", labels);
	cJSON_AddItemToArray(arr, o);
}

/* List the targets relabel_configs dropped (every group's). */
static void
api_list_dropped(struct api *a, cJSON *arr, const char *group)
{
	if (group == NULL)
		targets_foreach_dropped(a->targets, api_list_dropped_cb, arr);
}

/* Add one target another member owns (a targets_foreach_skipped fn). */
static void
api_list_skipped_cb(void *arg, const struct targets_skip *k)
{
	cJSON	*arr = arg, *o;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "group", k->group);
	cJSON_AddStringToObject(o, "job", k->job);
	cJSON_AddStringToObject(o, "scrapeUrl", k->url);
	cJSON_AddStringToObject(o, "reason", k->reason);
	cJSON_AddItemToArray(arr, o);
}

/* GET: list every target, or one group's. */
static void
api_get(struct api *a, struct api_reply *rep, const char *group)
{
	struct api_list	 l;
	cJSON		*doc, *data, *skipped;

	memset(&l, 0, sizeof l);
	l.group = group;
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "status", "success");
	data = cJSON_AddObjectToObject(doc, "data");
	l.arr = cJSON_AddArrayToObject(data, "activeTargets");
	api_list_dropped(a, cJSON_AddArrayToObject(data, "droppedTargets"),
	    group);
	skipped = cJSON_AddArrayToObject(data, "skippedTargets");
	targets_foreach_skipped(a->targets, group, api_list_skipped_cb,
	    skipped);
	targets_foreach(a->targets, api_list_one, &l);
	if (group != NULL && l.n == 0 && cJSON_GetArraySize(skipped) == 0)
		api_fail(a, rep, 404, "unknown group \"%.128s\"", group);
	else
		api_reply_json(rep, 200, doc);
	cJSON_Delete(doc);
}

/* Log a change, save the state and reply with the group's size. */
static void
api_changed(struct api *a, const struct api_request *rq,
    struct api_reply *rep, const char *group, const char *op,
    const char *target)
{
	cJSON		*doc, *data;
	const char	*peer = rq->peer != NULL ? rq->peer : "?";
	size_t		 n;

	n = targets_count_group(a->targets, group);
	if (target != NULL)
		log_info("target removed", "group=%s target=%s targets=%zu "
		    "from=%s", group, target, n, peer);
	else
		log_info("target group changed", "op=%s group=%s targets=%zu "
		    "from=%s", op, group, n, peer);
	doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "status", "success");
	data = cJSON_AddObjectToObject(doc, "data");
	cJSON_AddStringToObject(data, "group", group);
	cJSON_AddNumberToObject(data, "targets", (double)n);
	state_changed(a->state);
	if (state_failed(a->state)) {
		cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "warnings"),
		    cJSON_CreateString("the change is live but was not saved "
		    "to the state file (see the log)"));
	}
	api_reply_json(rep, 200, doc);
	cJSON_Delete(doc);
}

/* Count the distinct groups of a listing ordered by group. */
static void
api_count_cb(void *arg, struct target *t)
{
	struct api_list	*l = arg;

	if (tspec_group_reserved(t->group))
		return;
	if (l->group == NULL || strcmp(l->group, t->group) != 0)
		l->n++;
	l->group = t->group;
}

/* The number of API groups: counted once, then kept up to date. */
static size_t
api_groups(struct api *a)
{
	struct api_list	l;

	if (!a->counted) {
		memset(&l, 0, sizeof l);
		targets_foreach(a->targets, api_count_cb, &l);
		a->ngroups = l.n;
		a->counted = true;
	}
	return (a->ngroups);
}

/* Update the group count after a write to a group that existed or not. */
static void
api_groups_update(struct api *a, const char *group, bool had)
{
	bool	has = targets_has_group(a->targets, group);

	if (!a->counted || has == had)
		return;
	if (has)
		a->ngroups++;
	else if (a->ngroups > 0)
		a->ngroups--;
}

/* Check that the API may write a group; reply and false if not. */
static bool
api_writable(struct api *a, struct api_reply *rep, const char *group)
{
	if (tspec_group_reserved(group)) {
		api_fail(a, rep, 403, "group \"%.300s\" belongs to rwbridge "
		    "(its config, its own /metrics or a file_sd file) and "
		    "cannot be changed through the API", group);
		return (false);
	}
	if (!tspec_group_name_valid(group)) {
		api_fail(a, rep, 400, "invalid group name \"%.128s\" (want "
		    "[A-Za-z0-9_.:-], 1 to 128 characters)", group);
		return (false);
	}
	if (targets_stopped(a->targets)) {
		api_fail(a, rep, 503, "rwbridge is shutting down");
		return (false);
	}
	return (true);
}

/* PUT (replace) or POST (add): check the body in full, then apply. */
static void
api_put(struct api *a, const struct api_request *rq, struct api_reply *rep,
    const char *group, bool replace)
{
	struct tspec_group	 g;
	cJSON			*doc = NULL;
	const char		*body = rq->body != NULL ? rq->body : "";
	const char		*end = NULL;
	char			 err[1024];
	size_t			 len = rq->len, i;
	bool			 had;

	tspec_group_init(&g);
	if (!api_writable(a, rep, group))
		return;
	if (rq->query != NULL && *rq->query != '\0') {
		api_fail(a, rep, 400, "%s takes no query parameters",
		    replace ? "PUT" : "POST");
		return;
	}
	if (len > API_MAX_BODY) {
		api_fail(a, rep, 413, "request body is %zu bytes, at most %u",
		    len, API_MAX_BODY);
		return;
	}
	doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (doc == NULL) {
		tspec_json_error(body, len, end, err, sizeof err);
		api_fail(a, rep, 400, "%s", err);
		return;
	}
	while (end < body + len && (*end == ' ' || *end == '\t' ||
	    *end == '\r' || *end == '\n'))
		end++;
	if (end < body + len) {
		tspec_json_error(body, len, end, err, sizeof err);
		api_fail(a, rep, 400, "%s", err);
		goto out;
	}
	if (!cJSON_IsObject(doc)) {
		api_fail(a, rep, 400, "$: want an object like {\"targets\":"
		    "[\"host:port\"],\"labels\":{...}}");
		goto out;
	}
	if (!tspec_parse_entry(doc, "$", TSPEC_ENTRY_API, &g, err,
	    sizeof err)) {
		api_fail(a, rep, 400, "%s", err);
		goto out;
	}
	tspec_group_dedup(&g);
	for (i = 0; i < g.nspecs; i++) {
		if (!target_spec_check(&g.specs[i], err, sizeof err)) {
			api_fail(a, rep, 400, "$.targets: %s", err);
			goto out;
		}
	}

	had = targets_has_group(a->targets, group);
	if (!had && g.nspecs > 0 && api_groups(a) >= a->cfg->api_max_groups) {
		api_fail(a, rep, 429, "too many registered groups: %zu, the "
		    "cap (config key api_max_groups); delete groups first",
		    api_groups(a));
		goto out;
	}

	/* Everything is checked: from here on nothing can fail. */
	apigroup_register(a->targets, a->cfg, group, &g, replace);
	api_groups_update(a, group, had);
	api_changed(a, rq, rep, group, replace ? "replace" : "add", NULL);
out:
	tspec_group_free(&g);
	cJSON_Delete(doc);
}

/* DELETE: remove a group, or one target with ?target=host:port. */
static void
api_delete(struct api *a, const struct api_request *rq,
    struct api_reply *rep, const char *group)
{
	struct evkeyvalq	 params;
	struct evkeyval		*kv;
	const char		*target = NULL;
	char			 err[320];
	bool			 had;

	if (!api_writable(a, rep, group))
		return;
	TAILQ_INIT(&params);
	if (rq->query != NULL &&
	    evhttp_parse_query_str(rq->query, &params) != 0) {
		api_fail(a, rep, 400, "malformed query string");
		goto out;
	}
	TAILQ_FOREACH(kv, &params, next) {
		if (strcmp(kv->key, "target") != 0) {
			api_fail(a, rep, 400, "unknown query parameter "
			    "\"%.64s\" (only target=host:port)", kv->key);
			goto out;
		}
		if (target != NULL) {
			api_fail(a, rep, 400, "one target per request");
			goto out;
		}
		target = kv->value;
	}
	if (target != NULL && strstr(target, "://") == NULL &&
	    !tspec_check_address(target, err, sizeof err)) {
		api_fail(a, rep, 400, "%s", err);
		goto out;
	}
	/* A group whose targets relabel_configs all dropped exists too. */
	had = targets_has_group(a->targets, group);
	if (!had && !targets_has_dropped(a->targets, group)) {
		api_fail(a, rep, 404, "unknown group \"%s\"", group);
		goto out;
	}
	if (target == NULL) {
		targets_remove_group(a->targets, group);
		targets_set_dropped(a->targets, group, NULL, 0);
		api_groups_update(a, group, had);
		api_changed(a, rq, rep, group, "remove", NULL);
		goto out;
	}
	if (!targets_remove(a->targets, group, target)) {
		api_fail(a, rep, 404, "target \"%.300s\" is not in group "
		    "\"%s\"", target, group);
		goto out;
	}
	api_groups_update(a, group, true);
	api_changed(a, rq, rep, group, "remove", target);
out:
	evhttp_clear_headers(&params);
}

/* Handle /api/v1/targets[...]. */
void
api_exec(struct api *a, const struct api_request *rq, struct api_reply *rep)
{
	enum evhttp_cmd_type	 cmd = rq->method;
	const char		*rest = rq->rest;
	char			*group, msg[256];
	size_t			 len;
	int			 code;
	bool			 write;

	a->requests++;
	write = cmd == EVHTTP_REQ_PUT || cmd == EVHTTP_REQ_POST ||
	    cmd == EVHTTP_REQ_DELETE;
	if (!write && cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		rep->allow = "GET, HEAD, PUT, POST, DELETE";
		api_fail(a, rep, 405, "use GET, PUT, POST or DELETE");
		return;
	}
	code = httpd_check_auth(a->cfg, rq->authorization, write, msg,
	    sizeof msg);
	if (code != 0) {
		rep->challenge = code == 401;
		api_fail(a, rep, code, "%s", msg);
		return;
	}
	if (*rest == '\0' || strcmp(rest, "/") == 0) {
		if (write) {
			rep->allow = "GET, HEAD";
			api_fail(a, rep, 405, "use PUT, POST or DELETE on "
			    "/api/v1/targets/{group}");
			return;
		}
		api_get(a, rep, NULL);
		return;
	}
	group = evhttp_uridecode(rest + 1, 0, &len);
	if (group == NULL || strlen(group) != len) {
		api_fail(a, rep, 400, "malformed group name");
		free(group);
		return;
	}
	switch (cmd) {
	case EVHTTP_REQ_PUT:
		api_put(a, rq, rep, group, true);
		break;
	case EVHTTP_REQ_POST:
		api_put(a, rq, rep, group, false);
		break;
	case EVHTTP_REQ_DELETE:
		api_delete(a, rq, rep, group);
		break;
	default:
		api_get(a, rep, group);
		break;
	}
	free(group);
}

/* Describe the peer of a request for the log. */
static void
api_peer(struct evhttp_request *req, char *dst, size_t len)
{
	struct evhttp_connection	*c;
	char				*addr = NULL;
	ev_uint16_t			 port = 0;

	c = evhttp_request_get_connection(req);
	if (c != NULL)
		evhttp_connection_get_peer(c, &addr, &port);
	snprintf(dst, len, "%s:%u", addr != NULL ? addr : "?",
	    (unsigned)port);
}

/* Adapt an evhttp request to api_exec and send its reply. */
void
api_handle_cb(struct evhttp_request *req, const char *rest,
    const struct evhttp_uri *u, void *arg)
{
	struct api		*a = arg;
	struct api_request	 rq;
	struct api_reply	 rep;
	struct evbuffer		*in;
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	char			 peer[128];

	memset(&rq, 0, sizeof rq);
	rq.method = evhttp_request_get_command(req);
	rq.rest = rest;
	rq.query = evhttp_uri_get_query(u);
	rq.authorization = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	in = evhttp_request_get_input_buffer(req);
	rq.len = evbuffer_get_length(in);
	if (rq.len > 0 && rq.len <= API_MAX_BODY)
		rq.body = (const char *)evbuffer_pullup(in, -1);
	api_peer(req, peer, sizeof peer);
	rq.peer = peer;
	api_reply_init(&rep);
	api_exec(a, &rq, &rep);
	if (rep.allow != NULL)
		evhttp_add_header(out, "Allow", rep.allow);
	if (rep.challenge)
		evhttp_add_header(out, "WWW-Authenticate",
		    "Bearer realm=\"rwbridge\"");
	httpd_reply(req, rep.code, httpd_reason(rep.code), "application/json",
	    &rep.body);
	api_reply_free(&rep);
}
