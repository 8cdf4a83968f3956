/*
 * queue: the durable send queue of one remote-write shard. Records (one
 * compressed remote-write request each, with its sample count and time
 * range) are appended to segment files in a directory and read back in
 * order; queue_ack moves a cursor past the oldest record, persisted in a
 * separate file, and removes segments once every record in them is acked.
 *
 * On disk: segments named %020llu.seg, each a run of records
 *	u32 crc32c   over everything after it in the record
 *	u32 len      bytes of data
 *	u32 nsamples
 *	i64 min_ts, max_ts (ms)
 *	data
 * little-endian; and "cursor", the fixed-size line "%020llu %020llu %08x\n"
 * (segment, offset, CRC32C of the first 42 bytes) of the oldest unacked
 * record, rewritten in place. Recovery reads a segment record by record
 * (never whole), so a segment's size costs no memory. After a torn or
 * corrupt record it resynchronises on the next record whose length fits and
 * whose CRC holds; the bytes skipped are counted and logged, and a damaged
 * tail of the last segment is truncated. Bytes past the largest size a
 * segment can reach are corrupt without being read. Damage is never fatal:
 * a segment that cannot be opened (a directory, a symlink, no permission)
 * is skipped and appends go to a new one; a cursor that names a segment past
 * the last is ignored, counted, and the backlog is kept. Segments and the
 * cursor are opened with O_NOFOLLOW: a symlink planted in the directory is
 * never written through (a symlinked cursor is replaced by a file).
 *
 * With no directory the queue lives in memory, with the same byte budget.
 * When the budget is full the oldest records are dropped and counted, never
 * the newest. The queue owns its records; queue_peek's data stays valid
 * until the next call on the queue.
 */
#ifndef RWBRIDGE_QUEUE_H
#define RWBRIDGE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum queue_fsync {
	QUEUE_FSYNC_BATCH,	/* fdatasync after every append */
	QUEUE_FSYNC_INTERVAL,	/* fdatasync on queue_sync */
	QUEUE_FSYNC_NEVER	/* leave it to the kernel */
};

struct queue_opts {
	uint64_t		 max_bytes;	/* 0: unbounded */
	uint64_t		 segment_bytes;	/* 0: default (8 MiB) */
	enum queue_fsync	 fsync;
	/* Monotonic milliseconds for log rate limits; NULL: the system's. */
	int64_t			(*now_ms)(void);
};

struct queue_meta {
	uint32_t	 nsamples;
	int64_t		 min_ts;
	int64_t		 max_ts;
};

struct queue_rec {
	uint64_t		 id;
	const void		*data;
	size_t			 len;
	struct queue_meta	 meta;
};

struct queue_stats {
	uint64_t	 pending_records;
	uint64_t	 pending_samples;
	uint64_t	 bytes;			/* held, headers included */
	int64_t		 oldest_min_ts;		/* of the oldest pending */
	uint64_t	 dropped_samples;	/* budget full */
	uint64_t	 dropped_records;
	uint64_t	 corrupt_bytes_discarded;	/* skipped or cut */
	uint64_t	 recovered_records;	/* found on disk at open */
	uint64_t	 corrupt_regions;	/* damaged runs resynced past */
	uint64_t	 segments_skipped;	/* unopenable, not a file */
	uint64_t	 cursor_resets;		/* unusable cursor at open */
	uint64_t	 cursor_write_errors;	/* cursor saves that failed */
};

struct queue;

/* Open (creating) the queue in dir, or in memory if dir is NULL. */
struct queue	*queue_open(const char *, const struct queue_opts *, char *,
		     size_t);
void		 queue_close(struct queue *);
/* Append a record; -1 with the reason in err on an I/O error. */
int		 queue_append(struct queue *, const void *, size_t,
		     const struct queue_meta *, char *, size_t);
/* Look at the oldest unacked record; false if there is none. */
bool		 queue_peek(struct queue *, struct queue_rec *);
/*
 * Drop the oldest record if its id is given (others are ignored). A record
 * the budget dropped while it was being sent counts as delivered when its
 * id is acknowledged, and as dropped when queue_peek is called again first.
 */
void		 queue_ack(struct queue *, uint64_t);
/* Write appended data to stable storage (the interval policy). */
int		 queue_sync(struct queue *, char *, size_t);
void		 queue_stats(struct queue *, struct queue_stats *);

#endif
