/*
 * metrics: render rwbridge's own metrics. Names follow Prometheus's own
 * (prometheus_remote_storage_* become rwbridge_remote_write_*), so the
 * meaning carries over to people who know Prometheus.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "clock.h"
#include "httpd.h"
#include "metrics.h"
#include "sender.h"

/* Write HELP and TYPE lines. */
static void
metrics_family(struct buf *b, const char *name, const char *type,
    const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Write one counter or gauge with no labels. */
static void
metrics_simple(struct buf *b, const char *name, const char *type,
    const char *help, double v)
{
	metrics_family(b, name, type, help);
	buf_printf(b, "%s %.17g\n", name, v);
}

/* Add a target's series count (a targets_fn). */
static void
metrics_count_series(void *arg, struct target *t)
{
	size_t	*n = arg;

	*n += ingest_series(&t->ig);
}

/* Write the remote-write families for every endpoint. */
static void
metrics_senders(struct pipeline *pl, struct buf *b)
{
	size_t			 ns = pipeline_nsenders(pl);
	struct sender_stats	 st[ns > 0 ? ns : 1];
	size_t			 i, j;
	double			 now = (double)clock_now_ms() / 1000;
	const char		*n;

	if (ns == 0)
		return;
	for (i = 0; i < ns; i++)
		sender_get_stats(pipeline_sender(pl, i), &st[i]);
#define PER_SENDER(metric, type, help, expr) do {			\
	metrics_family(b, metric, type, help);				\
	for (i = 0; i < ns; i++) {					\
		n = sender_name(pipeline_sender(pl, i));		\
		buf_printf(b, "%s{remote=\"%s\"} %.17g\n", metric, n,	\
		    (double)(expr));					\
	}								\
} while (0)
	PER_SENDER("rwbridge_remote_write_samples_in_total", "counter",
	    "Samples handed to the remote-write queue.", st[i].samples_in);
	PER_SENDER("rwbridge_remote_write_samples_total", "counter",
	    "Samples acknowledged by the receiver.", st[i].samples_sent);
	PER_SENDER("rwbridge_remote_write_samples_failed_total", "counter",
	    "Samples in requests that failed (and will be retried).",
	    st[i].samples_failed);
	PER_SENDER("rwbridge_remote_write_samples_retried_total", "counter",
	    "Samples sent again after a failure.", st[i].samples_retried);
	metrics_family(b, "rwbridge_remote_write_samples_dropped_total",
	    "counter", "Samples dropped, by reason.");
	for (i = 0; i < ns; i++) {
		n = sender_name(pipeline_sender(pl, i));
		buf_printf(b, "rwbridge_remote_write_samples_dropped_total"
		    "{reason=\"http_4xx\",remote=\"%s\"} %" PRIu64 "\n", n,
		    st[i].samples_dropped_4xx);
		buf_printf(b, "rwbridge_remote_write_samples_dropped_total"
		    "{reason=\"queue_full\",remote=\"%s\"} %" PRIu64 "\n", n,
		    st[i].samples_dropped_queue_full);
		buf_printf(b, "rwbridge_remote_write_samples_dropped_total"
		    "{reason=\"io_error\",remote=\"%s\"} %" PRIu64 "\n", n,
		    st[i].samples_dropped_io);
		buf_printf(b, "rwbridge_remote_write_samples_dropped_total"
		    "{reason=\"write_relabel\",remote=\"%s\"} %" PRIu64 "\n",
		    n, pipeline_write_dropped(pl, i));
	}
	PER_SENDER("rwbridge_remote_write_samples_pending", "gauge",
	    "Samples queued and not yet acknowledged.",
	    st[i].samples_pending);
	PER_SENDER("rwbridge_remote_write_metadata_total", "counter",
	    "Metric metadata entries queued.", st[i].metadata_sent);
	PER_SENDER("rwbridge_remote_write_bytes_total", "counter",
	    "Compressed request bytes acknowledged.", st[i].bytes_sent);
	PER_SENDER("rwbridge_remote_write_requests_total", "counter",
	    "Requests completed (any outcome).", st[i].requests);
	PER_SENDER("rwbridge_remote_write_queue_bytes", "gauge",
	    "Bytes held by the send queue.", st[i].queue_bytes);
	PER_SENDER("rwbridge_remote_write_queue_corrupt_bytes_total",
	    "counter", "Queue bytes discarded as torn or corrupt on start.",
	    st[i].corrupt_bytes_discarded);
	PER_SENDER("rwbridge_remote_write_queue_corrupt_regions_total",
	    "counter", "Damaged runs of the queue skipped to the next good "
	    "record.", st[i].corrupt_regions);
	PER_SENDER("rwbridge_remote_write_queue_segments_skipped_total",
	    "counter", "Queue segments that could not be read or appended to "
	    "and were passed over.", st[i].segments_skipped);
	PER_SENDER("rwbridge_remote_write_queue_cursor_resets_total",
	    "counter", "Unusable queue cursors (unreadable, corrupt or past "
	    "the end): sending resumed earlier.", st[i].cursor_resets);
	PER_SENDER("rwbridge_remote_write_queue_cursor_write_errors_total",
	    "counter", "Saves of the queue cursor that failed.",
	    st[i].cursor_write_errors);
	PER_SENDER("rwbridge_remote_write_oldest_unsent_age_seconds", "gauge",
	    "Age of the oldest sample not yet acknowledged (0: none).",
	    st[i].oldest_pending_ms == 0 ? 0 :
	    now - (double)st[i].oldest_pending_ms / 1000);
	PER_SENDER("rwbridge_remote_write_highest_sent_timestamp_seconds",
	    "gauge", "Newest sample timestamp acknowledged by the receiver.",
	    (double)st[i].highest_sent_ms / 1000);
	PER_SENDER("rwbridge_remote_write_shards", "gauge",
	    "Parallel send shards.", sender_shards(pipeline_sender(pl, i)));
#undef PER_SENDER
	metrics_family(b, "rwbridge_remote_write_request_duration_seconds",
	    "histogram", "Remote-write request latency.");
	for (i = 0; i < ns; i++) {
		n = sender_name(pipeline_sender(pl, i));
		for (j = 0; j < SENDER_LATENCY_BUCKETS; j++) {
			if (isinf(sender_latency_bounds[j]))
				buf_printf(b, "rwbridge_remote_write_request_"
				    "duration_seconds_bucket{le=\"+Inf\","
				    "remote=\"%s\"} %" PRIu64 "\n", n,
				    st[i].latency_buckets[j]);
			else
				buf_printf(b, "rwbridge_remote_write_request_"
				    "duration_seconds_bucket{le=\"%g\","
				    "remote=\"%s\"} %" PRIu64 "\n",
				    sender_latency_bounds[j], n,
				    st[i].latency_buckets[j]);
		}
		buf_printf(b, "rwbridge_remote_write_request_duration_seconds"
		    "_sum{remote=\"%s\"} %.17g\n", n, st[i].latency_sum);
		buf_printf(b, "rwbridge_remote_write_request_duration_seconds"
		    "_count{remote=\"%s\"} %" PRIu64 "\n", n,
		    st[i].latency_count);
	}
}

