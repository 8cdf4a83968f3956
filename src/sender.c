/*
 * sender: the remote-write client. Each shard has a batch being filled, a
 * durable queue of compressed requests and at most one request in flight.
 * Nothing here blocks: the queue is local file I/O and the HTTP request goes
 * through the shared curl multi handle.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "clock.h"
#include "log.h"
#include "queue.h"
#include "rwenc.h"
#include "sender.h"
#include "timer.h"
#include "xmalloc.h"

#define SENDER_USER_AGENT	"rwbridge/" RWBRIDGE_VERSION

const double sender_latency_bounds[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, INFINITY
};
_Static_assert(sizeof(sender_latency_bounds) /
    sizeof(sender_latency_bounds[0]) == SENDER_LATENCY_BUCKETS,
    "SENDER_LATENCY_BUCKETS is the size of sender_latency_bounds");

struct shard {
	struct sender		*s;
	size_t			 idx;
	struct queue		*q;
	struct buf		 batch;		/* uncompressed WriteRequest */
	uint32_t		 batch_samples;
	int64_t			 batch_min_ts;
	int64_t			 batch_max_ts;
	struct buf		 body;		/* compressed, for the queue */
	struct buf		 send;		/* the request in flight */
	struct buf		 resp;
	CURL			*easy;
	struct httpc_req	 req;
	struct event		 retry;
	uint64_t		 inflight_id;
	uint32_t		 inflight_samples;
	int64_t			 inflight_max_ts;
	size_t			 inflight_len;
	struct timeval		 inflight_start;
	int64_t			 backoff_ms;
	bool			 waiting;	/* retry timer armed */
	struct log_limit	 fail_log;	/* send failures */
	struct log_limit	 append_log;	/* queue append failures */
	struct log_limit	 drop_log;	/* batches refused (4xx) */
};

struct sender {
	struct event_base			*base;
	struct httpc				*httpc;
	const struct config_remote_write	*cfg;
	char					*name;
	struct curl_slist			*headers;
	struct shard				*shards;
	size_t					 nshards;
	struct event				 deadline;
	bool					 deadline_armed;
	struct sender_stats			 st;
	char					 last_error[160];
};

static void	shard_kick(struct shard *);

/* Collect the body of a response (for error messages). */
static size_t
sender_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct shard	*sh = arg;
	size_t		 len = size * n;

	if (sh->resp.len < 4096)
		buf_append(&sh->resp, p, len < 4096 ? len : 4096);
	return (len);
}

/* Seal the shard's batch: compress it and append it to the queue. */
static void
shard_seal(struct shard *sh)
{
	struct sender		*s = sh->s;
	struct queue_meta	 meta;
	char			 err[256];

	if (sh->batch.len == 0)
		return;
	if (!rwenc_snappy(sh->batch.data, sh->batch.len, &sh->body)) {
		log_error("snappy compression failed", "remote=%s", s->name);
		s->st.samples_dropped_io += sh->batch_samples;
		goto done;
	}
	meta.nsamples = sh->batch_samples;
	meta.min_ts = sh->batch_min_ts;
	meta.max_ts = sh->batch_max_ts;
	if (queue_append(sh->q, sh->body.data, sh->body.len, &meta, err,
	    sizeof err) != 0) {
		log_limited(&sh->append_log, LOG_LEVEL_ERROR, err,
		    "queue append failed, batch dropped", "remote=%s "
		    "shard=%zu samples=%u err=%s", s->name, sh->idx,
		    sh->batch_samples, err);
		s->st.samples_dropped_io += sh->batch_samples;
	}
done:
	buf_reset(&sh->batch);
	sh->batch_samples = 0;
	sh->batch_min_ts = INT64_MAX;
	sh->batch_max_ts = INT64_MIN;
	shard_kick(sh);
}

/* Flush every partial batch when the batch deadline passes. */
static void
sender_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sender	*s = arg;

	s->deadline_armed = false;
	sender_flush(s);
}

/* Seal every partial batch now. */
void
sender_flush(struct sender *s)
{
	size_t	i;

	for (i = 0; i < s->nshards; i++)
		shard_seal(&s->shards[i]);
}

