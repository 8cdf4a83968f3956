/*
 * sender: one remote-write endpoint. Records from each scrape are hashed to
 * shards (so each series stays in time order), gathered into batches of at
 * most max_samples_per_send, snappy-compressed and appended to the shard's
 * durable queue; each shard keeps one request in flight through the shared
 * curl multi handle. 5xx, 429 and network errors are retried with capped
 * exponential backoff and jitter (honouring Retry-After); other 4xx are
 * dropped and counted with the receiver's message logged. A sender owns its
 * queues and handles; the config it is given must outlive it.
 */
#ifndef RWBRIDGE_SENDER_H
#define RWBRIDGE_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "buf.h"
#include "config.h"
#include "httpc.h"
#include "ingest.h"

struct sender;

/* Upper bounds of the request latency histogram (the last is +Inf). */
#define SENDER_LATENCY_BUCKETS	12

struct sender_stats {
	uint64_t	samples_in;		/* handed to the sender */
	uint64_t	samples_sent;		/* acknowledged by the receiver */
	uint64_t	samples_failed;		/* attempts that failed */
	uint64_t	samples_retried;
	uint64_t	samples_dropped_4xx;
	uint64_t	samples_dropped_queue_full;
	uint64_t	samples_dropped_io;
	uint64_t	metadata_sent;
	uint64_t	bytes_sent;
	uint64_t	requests;
	uint64_t	samples_pending;
	uint64_t	queue_bytes;
	int64_t		oldest_pending_ms;	/* 0: none */
	int64_t		highest_sent_ms;
	/* the queues' damage found and repaired (struct queue_stats) */
	uint64_t	corrupt_bytes_discarded;
	uint64_t	corrupt_regions;
	uint64_t	segments_skipped;
	uint64_t	cursor_resets;
	uint64_t	cursor_write_errors;
	/* request latency histogram, seconds */
	uint64_t	latency_buckets[SENDER_LATENCY_BUCKETS];
	uint64_t	latency_count;
	double		latency_sum;
};

extern const double sender_latency_bounds[SENDER_LATENCY_BUCKETS];

struct sender	*sender_new(struct event_base *, struct httpc *,
		     const struct config_remote_write *, const char *,
		     char *, size_t);
void		 sender_free(struct sender *);
/* Take the records of one scrape (copied). */
void		 sender_add(struct sender *, const struct ingest_out *);
/* Flush partial batches into the queues now. */
void		 sender_flush(struct sender *);
/* Write queued data to disk (the fsync interval policy). */
void		 sender_sync(struct sender *);
/* Tell whether anything is queued or in flight. */
bool		 sender_idle(const struct sender *);
const char	*sender_name(const struct sender *);
/* The last send's failure ("" when it went or none was made). */
const char	*sender_last_error(const struct sender *);
void		 sender_get_stats(struct sender *, struct sender_stats *);
size_t		 sender_shards(const struct sender *);

#endif
