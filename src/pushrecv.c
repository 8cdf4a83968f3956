/*
 * pushrecv: Pushgateway-compatible ingest. A group is identified by its
 * grouping labels (job and the label pairs of the path); it keeps the
 * families last pushed to it as a pushbody, so that a push is checked in
 * full (parse, consistency, encodability, caps) before it is answered and
 * an accepted push always forwards. PUT replaces the group, POST replaces
 * the families it pushes, DELETE removes the group. After every change,
 * and then once per scrape interval (as if Prometheus scraped a
 * Pushgateway), the group's series are forwarded through remote write with
 * the grouping labels, which replace same-named labels of pushed metrics as
 * Pushgateway does, and a push_time_seconds series. A group with a ttl that
 * is not pushed again in time expires and its series get stale markers.
 * Groups are found through a hash table and capped (push_max_groups).
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event_struct.h>
#include <event2/keyvalq_struct.h>

#include "clock.h"
#include "httpd.h"
#include "labels.h"
#include "log.h"
#include "pushbody.h"
#include "pushrecv.h"
#include "series.h"
#include "timer.h"
#include "xmalloc.h"

#define PR_MAX_GROUP_LABELS	32
#define PR_MAX_VALUE		4096
/* A path label name ending so has a base64url value. */
#define PR_B64			"@base64"
#define PR_B64_LEN		(sizeof PR_B64 - 1)

struct pr_group {
	TAILQ_ENTRY(pr_group)	 entry;
	struct pr_group		*hnext;		/* hash chain */
	uint64_t		 hash;
	char			*key;		/* NUL-separated grouping */
	size_t			 keylen;
	struct ingest		 ig;
	struct pushbody		*body;
	int64_t			 push_ms;
	int64_t			 ttl_ms;	/* 0: never expires */
};

TAILQ_HEAD(pr_groups, pr_group);

struct pushrecv {
	const struct config	*cfg;
	struct pipeline		*pipeline;
	struct series_pool	*pool;		/* borrowed */
	uint64_t		 requests;
	uint64_t		 rejected;	/* 400, 413, 429 */
	struct pr_groups	 groups;	/* oldest first */
	struct pr_group		**buckets;
	size_t			 nbuckets;	/* a power of two */
	size_t			 ngroups;
	struct pushbody_limits	 limits;
	struct log_limit	 forward_log;
	struct event		 tick;
	struct buf		 text;
};

/* The grouping labels of a request, decoded from its path. */
struct pr_grouping {
	size_t		 n;
	char		*name[PR_MAX_GROUP_LABELS];
	char		*value[PR_MAX_GROUP_LABELS];
};

/* Free decoded grouping labels. */
static void
pr_grouping_free(struct pr_grouping *g)
{
	size_t	i;

	for (i = 0; i < g->n; i++) {
		free(g->name[i]);
		free(g->value[i]);
	}
	g->n = 0;
}

/* Decode URL-safe (or standard) base64, padding optional. */
static bool
pr_base64(const char *s, char **out)
{
	size_t		 len = strlen(s), i, n = 0;
	uint32_t	 acc = 0;
	int		 bits = 0, v;
	char		*p;

	if (strcmp(s, "=") == 0) {
		*out = xstrdup("");
		return (true);
	}
	p = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '=')
			break;
		if (s[i] >= 'A' && s[i] <= 'Z')
			v = s[i] - 'A';
		else if (s[i] >= 'a' && s[i] <= 'z')
			v = s[i] - 'a' + 26;
		else if (s[i] >= '0' && s[i] <= '9')
			v = s[i] - '0' + 52;
		else if (s[i] == '-' || s[i] == '+')
			v = 62;
		else if (s[i] == '_' || s[i] == '/')
			v = 63;
		else {
			free(p);
			return (false);
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			p[n++] = (char)(acc >> bits & 0xff);
		}
	}
	for (; i < len; i++) {
		if (s[i] != '=') {
			free(p);
			return (false);
		}
	}
	p[n] = '\0';
	if (strlen(p) != n) {
		free(p);
		return (false);
	}
	*out = p;
	return (true);
}