/* Take the records of one scrape. */
void
sender_add(struct sender *s, const struct ingest_out *o)
{
	struct shard	*sh;
	size_t		 i, j, k, room, start;
	size_t		 max = s->cfg->max_samples_per_send;

	for (i = 0; i < o->n; i = j) {
		k = o->hash[i] % s->nshards;
		sh = &s->shards[k];
		/* The run of records for this shard that fits the batch. */
		room = sh->batch_samples < max ? max - sh->batch_samples : 1;
		for (j = i + 1; j < o->n && j - i < room; j++) {
			if (s->nshards > 1 && o->hash[j] % s->nshards != k)
				break;
		}
		start = i == 0 ? 0 : o->end[i - 1];
		buf_append(&sh->batch, o->rec.data + start,
		    o->end[j - 1] - start);
		sh->batch_samples += (uint32_t)(j - i);
		if (o->min_ts < sh->batch_min_ts)
			sh->batch_min_ts = o->min_ts;
		if (o->max_ts > sh->batch_max_ts)
			sh->batch_max_ts = o->max_ts;
		if (sh->batch_samples >= max)
			shard_seal(sh);
	}
	s->st.samples_in += o->n;
	if (o->nmeta > 0) {
		buf_append(&s->shards[0].batch, o->meta.data, o->meta.len);
		s->st.metadata_sent += o->nmeta;
	}
	if (!s->deadline_armed) {
		timer_arm_ms(&s->deadline, s->cfg->batch_deadline_ms);
		s->deadline_armed = true;
	}
}

/* Retry after the backoff timer fires. */
static void
shard_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct shard	*sh = arg;

	sh->waiting = false;
	shard_kick(sh);
}

/* Wait before trying the in-flight batch again. */
static void
shard_backoff(struct shard *sh, int64_t retry_after_ms)
{
	struct sender	*s = sh->s;
	int64_t		 wait;

	if (sh->backoff_ms == 0)
		sh->backoff_ms = s->cfg->min_backoff_ms;
	else
		sh->backoff_ms *= 2;
	if (sh->backoff_ms > s->cfg->max_backoff_ms)
		sh->backoff_ms = s->cfg->max_backoff_ms;
	/* Full jitter in [backoff/2, backoff]. */
	wait = sh->backoff_ms / 2 + (int64_t)(random() %
	    (sh->backoff_ms / 2 + 1));
	/* Never before Retry-After: a few ms over libevent's cached time. */
	if (retry_after_ms > 0 && retry_after_ms + 5 > wait)
		wait = retry_after_ms + 5;
	sh->waiting = true;
	event_base_update_cache_time(s->base);
	timer_arm_ms(&sh->retry, wait);
}

/* Parse a Retry-After header (seconds) from the last response. */
static int64_t
shard_retry_after(struct shard *sh)
{
	struct curl_header	*h;
	char			*end;
	long			 secs;

	if (curl_easy_header(sh->easy, "Retry-After", 0, CURLH_HEADER, -1,
	    &h) != CURLHE_OK)
		return (0);
	secs = strtol(h->value, &end, 10);
	if (end == h->value || secs < 0)
		return (0);
	if (secs > 3600)
		secs = 3600;
	return ((int64_t)secs * 1000);
}

/* Record a finished request's latency. */
static void
shard_observe(struct shard *sh)
{
	struct sender	*s = sh->s;
	double		 d;
	size_t		 i;

	d = clock_since_s(&sh->inflight_start);
	for (i = 0; i < SENDER_LATENCY_BUCKETS; i++) {
		if (d <= sender_latency_bounds[i])
			s->st.latency_buckets[i]++;
	}
	s->st.latency_count++;
	s->st.latency_sum += d;
}

