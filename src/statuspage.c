/*
 * statuspage: render the /targets page. A pure module (no libevent): the
 * caller collects rows from the registry, the pipeline and the push
 * receiver and passes the query's filters. The page is plain HTML with
 * inline CSS; filtering is links and a GET form, answered by the server.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "statuspage.h"
#include "xmalloc.h"

static const char *const statuspage_healths[] = { "up", "down", "unknown" };

static const char *const statuspage_target_cols[] = { "Health", "Job",
    "Instance / URL", "Group", "Labels", "Last scrape", "Duration",
    "Samples", "Last error" };
static const char *const statuspage_endpoint_cols[] = { "Endpoint",
    "State", "Queue", "Unsent samples", "Oldest unsent", "Sent samples",
    "Retried samples", "Dropped samples", "Last error" };
static const char *const statuspage_push_cols[] = { "Grouping labels",
    "Last push", "TTL", "Expires in" };

/* The number of entries of a table. */
#define STATUSPAGE_NITEMS(c)	(sizeof (c) / sizeof (c)[0])

static const char statuspage_style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.4em 0 .4em}"
    "nav a,.filter a{margin-right:1em}"
    ".filter{margin:.8em 0;padding:.5em .8em;background:#f3f4f6}"
    ".filter a.on{font-weight:bold;text-decoration:none;color:#222}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;"
    "vertical-align:top}"
    "th{background:#f3f4f6}td.num{text-align:right;white-space:nowrap}"
    ".health{font-weight:bold;text-transform:uppercase;white-space:nowrap}"
    ".up{color:#137333}.down,.failing{color:#c5221f}"
    ".unknown,.backlog{color:#b06000}"
    ".err{color:#c5221f;font-family:monospace;word-break:break-all}"
    ".lbl{display:inline-block;background:#e8eaed;border-radius:3px;"
    "padding:0 .3em;margin:0 .2em .2em 0;font-family:monospace}"
    ".muted{color:#777}";

/* What each character HTML gives a meaning becomes. */
static const struct {
	char		 c;
	const char	*entity;
} statuspage_entities[] = {
	{ '&', "&amp;" }, { '<', "&lt;" }, { '>', "&gt;" },
	{ '"', "&quot;" }, { '\'', "&#39;" }
};

/* Append the HTML-escaped s to b. */
void
statuspage_escape(struct buf *b, const char *s)
{
	const char	*p;
	size_t		 i;

	if (s == NULL)
		return;
	for (p = s; *p != '\0'; p++) {
		for (i = 0; i < STATUSPAGE_NITEMS(statuspage_entities); i++) {
			if (*p == statuspage_entities[i].c)
				break;
		}
		if (i < STATUSPAGE_NITEMS(statuspage_entities))
			buf_printf(b, "%s", statuspage_entities[i].entity);
		else
			buf_putc(b, (uint8_t)*p);
	}
}

/* Append s percent-encoded for a query value (then escaped by nature). */
static void
statuspage_urlenc(struct buf *b, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL) {
			buf_putc(b, *p);
			continue;
		}
		buf_putc(b, '%');
		buf_putc(b, (uint8_t)hex[*p >> 4]);
		buf_putc(b, (uint8_t)hex[*p & 15]);
	}
}

/* Tell whether a filter is set. */
static int
statuspage_set(const char *f)
{
	return (f != NULL && *f != '\0');
}

/* Append a link to /targets with these filters (NULL or "": not set). */
static void
statuspage_link(struct buf *b, const char *health, const char *job)
{
	buf_printf(b, "/targets");
	if (statuspage_set(health)) {
		buf_printf(b, "?health=");
		statuspage_urlenc(b, health);
	}
	if (statuspage_set(job)) {
		buf_printf(b, statuspage_set(health) ? "&amp;job=" : "?job=");
		statuspage_urlenc(b, job);
	}
}

/* Append a span of ms for reading: whole seconds from 1s on ("4m44s"). */
static void
statuspage_span(struct buf *b, int64_t ms)
{
	char	d[32];

	if (ms >= 1000)
		ms -= ms % 1000;
	buf_printf(b, "%s", duration_format(ms, d, sizeof d));
}