/* Parse /metrics/job/<job>{/<name>/<value>}; reply 400 on error. */
static bool
pr_parse_path(struct evhttp_request *req, const char *uri,
    struct pr_grouping *g)
{
	char	*path, *q, *seg[2 * PR_MAX_GROUP_LABELS + 2], *p, *name;
	char	*raw;
	size_t	 nseg = 0, i, j, nlen;
	bool	 b64, ok = false;

	memset(g, 0, sizeof *g);
	path = xstrdup(uri + strlen("/metrics/"));
	q = strchr(path, '?');
	if (q != NULL)
		*q = '\0';
	for (p = strtok(path, "/"); p != NULL; p = strtok(NULL, "/")) {
		if (nseg == sizeof seg / sizeof seg[0]) {
			httpd_error(req, 400, "too many grouping labels");
			goto done;
		}
		seg[nseg++] = p;
	}
	if (nseg < 2 || nseg % 2 != 0) {
		httpd_error(req, 400, "path must be /metrics/job/<job>"
		    "{/<label>/<value>}");
		goto done;
	}
	for (i = 0; i < nseg; i += 2) {
		name = seg[i];
		nlen = strlen(name);
		b64 = nlen > PR_B64_LEN &&
		    strcmp(name + nlen - PR_B64_LEN, PR_B64) == 0;
		if (b64)
			name[nlen -= PR_B64_LEN] = '\0';
		if (!label_name_valid(name, nlen) || strncmp(name, "__", 2) == 0) {
			httpd_error(req, 400, "invalid label name \"%s\" in "
			    "path", name);
			goto done;
		}
		if ((i == 0) != (strcmp(name, "job") == 0)) {
			httpd_error(req, 400, i == 0 ? "path must start with "
			    "/metrics/job/" : "job given twice in path");
			goto done;
		}
		if (b64) {
			if (!pr_base64(seg[i + 1], &raw)) {
				httpd_error(req, 400, "invalid base64 value "
				    "for label %s", name);
				goto done;
			}
		} else {
			raw = evhttp_uridecode(seg[i + 1], 0, NULL);
			if (raw == NULL) {
				httpd_error(req, 400, "invalid percent "
				    "encoding for label %s", name);
				goto done;
			}
		}
		for (j = 0; j < g->n; j++) {
			if (strcmp(g->name[j], name) == 0)
				break;
		}
		if (j < g->n || strlen(raw) > PR_MAX_VALUE ||
		    (i == 0 && *raw == '\0')) {
			httpd_error(req, 400, j < g->n ? "label %s given "
			    "twice in path" : "bad value for label %s", name);
			free(raw);
			goto done;
		}
		g->name[g->n] = xstrdup(name);
		g->value[g->n++] = raw;
	}
	ok = true;
done:
	if (!ok)
		pr_grouping_free(g);
	free(path);
	return (ok);
}

/* Build the group key: job first, then the other labels sorted by name. */
static char *
pr_key(struct pr_grouping *g, size_t *len)
{
	struct buf	 b;
	size_t		 i, j;
	char		*tmpn, *tmpv;

	for (i = 2; i < g->n; i++) {
		for (j = i; j > 1 && strcmp(g->name[j - 1], g->name[j]) > 0;
		    j--) {
			tmpn = g->name[j];
			tmpv = g->value[j];
			g->name[j] = g->name[j - 1];
			g->value[j] = g->value[j - 1];
			g->name[j - 1] = tmpn;
			g->value[j - 1] = tmpv;
		}
	}
	buf_init(&b);
	for (i = 0; i < g->n; i++) {
		buf_append(&b, g->name[i], strlen(g->name[i]) + 1);
		buf_append(&b, g->value[i], strlen(g->value[i]) + 1);
	}
	*len = b.len;
	return ((char *)b.data);
}

/* Find a group by key: the link that points at it, or at NULL. */
static struct pr_group **
pr_find(struct pushrecv *pr, const char *key, size_t len, uint64_t h)
{
	struct pr_group	**gp;

	gp = &pr->buckets[h & (pr->nbuckets - 1)];
	for (; *gp != NULL; gp = &(*gp)->hnext) {
		if ((*gp)->hash == h && (*gp)->keylen == len &&
		    memcmp((*gp)->key, key, len) == 0)
			break;
	}
	return (gp);
}

