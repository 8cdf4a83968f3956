/*
 * rwbridge: the one file that wires the daemon. It creates the event base,
 * the shared curl multi handle, the pipeline (senders and the Pushgateway
 * sink), the target registry, the push receiver, the API and the state
 * file, registers the listener's routes, starts the static targets and the
 * file_sd watcher and the fleet timer, runs the event loop, and on
 * SIGTERM/SIGINT stops scraping, flushes what it can within the shutdown
 * deadline and leaves the rest in the queues. Every module below gets the
 * narrow handles it needs; none of them includes this file.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event_struct.h>

#include "addr.h"
#include "api.h"
#include "clock.h"
#include "derive.h"
#include "filesd.h"
#include "httpc.h"
#include "httpd.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "pushrecv.h"
#include "rwbridge.h"
#include "targetrelabel.h"
#include "state.h"
#include "statushttp.h"
#include "target.h"
#include "targets.h"
#include "timer.h"
#include "xmalloc.h"

#define SHUTDOWN_DEADLINE_MS	10000
#define SHUTDOWN_POLL_MS	50
#define SYNC_DEFAULT_MS		1000

struct rwbridge {
	struct event_base	*base;
	struct config		*cfg;
	struct httpc		*httpc;
	struct pipeline		*pipeline;
	struct derive		*derive;
	struct target_env	 env;		/* what targets borrow */
	struct targets		*targets;
	struct ingest		 fleet;		/* fleet-wide derived series */
	struct state		*state;
	struct api		*api;
	struct pushrecv		*pushrecv;
	struct metrics_sources	 msrc;
	struct statushttp_sources status;	/* /targets */
	struct httpd		*httpd;
	struct filesd		*filesd;
	struct event		 fleet_timer;
	struct event		 sync_timer;
	struct event		 shutdown_timer;
	struct event		*sig_term;
	struct event		*sig_int;
	struct event		*sig_hup;
	bool			 ready;
	bool			 stopping;
	int64_t			 stop_ms;
};

/* Take one fleet series from derive_fleet (a derive_emit_fn). */
static void
rwbridge_fleet_emit_cb(void *arg, const char *name, const struct label *l,
    size_t nl, double v, int64_t ts)
{
	struct rwbridge	*rw = arg;

	ingest_derived(&rw->fleet, name, l, nl, v, ts,
	    pipeline_out(rw->pipeline));
}

/* Emit fleet aggregates once per global interval. */
static void
rwbridge_fleet_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rwbridge	*rw = arg;
	int64_t		 now = clock_now_ms();

	timer_arm_ms(&rw->fleet_timer, rw->cfg->scrape_interval_ms);
	ingest_derived_begin(&rw->fleet);
	derive_fleet(rw->derive, now, rwbridge_fleet_emit_cb, rw);
	ingest_derived_sweep(&rw->fleet, now, pipeline_out(rw->pipeline));
	pipeline_dispatch(rw->pipeline);
}

/* The shortest fsync_interval of the endpoints (1 s if none). */
static int64_t
rwbridge_sync_interval(const struct config *cfg)
{
	int64_t	ms = 0;
	size_t	i;

	for (i = 0; i < cfg->nremote_writes; i++) {
		if (cfg->remote_writes[i].fsync == CONFIG_FSYNC_INTERVAL &&
		    (ms == 0 || cfg->remote_writes[i].fsync_interval_ms < ms))
			ms = cfg->remote_writes[i].fsync_interval_ms;
	}
	return (ms > 0 ? ms : SYNC_DEFAULT_MS);
}

/* Flush queues to disk on the fsync interval. */
static void
rwbridge_sync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rwbridge	*rw = arg;

	timer_arm_ms(&rw->sync_timer, rwbridge_sync_interval(rw->cfg));
	pipeline_sync(rw->pipeline);
}

/* Leave the loop once every sink is idle or the deadline passed. */
static void
rwbridge_shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rwbridge	*rw = arg;
	bool		 idle = pipeline_idle(rw->pipeline);

	if (idle || clock_now_ms() - rw->stop_ms >= SHUTDOWN_DEADLINE_MS) {
		if (!idle)
			log_warn("shutdown deadline reached, unsent data stays "
			    "queued", NULL);
		event_base_loopbreak(rw->base);
		return;
	}
	timer_arm_ms(&rw->shutdown_timer, SHUTDOWN_POLL_MS);
}

