/*
 * pushrecv: Pushgateway-compatible ingest. A group is identified by its
 * grouping labels (job and the label pairs of the path); it keeps the text
 * of each metric family last pushed to it. PUT replaces the group, POST
 * replaces the families it pushes, DELETE removes the group. After every
 * change, and then once per scrape interval (as if Prometheus scraped a
 * Pushgateway), the group's series are forwarded through remote write with
 * the grouping labels, which replace same-named labels of pushed metrics as
 * Pushgateway does, and a push_time_seconds series. A group with a ttl that
 * is not pushed again in time expires and its series get stale markers.
 */
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
#include "pushrecv.h"
#include "timer.h"
#include "xmalloc.h"

#define PR_MAX_GROUP_LABELS	32
#define PR_MAX_VALUE		4096

struct pr_family {
	char		*name;
	struct buf	 text;
};

struct pr_group {
	struct pr_group		*next;
	char			*key;		/* NUL-separated grouping */
	size_t			 keylen;
	struct ingest		 ig;
	struct pr_family	*fam;
	size_t			 nfam;
	int64_t			 push_ms;
	int64_t			 ttl_ms;	/* 0: never expires */
};

struct pushrecv {
	const struct config	*cfg;
	struct pipeline		*pipeline;
	uint64_t		 requests;
	struct pr_group		*groups;
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
		b64 = nlen > 7 && strcmp(name + nlen - 7, "@base64") == 0;
		if (b64)
			name[nlen -= 7] = '\0';
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

/* Find a group by key. */
static struct pr_group **
pr_find(struct pushrecv *pr, const char *key, size_t len)
{
	struct pr_group	**gp;

	for (gp = &pr->groups; *gp != NULL; gp = &(*gp)->next) {
		if ((*gp)->keylen == len && memcmp((*gp)->key, key, len) == 0)
			break;
	}
	return (gp);
}

/* Render a group's families and forward them with ts. */
static void
pr_forward(struct pushrecv *pr, struct pr_group *g, int64_t ts)
{
	struct ingest_out	*out = pipeline_out(pr->pipeline);
	size_t			 i;
	char			 err[256];

	buf_reset(&pr->text);
	for (i = 0; i < g->nfam; i++)
		buf_append(&pr->text, g->fam[i].text.data, g->fam[i].text.len);
	if (!ingest_page(&g->ig, (const char *)pr->text.data, pr->text.len,
	    PT_FORMAT_TEXT, ts, out, err, sizeof err))
		log_error("stored push does not parse", "err=%s", err);
	ingest_synthetic(&g->ig, "push_time_seconds",
	    (double)g->push_ms / 1000, ts, out);
	pipeline_dispatch(pr->pipeline);
}

/* Free a group, stale-marking its series unless stopping. */
static void
pr_group_free(struct pushrecv *pr, struct pr_group *g, bool stale)
{
	size_t	i;

	ingest_free(&g->ig, clock_now_ms(),
	    stale ? pipeline_out(pr->pipeline) : NULL);
	if (stale)
		pipeline_dispatch(pr->pipeline);
	for (i = 0; i < g->nfam; i++) {
		free(g->fam[i].name);
		buf_free(&g->fam[i].text);
	}
	free(g->fam);
	free(g->key);
	free(g);
}

/* Append an item to a family's text as a line of the text format. */
static void
pr_append_line(struct buf *b, const struct pt_item *it)
{
	static const char	*types[] = { "untyped", "counter", "gauge",
	    "histogram", "untyped", "summary", "untyped", "untyped" };

	switch (it->kind) {
	case PT_HELP:
		buf_printf(b, "# HELP %.*s %.*s\n", (int)it->name.len,
		    it->name.p, (int)it->text.len, it->text.p);
		break;
	case PT_TYPE:
		buf_printf(b, "# TYPE %.*s %s\n", (int)it->name.len,
		    it->name.p, types[it->type & 7]);
		break;
	case PT_SAMPLE:
		buf_append(b, it->series.p, it->series.len);
		buf_putc(b, ' ');
		buf_put_float(b, it->value);
		buf_putc(b, '\n');
		break;
	default:
		break;
	}
}

/* Free a list of families. */
static void
pr_families_free(struct pr_family *fam, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(fam[i].name);
		buf_free(&fam[i].text);
	}
	free(fam);
}

/* Split a pushed body into families; false with err if it is invalid. */
static bool
pr_split(const char *body, size_t len, struct pr_family **out, size_t *nout,
    char *err, size_t errlen)
{
	struct promtext		 p;
	struct pt_item		 it;
	enum pt_kind		 k;
	struct pr_family	*fam = NULL;
	struct pt_str		 name;
	size_t			 nfam = 0, i;

	promtext_init(&p, body, len, PT_FORMAT_TEXT);
	for (;;) {
		k = promtext_next(&p, &it, err, errlen);
		if (k == PT_EOF)
			break;
		if (k == PT_ERROR)
			goto fail;
		if (k == PT_UNIT)
			continue;
		if (k == PT_SAMPLE && it.has_ts) {
			snprintf(err, errlen, "line %zu: pushed metrics must "
			    "not have timestamps", it.line);
			goto fail;
		}
		name = k == PT_SAMPLE ? it.family : it.name;
		for (i = 0; i < nfam; i++) {
			if (strlen(fam[i].name) == name.len &&
			    memcmp(fam[i].name, name.p, name.len) == 0)
				break;
		}
		if (i == nfam) {
			fam = xreallocarray(fam, nfam + 1, sizeof *fam);
			fam[nfam].name = xstrndup(name.p, name.len);
			buf_init(&fam[nfam].text);
			nfam++;
		}
		pr_append_line(&fam[i].text, &it);
	}
	*out = fam;
	*nout = nfam;
	return (true);
fail:
	pr_families_free(fam, nfam);
	return (false);
}