/* Double the hash table. */
static void
pr_grow(struct pushrecv *pr)
{
	struct pr_group	**old = pr->buckets, *g, *next;
	size_t		  n = pr->nbuckets, i;

	pr->nbuckets = n * 2;
	pr->buckets = xcalloc(pr->nbuckets, sizeof *pr->buckets);
	for (i = 0; i < n; i++) {
		for (g = old[i]; g != NULL; g = next) {
			next = g->hnext;
			g->hnext = pr->buckets[g->hash & (pr->nbuckets - 1)];
			pr->buckets[g->hash & (pr->nbuckets - 1)] = g;
		}
	}
	free(old);
}

/* Take a group out of the table and the list. */
static void
pr_unlink(struct pushrecv *pr, struct pr_group *g)
{
	struct pr_group	**gp;

	gp = pr_find(pr, g->key, g->keylen, g->hash);
	*gp = g->hnext;
	TAILQ_REMOVE(&pr->groups, g, entry);
	pr->ngroups--;
}

/* Render a group's families and forward them with ts. */
static void
pr_forward(struct pushrecv *pr, struct pr_group *g, int64_t ts)
{
	struct ingest_out	*out = pipeline_out(pr->pipeline);
	char			 err[256];

	buf_reset(&pr->text);
	pushbody_render(g->body, &pr->text);
	/* pushbody checked everything forwarding needs: a bug otherwise. */
	if (!ingest_page(&g->ig, (const char *)pr->text.data, pr->text.len,
	    PT_FORMAT_TEXT, ts, out, err, sizeof err))
		log_limited(&pr->forward_log, LOG_LEVEL_ERROR, err,
		    "stored push does not parse", "err=%s", err);
	ingest_synthetic(&g->ig, "push_time_seconds",
	    (double)g->push_ms / 1000, ts, out);
	pipeline_dispatch(pr->pipeline);
}

/* Free a group, stale-marking its series unless stopping. */
static void
pr_group_free(struct pushrecv *pr, struct pr_group *g, bool stale)
{
	ingest_free(&g->ig, clock_now_ms(),
	    stale ? pipeline_out(pr->pipeline) : NULL);
	if (stale)
		pipeline_dispatch(pr->pipeline);
	pushbody_free(g->body);
	free(g->key);
	free(g);
}

/* Read the optional ?ttl=DUR of a push; reply 400 when it is bad. */
static bool
pr_ttl(struct evhttp_request *req, const char *uri, int64_t *ttl)
{
	struct evkeyvalq	 q;
	const char		*v, *qs;
	bool			 ok = true;

	*ttl = 0;
	qs = strchr(uri, '?');
	if (qs == NULL)
		return (true);
	if (evhttp_parse_query_str(qs + 1, &q) != 0) {
		httpd_error(req, 400, "malformed query string");
		return (false);
	}
	v = evhttp_find_header(&q, "ttl");
	if (v != NULL && (!duration_parse(v, ttl) || *ttl <= 0)) {
		httpd_error(req, 400, "invalid ttl \"%s\" (use e.g. 30s, 5m)",
		    v);
		ok = false;
	}
	evhttp_clear_headers(&q);
	return (ok);
}

/* Create a group for a grouping and add it to the table. */
static struct pr_group *
pr_group_new(struct pushrecv *pr, struct pr_grouping *gr, char *key,
    size_t keylen, uint64_t h)
{
	struct pr_group	*g;
	struct label	 tl[PR_MAX_GROUP_LABELS];
	size_t		 i, n = 0;

	g = xcalloc(1, sizeof *g);
	g->key = key;
	g->keylen = keylen;
	g->hash = h;
	g->body = pushbody_new();
	for (i = 0; i < gr->n; i++) {
		if (*gr->value[i] == '\0')
			continue;
		tl[n].name = gr->name[i];
		tl[n].name_len = strlen(gr->name[i]);
		tl[n].value = gr->value[i];
		tl[n++].value_len = strlen(gr->value[i]);
	}
	ingest_init(&g->ig, tl, n, NULL, pr->pool);
	g->ig.override = true;
	if (pr->ngroups >= pr->nbuckets)
		pr_grow(pr);
	g->hnext = pr->buckets[h & (pr->nbuckets - 1)];
	pr->buckets[h & (pr->nbuckets - 1)] = g;
	TAILQ_INSERT_TAIL(&pr->groups, g, entry);
	pr->ngroups++;
	return (g);
}

