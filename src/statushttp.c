/*
 * statushttp: serve / and /targets. Rows are gathered through the modules'
 * own accessors (targets_foreach, sender_get_stats, sender_last_error,
 * pushrecv_foreach_group), so none of them knows HTML; statuspage renders.
 * The pages carry a Content-Security-Policy that allows no script at all,
 * a second wall behind the escaping.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "buf.h"
#include "clock.h"
#include "httpd.h"
#include "sender.h"
#include "statushttp.h"
#include "statuspage.h"
#include "xmalloc.h"

#define STATUSHTTP_CSP	"default-src 'none'; style-src 'unsafe-inline'; " \
			"form-action 'self'"

/* The rows of one request, owned until it is answered. */
struct statushttp_rows {
	struct statuspage_target	*targets;
	size_t				 ntargets;
	struct statuspage_push		*pushes;
	size_t				 npushes;
	size_t				 pushcap;
};

/* Take one target's row (a targets_fn). */
static void
statushttp_target_cb(void *arg, struct target *t)
{
	struct statushttp_rows		*r = arg;
	struct statuspage_target	*row = &r->targets[r->ntargets++];

	row->group = t->group;
	row->job = t->job;
	row->instance = t->instance;
	row->url = t->url;
	row->health = target_health_name(t->health);
	row->last_scrape_ms = t->last_scrape_ms;
	row->duration = t->last_duration;
	row->samples = t->last_samples;
	row->last_error = t->last_error;
	row->labels = t->labels;
	row->nlabels = t->nlabels;
}

/* Take one pushed group's row, copying its grouping labels. */
static void
statushttp_push_cb(void *arg, const struct pushrecv_group_info *gi)
{
	struct statushttp_rows	*r = arg;
	struct statuspage_push	*row;
	struct config_kv	*l;
	const char		*p, *end = gi->key + gi->keylen;
	size_t			 n = 0;

	if (r->npushes == r->pushcap) {
		r->pushcap = r->pushcap ? r->pushcap * 2 : 16;
		r->pushes = xreallocarray(r->pushes, r->pushcap,
		    sizeof *r->pushes);
	}
	for (p = gi->key; p < end; p += strlen(p) + 1)
		n++;
	l = xcalloc(n / 2 + 1, sizeof *l);
	row = &r->pushes[r->npushes++];
	row->labels = l;
	row->nlabels = n / 2;
	row->push_ms = gi->push_ms;
	row->ttl_ms = gi->ttl_ms;
	for (p = gi->key, n = 0; n < row->nlabels; n++) {
		l[n].name = xstrdup(p);
		p += strlen(p) + 1;
		l[n].value = xstrdup(p);
		p += strlen(p) + 1;
	}
}

/* Fill one remote-write endpoint's row. */
static void
statushttp_endpoint(struct sender *s, struct statuspage_endpoint *row)
{
	struct sender_stats	st;

	sender_get_stats(s, &st);
	row->name = sender_name(s);
	row->last_error = sender_last_error(s);
	row->queue_bytes = st.queue_bytes;
	row->pending = st.samples_pending;
	row->oldest_ms = st.oldest_pending_ms;
	row->sent = st.samples_sent;
	row->retried = st.samples_retried;
	row->dropped = st.samples_dropped_4xx +
	    st.samples_dropped_queue_full + st.samples_dropped_io;
}

/* Free the pushed groups' copied labels. */
static void
statushttp_rows_free(struct statushttp_rows *r)
{
	size_t	i, j;

	for (i = 0; i < r->npushes; i++) {
		for (j = 0; j < r->pushes[i].nlabels; j++) {
			free(r->pushes[i].labels[j].name);
			free(r->pushes[i].labels[j].value);
		}
		free((void *)r->pushes[i].labels);
	}
	free(r->pushes);
	free(r->targets);
}

/* Reply with an HTML page held in b. */
static void
statushttp_reply(struct evhttp_request *req, const struct buf *b)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Security-Policy", STATUSHTTP_CSP);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Cache-Control", "no-store");
	httpd_reply(req, 200, "OK", "text/html; charset=utf-8", b);
}

/* Tell whether a request is a GET or HEAD; else answer 405. */
static bool
statushttp_get(struct evhttp_request *req, const char *path)
{
	enum evhttp_cmd_type	cmd = evhttp_request_get_command(req);

	if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD)
		return (true);
	httpd_error(req, 405, "use GET on %s", path);
	return (false);
}

/* Serve /targets: the status page, filtered by ?health= and ?job=. */
void
statushttp_targets_cb(struct evhttp_request *req, const char *rest,
    const struct evhttp_uri *u, void *arg)
{
	struct statushttp_sources	*src = arg;
	struct statushttp_rows		 r;
	struct statuspage		 page;
	struct evkeyvalq		 q;
	const char			*query = u != NULL ?
					    evhttp_uri_get_query(u) : NULL;
	struct statuspage_endpoint	*ep;
	size_t				 i, ns;
	struct buf			 b;

	if (!statushttp_get(req, "/targets"))
		return;
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) != 0) {
		httpd_error(req, 400, "invalid query string");
		return;
	}
	memset(&r, 0, sizeof r);
	memset(&page, 0, sizeof page);
	r.targets = xcalloc(targets_count(src->targets) + 1,
	    sizeof *r.targets);
	targets_foreach(src->targets, statushttp_target_cb, &r);
	if (src->pushrecv != NULL)
		pushrecv_foreach_group(src->pushrecv, statushttp_push_cb, &r);
	ns = pipeline_nsenders(src->pipeline);
	ep = xcalloc(ns + 1, sizeof *ep);
	for (i = 0; i < ns; i++)
		statushttp_endpoint(pipeline_sender(src->pipeline, i), &ep[i]);
	page.version = RWBRIDGE_VERSION;
	page.now_ms = clock_now_ms();
	page.targets = r.targets;
	page.ntargets = r.ntargets;
	page.endpoints = ep;
	page.nendpoints = ns;
	page.pushes = r.pushes;
	page.npushes = r.npushes;
	page.health = evhttp_find_header(&q, "health");
	page.job = evhttp_find_header(&q, "job");
	buf_init(&b);
	statuspage_render(&page, &b);
	statushttp_reply(req, &b);
	buf_free(&b);
	evhttp_clear_headers(&q);
	statushttp_rows_free(&r);
	free(ep);
}

/* Serve /: links to every page. */
void
statushttp_index_cb(struct evhttp_request *req, const char *rest,
    const struct evhttp_uri *u, void *arg)
{
	struct buf	b;

	if (!statushttp_get(req, "/"))
		return;
	buf_init(&b);
	statuspage_index(RWBRIDGE_VERSION, &b);
	statushttp_reply(req, &b);
	buf_free(&b);
}
