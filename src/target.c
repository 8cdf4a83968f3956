/*
 * target: a target's life. A self-re-arming timer fires on the target's own
 * schedule (a start offset spread by a hash of its URL, then every interval
 * without drift); the request goes through the shared curl multi handle; the
 * finished page is handed to ingest and the records to every sink. A target
 * that is down, slow or returns garbage gets up 0 and a logged reason, and no
 * other target notices.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "clock.h"
#include "duration.h"
#include "labels.h"
#include "log.h"
#include "relabel.h"
#include "series.h"
#include "target.h"
#include "timer.h"
#include "url.h"
#include "xmalloc.h"

#define TARGET_CONTENT_TYPE	"Content-Type:"

static void	target_start_cb(evutil_socket_t, short, void *);

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

/* Check a scrape URL and name its instance (host:port) if asked. */
static bool
target_parse_url(const char *url, char **instance, char *err, size_t errlen)
{
	struct url	u;
	char		why[64];

	if (!url_parse(url, &u, why, sizeof why)) {
		snprintf(err, errlen, "invalid URL \"%s\": %s", url, why);
		return (false);
	}
	if (!url_is_http(&u)) {
		snprintf(err, errlen, "URL \"%s\": scheme must be http or "
		    "https", url);
		return (false);
	}
	if (instance != NULL)
		*instance = url_instance(&u);
	return (true);
}

/* Validate a spec. */
bool
target_spec_check(const struct target_spec *sp, char *err, size_t errlen)
{
	size_t	i;
	char	d[2][32];

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
	if (sp->interval_ms != 0 && sp->interval_ms < CONFIG_MIN_INTERVAL_MS) {
		snprintf(err, errlen, "interval %s is below the minimum %s",
		    duration_format(sp->interval_ms, d[0], sizeof d[0]),
		    duration_format(CONFIG_MIN_INTERVAL_MS, d[1],
		    sizeof d[1]));
		return (false);
	}
	return (true);
}

/* Order configured labels by name. */
static int
target_kv_cmp(const void *a, const void *b)
{
	const struct config_kv	*x = a, *y = b;

	return (strcmp(x->name, y->name));
}

/* Find a label by name in a target's sorted labels. */
static const struct config_kv *
target_label(const struct target *t, const char *name)
{
	struct config_kv	key;

	key.name = (char *)name;
	key.value = NULL;
	return (bsearch(&key, t->labels, t->nlabels, sizeof *t->labels,
	    target_kv_cmp));
}

/* Tell whether a running target already matches spec. */
bool
target_matches(const struct target *t, const struct target_spec *sp)
{
	const struct config		*cfg = t->env->cfg;
	const struct config_kv		*kv;
	size_t				 i;
	int64_t				 iv, to;

	iv = sp->interval_ms != 0 ? sp->interval_ms : cfg->scrape_interval_ms;
	to = sp->timeout_ms != 0 ? sp->timeout_ms : cfg->scrape_timeout_ms;
	if (to > iv)
		to = iv;
	/*
	 * The rules and the TLS and auth settings by content: every API
	 * request parses its contract anew, and registering the same JSON
	 * again must keep the scrape (its cache, its derived windows), as
	 * Prometheus keeps a scrape loop whose config is unchanged.
	 */
	if (!relabel_equal(t->spec.metric_relabel, sp->metric_relabel) ||
	    !config_http_equal(t->spec.http, sp->http) ||
	    t->spec.honor_labels != sp->honor_labels ||
	    t->spec.ignore_timestamps != sp->ignore_timestamps ||
	    (t->spec.limits == NULL) != (sp->limits == NULL) ||
	    (sp->limits != NULL && memcmp(t->spec.limits, sp->limits,
	    sizeof *sp->limits) != 0))
		return (false);
	if (strcmp(t->url, sp->url) != 0 || t->interval_ms != iv ||
	    t->timeout_ms != to || t->nlabels != sp->nlabels ||
	    strcmp(t->job, sp->job != NULL ? sp->job : cfg->job) != 0)
		return (false);
	/* Same count and every name found once: the same set, unsorted. */
	for (i = 1; i < t->nlabels; i++) {
		if (strcmp(t->labels[i - 1].name, t->labels[i].name) == 0)
			return (false);
	}
	for (i = 0; i < sp->nlabels; i++) {
		kv = target_label(t, sp->labels[i].name);
		if (kv == NULL || strcmp(kv->value, sp->labels[i].value) != 0)
			return (false);
	}
	return (true);
}