/* Replace (PUT) or merge (POST) a group's families with pushed ones. */
static void
pr_merge(struct pr_group *g, struct pr_family *fam, size_t nfam, bool put)
{
	size_t	i, j;

	if (put) {
		pr_families_free(g->fam, g->nfam);
		g->fam = fam;
		g->nfam = nfam;
		return;
	}
	for (i = 0; i < nfam; i++) {
		for (j = 0; j < g->nfam; j++) {
			if (strcmp(g->fam[j].name, fam[i].name) == 0)
				break;
		}
		if (j == g->nfam) {
			g->fam = xreallocarray(g->fam, g->nfam + 1,
			    sizeof *g->fam);
			g->fam[g->nfam++] = fam[i];
			continue;
		}
		free(g->fam[j].name);
		buf_free(&g->fam[j].text);
		g->fam[j] = fam[i];
	}
	free(fam);
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

/* Create a group for a grouping. */
static struct pr_group *
pr_group_new(struct pushrecv *pr, struct pr_grouping *gr, char *key,
    size_t keylen)
{
	struct pr_group	*g;
	struct label	 tl[PR_MAX_GROUP_LABELS];
	size_t		 i, n = 0;

	g = xcalloc(1, sizeof *g);
	g->key = key;
	g->keylen = keylen;
	for (i = 0; i < gr->n; i++) {
		if (*gr->value[i] == '\0')
			continue;
		tl[n].name = gr->name[i];
		tl[n].name_len = strlen(gr->name[i]);
		tl[n].value = gr->value[i];
		tl[n++].value_len = strlen(gr->value[i]);
	}
	ingest_init(&g->ig, tl, n, NULL);
	g->ig.override = true;
	g->next = pr->groups;
	pr->groups = g;
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
	struct pr_family	 *fam;
	struct evbuffer		 *in;
	enum evhttp_cmd_type	  cmd = evhttp_request_get_command(req);
	size_t			  keylen, nfam, len;
	char			 *key, *body, err[320];
	int64_t			  ttl;

	pr->requests++;
	if (cmd != EVHTTP_REQ_PUT && cmd != EVHTTP_REQ_POST &&
	    cmd != EVHTTP_REQ_DELETE) {
		httpd_error(req, 405, "use PUT, POST or DELETE on "
		    "/metrics/job/...");
		return;
	}
	if (!httpd_authorized(pr->cfg, req, true))
		return;
	if (!pr_parse_path(req, uri, &gr))
		return;
	key = pr_key(&gr, &keylen);
	gp = pr_find(pr, key, keylen);
	if (cmd == EVHTTP_REQ_DELETE) {
		if (*gp != NULL) {
			g = *gp;
			*gp = g->next;
			pr_group_free(pr, g, true);
		}
		free(key);
		pr_grouping_free(&gr);
		httpd_reply(req, 202, "Accepted", "text/plain", NULL);
		return;
	}
	if (!pr_ttl(req, uri, &ttl))
		goto reject;
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	body = (char *)evbuffer_pullup(in, -1);
	if (!pr_split(body != NULL ? body : "", len, &fam, &nfam, err,
	    sizeof err)) {
		httpd_error(req, 400, "invalid exposition: %s", err);
		goto reject;
	}
	g = *gp != NULL ? *gp : pr_group_new(pr, &gr, key, keylen);
	if (g->key != key)
		free(key);
	pr_merge(g, fam, nfam, cmd == EVHTTP_REQ_PUT);
	g->push_ms = clock_now_ms();
	g->ttl_ms = ttl;
	pr_forward(pr, g, g->push_ms);
	pr_grouping_free(&gr);
	httpd_reply(req, 200, "OK", "text/plain", NULL);
	return;

reject:
	free(key);
	pr_grouping_free(&gr);
}

/* Forward every group again and expire those past their ttl. */
static void
pr_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pushrecv	 *pr = arg;
	struct pr_group	**gp, *g;
	int64_t		  now = clock_now_ms();

	gp = &pr->groups;
	while (*gp != NULL) {
		g = *gp;
		if (g->ttl_ms > 0 && now - g->push_ms >= g->ttl_ms) {
			log_info("pushed group expired", "ttl_ms=%lld",
			    (long long)g->ttl_ms);
			*gp = g->next;
			pr_group_free(pr, g, true);
			continue;
		}
		pr_forward(pr, g, now);
		gp = &g->next;
	}
	timer_arm_ms(&pr->tick, pr->cfg->scrape_interval_ms);
}

/* Set up the push receiver. */
struct pushrecv *
pushrecv_new(struct event_base *evbase, const struct config *cfg,
    struct pipeline *pl)
{
	struct pushrecv	*pr;

	pr = xcalloc(1, sizeof *pr);
	pr->cfg = cfg;
	pr->pipeline = pl;
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

/* Free every group (no stale markers: rwbridge is stopping). */
void
pushrecv_free(struct pushrecv *pr)
{
	struct pr_group	*g;

	if (pr == NULL)
		return;
	evtimer_del(&pr->tick);
	while (pr->groups != NULL) {
		g = pr->groups;
		pr->groups = g->next;
		pr_group_free(pr, g, false);
	}
	buf_free(&pr->text);
	free(pr);
}
