/*
 * rwbridge: the daemon. It builds the context, starts the listener, the
 * targets from the config, the remote-write senders and the fleet timer,
 * runs the event loop, and on SIGTERM/SIGINT stops scraping, flushes what
 * it can within the shutdown deadline and leaves the rest in the queues.
 */
#include <sys/time.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "filesd.h"
#include "httpd.h"
#include "log.h"
#include "pushgw.h"
#include "pushrecv.h"
#include "rwbridge.h"
#include "sender.h"
#include "state.h"
#include "targets.h"
#include "timer.h"
#include "xmalloc.h"

#define SHUTDOWN_DEADLINE_MS	10000
#define SHUTDOWN_POLL_MS	50

/* Milliseconds since the epoch. */
int64_t
rwbridge_now_ms(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return ((int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/* Hand the records in rw->out to every sink, then reset it. */
void
rwbridge_dispatch(struct rwbridge *rw)
{
	size_t	i;

	if (rw->out.n == 0 && rw->out.nmeta == 0)
		return;
	for (i = 0; i < rw->nsenders; i++)
		sender_add(rw->senders[i], &rw->out);
	ingest_out_reset(&rw->out);
}

/* Take one fleet series from derive_fleet (a derive_emit_fn). */
static void
fleet_emit_cb(void *arg, const char *name, const struct label *l, size_t nl,
    double v, int64_t ts)
{
	struct rwbridge	*rw = arg;

	ingest_derived(&rw->fleet, name, l, nl, v, ts, &rw->out);
	rw->st.derived_samples++;
}

/* Emit fleet aggregates once per global interval. */
static void
fleet_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rwbridge	*rw = arg;
	int64_t		 now = rwbridge_now_ms();

	timer_arm_ms(&rw->fleet_timer, rw->cfg->scrape_interval_ms);
	ingest_derived_begin(&rw->fleet);
	derive_fleet(rw->derive, now, fleet_emit_cb, rw);
	ingest_derived_sweep(&rw->fleet, now, &rw->out);
	rwbridge_dispatch(rw);
}

/* The shortest fsync_interval of the endpoints (1 s if none). */
static int64_t
sync_interval(const struct config *cfg)
{
	int64_t	ms = 0;
	size_t	i;

	for (i = 0; i < cfg->nremote_writes; i++) {
		if (cfg->remote_writes[i].fsync == CONFIG_FSYNC_INTERVAL &&
		    (ms == 0 || cfg->remote_writes[i].fsync_interval_ms < ms))
			ms = cfg->remote_writes[i].fsync_interval_ms;
	}
	return (ms > 0 ? ms : 1000);
}

/* Flush queues to disk on the fsync interval. */
static void
sync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rwbridge	*rw = arg;
	size_t		 i;

	timer_arm_ms(&rw->sync_timer, sync_interval(rw->cfg));
	for (i = 0; i < rw->nsenders; i++)
		sender_sync(rw->senders[i]);
}

/* Log a remote-write endpoint's lifetime figures at exit. */
static void
log_totals(struct sender *s)
{
	struct sender_stats	st;

	sender_get_stats(s, &st);
	log_info("remote write totals", "remote=%s samples_in=%" PRIu64
	    " samples_sent=%" PRIu64 " dropped_queue_full=%" PRIu64
	    " dropped_4xx=%" PRIu64 " dropped_io=%" PRIu64 " pending=%" PRIu64,
	    sender_name(s), st.samples_in, st.samples_sent,
	    st.samples_dropped_queue_full, st.samples_dropped_4xx,
	    st.samples_dropped_io, st.samples_pending);
}

/* Leave the loop once every sender is idle or the deadline passed. */
static void
shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rwbridge	*rw = arg;
	size_t		 i;
	bool		 idle = true;

	for (i = 0; i < rw->nsenders; i++) {
		if (!sender_idle(rw->senders[i]))
			idle = false;
	}
	if (!pushgw_idle(rw->pushgw))
		idle = false;
	if (idle || rwbridge_now_ms() - rw->stop_ms >= SHUTDOWN_DEADLINE_MS) {
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
signal_term_cb(evutil_socket_t sig, short what, void *arg)
{
	struct rwbridge	*rw = arg;
	size_t		 i;

	if (rw->stopping) {
		log_warn("second signal, exiting now", NULL);
		event_base_loopbreak(rw->base);
		return;
	}
	log_info("shutting down", "signal=%d", (int)sig);
	rw->stopping = true;
	rw->stop_ms = rwbridge_now_ms();
	evtimer_del(&rw->fleet_timer);
	filesd_free(rw->filesd);
	rw->filesd = NULL;
	targets_free(rw->targets);
	rw->targets = targets_new(rw);
	for (i = 0; i < rw->nsenders; i++)
		sender_flush(rw->senders[i]);
	pushgw_flush(rw->pushgw);
	timer_arm_ms(&rw->shutdown_timer, 0);
}

/* Re-read file_sd files. */
static void
signal_hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct rwbridge	*rw = arg;

	log_info("SIGHUP: re-reading file_sd files", NULL);
	filesd_reload(rw->filesd);
}

/* Scrape the configured static targets and rwbridge itself. */
static void
start_static_targets(struct rwbridge *rw)
{
	struct config		*cfg = rw->cfg;
	struct target_spec	*sp, self;
	struct config_kv	 kv;
	char			 host[256], url[300], name[256], inst[300];
	int			 port;
	size_t			 i;

	sp = xcalloc(cfg->ntargets + 1, sizeof *sp);
	for (i = 0; i < cfg->ntargets; i++) {
		sp[i].url = cfg->targets[i].url;
		sp[i].job = cfg->targets[i].job;
		sp[i].labels = cfg->targets[i].labels;
		sp[i].nlabels = cfg->targets[i].nlabels;
		sp[i].interval_ms = cfg->targets[i].interval_ms;
		sp[i].timeout_ms = cfg->targets[i].timeout_ms;
	}
	targets_set_group(rw->targets, "static", sp, cfg->ntargets);
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
	targets_set_group(rw->targets, "self", &self, 1);
}

/* Create one sender per remote-write endpoint. */
static int
start_senders(struct rwbridge *rw)
{
	struct config	*cfg = rw->cfg;
	char		*dir = NULL, err[512];
	size_t		 i;

	rw->senders = xcalloc(cfg->nremote_writes + 1, sizeof *rw->senders);
	for (i = 0; i < cfg->nremote_writes; i++) {
		if (cfg->queue_dir != NULL)
			xasprintf(&dir, "%s/%zu-%s", cfg->queue_dir, i,
			    state_safe_name(cfg->remote_writes[i].name));
		rw->senders[i] = sender_new(rw->base, rw->httpc,
		    &cfg->remote_writes[i], dir, err, sizeof err);
		free(dir);
		dir = NULL;
		if (rw->senders[i] == NULL) {
			log_error("cannot start remote write", "remote=%s "
			    "err=%s", cfg->remote_writes[i].url, err);
			return (-1);
		}
		rw->nsenders++;
	}
	return (0);
}

/* Run the daemon until a signal stops it. */
int
rwbridge_run(struct config *cfg)
{
	struct rwbridge	 rw;
	char		 err[512];
	size_t		 i;
	int		 rc = 1;

	memset(&rw, 0, sizeof rw);
	rw.cfg = cfg;
	rw.start_ms = rwbridge_now_ms();
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatal("curl_global_init failed", NULL);
	rw.base = event_base_new();
	if (rw.base == NULL)
		fatal("event_base_new failed", NULL);
	rw.httpc = httpc_new(rw.base);
	ingest_out_init(&rw.out);
	buf_init(&rw.text);
	if (cfg->derive.enabled) {
		rw.derive = derive_new(&cfg->derive);
		ingest_init(&rw.fleet, NULL, 0, NULL);
	}
	rw.targets = targets_new(&rw);
	if (start_senders(&rw) != 0)
		goto out;
	rw.pushgw = pushgw_new(&rw, err, sizeof err);
	if (rw.pushgw == NULL && cfg->pushgateway.url != NULL) {
		log_error("cannot start the Pushgateway sink", "err=%s", err);
		goto out;
	}
	rw.pushrecv = pushrecv_new(&rw);
	rw.httpd = httpd_new(&rw, cfg->listen, err, sizeof err);
	if (rw.httpd == NULL) {
		log_error("cannot start the HTTP listener", "err=%s", err);
		goto out;
	}
	if (state_load(&rw, err, sizeof err) != 0)
		log_warn("registered targets not restored", "err=%s", err);
	start_static_targets(&rw);
	if (cfg->nfile_sd > 0) {
		rw.filesd = filesd_new(&rw, err, sizeof err);
		if (rw.filesd == NULL) {
			log_error("cannot watch file_sd files", "err=%s", err);
			goto out;
		}
	}

	evtimer_assign(&rw.fleet_timer, rw.base, fleet_cb, &rw);
	if (rw.derive != NULL)
		timer_arm_ms(&rw.fleet_timer, cfg->scrape_interval_ms);
	evtimer_assign(&rw.sync_timer, rw.base, sync_cb, &rw);
	timer_arm_ms(&rw.sync_timer, sync_interval(cfg));
	evtimer_assign(&rw.shutdown_timer, rw.base, shutdown_cb, &rw);
	rw.sig_term = evsignal_new(rw.base, SIGTERM, signal_term_cb, &rw);
	rw.sig_int = evsignal_new(rw.base, SIGINT, signal_term_cb, &rw);
	rw.sig_hup = evsignal_new(rw.base, SIGHUP, signal_hup_cb, &rw);
	evsignal_add(rw.sig_term, NULL);
	evsignal_add(rw.sig_int, NULL);
	evsignal_add(rw.sig_hup, NULL);

	rw.ready = true;
	log_info("rwbridge started", "version=%s listen=%s targets=%zu "
	    "remote_writes=%zu", RWBRIDGE_VERSION, cfg->listen,
	    targets_count(rw.targets), rw.nsenders);
	event_base_dispatch(rw.base);
	rc = 0;

out:
	rw.stopping = true;
	filesd_free(rw.filesd);
	targets_free(rw.targets);
	httpd_free(rw.httpd);
	pushrecv_free(rw.pushrecv);
	pushgw_free(rw.pushgw);
	for (i = 0; i < rw.nsenders; i++) {
		sender_flush(rw.senders[i]);
		log_totals(rw.senders[i]);
		sender_free(rw.senders[i]);
	}
	free(rw.senders);
	if (rw.derive != NULL) {
		ingest_free(&rw.fleet, 0, NULL);
		derive_free(rw.derive);
	}
	ingest_out_free(&rw.out);
	buf_free(&rw.text);
	while (rw.nspare > 0)
		buf_free(&rw.spare[--rw.nspare]);
	if (rw.sig_term != NULL) {
		event_free(rw.sig_term);
		event_free(rw.sig_int);
		event_free(rw.sig_hup);
	}
	evtimer_del(&rw.fleet_timer);
	evtimer_del(&rw.sync_timer);
	evtimer_del(&rw.shutdown_timer);
	httpc_free(rw.httpc);
	event_base_free(rw.base);
	curl_global_cleanup();
	log_info("rwbridge stopped", NULL);
	return (rc);
}