/* Collect the body, up to the size limit. */
static size_t
target_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct target	*t = arg;
	size_t		 len = size * n;

	if (t->ig.limits.body_size_limit > 0 &&
	    t->body.len + len >= t->ig.limits.body_size_limit) {
		t->over_body_limit = true;
		return (0);
	}
	if (t->body.len + len > t->env->cfg->max_body_bytes) {
		t->too_big = true;
		return (0);
	}
	buf_append(&t->body, p, len);
	return (len);
}

/* Remember the Content-Type of the response. */
static size_t
target_header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct target	*t = arg;
	size_t		 len = size * n, vlen;
	size_t		 hlen = sizeof(TARGET_CONTENT_TYPE) - 1;
	const char	*v;

	if (len > hlen && strncasecmp(p, TARGET_CONTENT_TYPE, hlen) == 0) {
		v = p + hlen;
		vlen = len - hlen;
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
target_schedule(struct target *t)
{
	int64_t	now = clock_now_ms();

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
target_finish(struct target *t, bool ok, const char *error)
{
	struct pipeline		*pl = t->env->pipeline;
	struct pipeline_stats	*st = pipeline_stats(pl);
	struct ingest_out	*out = pipeline_out(pl);
	double			 dur;
	size_t			 k;

	dur = clock_since_s(&t->start_tv);
	t->last_scrape_ms = t->start_ms;
	t->last_duration = dur;
	t->last_samples = ok ? t->ig.stats.samples : 0;
	t->health = ok ? TARGET_UP : TARGET_DOWN;
	if (ok) {
		if (t->fail_log.active)
			log_info("scrape recovered", "target=%s job=%s "
			    "repeated=%" PRIu64, t->url, t->job,
			    log_limit_clear(&t->fail_log));
		t->last_error[0] = '\0';
		st->scrapes_ok++;
		st->samples_scraped += t->ig.stats.samples;
		st->duplicates += t->ig.stats.duplicates;
	} else {
		log_limited(&t->fail_log, LOG_LEVEL_WARN, error,
		    "scrape failed", "target=%s job=%s err=%s", t->url, t->job,
		    error);
		snprintf(t->last_error, sizeof t->last_error, "%s", error);
		st->scrapes_failed++;
	}
	ingest_synthetic(&t->ig, "up", ok ? 1 : 0, t->start_ms, out);
	ingest_synthetic(&t->ig, "scrape_duration_seconds", dur, t->start_ms,
	    out);
	/* As Prometheus reports them, also for a page that failed. */
	ingest_synthetic(&t->ig, "scrape_samples_scraped",
	    (double)t->ig.stats.samples, t->start_ms, out);
	ingest_synthetic(&t->ig, "scrape_samples_post_metric_relabeling",
	    (double)t->ig.stats.samples_post, t->start_ms, out);
	for (k = 0; k < INGEST_NLIMITS; k++) {
		st->limit_hits[k] += t->ig.limit_hits[k] - t->limit_seen[k];
		t->limit_seen[k] = t->ig.limit_hits[k];
	}
	/* New series up to where a failed page stopped, as Prometheus. */
	ingest_synthetic(&t->ig, "scrape_series_added",
	    (double)t->ig.stats.series_added, t->start_ms, out);
	st->stale_markers += t->ig.stats.stale_markers;
	pipeline_dispatch(pl);
	/* Give the page buffer back for the next scrape. */
	pipeline_body_give(pl, &t->body);
}

/* Who the target is, for the Pushgateway sink. */
static void
target_source(const struct target *t, struct pushgw_source *src)
{
	src->key = t->key;
	src->keylen = t->keylen;
	src->hash = t->hash;
	src->job = t->job;
	src->instance = t->instance;
}

/* A scrape that failed before a page arrived. */
static void
target_failed(struct target *t, const char *err)
{
	memset(&t->ig.stats, 0, sizeof t->ig.stats);
	ingest_failed(&t->ig, t->start_ms, pipeline_out(t->env->pipeline));
	if (t->dt != NULL)
		derive_abort(t->dt);
	target_finish(t, false, err);
}

/* The reason phrase of a status, as Prometheus's error says it. */
static const char *
target_status_text(long code)
{
	static const struct {
		long		 code;
		const char	*text;
	} texts[] = {
		{ 204, "No Content" }, { 301, "Moved Permanently" },
		{ 302, "Found" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 406, "Not Acceptable" }, { 408, "Request Timeout" },
		{ 429, "Too Many Requests" }, { 500, "Internal Server Error" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" }
	};
	size_t	i;

	for (i = 0; i < sizeof texts / sizeof texts[0]; i++)
		if (texts[i].code == code)
			return (texts[i].text);
	return ("");
}

/* Handle the end of a scrape request. */
static void
target_done_cb(struct httpc_req *req, CURLcode rc)
{
	struct target		*t = req->arg;
	struct pipeline		*pl = t->env->pipeline;
	struct pushgw_source	 src;
	long			 code = 0;
	char			 err[320];
	bool			 ok;
	enum pt_format		 fmt;

	if (rc != CURLE_OK && t->over_body_limit) {
		t->ig.limit_hits[INGEST_LIMIT_BODY_SIZE]++;
		target_failed(t, "body size limit exceeded");
		return;
	}
	if (rc != CURLE_OK) {
		if (t->too_big)
			snprintf(err, sizeof err, "body exceeds max_body_bytes "
			    "(%llu)",
			    (unsigned long long)t->env->cfg->max_body_bytes);
		else
			snprintf(err, sizeof err, "%s", t->curl_err[0] != '\0' ?
			    t->curl_err : curl_easy_strerror(rc));
		target_failed(t, err);
		return;
	}
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200) {
		snprintf(err, sizeof err, "server returned HTTP status %ld%s%s",
		    code, *target_status_text(code) != '\0' ? " " : "",
		    target_status_text(code));
		target_failed(t, err);
		return;
	}
	fmt = promtext_format_from_content_type(t->content_type);
	ok = ingest_page(&t->ig, (const char *)t->body.data, t->body.len,
	    fmt, t->start_ms, pipeline_out(pl), err, sizeof err);
	if (ok && pipeline_wants_pages(pl)) {
		target_source(t, &src);
		pipeline_page(pl, &src, (const char *)t->body.data,
		    t->body.len, fmt);
	}
	target_finish(t, ok, err);
}

/* Start a scrape when the target's timer fires. */
static void
target_start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct target	*t = arg;

	target_schedule(t);
	if (t->req.active) {
		log_limited(&t->overrun_log, LOG_LEVEL_WARN, NULL,
		    "scrape still running at the next interval, skipped",
		    "target=%s interval_ms=%lld", t->url,
		    (long long)t->interval_ms);
		return;
	}
	pipeline_body_take(t->env->pipeline, &t->body);
	t->too_big = false;
	t->over_body_limit = false;
	t->curl_err[0] = '\0';
	t->content_type[0] = '\0';
	gettimeofday(&t->start_tv, NULL);
	t->start_ms = (int64_t)t->start_tv.tv_sec * 1000 +
	    t->start_tv.tv_usec / 1000;
	if (httpc_start(t->env->httpc, &t->req) != 0)
		target_finish(t, false, "could not start the request");
}

/*
 * tls_config.server_name: ask for (and verify) that name while connecting
 * to the URL's host, by naming it in the URL and telling libcurl where it
 * really is.
 */
static void
target_server_name(struct target *t, const char *name)
{
	struct url	 u;
	char		 why[64], *url, *map, *inst;

	if (!url_parse(t->url, &u, why, sizeof why))
		return;
	inst = url_instance(&u);
	xasprintf(&map, "%s:%d:%s", name, u.port, inst);
	t->connect_to = curl_slist_append(t->connect_to, map);
	/* The URL with name for its host, everything else as written. */
	xasprintf(&url, "%.*s%s%.*s%s", (int)(u.addr.p - t->url), t->url,
	    name, (int)(u.addr.len - u.host.len), u.addr.p + u.host.len,
	    u.path.p);
	curl_easy_setopt(t->easy, CURLOPT_URL, url);
	curl_easy_setopt(t->easy, CURLOPT_CONNECT_TO, t->connect_to);
	free(inst);
	free(map);
	free(url);
}

/*
 * TLS and auth towards the target (tls_config, basic_auth, authorization):
 * libcurl's options; the secrets stay in the config, never in a log.
 */
static void
target_setup_http(struct target *t)
{
	const struct config_http	*h = t->spec.http;
	char				*hdr;

	if (h == NULL)
		return;
	if (h->tls_ca_file != NULL)
		curl_easy_setopt(t->easy, CURLOPT_CAINFO, h->tls_ca_file);
	if (h->tls_cert_file != NULL) {
		curl_easy_setopt(t->easy, CURLOPT_SSLCERT, h->tls_cert_file);
		curl_easy_setopt(t->easy, CURLOPT_SSLKEY, h->tls_key_file);
	}
	if (h->tls_insecure_skip_verify) {
		curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(t->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->basic_user != NULL) {
		curl_easy_setopt(t->easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(t->easy, CURLOPT_USERNAME, h->basic_user);
		curl_easy_setopt(t->easy, CURLOPT_PASSWORD,
		    h->basic_password != NULL ? h->basic_password : "");
	}
	if (h->auth_credentials != NULL) {
		xasprintf(&hdr, "Authorization: %s %s", h->auth_type != NULL ?
		    h->auth_type : CONFIG_DEFAULT_AUTH_TYPE,
		    h->auth_credentials);
		t->headers = curl_slist_append(t->headers, hdr);
		explicit_bzero(hdr, strlen(hdr));
		free(hdr);
		curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	}
	if (h->tls_server_name != NULL)
		target_server_name(t, h->tls_server_name);
}

/* Set up the easy handle once; it is reused so connections stay open. */
static void
target_setup_easy(struct target *t)
{
	char	hdr[600];

	t->easy = curl_easy_init();
	if (t->easy == NULL)
		fatal("curl_easy_init failed", NULL);
	/* OpenMetrics preferred, as Prometheus asks (scrape_protocols). */
	snprintf(hdr, sizeof hdr, "Accept: %s", t->env->cfg->scrape_accept !=
	    NULL ? t->env->cfg->scrape_accept : CONFIG_DEFAULT_ACCEPT);
	t->headers = curl_slist_append(NULL, hdr);
	snprintf(hdr, sizeof hdr, "X-Prometheus-Scrape-Timeout-Seconds: %g",
	    (double)t->timeout_ms / 1000);
	t->headers = curl_slist_append(t->headers, hdr);
	curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT,
	    "rwbridge/" RWBRIDGE_VERSION);
	curl_easy_setopt(t->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
	httpc_easy_defaults(t->easy);
	curl_easy_setopt(t->easy, CURLOPT_BUFFERSIZE, HTTPC_SCRAPE_BUFFER);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, target_write_cb);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, target_header_cb);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	/* libcurl's own words: "SSL certificate problem: ...". */
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->curl_err);
	target_setup_http(t);
	t->req.easy = t->easy;
	t->req.done = target_done_cb;
	t->req.arg = t;
}