/* Append how long ago t was ("12s ago"), or "never". */
static void
statuspage_ago(struct buf *b, int64_t now, int64_t t)
{
	if (t <= 0) {
		buf_printf(b, "<span class=\"muted\">never</span>");
		return;
	}
	statuspage_span(b, now > t ? now - t : 0);
	buf_printf(b, " ago");
}

/* Append a byte count for reading ("512 B", "363.7 KiB"). */
static void
statuspage_bytes(struct buf *b, uint64_t n)
{
	static const char *const	 units[] = { "KiB", "MiB", "GiB",
					    "TiB" };
	double				 v = (double)n;
	size_t				 i = 0;

	if (n < 1024) {
		buf_printf(b, "%llu B", (unsigned long long)n);
		return;
	}
	v /= 1024;
	while (v >= 1024 && i + 1 < sizeof units / sizeof units[0]) {
		v /= 1024;
		i++;
	}
	buf_printf(b, "%.1f %s", v, units[i]);
}

/* Append label pairs as name="value" chips. */
static void
statuspage_labels(struct buf *b, const struct config_kv *l, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		buf_printf(b, "<span class=\"lbl\">");
		statuspage_escape(b, l[i].name);
		buf_printf(b, "=&quot;");
		statuspage_escape(b, l[i].value);
		buf_printf(b, "&quot;</span>");
	}
}

/* Tell whether a target passes the page's filters. */
static int
statuspage_match(const struct statuspage *p, const struct statuspage_target *t)
{
	if (statuspage_set(p->health) &&
	    strcmp(p->health, t->health != NULL ? t->health : "") != 0)
		return (0);
	if (statuspage_set(p->job) &&
	    strcmp(p->job, t->job != NULL ? t->job : "") != 0)
		return (0);
	return (1);
}

/*
 * Append a section's heading (NULL: none) and its table's head (id, column
 * names), or when it has no row, the message empty (NULL: the head all the
 * same); false when there is no table to fill.
 */
static bool
statuspage_table(struct buf *b, const char *title, const char *id,
    const char *const *cols, size_t ncols, size_t nrows, const char *empty)
{
	size_t	i;

	if (title != NULL)
		buf_printf(b, "<h2>%s</h2>\n", title);
	if (nrows == 0 && empty != NULL) {
		buf_printf(b, "<p class=\"muted\">%s</p>\n", empty);
		return (false);
	}
	buf_printf(b, "<table id=\"%s\"><thead><tr>", id);
	for (i = 0; i < ncols; i++)
		buf_printf(b, "<th>%s</th>", cols[i]);
	buf_printf(b, "</tr></thead><tbody>\n");
	return (true);
}

/* Order job names (qsort). */
static int
statuspage_cmp(const void *a, const void *b)
{
	return (strcmp(*(const char *const *)a, *(const char *const *)b));
}

/* Append the filter bar: health links and the job form. */
static void
statuspage_filters(const struct statuspage *p, struct buf *b)
{
	const char	**jobs;
	size_t		  i, j, n = 0, count;

	buf_printf(b, "<div class=\"filter\" id=\"filter\">Health: <a href=\"");
	statuspage_link(b, NULL, p->job);
	buf_printf(b, "\"%s>all (%zu)</a>",
	    statuspage_set(p->health) ? "" : " class=\"on\"", p->ntargets);
	for (i = 0; i < STATUSPAGE_NITEMS(statuspage_healths); i++) {
		count = 0;
		for (j = 0; j < p->ntargets; j++) {
			if (p->targets[j].health != NULL &&
			    strcmp(p->targets[j].health,
			    statuspage_healths[i]) == 0)
				count++;
		}
		buf_printf(b, "<a href=\"");
		statuspage_link(b, statuspage_healths[i], p->job);
		buf_printf(b, "\"%s>%s (%zu)</a>", statuspage_set(p->health) &&
		    strcmp(p->health, statuspage_healths[i]) == 0 ?
		    " class=\"on\"" : "", statuspage_healths[i], count);
	}
	jobs = xcalloc(p->ntargets + 1, sizeof *jobs);
	for (i = 0; i < p->ntargets; i++)
		jobs[n++] = p->targets[i].job != NULL ? p->targets[i].job : "";
	qsort(jobs, n, sizeof *jobs, statuspage_cmp);
	buf_printf(b, "<form method=\"get\" action=\"/targets\" "
	    "style=\"display:inline\">");
	if (statuspage_set(p->health)) {
		buf_printf(b, "<input type=\"hidden\" name=\"health\" "
		    "value=\"");
		statuspage_escape(b, p->health);
		buf_printf(b, "\">");
	}
	buf_printf(b, "<label>Job: <select name=\"job\">"
	    "<option value=\"\">all jobs</option>");
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(jobs[i], jobs[i - 1]) == 0)
			continue;
		buf_printf(b, "<option value=\"");
		statuspage_escape(b, jobs[i]);
		buf_printf(b, "\"%s>", statuspage_set(p->job) &&
		    strcmp(p->job, jobs[i]) == 0 ? " selected" : "");
		statuspage_escape(b, jobs[i]);
		buf_printf(b, "</option>");
	}
	free(jobs);
	buf_printf(b, "</select></label> <button type=\"submit\">Filter"
	    "</button></form></div>\n");
}