/* Begin a graceful shutdown. */
static void
rwbridge_signal_term_cb(evutil_socket_t sig, short what, void *arg)
{
	struct rwbridge	*rw = arg;

	if (rw->stopping) {
		log_warn("second signal, exiting now", NULL);
		event_base_loopbreak(rw->base);
		return;
	}
	log_info("shutting down", "signal=%d", (int)sig);
	rw->stopping = true;
	rw->stop_ms = clock_now_ms();
	evtimer_del(&rw->fleet_timer);
	filesd_free(rw->filesd);
	rw->filesd = NULL;
	/* The registry stays for the handlers; its targets go, unmarked. */
	state_flush(rw->state);
	targets_stop(rw->targets);
	pipeline_flush(rw->pipeline);
	timer_arm_ms(&rw->shutdown_timer, 0);
}

/* Re-read file_sd files. */
static void
rwbridge_signal_hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct rwbridge	*rw = arg;

	log_info("SIGHUP: re-reading file_sd files", NULL);
	filesd_reload(rw->filesd);
}

/* Serve /-/healthy. */
static void
rwbridge_healthy_cb(struct evhttp_request *req, const char *rest,
    const struct evhttp_uri *u, void *arg)
{
	httpd_text(req, 200, "rwbridge is Healthy.\n");
}

/* Serve /-/ready: 200 once started and until a shutdown begins. */
static void
rwbridge_ready_cb(struct evhttp_request *req, const char *rest,
    const struct evhttp_uri *u, void *arg)
{
	struct rwbridge	*rw = arg;

	if (rw->ready && !rw->stopping)
		httpd_text(req, 200, "rwbridge is Ready.\n");
	else
		httpd_text(req, 503, "rwbridge is not ready.\n");
}

/* Register every route of the listener, with what each accepts. */
static void
rwbridge_add_routes(struct rwbridge *rw)
{
	static const struct httpd_policy	api = { true, 0 };
	static const struct httpd_policy	push = { true,
						    HTTPD_MAX_BODY_PUSH };

	httpd_route(rw->httpd, "/metrics", HTTPD_EXACT, NULL,
	    metrics_handle_cb, &rw->msrc);
	httpd_route(rw->httpd, "/-/healthy", HTTPD_EXACT, NULL,
	    rwbridge_healthy_cb, rw);
	httpd_route(rw->httpd, "/-/ready", HTTPD_EXACT, NULL,
	    rwbridge_ready_cb, rw);
	httpd_route(rw->httpd, "/api/v1/targets", HTTPD_SUBTREE, &api,
	    api_handle_cb, rw->api);
	httpd_route(rw->httpd, "/metrics/job", HTTPD_SUBTREE, &push,
	    pushrecv_handle_cb, rw->pushrecv);
	httpd_route(rw->httpd, "/metrics/job@base64", HTTPD_SUBTREE, &push,
	    pushrecv_handle_cb, rw->pushrecv);
	/* /targets shows what the API's GET does: the same token. */
	httpd_route(rw->httpd, "/targets", HTTPD_EXACT, &api,
	    statushttp_targets_cb, &rw->status);
	httpd_route(rw->httpd, "/", HTTPD_EXACT, NULL, statushttp_index_cb,
	    NULL);
}

/*
 * Apply a config group's relabel_configs to one of its targets: false when
 * the target is dropped (its discovered labels go to dropped) or is no
 * target after them (logged); else sp now describes the relabeled target,
 * whose strings rt owns.
 */
static bool
static_relabel(struct rwbridge *rw, const struct config_target *ct,
    struct target_spec *sp, struct target_relabeled *rt, char **dropped,
    size_t *ndropped)
{
	char	err[256];
	int	rc;

	rc = target_relabel_spec(ct->relabel, rw->cfg, sp, rt, err,
	    sizeof err);
	if (rc == 0) {
		log_info("target dropped by relabel_configs", "url=%s",
		    ct->url);
		dropped[(*ndropped)++] = rt->discovered;
		rt->discovered = NULL;
	} else if (rc < 0)
		log_warn("target dropped: not a target after relabel_configs",
		    "url=%s err=%s", ct->url, err);
	if (rc != 1) {
		target_relabeled_free(rt);
		return (false);
	}
	return (true);
}

