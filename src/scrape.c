/*
 * scrape: a target's life. A self-re-arming timer fires on the target's own
 * schedule (a start offset spread by a hash of its URL, then every interval
 * without drift); the request goes through the shared curl multi handle; the
 * finished page is handed to ingest and the records to every sink. A target
 * that is down, slow or returns garbage gets up 0 and a logged reason, and no
 * other target notices.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "labels.h"
#include "log.h"
#include "pushgw.h"
#include "rwbridge.h"
#include "series.h"
#include "target.h"
#include "timer.h"
#include "xmalloc.h"

#define SCRAPE_ACCEPT	"Accept: application/openmetrics-text;" \
    "version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.9,*/*;q=0.1"

static void	scrape_start_cb(evutil_socket_t, short, void *);

/* Name a health state as Prometheus's targets API does. */
const char *
target_health_name(enum target_health h)
{
	switch (h) {
	case TARGET_UP:
		return ("up");
	case TARGET_DOWN:
		return ("down");
	default:
		return ("unknown");
	}
}

/* Split a URL into scheme and host:port; false if it is not usable. */
static bool
target_parse_url(const char *url, char **instance, char *err, size_t errlen)
{
	CURLU	*u;
	char	*scheme = NULL, *host = NULL, *port = NULL;
	bool	 ok = false;

	u = curl_url();
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		snprintf(err, errlen, "invalid URL \"%s\"", url);
		goto done;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcasecmp(scheme, "http") != 0 &&
	    strcasecmp(scheme, "https") != 0)) {
		snprintf(err, errlen, "URL \"%s\": scheme must be http or "
		    "https", url);
		goto done;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    *host == '\0') {
		snprintf(err, errlen, "URL \"%s\": no host", url);
		goto done;
	}
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK) {
		snprintf(err, errlen, "URL \"%s\": no port", url);
		goto done;
	}
	if (instance != NULL)
		xasprintf(instance, "%s:%s", host, port);
	ok = true;
done:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return (ok);
}

/* Validate a spec. */
bool
target_spec_check(const struct target_spec *sp, char *err, size_t errlen)
{
	size_t	i;

	if (!target_parse_url(sp->url, NULL, err, errlen))
		return (false);
	for (i = 0; i < sp->nlabels; i++) {
		if (!label_name_valid(sp->labels[i].name,
		    strlen(sp->labels[i].name)) ||
		    strncmp(sp->labels[i].name, "__", 2) == 0) {
			snprintf(err, errlen, "invalid label name \"%s\"",
			    sp->labels[i].name);
			return (false);
		}
	}
	if (sp->interval_ms < 0 || sp->timeout_ms < 0) {
		snprintf(err, errlen, "negative interval or timeout");
		return (false);
	}
	return (true);
}

/* Order configured labels by name. */
static int
kv_cmp(const void *a, const void *b)
{
	const struct config_kv	*x = a, *y = b;

	return (strcmp(x->name, y->name));
}

/* Tell whether a running target already matches spec. */
bool
target_matches(const struct target *t, const struct target_spec *sp)
{
	struct config_kv	*sorted;
	size_t			 i;
	bool			 same;
	int64_t			 iv, to;

	iv = sp->interval_ms != 0 ? sp->interval_ms :
	    t->rw->cfg->scrape_interval_ms;
	to = sp->timeout_ms != 0 ? sp->timeout_ms :
	    t->rw->cfg->scrape_timeout_ms;
	if (to > iv)
		to = iv;
	if (strcmp(t->url, sp->url) != 0 || t->interval_ms != iv ||
	    t->timeout_ms != to || t->nlabels != sp->nlabels ||
	    strcmp(t->job, sp->job != NULL ? sp->job : t->rw->cfg->job) != 0)
		return (false);
	if (sp->nlabels == 0)
		return (true);
	sorted = xcalloc(sp->nlabels, sizeof *sorted);
	memcpy(sorted, sp->labels, sp->nlabels * sizeof *sorted);
	qsort(sorted, sp->nlabels, sizeof *sorted, kv_cmp);
	same = true;
	for (i = 0; i < sp->nlabels && same; i++) {
		same = strcmp(sorted[i].name, t->labels[i].name) == 0 &&
		    strcmp(sorted[i].value, t->labels[i].value) == 0;
	}
	free(sorted);
	return (same);
}