/* Append one target's row. */
static void
statuspage_target_row(const struct statuspage *p,
    const struct statuspage_target *t, struct buf *b)
{
	const char	*h = t->health != NULL ? t->health : "unknown";

	buf_printf(b, "<tr><td class=\"health ");
	statuspage_escape(b, h);
	buf_printf(b, "\">");
	statuspage_escape(b, h);
	buf_printf(b, "</td><td><a href=\"");
	statuspage_link(b, p->health, t->job);
	buf_printf(b, "\">");
	statuspage_escape(b, t->job);
	buf_printf(b, "</a></td><td>");
	statuspage_escape(b, t->instance);
	buf_printf(b, "<br><span class=\"muted\">");
	statuspage_escape(b, t->url);
	buf_printf(b, "</span></td><td>");
	statuspage_escape(b, t->group);
	buf_printf(b, "</td><td>");
	statuspage_labels(b, t->labels, t->nlabels);
	buf_printf(b, "</td><td class=\"num\">");
	statuspage_ago(b, p->now_ms, t->last_scrape_ms);
	buf_printf(b, "</td><td class=\"num\">");
	if (t->last_scrape_ms > 0)
		buf_printf(b, "%.3fs", t->duration);
	buf_printf(b, "</td><td class=\"num\">%llu</td><td class=\"err\">",
	    (unsigned long long)t->samples);
	statuspage_escape(b, t->last_error);
	buf_printf(b, "</td></tr>\n");
}

/* Append the targets' table, filtered. */
static void
statuspage_targets(const struct statuspage *p, struct buf *b)
{
	size_t	i, shown = 0;

	buf_printf(b, "<h2>Targets</h2>\n");
	statuspage_filters(p, b);
	statuspage_table(b, NULL, "targets", statuspage_target_cols,
	    STATUSPAGE_NITEMS(statuspage_target_cols), p->ntargets, NULL);
	for (i = 0; i < p->ntargets; i++) {
		if (!statuspage_match(p, &p->targets[i]))
			continue;
		statuspage_target_row(p, &p->targets[i], b);
		shown++;
	}
	if (shown == 0)
		buf_printf(b, "<tr><td colspan=\"%zu\" class=\"muted\">"
		    "No target matches.</td></tr>\n",
		    STATUSPAGE_NITEMS(statuspage_target_cols));
	buf_printf(b, "</tbody></table>\n<p class=\"muted\" id=\"shown\">"
	    "%zu of %zu targets shown.</p>\n", shown, p->ntargets);
}