/* Handle the end of a send. */
static void
shard_done_cb(struct httpc_req *req, CURLcode rc)
{
	struct shard	*sh = req->arg;
	struct sender	*s = sh->s;
	long		 code = 0;
	char		 msg[512], state[32];
	size_t		 n;
	uint64_t	 held;

	shard_observe(sh);
	s->st.requests++;
	if (rc != CURLE_OK) {
		log_limited(&sh->fail_log, LOG_LEVEL_WARN,
		    curl_easy_strerror(rc), "remote write failed, will retry",
		    "remote=%s shard=%zu err=%s", s->name, sh->idx,
		    curl_easy_strerror(rc));
		snprintf(s->last_error, sizeof s->last_error, "%s",
		    curl_easy_strerror(rc));
		goto retry;
	}
	curl_easy_getinfo(sh->easy, CURLINFO_RESPONSE_CODE, &code);
	n = sh->resp.len < sizeof msg - 1 ? sh->resp.len : sizeof msg - 1;
	if (n > 0)
		memcpy(msg, sh->resp.data, n);
	msg[n] = '\0';
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	if (code >= 200 && code < 300) {
		s->st.samples_sent += sh->inflight_samples;
		s->st.bytes_sent += sh->inflight_len;
		if (sh->inflight_max_ts > s->st.highest_sent_ms)
			s->st.highest_sent_ms = sh->inflight_max_ts;
		sh->backoff_ms = 0;
		s->last_error[0] = '\0';
		if (sh->fail_log.active) {
			held = log_limit_clear(&sh->fail_log);
			log_info("remote write recovered", "remote=%s "
			    "shard=%zu repeated=%" PRIu64, s->name, sh->idx,
			    held);
		}
		queue_ack(sh->q, sh->inflight_id);
		shard_kick(sh);
		return;
	}
	if (code >= 500 || code == 429) {
		snprintf(state, sizeof state, "status=%ld", code);
		log_limited(&sh->fail_log, LOG_LEVEL_WARN, state,
		    "remote write rejected, will retry", "remote=%s "
		    "shard=%zu status=%ld msg=%s", s->name, sh->idx, code, msg);
		snprintf(s->last_error, sizeof s->last_error, "HTTP %ld: %s",
		    code, msg);
		goto retry;
	}
	snprintf(state, sizeof state, "status=%ld", code);
	log_limited(&sh->drop_log, LOG_LEVEL_ERROR, state,
	    "remote write rejected, batch dropped", "remote=%s shard=%zu "
	    "status=%ld samples=%u msg=%s", s->name, sh->idx, code,
	    sh->inflight_samples, msg);
	s->st.samples_dropped_4xx += sh->inflight_samples;
	snprintf(s->last_error, sizeof s->last_error,
	    "HTTP %ld: %s (batch dropped)", code, msg);
	queue_ack(sh->q, sh->inflight_id);
	shard_kick(sh);
	return;

retry:
	s->st.samples_failed += sh->inflight_samples;
	s->st.samples_retried += sh->inflight_samples;
	shard_backoff(sh, code == 429 || code == 503 ?
	    shard_retry_after(sh) : 0);
}

/* Send the oldest queued batch if nothing is in flight. */
static void
shard_kick(struct shard *sh)
{
	struct sender		*s = sh->s;
	struct queue_rec	 rec;

	if (sh->req.active || sh->waiting)
		return;
	if (!queue_peek(sh->q, &rec))
		return;
	sh->inflight_id = rec.id;
	sh->inflight_samples = rec.meta.nsamples;
	sh->inflight_max_ts = rec.meta.max_ts;
	sh->inflight_len = rec.len;
	buf_reset(&sh->resp);
	/* The queue may reuse rec.data on the next append: keep a copy. */
	buf_reset(&sh->send);
	buf_append(&sh->send, rec.data, rec.len);
	curl_easy_setopt(sh->easy, CURLOPT_POSTFIELDS, sh->send.data);
	curl_easy_setopt(sh->easy, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)rec.len);
	gettimeofday(&sh->inflight_start, NULL);
	if (httpc_start(s->httpc, &sh->req) != 0)
		shard_backoff(sh, 0);
}

