/*
 * pushgw: the Pushgateway sink. One group per target, keyed by the target's
 * registry key in a hash table that reuses the registry's hash of that key,
 * so a page costs O(1) however many targets there are; requests go through
 * the shared curl multi handle, so a slow or dead Pushgateway never blocks
 * scraping.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event_struct.h>

#include "log.h"
#include "pushgw.h"
#include "timer.h"
#include "xmalloc.h"

#define PUSHGW_MIN_BACKOFF_MS	250
#define PUSHGW_MAX_BACKOFF_MS	30000
#define PUSHGW_TIMEOUT_MS	10000L
#define PUSHGW_PATH		"/metrics"	/* then /job/<job>... */
#define PUSHGW_MIN_BUCKETS	64

enum pg_op {
	PG_NONE,
	PG_PUT,
	PG_DELETE
};

struct pg_group {
	struct pushgw		*pg;
	struct pg_group		*next;		/* in its bucket */
	char			*key;		/* the target's registry key */
	size_t			 keylen;
	uint64_t		 hash;
	char			*url;
	CURL			*easy;
	struct httpc_req	 req;
	struct event		 retry;
	bool			 waiting;
	enum pg_op		 inflight_op;
	enum pg_op		 pending_op;
	struct buf		 pending;	/* body of the pending PUT */
	struct buf		 body;		/* body in flight */
	int64_t			 backoff_ms;
	struct log_limit	 refused_log;	/* this group's bodies refused */
};

struct pushgw {
	struct event_base	*evbase;
	struct httpc		*httpc;
	const struct config_pushgateway *cfg;
	char			*base;		/* URL without a trailing / */
	struct pg_group		**buckets;
	size_t			 nbuckets;
	size_t			 ngroups;
	uint64_t		 ok;
	uint64_t		 failed;
	struct log_limit	 fail_log;	/* one line per state, minute */
};

static void	pg_kick(struct pg_group *);

/* Append s as one path segment, using the @base64 form when needed. */
static void
pg_segment(struct buf *b, const char *name, const char *value)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	const unsigned char	*p = (const unsigned char *)value;
	size_t			 len = strlen(value), i;
	bool			 plain = len > 0;
	uint32_t		 v;

	for (i = 0; i < len && plain; i++) {
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		    (p[i] >= 'A' && p[i] <= 'Z') ||
		    (p[i] >= '0' && p[i] <= '9') || p[i] == '.' ||
		    p[i] == '_' || p[i] == '-' || p[i] == ':'))
			plain = false;
	}
	if (plain) {
		buf_printf(b, "/%s/%s", name, value);
		return;
	}
	/* Pushgateway's @base64 form: URL-safe alphabet; "=" for empty. */
	buf_printf(b, "/%s@base64/", name);
	if (len == 0) {
		buf_putc(b, '=');
		return;
	}
	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		buf_putc(b, (uint8_t)b64[v >> 18 & 63]);
		buf_putc(b, (uint8_t)b64[v >> 12 & 63]);
		buf_putc(b, (uint8_t)b64[v >> 6 & 63]);
		buf_putc(b, (uint8_t)b64[v & 63]);
	}
	if (len - i == 1) {
		v = (uint32_t)p[i] << 16;
		buf_putc(b, (uint8_t)b64[v >> 18 & 63]);
		buf_putc(b, (uint8_t)b64[v >> 12 & 63]);
		buf_append(b, "==", 2);
	} else if (len - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		buf_putc(b, (uint8_t)b64[v >> 18 & 63]);
		buf_putc(b, (uint8_t)b64[v >> 12 & 63]);
		buf_putc(b, (uint8_t)b64[v >> 6 & 63]);
		buf_putc(b, '=');
	}
}

/* Build /metrics/job/<job>{/<name>/<value>} from name/value pairs. */
static void
pushgw_group_path(struct buf *b, const char *job, const char *const *kv,
    size_t npairs)
{
	size_t	i;

	buf_append(b, PUSHGW_PATH, strlen(PUSHGW_PATH));
	pg_segment(b, "job", job);
	for (i = 0; i < npairs; i++)
		pg_segment(b, kv[2 * i], kv[2 * i + 1]);
}