/* Scrape the configured static targets and rwbridge itself. */
static void
rwbridge_start_static_targets(struct rwbridge *rw)
{
	struct config		*cfg = rw->cfg;
	struct config_target	*ct;
	struct target_spec	*sp, self;
	struct target_relabeled	*rt;
	struct config_kv	 kv;
	char			**dropped;
	size_t			 n, ndropped = 0;
	char			 host[256], url[300], name[256], inst[300];
	int			 port;
	size_t			 i;

	sp = xcalloc(cfg->ntargets + 1, sizeof *sp);
	rt = xcalloc(cfg->ntargets + 1, sizeof *rt);
	dropped = xcalloc(cfg->ntargets + 1, sizeof *dropped);
	for (i = n = 0; i < cfg->ntargets; i++) {
		ct = &cfg->targets[i];
		sp[n].url = ct->url;
		sp[n].job = ct->job;
		sp[n].labels = ct->labels;
		sp[n].nlabels = ct->nlabels;
		sp[n].interval_ms = ct->interval_ms;
		sp[n].timeout_ms = ct->timeout_ms;
		sp[n].metric_relabel = ct->metric_relabel;
		sp[n].limits = &ct->limits;
		sp[n].honor_labels = ct->honor_labels;
		sp[n].ignore_timestamps = !ct->honor_timestamps;
		sp[n].http = ct->http;
		if (relabel_len(ct->relabel) > 0 && !static_relabel(rw, ct,
		    &sp[n], &rt[n], dropped, &ndropped))
			continue;
		n++;
	}
	targets_set_group(rw->targets, TSPEC_GROUP_STATIC, sp, n);
	targets_set_dropped(rw->targets, TSPEC_GROUP_STATIC, dropped,
	    ndropped);
	for (i = 0; i < n; i++)
		target_relabeled_free(&rt[i]);
	free(rt);
	free(sp);

	if (!cfg->self_scrape ||
	    !addr_split(cfg->listen, host, sizeof host, &port))
		return;
	memset(&self, 0, sizeof self);
	/*
	 * On a wildcard address, scrape loopback but name the instance by
	 * the host name, so rwbridges on several hosts do not collide.
	 */
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
		snprintf(host, sizeof host, "127.0.0.1");
		if (gethostname(name, sizeof name) == 0) {
			name[sizeof name - 1] = '\0';
			snprintf(inst, sizeof inst, "%s:%d", name, port);
			kv.name = (char *)"instance";
			kv.value = inst;
			self.labels = &kv;
			self.nlabels = 1;
		}
	}
	if (strchr(host, ':') != NULL)
		snprintf(url, sizeof url, "http://[%s]:%d/metrics", host, port);
	else
		snprintf(url, sizeof url, "http://%s:%d/metrics", host, port);
	self.url = url;
	self.job = "rwbridge";
	targets_set_group(rw->targets, TSPEC_GROUP_SELF, &self, 1);
}

/* Arm the timers and the signal events. */
static void
rwbridge_start_events(struct rwbridge *rw)
{
	evtimer_assign(&rw->fleet_timer, rw->base, rwbridge_fleet_cb, rw);
	if (rw->derive != NULL)
		timer_arm_ms(&rw->fleet_timer, rw->cfg->scrape_interval_ms);
	evtimer_assign(&rw->sync_timer, rw->base, rwbridge_sync_cb, rw);
	timer_arm_ms(&rw->sync_timer, rwbridge_sync_interval(rw->cfg));
	evtimer_assign(&rw->shutdown_timer, rw->base, rwbridge_shutdown_cb, rw);
	rw->sig_term = evsignal_new(rw->base, SIGTERM, rwbridge_signal_term_cb,
	    rw);
	rw->sig_int = evsignal_new(rw->base, SIGINT, rwbridge_signal_term_cb,
	    rw);
	rw->sig_hup = evsignal_new(rw->base, SIGHUP, rwbridge_signal_hup_cb,
	    rw);
	evsignal_add(rw->sig_term, NULL);
	evsignal_add(rw->sig_int, NULL);
	evsignal_add(rw->sig_hup, NULL);
}