/* Set up a shard's easy handle with the endpoint's options. */
static void
shard_setup_easy(struct shard *sh)
{
	struct sender				*s = sh->s;
	const struct config_remote_write	*c = s->cfg;

	sh->easy = curl_easy_init();
	if (sh->easy == NULL)
		fatal("curl_easy_init failed", NULL);
	curl_easy_setopt(sh->easy, CURLOPT_URL, c->url);
	curl_easy_setopt(sh->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(sh->easy, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(sh->easy, CURLOPT_USERAGENT, SENDER_USER_AGENT);
	curl_easy_setopt(sh->easy, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	httpc_easy_defaults(sh->easy);
	curl_easy_setopt(sh->easy, CURLOPT_UPLOAD_BUFFERSIZE,
	    HTTPC_SEND_BUFFER);
	curl_easy_setopt(sh->easy, CURLOPT_WRITEFUNCTION, sender_write_cb);
	curl_easy_setopt(sh->easy, CURLOPT_WRITEDATA, sh);
	if (c->basic_user != NULL) {
		curl_easy_setopt(sh->easy, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(sh->easy, CURLOPT_USERNAME, c->basic_user);
		curl_easy_setopt(sh->easy, CURLOPT_PASSWORD,
		    c->basic_password != NULL ? c->basic_password : "");
	}
	if (c->bearer_token != NULL) {
		curl_easy_setopt(sh->easy, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(sh->easy, CURLOPT_XOAUTH2_BEARER,
		    c->bearer_token);
	}
	if (c->tls_ca_file != NULL)
		curl_easy_setopt(sh->easy, CURLOPT_CAINFO, c->tls_ca_file);
	if (c->tls_cert_file != NULL)
		curl_easy_setopt(sh->easy, CURLOPT_SSLCERT, c->tls_cert_file);
	if (c->tls_key_file != NULL)
		curl_easy_setopt(sh->easy, CURLOPT_SSLKEY, c->tls_key_file);
	if (c->tls_insecure_skip_verify) {
		curl_easy_setopt(sh->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(sh->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	sh->req.easy = sh->easy;
	sh->req.done = shard_done_cb;
	sh->req.arg = sh;
}

/* Make dir and its parents. */
static int
mkdir_p(const char *dir)
{
	char	*p, *copy;
	int	 rc = 0;

	copy = xstrdup(dir);
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0750) != 0 && errno != EEXIST)
			rc = -1;
		*p = '/';
	}
	if (mkdir(copy, 0750) != 0 && errno != EEXIST)
		rc = -1;
	free(copy);
	return (rc);
}

/* Create a sender; queue_dir NULL keeps the queue in memory. */
struct sender *
sender_new(struct event_base *base, struct httpc *httpc,
    const struct config_remote_write *c, const char *queue_dir, char *err,
    size_t errlen)
{
	struct sender		*s;
	struct shard		*sh;
	struct queue_opts	 qo;
	size_t			 i;
	char			*dir = NULL, *hdr;

	s = xcalloc(1, sizeof *s);
	s->base = base;
	s->httpc = httpc;
	s->cfg = c;
	s->name = xstrdup(c->name != NULL ? c->name : c->url);
	s->headers = curl_slist_append(NULL, "Content-Encoding: snappy");
	s->headers = curl_slist_append(s->headers,
	    "Content-Type: application/x-protobuf");
	s->headers = curl_slist_append(s->headers,
	    "X-Prometheus-Remote-Write-Version: 0.1.0");
	s->headers = curl_slist_append(s->headers, "Expect:");
	for (i = 0; i < c->nheaders; i++) {
		xasprintf(&hdr, "%s: %s", c->headers[i].name,
		    c->headers[i].value);
		s->headers = curl_slist_append(s->headers, hdr);
		free(hdr);
	}
	evtimer_assign(&s->deadline, base, sender_deadline_cb, s);
	s->nshards = c->shards == 0 ? 1 : c->shards;
	s->shards = xcalloc(s->nshards, sizeof *s->shards);
	memset(&qo, 0, sizeof qo);
	qo.max_bytes = c->queue_max_bytes / s->nshards;
	qo.fsync = c->fsync == CONFIG_FSYNC_BATCH ? QUEUE_FSYNC_BATCH :
	    c->fsync == CONFIG_FSYNC_NEVER ? QUEUE_FSYNC_NEVER :
	    QUEUE_FSYNC_INTERVAL;
	for (i = 0; i < s->nshards; i++) {
		sh = &s->shards[i];
		sh->s = s;
		sh->idx = i;
		buf_init(&sh->batch);
		buf_init(&sh->body);
		buf_init(&sh->send);
		buf_init(&sh->resp);
		sh->batch_min_ts = INT64_MAX;
		sh->batch_max_ts = INT64_MIN;
		evtimer_assign(&sh->retry, base, shard_retry_cb, sh);
		shard_setup_easy(sh);
		if (queue_dir != NULL) {
			free(dir);
			xasprintf(&dir, "%s/shard-%zu", queue_dir, i);
			if (mkdir_p(dir) != 0) {
				snprintf(err, errlen, "%s: %s", dir,
				    strerror(errno));
				goto fail;
			}
		}
		sh->q = queue_open(dir, &qo, err, errlen);
		if (sh->q == NULL)
			goto fail;
		/*
		 * Send a recovered backlog from the loop's first turn, not
		 * only when new data arrives (there may be none).
		 */
		timer_arm_ms(&sh->retry, 0);
	}
	free(dir);
	return (s);

fail:
	free(dir);
	sender_free(s);
	return (NULL);
}

/* Free a sender, keeping unsent data in its queues. */
void
sender_free(struct sender *s)
{
	struct shard	*sh;
	size_t		 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nshards; i++) {
		sh = &s->shards[i];
		if (sh->easy != NULL) {
			httpc_cancel(s->httpc, &sh->req);
			curl_easy_cleanup(sh->easy);
		}
		if (sh->s != NULL)
			evtimer_del(&sh->retry);
		queue_close(sh->q);
		buf_free(&sh->batch);
		buf_free(&sh->body);
		buf_free(&sh->send);
		buf_free(&sh->resp);
	}
	evtimer_del(&s->deadline);
	curl_slist_free_all(s->headers);
	free(s->shards);
	free(s->name);
	free(s);
}

/* Write queued data to disk when the policy is an interval. */
void
sender_sync(struct sender *s)
{
	char	err[256];
	size_t	i;

	if (s->cfg->fsync != CONFIG_FSYNC_INTERVAL)
		return;
	for (i = 0; i < s->nshards; i++) {
		if (queue_sync(s->shards[i].q, err, sizeof err) != 0)
			log_warn("queue sync failed", "remote=%s err=%s",
			    s->name, err);
	}
}

/* Tell whether nothing is waiting to be sent. */
bool
sender_idle(const struct sender *s)
{
	struct queue_stats	qs;
	size_t			i;

	for (i = 0; i < s->nshards; i++) {
		if (s->shards[i].batch.len != 0 || s->shards[i].req.active)
			return (false);
		queue_stats(s->shards[i].q, &qs);
		if (qs.pending_records != 0)
			return (false);
	}
	return (true);
}

/* The endpoint's name for logs and metrics. */
const char *
sender_name(const struct sender *s)
{
	return (s->name);
}

/* The last send's failure ("" when it went or none was made). */
const char *
sender_last_error(const struct sender *s)
{
	return (s->last_error);
}

/* Number of shards. */
size_t
sender_shards(const struct sender *s)
{
	return (s->nshards);
}

/* Fill in the current figures. */
void
sender_get_stats(struct sender *s, struct sender_stats *out)
{
	struct queue_stats	qs;
	size_t			i;

	s->st.samples_pending = 0;
	s->st.queue_bytes = 0;
	s->st.oldest_pending_ms = 0;
	s->st.samples_dropped_queue_full = 0;
	s->st.corrupt_bytes_discarded = 0;
	s->st.corrupt_regions = 0;
	s->st.segments_skipped = 0;
	s->st.cursor_resets = 0;
	s->st.cursor_write_errors = 0;
	for (i = 0; i < s->nshards; i++) {
		queue_stats(s->shards[i].q, &qs);
		s->st.samples_pending += qs.pending_samples +
		    s->shards[i].batch_samples;
		s->st.queue_bytes += qs.bytes;
		s->st.samples_dropped_queue_full += qs.dropped_samples;
		s->st.corrupt_bytes_discarded += qs.corrupt_bytes_discarded;
		s->st.corrupt_regions += qs.corrupt_regions;
		s->st.segments_skipped += qs.segments_skipped;
		s->st.cursor_resets += qs.cursor_resets;
		s->st.cursor_write_errors += qs.cursor_write_errors;
		if (qs.pending_records > 0 && (s->st.oldest_pending_ms == 0 ||
		    qs.oldest_min_ts < s->st.oldest_pending_ms))
			s->st.oldest_pending_ms = qs.oldest_min_ts;
	}
	*out = s->st;
}