/* Render a page as text without timestamps. */
static bool
pushgw_render(const char *body, size_t len, enum pt_format fmt,
    struct buf *out, char *err, size_t errlen)
{
	struct promtext		 p;
	struct pt_item		 it;
	enum pt_kind		 k;

	promtext_init(&p, body, len, fmt);
	for (;;) {
		k = promtext_next(&p, &it, err, errlen);
		if (k == PT_EOF)
			return (true);
		if (k == PT_ERROR)
			return (false);
		switch (k) {
		case PT_HELP:
			if (fmt != PT_FORMAT_TEXT)
				break;
			buf_printf(out, "# HELP %.*s %.*s\n",
			    (int)it.name.len, it.name.p, (int)it.text.len,
			    it.text.p);
			break;
		case PT_TYPE:
			/* OpenMetrics families differ in naming: untyped. */
			if (fmt != PT_FORMAT_TEXT)
				break;
			buf_printf(out, "# TYPE %.*s %s\n", (int)it.name.len,
			    it.name.p, promtext_text_type(it.type));
			break;
		case PT_SAMPLE:
			buf_append(out, it.series.p, it.series.len);
			buf_putc(out, ' ');
			buf_put_float(out, it.value);
			buf_putc(out, '\n');
			break;
		default:
			break;
		}
	}
}

/* Retry after a backoff. */
static void
pg_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pg_group	*g = arg;

	g->waiting = false;
	pg_kick(g);
}

/* The bucket a hash falls in. */
static struct pg_group **
pg_bucket(const struct pushgw *pg, uint64_t hash)
{
	return (&pg->buckets[hash & (pg->nbuckets - 1)]);
}

/* Free a group once it has nothing left to do. */
static void
pg_group_free(struct pg_group *g)
{
	struct pg_group	**gp;

	for (gp = pg_bucket(g->pg, g->hash); *gp != NULL; gp = &(*gp)->next) {
		if (*gp == g) {
			*gp = g->next;
			g->pg->ngroups--;
			break;
		}
	}
	httpc_cancel(g->pg->httpc, &g->req);
	evtimer_del(&g->retry);
	curl_easy_cleanup(g->easy);
	buf_free(&g->pending);
	buf_free(&g->body);
	free(g->key);
	free(g->url);
	free(g);
}

/* Handle the end of a push. */
static void
pg_done_cb(struct httpc_req *req, CURLcode rc)
{
	struct pg_group	*g = req->arg;
	long		 code = 0;
	enum pg_op	 op = g->inflight_op;
	uint64_t	 held;
	char		 state[48];
	bool		 refused;

	g->inflight_op = PG_NONE;
	if (rc == CURLE_OK)
		curl_easy_getinfo(g->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code < 300) {
		g->pg->ok++;
		g->backoff_ms = 0;
		if (g->pg->fail_log.active) {
			held = log_limit_clear(&g->pg->fail_log);
			log_info("pushgateway push recovered", "url=%s "
			    "repeated=%" PRIu64, g->url, held);
		}
		if (g->refused_log.active) {
			held = log_limit_clear(&g->refused_log);
			log_info("pushgateway push accepted again", "url=%s "
			    "repeated=%" PRIu64, g->url, held);
		}
		if (op == PG_DELETE && g->pending_op == PG_NONE) {
			pg_group_free(g);
			return;
		}
		pg_kick(g);
		return;
	}
	g->pg->failed++;
	/*
	 * A refused body is this group's matter (other groups may push
	 * fine); an unreachable or failing Pushgateway is everyone's.
	 */
	refused = code >= 400 && code < 500 && code != 429;
	snprintf(state, sizeof state, "%ld %d", code, (int)rc);
	log_limited(refused ? &g->refused_log : &g->pg->fail_log,
	    LOG_LEVEL_WARN, state, "pushgateway push failed", "url=%s "
	    "status=%ld err=%s", g->url, code, rc == CURLE_OK ? "" :
	    curl_easy_strerror(rc));
	if (refused) {
		/* The Pushgateway refused this body: retrying will not help. */
		if (op == PG_DELETE && g->pending_op == PG_NONE) {
			pg_group_free(g);
			return;
		}
		pg_kick(g);
		return;
	}
	if (g->pending_op == PG_NONE) {
		/* Keep the failed request to try again. */
		g->pending_op = op;
		if (op == PG_PUT) {
			buf_reset(&g->pending);
			buf_append(&g->pending, g->body.data, g->body.len);
		}
	}
	g->backoff_ms = g->backoff_ms == 0 ? PUSHGW_MIN_BACKOFF_MS :
	    g->backoff_ms * 2;
	if (g->backoff_ms > PUSHGW_MAX_BACKOFF_MS)
		g->backoff_ms = PUSHGW_MAX_BACKOFF_MS;
	g->waiting = true;
	timer_arm_ms(&g->retry, g->backoff_ms);
}