/* Copy a string that may be NULL. */
static char *
target_strdup(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

/* Copy spec into t->spec (deep). */
static void
target_spec_copy(struct target *t, const struct target_spec *sp)
{
	struct config_kv	*kv;
	size_t			 i;

	t->spec.url = xstrdup(sp->url);
	t->spec.job = target_strdup(sp->job);
	t->spec.scheme = target_strdup(sp->scheme);
	t->spec.address = target_strdup(sp->address);
	t->spec.path = target_strdup(sp->path);
	t->spec.interval_ms = sp->interval_ms;
	t->spec.timeout_ms = sp->timeout_ms;
	t->spec.metric_relabel = relabel_ref(sp->metric_relabel);
	if (sp->limits != NULL) {
		t->spec_limits = *sp->limits;
		t->spec.limits = &t->spec_limits;
	}
	t->spec.honor_labels = sp->honor_labels;
	t->spec.ignore_timestamps = sp->ignore_timestamps;
	t->spec.http = config_http_ref(sp->http);
	t->spec.given = target_strdup(sp->given);
	t->spec.nlabels = sp->nlabels;
	kv = xcalloc(sp->nlabels + 1, sizeof *kv);
	for (i = 0; i < sp->nlabels; i++) {
		kv[i].name = xstrdup(sp->labels[i].name);
		kv[i].value = xstrdup(sp->labels[i].value);
	}
	t->spec.labels = kv;
}

/* Free t->spec. */
static void
target_spec_free(struct target *t)
{
	struct config_kv	*kv = (struct config_kv *)t->spec.labels;
	size_t			 i;

	for (i = 0; i < t->spec.nlabels; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
	free((char *)t->spec.url);
	free((char *)t->spec.job);
	free((char *)t->spec.scheme);
	free((char *)t->spec.address);
	free((char *)t->spec.path);
	free((char *)t->spec.given);
	relabel_free(t->spec.metric_relabel);
	config_http_unref(t->spec.http);
	memset(&t->spec, 0, sizeof t->spec);
}

/* Keep spec as the one the target was registered with. */
void
target_respec(struct target *t, const struct target_spec *sp)
{
	target_spec_free(t);
	target_spec_copy(t, sp);
}

/* The target's labels for ingest: configured ones, then job, instance. */
static void
target_init_ingest(struct target *t)
{
	struct ingest_opts	 o;
	struct label		*tl;
	size_t			 i, n;
	bool			 has_job = false, has_instance = false;

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
		tl[n].name_len = strlen(tl[n].name);
		tl[n].value = t->job;
		tl[n++].value_len = strlen(t->job);
	}
	if (!has_instance) {
		tl[n].name = "instance";
		tl[n].name_len = strlen(tl[n].name);
		tl[n].value = t->instance;
		tl[n++].value_len = strlen(t->instance);
	}
	if (t->env->derive != NULL)
		t->dt = derive_target_new(t->env->derive, t->job);
	ingest_init(&t->ig, tl, n, t->dt, t->env->pool);
	free(tl);
	memset(&o, 0, sizeof o);
	o.metric_relabel = t->spec.metric_relabel;
	o.limits = t->spec.limits != NULL ? *t->spec.limits :
	    t->env->cfg->limits;
	o.honor_labels = t->spec.honor_labels;
	o.honor_timestamps = !t->spec.ignore_timestamps;
	ingest_configure(&t->ig, &o);
}

/* Create a target and schedule its first scrape. */
struct target *
target_new(const struct target_env *env, const char *group,
    const struct target_spec *sp)
{
	const struct config	*cfg = env->cfg;
	struct target		*t;
	size_t			 i, glen, ulen;
	char			 err[256];
	int64_t			 offset, now;

	t = xcalloc(1, sizeof *t);
	t->env = env;
	target_spec_copy(t, sp);
	t->group = xstrdup(group);
	t->url = xstrdup(sp->url);
	glen = strlen(group);
	ulen = strlen(sp->url);
	t->keylen = glen + 1 + ulen;
	t->key = xmalloc(t->keylen + 1);
	memcpy(t->key, group, glen + 1);
	memcpy(t->key + glen + 1, sp->url, ulen + 1);
	t->hash = series_hash(t->key, t->keylen);
	t->job = xstrdup(sp->job != NULL ? sp->job : cfg->job);
	if (!target_parse_url(sp->url, &t->instance, err, sizeof err))
		t->instance = xstrdup(sp->url);
	t->interval_ms = sp->interval_ms != 0 ? sp->interval_ms :
	    cfg->scrape_interval_ms;
	t->timeout_ms = sp->timeout_ms != 0 ? sp->timeout_ms :
	    cfg->scrape_timeout_ms;
	if (t->timeout_ms > t->interval_ms)
		t->timeout_ms = t->interval_ms;
	t->nlabels = sp->nlabels;
	t->labels = xcalloc(sp->nlabels + 1, sizeof *t->labels);
	for (i = 0; i < sp->nlabels; i++) {
		t->labels[i].name = xstrdup(sp->labels[i].name);
		t->labels[i].value = xstrdup(sp->labels[i].value);
	}
	qsort(t->labels, t->nlabels, sizeof *t->labels, target_kv_cmp);
	target_init_ingest(t);

	buf_init(&t->body);
	target_setup_easy(t);
	evtimer_assign(&t->timer, env->evbase, target_start_cb, t);

	/* Spread first scrapes over the interval, as Prometheus does. */
	now = clock_now_ms();
	offset = (int64_t)(t->hash % (uint64_t)t->interval_ms);
	t->next_ms = now - (now % t->interval_ms) + offset;
	if (t->next_ms <= now)
		t->next_ms += t->interval_ms;
	timer_arm_ms(&t->timer, t->next_ms - now);
	return (t);
}

/* Stop scraping, stale-mark every series if asked, free. */
void
target_free(struct target *t, bool stale)
{
	struct pipeline		*pl;
	struct pushgw_source	 src;
	size_t			 i;
	uint64_t		 nstale;

	if (t == NULL)
		return;
	pl = t->env->pipeline;
	evtimer_del(&t->timer);
	httpc_cancel(t->env->httpc, &t->req);
	if (stale) {
		target_source(t, &src);
		pipeline_removed(pl, &src);
	}
	nstale = t->ig.stats.stale_markers;
	ingest_free(&t->ig, clock_now_ms(), stale ? pipeline_out(pl) : NULL);
	if (stale) {
		/* Counted with those of the scrapes: markers sent. */
		pipeline_stats(pl)->stale_markers +=
		    t->ig.stats.stale_markers - nstale;
		pipeline_dispatch(pl);
	}
	derive_target_free(t->dt);
	curl_easy_cleanup(t->easy);
	curl_slist_free_all(t->headers);
	curl_slist_free_all(t->connect_to);
	buf_free(&t->body);
	for (i = 0; i < t->nlabels; i++) {
		free(t->labels[i].name);
		free(t->labels[i].value);
	}
	free(t->labels);
	target_spec_free(t);
	free(t->group);
	free(t->key);
	free(t->url);
	free(t->job);
	free(t->instance);
	free(t);
}