/* Collect the body, up to the size limit. */
static size_t
scrape_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct target	*t = arg;
	size_t		 len = size * n;

	if (t->body.len + len > t->rw->cfg->max_body_bytes) {
		t->too_big = true;
		return (0);
	}
	buf_append(&t->body, p, len);
	return (len);
}

/* Remember the Content-Type of the response. */
static size_t
scrape_header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct target	*t = arg;
	size_t		 len = size * n, vlen;
	const char	*v;

	if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
		v = p + 13;
		vlen = len - 13;
		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
			vlen--;
		if (vlen >= sizeof t->content_type)
			vlen = sizeof t->content_type - 1;
		memcpy(t->content_type, v, vlen);
		t->content_type[vlen] = '\0';
	}
	return (len);
}

/* Arm the timer for the next scrape on the target's schedule. */
static void
scrape_schedule(struct target *t)
{
	int64_t	now = rwbridge_now_ms();

	/*
	 * The slot that fired is used even if the timer fired a little early
	 * (libevent's monotonic clock and the wall clock drift apart); then
	 * skip the slots a late start missed.
	 */
	t->next_ms += t->interval_ms;
	while (t->next_ms <= now)
		t->next_ms += t->interval_ms;
	timer_arm_ms(&t->timer, t->next_ms - now);
}

/* Record the outcome of a scrape and hand its records to the sinks. */
static void
scrape_finish(struct target *t, bool ok, const char *error)
{
	struct rwbridge	*rw = t->rw;
	struct timeval	 now;
	double		 dur;

	gettimeofday(&now, NULL);
	dur = (double)(now.tv_sec - t->start_tv.tv_sec) +
	    (double)(now.tv_usec - t->start_tv.tv_usec) / 1e6;
	t->last_scrape_ms = t->start_ms;
	t->last_duration = dur;
	t->last_samples = ok ? t->ig.stats.samples : 0;
	t->health = ok ? TARGET_UP : TARGET_DOWN;
	if (ok) {
		t->last_error[0] = '\0';
		t->scrapes_ok++;
		rw->st.scrapes_ok++;
		rw->st.samples_scraped += t->ig.stats.samples;
		rw->st.duplicates += t->ig.stats.duplicates;
	} else {
		if (strcmp(t->last_error, error) != 0 ||
		    log_enabled(LOG_LEVEL_DEBUG))
			log_warn("scrape failed", "target=%s job=%s err=%s",
			    t->url, t->job, error);
		snprintf(t->last_error, sizeof t->last_error, "%s", error);
		t->scrapes_failed++;
		rw->st.scrapes_failed++;
	}
	ingest_synthetic(&t->ig, "up", ok ? 1 : 0, t->start_ms, &rw->out);
	ingest_synthetic(&t->ig, "scrape_duration_seconds", dur, t->start_ms,
	    &rw->out);
	ingest_synthetic(&t->ig, "scrape_samples_scraped",
	    (double)t->last_samples, t->start_ms, &rw->out);
	ingest_synthetic(&t->ig, "scrape_samples_post_metric_relabeling",
	    (double)t->last_samples, t->start_ms, &rw->out);
	ingest_synthetic(&t->ig, "scrape_series_added",
	    ok ? (double)t->ig.stats.series_added : 0, t->start_ms, &rw->out);
	rw->st.stale_markers += t->ig.stats.stale_markers;
	rwbridge_dispatch(rw);
	/* Give the page buffer back for the next scrape. */
	if (rw->nspare < RWBRIDGE_SPARE_BODIES && t->body.cap > 0 &&
	    t->body.cap <= (8u << 20))
		rw->spare[rw->nspare++] = t->body;
	else
		buf_free(&t->body);
	buf_init(&t->body);
}