/* Run the daemon until a signal stops it. */
int
rwbridge_run(struct config *cfg)
{
	struct rwbridge	 rw;
	char		 err[1024];
	int		 rc = 1;

	memset(&rw, 0, sizeof rw);
	rw.cfg = cfg;
	rw.msrc.start_ms = clock_now_ms();
	signal(SIGPIPE, SIG_IGN);
	httpd_raise_fd_limit();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatal("curl_global_init failed", NULL);
	rw.base = event_base_new();
	if (rw.base == NULL)
		fatal("event_base_new failed", NULL);
	rw.httpc = httpc_new(rw.base);
	/* One pool for every scrape cache: a fleet's series stored once. */
	rw.env.pool = series_pool_new();
	if (cfg->derive.enabled) {
		rw.derive = derive_new(&cfg->derive);
		ingest_init(&rw.fleet, NULL, 0, NULL, rw.env.pool);
	}
	rw.pipeline = pipeline_new(rw.base, rw.httpc, cfg, err, sizeof err);
	if (rw.pipeline == NULL) {
		log_error("cannot start the pipeline", "err=%s", err);
		goto out;
	}
	rw.env.evbase = rw.base;
	rw.env.httpc = rw.httpc;
	rw.env.cfg = cfg;
	rw.env.derive = rw.derive;
	rw.env.pipeline = rw.pipeline;
	rw.targets = targets_new(&rw.env);
	rw.state = state_new(rw.base, rw.targets, cfg);
	rw.api = api_new(rw.targets, cfg, rw.state);
	rw.pushrecv = pushrecv_new(rw.base, cfg, rw.pipeline, rw.env.pool);
	rw.msrc.targets = rw.targets;
	rw.msrc.pipeline = rw.pipeline;
	rw.msrc.api = rw.api;
	rw.msrc.pushrecv = rw.pushrecv;
	rw.status.targets = rw.targets;
	rw.status.pipeline = rw.pipeline;
	rw.status.pushrecv = rw.pushrecv;
	rw.httpd = httpd_new(rw.base, cfg);
	rw.msrc.httpd = rw.httpd;
	rwbridge_add_routes(&rw);
	if (httpd_listen(rw.httpd, cfg->listen, err, sizeof err) != 0) {
		log_error("cannot start the HTTP listener", "err=%s", err);
		goto out;
	}
	if (state_load(rw.state, err, sizeof err) != 0)
		log_warn("registered targets not restored", "err=%s", err);
	rwbridge_start_static_targets(&rw);
	if (cfg->nfile_sd > 0) {
		rw.filesd = filesd_new(rw.base, rw.targets, cfg, err,
		    sizeof err);
		if (rw.filesd == NULL) {
			log_error("cannot watch file_sd files", "err=%s", err);
			goto out;
		}
	}
	rwbridge_start_events(&rw);

	rw.ready = true;
	log_info("rwbridge started", "version=%s listen=%s targets=%zu "
	    "remote_writes=%zu", RWBRIDGE_VERSION, cfg->listen,
	    targets_count(rw.targets), pipeline_nsenders(rw.pipeline));
	event_base_dispatch(rw.base);
	rc = 0;

out:
	rw.stopping = true;
	filesd_free(rw.filesd);
	targets_free(rw.targets);
	httpd_free(rw.httpd);
	api_free(rw.api);
	state_free(rw.state);
	pushrecv_free(rw.pushrecv);
	pipeline_free(rw.pipeline);
	if (rw.derive != NULL) {
		ingest_free(&rw.fleet, 0, NULL);
		derive_free(rw.derive);
	}
	/* After every cache using it: targets, pushed groups, the fleet. */
	series_pool_free(rw.env.pool);
	/* The timers and signal events exist once rwbridge_start_events ran. */
	if (rw.sig_term != NULL) {
		event_free(rw.sig_term);
		event_free(rw.sig_int);
		event_free(rw.sig_hup);
		evtimer_del(&rw.fleet_timer);
		evtimer_del(&rw.sync_timer);
		evtimer_del(&rw.shutdown_timer);
	}
	httpc_free(rw.httpc);
	event_base_free(rw.base);
	curl_global_cleanup();
	log_info("rwbridge stopped", NULL);
	return (rc);
}