/* Start the pending request if the group is free. */
static void
pg_kick(struct pg_group *g)
{
	if (g->req.active || g->waiting || g->pending_op == PG_NONE)
		return;
	g->inflight_op = g->pending_op;
	g->pending_op = PG_NONE;
	if (g->inflight_op == PG_PUT) {
		buf_reset(&g->body);
		buf_append(&g->body, g->pending.data, g->pending.len);
		buf_putc(&g->body, '\0');
		g->body.len--;
		curl_easy_setopt(g->easy, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(g->easy, CURLOPT_POSTFIELDS, g->body.data);
		curl_easy_setopt(g->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)g->body.len);
	} else {
		curl_easy_setopt(g->easy, CURLOPT_CUSTOMREQUEST, "DELETE");
		curl_easy_setopt(g->easy, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(g->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)0);
	}
	if (httpc_start(g->pg->httpc, &g->req) != 0)
		g->inflight_op = PG_NONE;
}

/* Double the table when it gets crowded. */
static void
pg_grow(struct pushgw *pg)
{
	struct pg_group	**old = pg->buckets, *g, *next, **b;
	size_t		  nold = pg->nbuckets, i;

	pg->nbuckets *= 2;
	pg->buckets = xcalloc(pg->nbuckets, sizeof *pg->buckets);
	for (i = 0; i < nold; i++) {
		for (g = old[i]; g != NULL; g = next) {
			next = g->next;
			b = pg_bucket(pg, g->hash);
			g->next = *b;
			*b = g;
		}
	}
	free(old);
}

/* Find or create the group of a source. */
static struct pg_group *
pg_group(struct pushgw *pg, const struct pushgw_source *src, bool create)
{
	struct pg_group		*g, **b;
	const char		**kv;
	const struct config_pushgateway *c = pg->cfg;
	struct buf		 path;
	size_t			 i, n;

	for (g = *pg_bucket(pg, src->hash); g != NULL; g = g->next) {
		if (g->keylen == src->keylen &&
		    memcmp(g->key, src->key, src->keylen) == 0)
			return (g);
	}
	if (!create)
		return (NULL);
	g = xcalloc(1, sizeof *g);
	g->pg = pg;
	g->key = xmalloc(src->keylen + 1);
	memcpy(g->key, src->key, src->keylen);
	g->key[src->keylen] = '\0';
	g->keylen = src->keylen;
	g->hash = src->hash;
	n = 1 + c->ngrouping;
	kv = xcalloc(2 * n, sizeof *kv);
	kv[0] = "instance";
	kv[1] = src->instance;
	for (i = 0; i < c->ngrouping; i++) {
		kv[2 + 2 * i] = c->grouping[i].name;
		kv[3 + 2 * i] = c->grouping[i].value;
	}
	buf_init(&path);
	buf_append(&path, pg->base, strlen(pg->base));
	pushgw_group_path(&path, src->job, kv, n);
	buf_putc(&path, '\0');
	g->url = xstrdup((char *)path.data);
	buf_free(&path);
	free(kv);
	buf_init(&g->pending);
	buf_init(&g->body);
	g->easy = curl_easy_init();
	if (g->easy == NULL)
		fatal("curl_easy_init failed", NULL);
	curl_easy_setopt(g->easy, CURLOPT_URL, g->url);
	curl_easy_setopt(g->easy, CURLOPT_USERAGENT,
	    "rwbridge/" RWBRIDGE_VERSION);
	curl_easy_setopt(g->easy, CURLOPT_TIMEOUT_MS, PUSHGW_TIMEOUT_MS);
	httpc_easy_defaults(g->easy);
	g->req.easy = g->easy;
	g->req.done = pg_done_cb;
	g->req.arg = g;
	evtimer_assign(&g->retry, pg->evbase, pg_retry_cb, g);
	if (pg->ngroups + 1 > pg->nbuckets)
		pg_grow(pg);
	b = pg_bucket(pg, g->hash);
	g->next = *b;
	*b = g;
	pg->ngroups++;
	return (g);
}