/* Render everything. */
static void
metrics_render(const struct metrics_sources *src, struct buf *b)
{
	struct pipeline_stats	*st = pipeline_stats(src->pipeline);
	struct rusage		 ru;
	size_t			 series = 0;
	uint64_t		 api_requests = 0, api_errors = 0;
	uint64_t		 pg_ok, pg_failed;
	size_t			 k;
	long			 rss = 0;
	FILE			*f;

	if (src->api != NULL)
		api_counts(src->api, &api_requests, &api_errors);
	pipeline_pushgw_counts(src->pipeline, &pg_ok, &pg_failed);

	metrics_family(b, "rwbridge_build_info", "gauge",
	    "A metric with a constant 1 labelled by the version.");
	buf_printf(b, "rwbridge_build_info{version=\"%s\"} 1\n",
	    RWBRIDGE_VERSION);
	metrics_simple(b, "rwbridge_start_time_seconds", "gauge",
	    "Start time of rwbridge since the Unix epoch.",
	    (double)src->start_ms / 1000);
	metrics_simple(b, "rwbridge_targets", "gauge", "Targets being scraped.",
	    (double)targets_count(src->targets));
	metrics_family(b, "rwbridge_cluster_targets", "gauge", "Targets given "
	    "to this member: scraped here, or skipped (other members own "
	    "them, global.cluster).");
	buf_printf(b, "rwbridge_cluster_targets{state=\"scraped\"} %zu\n"
	    "rwbridge_cluster_targets{state=\"skipped\"} %zu\n",
	    targets_count(src->targets),
	    targets_count_skipped(src->targets));
	targets_foreach(src->targets, metrics_count_series, &series);
	metrics_simple(b, "rwbridge_series_active", "gauge",
	    "Series in the scrape caches (raw, derived and synthetic).",
	    (double)series);
	metrics_family(b, "rwbridge_scrapes_total", "counter",
	    "Scrapes by result.");
	buf_printf(b, "rwbridge_scrapes_total{result=\"success\"} %" PRIu64
	    "\n", st->scrapes_ok);
	buf_printf(b, "rwbridge_scrapes_total{result=\"failure\"} %" PRIu64
	    "\n", st->scrapes_failed);
	metrics_simple(b, "rwbridge_samples_scraped_total", "counter",
	    "Samples parsed from scraped pages.",
	    (double)st->samples_scraped);
	metrics_simple(b, "rwbridge_stale_markers_total", "counter",
	    "Stale markers sent for series that went away.",
	    (double)st->stale_markers);
	metrics_simple(b, "rwbridge_duplicate_samples_total", "counter",
	    "Samples dropped because their series appeared twice in a page.",
	    (double)st->duplicates);
	metrics_family(b, "rwbridge_scrape_limit_exceeded_total", "counter",
	    "Scrapes failed by a limit (sample_limit, label_limit, ...).");
	for (k = 0; k < INGEST_NLIMITS; k++)
		buf_printf(b, "rwbridge_scrape_limit_exceeded_total{limit=\"%s\"}"
		    " %" PRIu64 "\n", ingest_limit_name((enum ingest_limit)k),
		    st->limit_hits[k]);
	metrics_simple(b, "rwbridge_api_requests_total", "counter",
	    "Requests to the target registration API.",
	    (double)api_requests);
	metrics_simple(b, "rwbridge_api_errors_total", "counter",
	    "Registration API requests rejected.", (double)api_errors);
	metrics_simple(b, "rwbridge_state_saves_total", "counter",
	    "Writes of the registered targets' state file (batched).",
	    (double)(src->api != NULL ? api_state_saves(src->api) : 0));
	metrics_family(b, "rwbridge_pushgateway_pushes_total", "counter",
	    "Pushes to the Pushgateway sink by result.");
	buf_printf(b, "rwbridge_pushgateway_pushes_total{result=\"success\"} %"
	    PRIu64 "\n", pg_ok);
	buf_printf(b, "rwbridge_pushgateway_pushes_total{result=\"failure\"} %"
	    PRIu64 "\n", pg_failed);
	metrics_simple(b, "rwbridge_push_requests_total", "counter",
	    "Pushgateway-style pushes received.",
	    (double)(src->pushrecv != NULL ?
	    pushrecv_requests(src->pushrecv) : 0));
	metrics_simple(b, "rwbridge_push_rejected_total", "counter",
	    "Pushgateway-style pushes refused (invalid, too large, too "
	    "many groups).", (double)(src->pushrecv != NULL ?
	    pushrecv_rejected(src->pushrecv) : 0));
	metrics_simple(b, "rwbridge_push_groups", "gauge",
	    "Pushgateway-style groups held.", (double)(src->pushrecv != NULL ?
	    pushrecv_groups(src->pushrecv) : 0));
	metrics_senders(src->pipeline, b);
	if (src->httpd != NULL)
		httpd_metrics(src->httpd, b);

	if (getrusage(RUSAGE_SELF, &ru) == 0)
		metrics_simple(b, "process_cpu_seconds_total", "counter",
		    "Total user and system CPU time spent in seconds.",
		    (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	f = fopen("/proc/self/statm", "r");
	if (f != NULL) {
		long	size;

		if (fscanf(f, "%ld %ld", &size, &rss) == 2)
			metrics_simple(b, "process_resident_memory_bytes",
			    "gauge", "Resident memory size in bytes.",
			    (double)rss * (double)sysconf(_SC_PAGESIZE));
		fclose(f);
	}
	metrics_simple(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since unix epoch in seconds.",
	    (double)src->start_ms / 1000);
}

/* Serve /metrics. */
void
metrics_handle_cb(struct evhttp_request *req, const char *rest,
    const struct evhttp_uri *u, void *arg)
{
	enum evhttp_cmd_type	cmd = evhttp_request_get_command(req);
	struct buf		b;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		httpd_error(req, 405, "use GET on /metrics");
		return;
	}
	buf_init(&b);
	metrics_render(arg, &b);
	httpd_reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
	    &b);
	buf_free(&b);
}