/* Handle the end of a scrape request. */
static void
scrape_done_cb(struct httpc_req *req, CURLcode rc)
{
	struct target	*t = req->arg;
	struct rwbridge	*rw = t->rw;
	long		 code = 0;
	char		 err[320];
	bool		 ok;
	enum pt_format	 fmt;

	if (rc != CURLE_OK) {
		if (t->too_big)
			snprintf(err, sizeof err, "body exceeds max_body_bytes "
			    "(%llu)", (unsigned long long)rw->cfg->max_body_bytes);
		else
			snprintf(err, sizeof err, "%s", curl_easy_strerror(rc));
		memset(&t->ig.stats, 0, sizeof t->ig.stats);
		ingest_failed(&t->ig, t->start_ms, &rw->out);
		if (t->dt != NULL)
			derive_abort(t->dt);
		scrape_finish(t, false, err);
		return;
	}
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		snprintf(err, sizeof err, "server returned HTTP status %ld",
		    code);
		memset(&t->ig.stats, 0, sizeof t->ig.stats);
		ingest_failed(&t->ig, t->start_ms, &rw->out);
		if (t->dt != NULL)
			derive_abort(t->dt);
		scrape_finish(t, false, err);
		return;
	}
	fmt = promtext_format_from_content_type(t->content_type);
	if (rw->pushgw != NULL) {
		buf_reset(&rw->text);
		t->ig.text = &rw->text;
	}
	ok = ingest_page(&t->ig, (const char *)t->body.data, t->body.len,
	    fmt, t->start_ms, &rw->out, err, sizeof err);
	t->ig.text = NULL;
	if (ok && rw->pushgw != NULL)
		pushgw_target_page(rw->pushgw, t, (const char *)t->body.data,
		    t->body.len, fmt, &rw->text);
	scrape_finish(t, ok, err);
}

/* Start a scrape when the target's timer fires. */
static void
scrape_start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct target	*t = arg;

	scrape_schedule(t);
	if (t->req.active) {
		log_warn("scrape still running at the next interval, skipped",
		    "target=%s", t->url);
		return;
	}
	if (t->body.cap == 0 && t->rw->nspare > 0)
		t->body = t->rw->spare[--t->rw->nspare];
	buf_reset(&t->body);
	t->too_big = false;
	t->content_type[0] = '\0';
	gettimeofday(&t->start_tv, NULL);
	t->start_ms = (int64_t)t->start_tv.tv_sec * 1000 +
	    t->start_tv.tv_usec / 1000;
	if (httpc_start(t->rw->httpc, &t->req) != 0)
		scrape_finish(t, false, "could not start the request");
}

/* Set up the easy handle once; it is reused so connections stay open. */
static void
target_setup_easy(struct target *t)
{
	char	hdr[64];

	t->easy = curl_easy_init();
	if (t->easy == NULL)
		fatal("curl_easy_init failed", NULL);
	t->headers = curl_slist_append(NULL, SCRAPE_ACCEPT);
	snprintf(hdr, sizeof hdr, "X-Prometheus-Scrape-Timeout-Seconds: %g",
	    (double)t->timeout_ms / 1000);
	t->headers = curl_slist_append(t->headers, hdr);
	curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT,
	    "rwbridge/" RWBRIDGE_VERSION);
	curl_easy_setopt(t->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, scrape_write_cb);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, scrape_header_cb);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	t->req.easy = t->easy;
	t->req.done = scrape_done_cb;
	t->req.arg = t;
}