/* Push a source's page and derived series. */
void
pushgw_page(struct pushgw *pg, const struct pushgw_source *src,
    const char *body, size_t len, enum pt_format fmt,
    const struct buf *derived)
{
	struct pg_group	*g;
	char		 err[256];

	if (pg == NULL)
		return;
	g = pg_group(pg, src, true);
	buf_reset(&g->pending);
	if (!pushgw_render(body, len, fmt, &g->pending, err, sizeof err)) {
		buf_reset(&g->pending);
		return;
	}
	if (derived != NULL)
		buf_append(&g->pending, derived->data, derived->len);
	g->pending_op = PG_PUT;
	pg_kick(g);
}

/* Delete a removed source's group. */
void
pushgw_removed(struct pushgw *pg, const struct pushgw_source *src)
{
	struct pg_group	*g;

	if (pg == NULL)
		return;
	g = pg_group(pg, src, false);
	if (g == NULL)
		return;
	g->pending_op = PG_DELETE;
	buf_reset(&g->pending);
	pg_kick(g);
}

/* Pushes by result. */
void
pushgw_counts(const struct pushgw *pg, uint64_t *ok, uint64_t *failed)
{
	*ok = pg != NULL ? pg->ok : 0;
	*failed = pg != NULL ? pg->failed : 0;
}

/* Start pending requests now, skipping backoff waits. */
void
pushgw_flush(struct pushgw *pg)
{
	struct pg_group	*g, *next;
	size_t		 i;

	if (pg == NULL)
		return;
	for (i = 0; i < pg->nbuckets; i++) {
		/* A kick may not free g: only a finished DELETE does. */
		for (g = pg->buckets[i]; g != NULL; g = next) {
			next = g->next;
			if (g->waiting) {
				evtimer_del(&g->retry);
				g->waiting = false;
			}
			pg_kick(g);
		}
	}
}

/* Tell whether nothing is pending or in flight. */
bool
pushgw_idle(const struct pushgw *pg)
{
	const struct pg_group	*g;
	size_t			 i;

	if (pg == NULL)
		return (true);
	for (i = 0; i < pg->nbuckets; i++) {
		for (g = pg->buckets[i]; g != NULL; g = g->next) {
			if (g->req.active || g->pending_op != PG_NONE)
				return (false);
		}
	}
	return (true);
}

/* Create the sink; NULL when no Pushgateway is configured. */
struct pushgw *
pushgw_new(struct event_base *evbase, struct httpc *httpc,
    const struct config_pushgateway *cfg, char *err, size_t errlen)
{
	struct pushgw	*pg;
	size_t		 n;

	if (cfg->url == NULL) {
		snprintf(err, errlen, "no Pushgateway configured");
		return (NULL);
	}
	pg = xcalloc(1, sizeof *pg);
	pg->evbase = evbase;
	pg->httpc = httpc;
	pg->cfg = cfg;
	pg->nbuckets = PUSHGW_MIN_BUCKETS;
	pg->buckets = xcalloc(pg->nbuckets, sizeof *pg->buckets);
	pg->base = xstrdup(cfg->url);
	n = strlen(pg->base);
	while (n > 0 && pg->base[n - 1] == '/')
		pg->base[--n] = '\0';
	return (pg);
}

/* Free the sink and every group. */
void
pushgw_free(struct pushgw *pg)
{
	size_t	i;

	if (pg == NULL)
		return;
	for (i = 0; i < pg->nbuckets; i++) {
		while (pg->buckets[i] != NULL)
			pg_group_free(pg->buckets[i]);
	}
	free(pg->buckets);
	free(pg->base);
	free(pg);
}