/* Reply to a push pushbody refused: 400, or 413 naming the config key. */
static void
pr_refuse(struct evhttp_request *req, enum pushbody_status st,
    const char *what, const char *err)
{
	const char	*key = NULL;

	if (st == PUSHBODY_TOO_LARGE)
		key = strstr(err, "max_families") != NULL ?
		    "push_max_families" : "push_max_samples";
	if (key != NULL)
		httpd_error(req, 413, "%s too large: %s; the cap is the "
		    "config key %s", what, err, key);
	else
		httpd_error(req, 400, "invalid %s: %s", what, err);
}

/*
 * Check and store a push into a group (new when *gp is NULL): the group,
 * or NULL after replying, with nothing stored.
 */
static struct pr_group *
pr_store(struct pushrecv *pr, struct evhttp_request *req,
    struct pr_group **gp, struct pr_grouping *gr, char *key, size_t keylen,
    uint64_t h)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct pushbody		*b;
	struct pr_group		*g;
	enum pushbody_status	 st;
	size_t			 len;
	const char		*body;
	char			 err[512];
	bool			 put, fresh = *gp == NULL;

	put = evhttp_request_get_command(req) == EVHTTP_REQ_PUT;
	if (fresh && pr->ngroups >= pr->cfg->push_max_groups) {
		httpd_error(req, 429, "too many push groups: %zu, the cap "
		    "(push_max_groups); delete groups or give pushes a ttl",
		    pr->ngroups);
		return (NULL);
	}
	len = evbuffer_get_length(in);
	body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : NULL;
	b = pushbody_new();
	st = pushbody_parse(b, body, len, &pr->limits, err, sizeof err);
	if (st != PUSHBODY_OK) {
		pushbody_free(b);
		pr_refuse(req, st, "push", err);
		return (NULL);
	}
	/* A new group may grow the table: gp is stale after this. */
	g = fresh ? pr_group_new(pr, gr, key, keylen, h) : *gp;
	if (put) {
		/* The push is the whole group, and parsing checked it all. */
		pushbody_free(g->body);
		g->body = b;
		return (g);
	}
	st = pushbody_merge(g->body, b, false, &pr->limits, err, sizeof err);
	if (st != PUSHBODY_OK) {
		pr_refuse(req, st, "push", err);
		if (fresh) {
			pr_unlink(pr, g);
			g->key = NULL;	/* the caller's */
			pr_group_free(pr, g, false);
		}
		return (NULL);
	}
	return (g);
}

/* Handle a request to /metrics/job/... */
void
pushrecv_handle_cb(struct evhttp_request *req, const char *rest,
    const struct evhttp_uri *u, void *arg)
{
	struct pushrecv		 *pr = arg;
	const char		 *uri = evhttp_request_get_uri(req);
	struct pr_grouping	  gr;
	struct pr_group		**gp, *g;
	enum evhttp_cmd_type	  cmd = evhttp_request_get_command(req);
	size_t			  keylen;
	uint64_t		  h;
	char			 *key;
	int64_t			  ttl;

	pr->requests++;
	if (cmd != EVHTTP_REQ_PUT && cmd != EVHTTP_REQ_POST &&
	    cmd != EVHTTP_REQ_DELETE) {
		httpd_error(req, 405, "use PUT, POST or DELETE on "
		    "/metrics/job/...");
		goto rejected;
	}
	if (!httpd_authorized(pr->cfg, req, true))
		goto rejected;
	if (!pr_parse_path(req, uri, &gr))
		goto rejected;
	key = pr_key(&gr, &keylen);
	h = series_hash(key, keylen);
	gp = pr_find(pr, key, keylen, h);
	if (cmd == EVHTTP_REQ_DELETE) {
		if (*gp != NULL) {
			g = *gp;
			pr_unlink(pr, g);
			pr_group_free(pr, g, true);
		}
		free(key);
		pr_grouping_free(&gr);
		httpd_reply(req, 202, "Accepted", "text/plain", NULL);
		return;
	}
	g = NULL;
	if (pr_ttl(req, uri, &ttl))
		g = pr_store(pr, req, gp, &gr, key, keylen, h);
	if (g == NULL) {
		free(key);
		pr_grouping_free(&gr);
		goto rejected;
	}
	if (g->key != key)
		free(key);
	g->push_ms = clock_now_ms();
	g->ttl_ms = ttl;
	pr_forward(pr, g, g->push_ms);
	pr_grouping_free(&gr);
	httpd_reply(req, 200, "OK", "text/plain", NULL);
	return;

rejected:
	pr->rejected++;
}