/* Create a target and schedule its first scrape. */
struct target *
target_new(struct rwbridge *rw, const char *group,
    const struct target_spec *sp)
{
	struct target	*t;
	struct label	*tl;
	size_t		 i, n, glen;
	char		 err[256];
	bool		 has_job = false, has_instance = false;
	int64_t		 offset, now;

	t = xcalloc(1, sizeof *t);
	t->rw = rw;
	t->group = xstrdup(group);
	t->url = xstrdup(sp->url);
	glen = strlen(group);
	t->keylen = glen + 1 + strlen(sp->url);
	t->key = xmalloc(t->keylen + 1);
	memcpy(t->key, group, glen + 1);
	memcpy(t->key + glen + 1, sp->url, strlen(sp->url) + 1);
	t->job = xstrdup(sp->job != NULL ? sp->job : rw->cfg->job);
	if (!target_parse_url(sp->url, &t->instance, err, sizeof err))
		t->instance = xstrdup(sp->url);
	t->interval_ms = sp->interval_ms != 0 ? sp->interval_ms :
	    rw->cfg->scrape_interval_ms;
	t->timeout_ms = sp->timeout_ms != 0 ? sp->timeout_ms :
	    rw->cfg->scrape_timeout_ms;
	if (t->timeout_ms > t->interval_ms)
		t->timeout_ms = t->interval_ms;
	t->nlabels = sp->nlabels;
	t->labels = xcalloc(sp->nlabels + 1, sizeof *t->labels);
	for (i = 0; i < sp->nlabels; i++) {
		t->labels[i].name = xstrdup(sp->labels[i].name);
		t->labels[i].value = xstrdup(sp->labels[i].value);
	}
	qsort(t->labels, t->nlabels, sizeof *t->labels, kv_cmp);

	/* Target labels: configured ones, then job and instance. */
	tl = xcalloc(t->nlabels + 2, sizeof *tl);
	for (i = n = 0; i < t->nlabels; i++, n++) {
		tl[n].name = t->labels[i].name;
		tl[n].name_len = strlen(t->labels[i].name);
		tl[n].value = t->labels[i].value;
		tl[n].value_len = strlen(t->labels[i].value);
		if (strcmp(t->labels[i].name, "job") == 0)
			has_job = true;
		if (strcmp(t->labels[i].name, "instance") == 0)
			has_instance = true;
	}
	if (!has_job) {
		tl[n].name = "job";
		tl[n].name_len = 3;
		tl[n].value = t->job;
		tl[n++].value_len = strlen(t->job);
	}
	if (!has_instance) {
		tl[n].name = "instance";
		tl[n].name_len = 8;
		tl[n].value = t->instance;
		tl[n++].value_len = strlen(t->instance);
	}
	if (rw->derive != NULL)
		t->dt = derive_target_new(rw->derive, t->job);
	ingest_init(&t->ig, tl, n, t->dt);
	free(tl);

	buf_init(&t->body);
	target_setup_easy(t);
	evtimer_assign(&t->timer, rw->base, scrape_start_cb, t);

	/* Spread first scrapes over the interval, as Prometheus does. */
	now = rwbridge_now_ms();
	offset = (int64_t)(series_hash(t->key, t->keylen) %
	    (uint64_t)t->interval_ms);
	t->next_ms = now - (now % t->interval_ms) + offset;
	if (t->next_ms <= now)
		t->next_ms += t->interval_ms;
	timer_arm_ms(&t->timer, t->next_ms - now);
	return (t);
}

/* Stop scraping, stale-mark every series, free. */
void
target_free(struct target *t)
{
	struct rwbridge	*rw;
	size_t		 i;

	if (t == NULL)
		return;
	rw = t->rw;
	evtimer_del(&t->timer);
	httpc_cancel(rw->httpc, &t->req);
	if (!rw->stopping)
		pushgw_target_removed(rw->pushgw, t);
	ingest_free(&t->ig, rwbridge_now_ms(), rw->stopping ? NULL : &rw->out);
	if (!rw->stopping)
		rwbridge_dispatch(rw);
	derive_target_free(t->dt);
	curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	buf_free(&t->body);
	for (i = 0; i < t->nlabels; i++) {
		free(t->labels[i].name);
		free(t->labels[i].value);
	}
	free(t->labels);
	free(t->group);
	free(t->key);
	free(t->url);
	free(t->job);
	free(t->instance);
	free(t);
}