/* Append the remote-write endpoints' table. */
static void
statuspage_endpoints(const struct statuspage *p, struct buf *b)
{
	const struct statuspage_endpoint	*e;
	const char				*state;
	size_t					 i;

	if (!statuspage_table(b, "Remote write", "endpoints",
	    statuspage_endpoint_cols, STATUSPAGE_NITEMS(statuspage_endpoint_cols),
	    p->nendpoints, "No remote-write endpoint configured."))
		return;
	for (i = 0; i < p->nendpoints; i++) {
		e = &p->endpoints[i];
		if (e->last_error != NULL && *e->last_error != '\0')
			state = "failing";
		else if (e->pending > 0)
			state = "backlog";
		else
			state = "up";
		buf_printf(b, "<tr><td>");
		statuspage_escape(b, e->name);
		buf_printf(b, "</td><td class=\"health %s\">%s</td>"
		    "<td class=\"num\">", state, state);
		statuspage_bytes(b, e->queue_bytes);
		buf_printf(b, "</td><td class=\"num\">%llu</td>"
		    "<td class=\"num\">", (unsigned long long)e->pending);
		if (e->oldest_ms > 0)
			statuspage_span(b, p->now_ms > e->oldest_ms ?
			    p->now_ms - e->oldest_ms : 0);
		else
			buf_printf(b, "<span class=\"muted\">none</span>");
		buf_printf(b, "</td><td class=\"num\">%llu</td>"
		    "<td class=\"num\">%llu</td><td class=\"num\">%llu</td>"
		    "<td class=\"err\">", (unsigned long long)e->sent,
		    (unsigned long long)e->retried,
		    (unsigned long long)e->dropped);
		statuspage_escape(b, e->last_error);
		buf_printf(b, "</td></tr>\n");
	}
	buf_printf(b, "</tbody></table>\n");
}

/* Append the pushed groups' table. */
static void
statuspage_pushes(const struct statuspage *p, struct buf *b)
{
	const struct statuspage_push	*g;
	char				 d[32];
	size_t				 i;
	int64_t				 left;

	if (!statuspage_table(b, "Pushed groups", "pushes", statuspage_push_cols,
	    STATUSPAGE_NITEMS(statuspage_push_cols), p->npushes,
	    "No group pushed to /metrics/job."))
		return;
	for (i = 0; i < p->npushes; i++) {
		g = &p->pushes[i];
		buf_printf(b, "<tr><td>");
		statuspage_labels(b, g->labels, g->nlabels);
		buf_printf(b, "</td><td class=\"num\">");
		statuspage_ago(b, p->now_ms, g->push_ms);
		if (g->ttl_ms <= 0) {
			buf_printf(b, "</td><td class=\"num\">none</td>"
			    "<td class=\"num muted\">never</td></tr>\n");
			continue;
		}
		buf_printf(b, "</td><td class=\"num\">%s</td>"
		    "<td class=\"num\">", duration_format(g->ttl_ms, d,
		    sizeof d));
		left = g->push_ms + g->ttl_ms - p->now_ms;
		statuspage_span(b, left);
		buf_printf(b, "</td></tr>\n");
	}
	buf_printf(b, "</tbody></table>\n");
}

/* Append the document's head, title and the links to every page. */
static void
statuspage_head(struct buf *b, const char *title, const char *version)
{
	buf_printf(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\"><title>%s</title><style>%s</style>"
	    "</head><body>\n<h1>%s</h1>\n<nav><a href=\"/\">rwbridge ",
	    title, statuspage_style, title);
	statuspage_escape(b, version);
	buf_printf(b, "</a><a href=\"/targets\">/targets</a>"
	    "<a href=\"/metrics\">/metrics</a>"
	    "<a href=\"/api/v1/targets\">/api/v1/targets</a></nav>\n");
}

/* Append the index page (/) of rwbridge version v to b. */
void
statuspage_index(const char *v, struct buf *b)
{
	statuspage_head(b, "rwbridge", v);
	buf_printf(b, "<ul>"
	    "<li><a href=\"/targets\">/targets</a>: targets, remote-write "
	    "endpoints and pushed groups</li>"
	    "<li><a href=\"/metrics\">/metrics</a>: rwbridge's own metrics"
	    "</li>"
	    "<li><a href=\"/api/v1/targets\">/api/v1/targets</a>: the target "
	    "registration API (JSON)</li>"
	    "<li><a href=\"/-/healthy\">/-/healthy</a>, "
	    "<a href=\"/-/ready\">/-/ready</a>: health and readiness</li>"
	    "<li>/metrics/job/&lt;job&gt;: Pushgateway-style pushes</li>"
	    "</ul>\n</body></html>\n");
}

/* Append the page to b. */
void
statuspage_render(const struct statuspage *p, struct buf *b)
{
	statuspage_head(b, "rwbridge targets", p->version);
	statuspage_targets(p, b);
	statuspage_endpoints(p, b);
	statuspage_pushes(p, b);
	buf_printf(b, "</body></html>\n");
}