/* Forward every group again and expire those past their ttl. */
static void
pr_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pushrecv	*pr = arg;
	struct pr_group	*g, *next;
	int64_t		 now = clock_now_ms();

	for (g = TAILQ_FIRST(&pr->groups); g != NULL; g = next) {
		next = TAILQ_NEXT(g, entry);
		if (g->ttl_ms > 0 && now - g->push_ms >= g->ttl_ms) {
			log_info("pushed group expired", "job=%s ttl_ms=%lld",
			    g->key + strlen(g->key) + 1, (long long)g->ttl_ms);
			pr_unlink(pr, g);
			pr_group_free(pr, g, true);
			continue;
		}
		pr_forward(pr, g, now);
	}
	timer_arm_ms(&pr->tick, pr->cfg->scrape_interval_ms);
}

/* Set up the push receiver. */
struct pushrecv *
pushrecv_new(struct event_base *evbase, const struct config *cfg,
    struct pipeline *pl, struct series_pool *pool)
{
	struct pushrecv	*pr;

	pr = xcalloc(1, sizeof *pr);
	pr->cfg = cfg;
	pr->pipeline = pl;
	pr->pool = pool;
	TAILQ_INIT(&pr->groups);
	pr->nbuckets = 64;
	pr->buckets = xcalloc(pr->nbuckets, sizeof *pr->buckets);
	pr->limits.max_families = cfg->push_max_families;
	pr->limits.max_samples = cfg->push_max_samples;
	buf_init(&pr->text);
	evtimer_assign(&pr->tick, evbase, pr_tick_cb, pr);
	timer_arm_ms(&pr->tick, cfg->scrape_interval_ms);
	return (pr);
}

/* Pushes received. */
uint64_t
pushrecv_requests(const struct pushrecv *pr)
{
	return (pr->requests);
}

/* Pushes rejected (any status but 200 and 202). */
uint64_t
pushrecv_rejected(const struct pushrecv *pr)
{
	return (pr->rejected);
}

/* Groups held. */
size_t
pushrecv_groups(const struct pushrecv *pr)
{
	return (pr->ngroups);
}

/* Visit every held group, in the order they were first pushed. */
void
pushrecv_foreach_group(const struct pushrecv *pr,
    void (*fn)(void *, const struct pushrecv_group_info *), void *arg)
{
	const struct pr_group		*g;
	struct pushrecv_group_info	 gi;

	TAILQ_FOREACH(g, &pr->groups, entry) {
		gi.key = g->key;
		gi.keylen = g->keylen;
		gi.push_ms = g->push_ms;
		gi.ttl_ms = g->ttl_ms;
		fn(arg, &gi);
	}
}

/* Free every group (no stale markers: rwbridge is stopping). */
void
pushrecv_free(struct pushrecv *pr)
{
	struct pr_group	*g;

	if (pr == NULL)
		return;
	evtimer_del(&pr->tick);
	while (!TAILQ_EMPTY(&pr->groups)) {
		g = TAILQ_FIRST(&pr->groups);
		TAILQ_REMOVE(&pr->groups, g, entry);
		pr_group_free(pr, g, false);
	}
	free(pr->buckets);
	buf_free(&pr->text);
	free(pr);
}
