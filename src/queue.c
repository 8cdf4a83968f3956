/*
 * queue: the durable send queue (format in queue.h). Pending records are
 * indexed in memory (segment, offset, length, sample count and time range);
 * their data stays on disk and is read back by queue_peek, one record at a
 * time, so memory does not grow with an outage. A crash loses nothing that
 * write(2) accepted; a crash between a send and the cursor update resends a
 * record the receiver already has, which Prometheus ignores (same samples).
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "crc32c.h"
#include "log.h"
#include "queue.h"
#include "xmalloc.h"

#define QUEUE_HDR		28
#define QUEUE_MAX_RECORD	(64u << 20)
#define QUEUE_SEGMENT_BYTES	(8u << 20)
#define QUEUE_CURSOR		"cursor"
#define QUEUE_CURSOR_LEN	51	/* "%020u %020u %08x\n" */
#define QUEUE_SCAN_WINDOW	(1u << 20)	/* read at a time by recovery */
#define QUEUE_LOG_EVERY_MS	60000	/* repeated failures: a count */
/* Every open in the directory: no symlinks, no blocking on a FIFO. */
#define QUEUE_OPEN_FLAGS	(O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)

struct qent {
	uint64_t		 id;
	uint64_t		 seg;
	uint64_t		 off;
	uint32_t		 len;
	struct queue_meta	 meta;
	void			*data;		/* memory mode only */
};

struct queue {
	char			*dir;		/* NULL: in memory */
	struct queue_opts	 o;

	struct qent		*v;		/* pending: v[head..n) */
	size_t			 head;
	size_t			 n;
	size_t			 cap;
	uint64_t		 next_id;

	uint64_t		*segs;		/* segment numbers, ascending */
	size_t			 nsegs;
	int			 wfd;		/* last segment, appending */
	uint64_t		 woff;
	int			 rfd;		/* the segment being read */
	int			 cfd;		/* the cursor file */
	uint64_t		 rseg;
	uint64_t		 rbuf_id;	/* the record rbuf holds; 0: none */
	bool			 dirty;		/* written since last synced */

	struct buf		 rbuf;
	uint64_t		 bytes;
	uint64_t		 samples;
	uint64_t		 dropped_samples;
	uint64_t		 dropped_records;
	/*
	 * The record queue_peek last lent out. If the budget drops it while
	 * it is being sent, it is counted as dropped only when the sender
	 * moves on without acknowledging it (a retry peeks the next record):
	 * a send that succeeds after all was delivered, not dropped.
	 */
	uint64_t		 lent_id;
	uint32_t		 lent_samples;
	bool			 lent_dropped;
	uint64_t		 corrupt_bytes;
	uint64_t		 recovered;
	uint64_t		 corrupt_regions;
	uint64_t		 segs_skipped;
	uint64_t		 cursor_resets;
	uint64_t		 cursor_errors;

	bool			 cursor_failing;	/* last save failed */
	uint64_t		 cursor_fail_run;	/* failures in a row */
	uint64_t		 cursor_fail_window;	/* since last logged */
	int64_t			 cursor_fail_since;	/* of the last line */
};

/* A bounded window over a segment being recovered. */
struct qscan {
	int		 fd;
	uint64_t	 size;		/* bytes that may hold records */
	uint8_t		*win;
	uint64_t	 wat;		/* file offset of win[0] */
	size_t		 wlen;
};

/* Why a record is not valid, as logged. */
enum qrec {
	QREC_OK,
	QREC_TORN_HEADER,
	QREC_BAD_LENGTH,
	QREC_TORN,
	QREC_CHECKSUM,
	QREC_IO
};

static const char *const qrec_why[] = {
	[QREC_OK] = "ok",
	[QREC_TORN_HEADER] = "torn record header",
	[QREC_BAD_LENGTH] = "bad record length",
	[QREC_TORN] = "torn record",
	[QREC_CHECKSUM] = "record checksum mismatch",
	[QREC_IO] = "read error"
};

/* Store a little-endian u32. */
static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

/* Store a little-endian u64. */
static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* Load a little-endian u32. */
static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

/* Load a little-endian u64. */
static uint64_t
get64(const uint8_t *p)
{
	return ((uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32);
}

/* Build a segment's path. */
static char *
seg_path(const struct queue *q, uint64_t no)
{
	char	*p;

	xasprintf(&p, "%s/%020" PRIu64 ".seg", q->dir, no);
	return (p);
}

/* Make a directory's entries durable. */
static void
sync_dir(const char *dir)
{
	int	fd;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return;
	fsync(fd);
	close(fd);
}

/*
 * Open a file of the queue's directory: never through a symlink (ELOOP),
 * and -1 with EISDIR or EINVAL unless it is a regular file.
 */
static int
queue_open_file(const char *path, int flags, mode_t mode)
{
	struct stat	sb;
	int		fd, e;

	fd = open(path, flags | QUEUE_OPEN_FLAGS, mode);
	if (fd == -1)
		return (-1);
	if (fstat(fd, &sb) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return (-1);
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		return (-1);
	}
	return (fd);
}

/* Monotonic milliseconds, for the log rate limits. */
static int64_t
queue_now_ms(const struct queue *q)
{
	struct timespec	ts;

	if (q->o.now_ms != NULL)
		return (q->o.now_ms());
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/*
 * Log the outcome of a cursor save without flooding: one line when saving
 * starts failing, then the count of failures once a minute while it goes
 * on (checked at each save: the queue has no timer), and one line when a
 * save works again.
 */
static void
queue_cursor_result(struct queue *q, bool saved, int errnum)
{
	int64_t	now;

	if (saved) {
		if (q->cursor_failing)
			log_info("queue cursor saved again", "dir=%s "
			    "failures=%" PRIu64, q->dir, q->cursor_fail_run);
		q->cursor_failing = false;
		return;
	}
	q->cursor_errors++;
	now = queue_now_ms(q);
	if (!q->cursor_failing) {
		q->cursor_failing = true;
		q->cursor_fail_run = 1;
		q->cursor_fail_window = 0;
		q->cursor_fail_since = now;
		log_warn("queue cursor not saved, records may be sent twice",
		    "dir=%s err=%s", q->dir, strerror(errnum));
		return;
	}
	q->cursor_fail_run++;
	q->cursor_fail_window++;
	if (now - q->cursor_fail_since >= QUEUE_LOG_EVERY_MS) {
		log_warn("queue cursor still not saved", "dir=%s "
		    "failures=%" PRIu64 " interval_ms=%" PRId64 " err=%s",
		    q->dir, q->cursor_fail_window, now - q->cursor_fail_since,
		    strerror(errnum));
		q->cursor_fail_window = 0;
		q->cursor_fail_since = now;
	}
}

/* Add a pending record to the index. */
static struct qent *
queue_push(struct queue *q)
{
	struct qent	*e;

	if (q->head > 0 && q->head == q->n) {
		q->head = q->n = 0;
	} else if (q->head > 1024 && q->head > q->n / 2) {
		memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof *q->v);
		q->n -= q->head;
		q->head = 0;
	}
	if (q->n == q->cap) {
		q->cap = q->cap == 0 ? 64 : q->cap * 2;
		q->v = xreallocarray(q->v, q->cap, sizeof *q->v);
	}
	e = &q->v[q->n++];
	memset(e, 0, sizeof *e);
	e->id = ++q->next_id;
	return (e);
}

/*
 * Persist where the oldest pending record starts: the fixed-size line
 * "<segment> <offset> <crc32c>" rewritten in place with one pwrite (a torn
 * line fails its CRC and means "resend from the oldest segment"). A
 * symlink in the cursor's place is removed, never written through.
 */
static void
queue_write_cursor(struct queue *q)
{
	char		 line[QUEUE_CURSOR_LEN + 1];
	uint64_t	 seg, off;
	char		*path;

	if (q->dir == NULL)
		return;
	if (q->head < q->n) {
		seg = q->v[q->head].seg;
		off = q->v[q->head].off;
	} else {
		seg = q->nsegs > 0 ? q->segs[q->nsegs - 1] : 0;
		off = q->woff;
	}
	if (q->cfd == -1) {
		xasprintf(&path, "%s/%s", q->dir, QUEUE_CURSOR);
		q->cfd = queue_open_file(path, O_WRONLY | O_CREAT, 0644);
		if (q->cfd == -1 && errno == ELOOP && unlink(path) == 0) {
			log_warn("queue cursor was a symlink, replaced by a "
			    "file", "file=%s", path);
			q->cfd = queue_open_file(path, O_WRONLY | O_CREAT |
			    O_EXCL, 0644);
		}
		free(path);
		if (q->cfd == -1)
			goto fail;
		if (ftruncate(q->cfd, QUEUE_CURSOR_LEN) != 0) {
			close(q->cfd);
			q->cfd = -1;
			goto fail;
		}
	}
	snprintf(line, sizeof line, "%020" PRIu64 " %020" PRIu64 " ", seg,
	    off);
	snprintf(line + 42, sizeof line - 42, "%08x\n",
	    crc32c(0, line, 42));
	if (pwrite(q->cfd, line, QUEUE_CURSOR_LEN, 0) == QUEUE_CURSOR_LEN) {
		queue_cursor_result(q, true, 0);
		return;
	}
fail:
	queue_cursor_result(q, false, errno);
}

/* Remove segments before the oldest pending record (never the last). */
static void
queue_trim_segments(struct queue *q)
{
	uint64_t	 keep;
	size_t		 i, k;
	char		*p;

	if (q->dir == NULL)
		return;
	keep = q->head < q->n ? q->v[q->head].seg : UINT64_MAX;
	for (i = 0; i + 1 < q->nsegs && q->segs[i] < keep; i++) {
		if (q->rfd != -1 && q->rseg == q->segs[i]) {
			close(q->rfd);
			q->rfd = -1;
		}
		p = seg_path(q, q->segs[i]);
		if (unlink(p) != 0 && errno != ENOENT)
			log_warn("queue segment not removed", "file=%s "
			    "err=%s", p, strerror(errno));
		free(p);
	}
	if (i > 0) {
		for (k = 0; k + i < q->nsegs; k++)
			q->segs[k] = q->segs[k + i];
		q->nsegs -= i;
	}
}

/* Forget the oldest pending record. */
static void
queue_pop(struct queue *q)
{
	struct qent	*e = &q->v[q->head];

	q->bytes -= QUEUE_HDR + (uint64_t)e->len;
	q->samples -= e->meta.nsamples;
	free(e->data);
	e->data = NULL;
	q->head++;
}

/* Drop the oldest records until the budget holds (always keep the newest). */
static void
queue_enforce(struct queue *q)
{
	bool	dropped = false;

	while (q->o.max_bytes != 0 && q->bytes > q->o.max_bytes &&
	    q->n - q->head > 1) {
		if (q->v[q->head].id == q->lent_id && q->lent_id != 0)
			q->lent_dropped = true;
		else {
			q->dropped_samples += q->v[q->head].meta.nsamples;
			q->dropped_records++;
		}
		queue_pop(q);
		dropped = true;
	}
	if (dropped) {
		queue_write_cursor(q);
		queue_trim_segments(q);
	}
}

/* Note a segment number in use (ascending). */
static void
queue_add_seg(struct queue *q, uint64_t no)
{
	q->segs = xreallocarray(q->segs, q->nsegs + 1, sizeof *q->segs);
	q->segs[q->nsegs++] = no;
}

/*
 * Start a new segment for appending. The file must be new (O_EXCL): if the
 * name is taken by something else (a directory, a symlink), it is noted as
 * a segment so the next try takes the next number.
 */
static int
queue_rotate(struct queue *q, char *err, size_t errlen)
{
	uint64_t	 no;
	char		*p;
	int		 fd;

	no = q->nsegs > 0 ? q->segs[q->nsegs - 1] + 1 : 1;
	p = seg_path(q, no);
	fd = queue_open_file(p, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		if (errno == EEXIST || errno == EISDIR || errno == ELOOP)
			queue_add_seg(q, no);
		free(p);
		return (-1);
	}
	free(p);
	if (q->wfd != -1) {
		if (q->o.fsync != QUEUE_FSYNC_NEVER)
			fdatasync(q->wfd);
		close(q->wfd);
	}
	q->wfd = fd;
	q->woff = 0;
	q->dirty = false;
	queue_add_seg(q, no);
	if (q->o.fsync == QUEUE_FSYNC_BATCH)
		sync_dir(q->dir);
	return (0);
}

/* Write all of an iovec pair. */
static int
write_all(int fd, struct iovec *iov, int iovcnt)
{
	ssize_t	n;

	while (iovcnt > 0) {
		n = writev(fd, iov, iovcnt);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (char *)iov->iov_base + n;
			iov->iov_len -= n;
		}
	}
	return (0);
}

/* Append a record; -1 with the reason in err on an I/O error. */
int
queue_append(struct queue *q, const void *data, size_t len,
    const struct queue_meta *meta, char *err, size_t errlen)
{
	struct qent	*e;
	struct iovec	 iov[2];
	uint8_t		 hdr[QUEUE_HDR];

	if (len > QUEUE_MAX_RECORD) {
		snprintf(err, errlen, "record of %zu bytes is too large", len);
		return (-1);
	}
	if (q->dir != NULL) {
		if ((q->wfd == -1 || q->woff >= q->o.segment_bytes) &&
		    queue_rotate(q, err, errlen) != 0)
			return (-1);
		put32(hdr + 4, (uint32_t)len);
		put32(hdr + 8, meta->nsamples);
		put64(hdr + 12, (uint64_t)meta->min_ts);
		put64(hdr + 20, (uint64_t)meta->max_ts);
		put32(hdr, crc32c(crc32c(0, hdr + 4, QUEUE_HDR - 4), data,
		    len));
		iov[0].iov_base = hdr;
		iov[0].iov_len = sizeof hdr;
		iov[1].iov_base = (void *)data;
		iov[1].iov_len = len;
		if (write_all(q->wfd, iov, 2) != 0) {
			snprintf(err, errlen, "segment %" PRIu64 ": %s",
			    q->segs[q->nsegs - 1], strerror(errno));
			if (ftruncate(q->wfd, (off_t)q->woff) != 0)
				q->woff = q->o.segment_bytes; /* rotate */
			return (-1);
		}
		if (q->o.fsync == QUEUE_FSYNC_BATCH && fdatasync(q->wfd) != 0)
			log_warn("queue fdatasync failed", "dir=%s err=%s",
			    q->dir, strerror(errno));
		q->dirty = true;
	}
	e = queue_push(q);
	/*
	 * The record peeked next is kept in rbuf as well, so queue_peek
	 * gives it without reading it back: it is the oldest or, when the
	 * oldest was peeked already (its data is the caller's only until
	 * the next call), the one after it.
	 */
	if (q->dir != NULL && q->n - q->head <= 2) {
		buf_reset(&q->rbuf);
		buf_append(&q->rbuf, data, len);
		q->rbuf_id = e->id;
	}
	e->len = (uint32_t)len;
	e->meta = *meta;
	if (q->dir != NULL) {
		e->seg = q->segs[q->nsegs - 1];
		e->off = q->woff;
		q->woff += QUEUE_HDR + len;
	} else {
		e->data = xmalloc(len > 0 ? len : 1);
		memcpy(e->data, data, len);
	}
	q->bytes += QUEUE_HDR + (uint64_t)len;
	q->samples += meta->nsamples;
	queue_enforce(q);
	return (0);
}

/* Read a pending record's data into rbuf. */
static bool
queue_read(struct queue *q, const struct qent *e)
{
	char	*p;
	ssize_t	 n;
	size_t	 got = 0;

	if (q->rbuf_id == e->id)
		return (true);
	q->rbuf_id = 0;
	if (q->rfd == -1 || q->rseg != e->seg) {
		if (q->rfd != -1)
			close(q->rfd);
		p = seg_path(q, e->seg);
		q->rfd = queue_open_file(p, O_RDONLY, 0);
		free(p);
		if (q->rfd == -1)
			return (false);
		q->rseg = e->seg;
	}
	buf_reset(&q->rbuf);
	buf_reserve(&q->rbuf, e->len + 1);
	while (got < e->len) {
		n = pread(q->rfd, q->rbuf.data + got, e->len - got,
		    (off_t)(e->off + QUEUE_HDR + got));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (false);
		got += n;
	}
	q->rbuf.len = got;
	q->rbuf_id = e->id;
	return (true);
}

/* Count the lent record as dropped if the budget took it unacknowledged. */
static void
queue_settle_lent(struct queue *q)
{
	if (!q->lent_dropped)
		return;
	q->dropped_samples += q->lent_samples;
	q->dropped_records++;
	q->lent_dropped = false;
}

/* Look at the oldest unacked record; false if there is none. */
bool
queue_peek(struct queue *q, struct queue_rec *r)
{
	struct qent	*e;

	queue_settle_lent(q);
	while (q->head < q->n) {
		e = &q->v[q->head];
		if (q->dir == NULL) {
			r->data = e->data;
		} else if (queue_read(q, e)) {
			r->data = q->rbuf.data;
		} else {
			log_error("queue record unreadable, dropped", "dir=%s "
			    "segment=%" PRIu64 " offset=%" PRIu64 " err=%s",
			    q->dir, e->seg, e->off, strerror(errno));
			q->corrupt_bytes += QUEUE_HDR + e->len;
			queue_pop(q);
			queue_write_cursor(q);
			continue;
		}
		r->id = e->id;
		r->len = e->len;
		r->meta = e->meta;
		q->lent_id = e->id;
		q->lent_samples = e->meta.nsamples;
		return (true);
	}
	return (false);
}

/* Drop the oldest record if its id is given (others are ignored). */
void
queue_ack(struct queue *q, uint64_t id)
{
	if (q->lent_dropped && id == q->lent_id) {
		q->lent_dropped = false;	/* delivered after all */
		return;
	}
	if (q->head == q->n || q->v[q->head].id != id)
		return;
	queue_pop(q);
	queue_write_cursor(q);
	queue_trim_segments(q);
}

/* Write appended data to stable storage (the interval policy). */
int
queue_sync(struct queue *q, char *err, size_t errlen)
{
	if (q->dir == NULL || q->wfd == -1 || !q->dirty)
		return (0);
	q->dirty = false;
	if (fdatasync(q->wfd) != 0) {
		snprintf(err, errlen, "%s: fdatasync: %s", q->dir,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/* Fill in the queue's figures. */
void
queue_stats(struct queue *q, struct queue_stats *st)
{
	memset(st, 0, sizeof *st);
	st->pending_records = q->n - q->head;
	st->pending_samples = q->samples;
	st->bytes = q->bytes;
	if (q->head < q->n)
		st->oldest_min_ts = q->v[q->head].meta.min_ts;
	st->dropped_samples = q->dropped_samples;
	st->dropped_records = q->dropped_records;
	st->corrupt_bytes_discarded = q->corrupt_bytes;
	st->recovered_records = q->recovered;
	st->corrupt_regions = q->corrupt_regions;
	st->segments_skipped = q->segs_skipped;
	st->cursor_resets = q->cursor_resets;
	st->cursor_write_errors = q->cursor_errors;
}

/* Compare segment numbers for qsort. */
static int
seg_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* List the segments in the directory, ascending. */
static int
queue_list(struct queue *q, char *err, size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	char		*end;
	uint64_t	 no;

	d = opendir(q->dir);
	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", q->dir, strerror(errno));
		return (-1);
	}
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) != 24 ||
		    strcmp(de->d_name + 20, ".seg") != 0)
			continue;
		errno = 0;
		no = strtoull(de->d_name, &end, 10);
		if (errno != 0 || end != de->d_name + 20 || no == 0)
			continue;
		queue_add_seg(q, no);
	}
	closedir(d);
	if (q->nsegs > 1)
		qsort(q->segs, q->nsegs, sizeof *q->segs, seg_cmp);
	return (0);
}

/* Read the cursor; false (start at the oldest segment) if absent or bad. */
static bool
queue_read_cursor(struct queue *q, uint64_t *seg, uint64_t *off)
{
	char		*path, line[QUEUE_CURSOR_LEN + 1], *end;
	unsigned long	 crc;
	ssize_t		 n;
	bool		 ok = false;
	int		 fd;

	xasprintf(&path, "%s/%s", q->dir, QUEUE_CURSOR);
	fd = queue_open_file(path, O_RDONLY, 0);
	if (fd == -1) {
		if (errno != ENOENT) {
			log_warn("queue cursor unreadable, resending from "
			    "the oldest segment", "file=%s err=%s", path,
			    strerror(errno));
			q->cursor_resets++;
		}
		free(path);
		return (false);
	}
	do
		n = pread(fd, line, QUEUE_CURSOR_LEN, 0);
	while (n == -1 && errno == EINTR);
	if (n == QUEUE_CURSOR_LEN && line[20] == ' ' && line[41] == ' ' &&
	    line[QUEUE_CURSOR_LEN - 1] == '\n') {
		line[QUEUE_CURSOR_LEN - 1] = '\0';
		errno = 0;
		crc = strtoul(line + 42, &end, 16);
		*seg = strtoull(line, NULL, 10);
		*off = strtoull(line + 21, NULL, 10);
		ok = errno == 0 && *end == '\0' &&
		    crc == crc32c(0, line, 42);
	}
	close(fd);
	if (!ok) {
		log_warn("queue cursor corrupt, resending from the oldest "
		    "segment", "file=%s", path);
		q->cursor_resets++;
	}
	free(path);
	return (ok);
}

/* The largest a segment can grow: bytes past it are not records. */
static uint64_t
queue_max_segment(const struct queue *q)
{
	uint64_t	seg = q->o.segment_bytes;

	if (seg < QUEUE_SEGMENT_BYTES)
		seg = QUEUE_SEGMENT_BYTES;
	return (seg + QUEUE_HDR + QUEUE_MAX_RECORD);
}

/*
 * Point at len bytes of the segment at off (off + len within the size, len
 * within the window), reading a window from off when they are not in it.
 */
static const uint8_t *
qscan_at(struct qscan *s, uint64_t off, size_t len)
{
	size_t	want;
	ssize_t	n;

	if (off >= s->wat && off + len <= s->wat + s->wlen)
		return (s->win + (off - s->wat));
	want = QUEUE_SCAN_WINDOW;
	if (s->size - off < want)
		want = (size_t)(s->size - off);
	s->wat = off;
	s->wlen = 0;
	while (s->wlen < want) {
		n = pread(s->fd, s->win + s->wlen, want - s->wlen,
		    (off_t)(off + s->wlen));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* shrank under us */
			s->wlen = 0;
			return (NULL);
		}
		s->wlen += (size_t)n;
	}
	return (s->win);
}

/* Check the CRC of the record at off with len bytes of data. */
static enum qrec
qscan_crc(struct qscan *s, uint64_t off, uint32_t len)
{
	const uint8_t	*p;
	uint64_t	 at = off + 4, end = off + QUEUE_HDR + len;
	uint32_t	 want, crc = 0;
	size_t		 n;

	p = qscan_at(s, off, 4);
	if (p == NULL)
		return (QREC_IO);
	want = get32(p);
	while (at < end) {
		n = end - at < QUEUE_SCAN_WINDOW ? (size_t)(end - at) :
		    QUEUE_SCAN_WINDOW;
		p = qscan_at(s, at, n);
		if (p == NULL)
			return (QREC_IO);
		crc = crc32c(crc, p, n);
		at += n;
	}
	return (crc == want ? QREC_OK : QREC_CHECKSUM);
}

/* Check the record at off: whole, of a possible length, its CRC valid. */
static enum qrec
qscan_record(struct qscan *s, uint64_t off, uint32_t *len)
{
	const uint8_t	*p;

	if (s->size - off < QUEUE_HDR)
		return (QREC_TORN_HEADER);
	p = qscan_at(s, off, QUEUE_HDR);
	if (p == NULL)
		return (QREC_IO);
	*len = get32(p + 4);
	if (*len > QUEUE_MAX_RECORD)
		return (QREC_BAD_LENGTH);
	if (s->size - off - QUEUE_HDR < *len)
		return (QREC_TORN);
	return (qscan_crc(s, off, *len));
}

/*
 * Skip the offsets from off whose whole header would be zero bytes: no
 * record starts there (its CRC field would be 0, and the CRC32C of 24 zero
 * bytes is 0x84fbecee). A file grown by truncate(1) is zeros: this makes
 * resynchronising over it a memory scan, not a CRC per byte.
 */
static uint64_t
qscan_skip_zeros(struct qscan *s, uint64_t off)
{
	const uint8_t	*p;
	size_t		 i, n;

	while (s->size - off >= QUEUE_HDR) {
		p = qscan_at(s, off, QUEUE_HDR);
		if (p == NULL)
			break;
		n = s->wlen - (size_t)(off - s->wat);
		for (i = 0; i < n && p[i] == 0; i++)
			continue;
		if (i < QUEUE_HDR)
			break;
		off += i - QUEUE_HDR + 1;
	}
	return (off);
}

/*
 * Find the next offset after damage at off where a valid record starts, or
 * the end: a flipped byte costs the record it hit, not the rest.
 */
static uint64_t
qscan_resync(struct qscan *s, uint64_t off)
{
	uint32_t	 len;
	enum qrec	 r;

	for (off++; off < s->size; off++) {
		off = qscan_skip_zeros(s, off);
		r = qscan_record(s, off, &len);
		if (r == QREC_OK)
			return (off);
		if (r == QREC_TORN_HEADER || r == QREC_IO)
			break;
	}
	return (s->size);
}

/* Index the valid record at off. */
static void
queue_index(struct queue *q, struct qscan *s, uint64_t no, uint64_t off)
{
	const uint8_t	*p = qscan_at(s, off, QUEUE_HDR);
	struct qent	*e;

	e = queue_push(q);
	e->seg = no;
	e->off = off;
	e->len = get32(p + 4);
	e->meta.nsamples = get32(p + 8);
	e->meta.min_ts = (int64_t)get64(p + 12);
	e->meta.max_ts = (int64_t)get64(p + 20);
	q->bytes += QUEUE_HDR + (uint64_t)e->len;
	q->samples += e->meta.nsamples;
	q->recovered++;
}

/*
 * Index one segment's records from off, reading a window at a time. Damage
 * is skipped to the next valid record, counted and logged. *end gets the
 * end of the last good record (where appending may resume); false if the
 * segment cannot be read at all.
 */
static bool
queue_scan(struct queue *q, struct qscan *s, uint64_t no, uint64_t off,
    uint64_t *end)
{
	struct stat	 sb;
	char		*path;
	uint64_t	 at, next, limit = queue_max_segment(q);
	uint32_t	 len = 0;
	enum qrec	 r;

	path = seg_path(q, no);
	s->fd = queue_open_file(path, O_RDONLY, 0);
	if (s->fd == -1 || fstat(s->fd, &sb) != 0) {
		log_error("queue segment unreadable, skipped", "file=%s "
		    "err=%s", path, strerror(errno));
		q->segs_skipped++;
		if (s->fd != -1)
			close(s->fd);
		free(path);
		return (false);
	}
	s->size = (uint64_t)sb.st_size;
	s->wat = s->wlen = 0;
	if (s->size > limit) {
		log_warn("queue segment larger than a segment can grow, the "
		    "excess discarded", "file=%s size=%" PRIu64 " limit=%"
		    PRIu64, path, s->size, limit);
		q->corrupt_bytes += s->size - limit;
		q->corrupt_regions++;
		s->size = limit;
	}
	if (off > s->size) {
		log_warn("queue cursor beyond the end of its segment",
		    "file=%s offset=%" PRIu64 " size=%" PRIu64, path, off,
		    s->size);
		q->cursor_resets++;
		off = s->size;
	}
	*end = off;
	for (at = off; at < s->size; ) {
		r = qscan_record(s, at, &len);
		if (r == QREC_OK) {
			queue_index(q, s, no, at);
			at += QUEUE_HDR + (uint64_t)len;
			*end = at;
			continue;
		}
		next = r == QREC_IO ? s->size : qscan_resync(s, at);
		log_warn("queue segment damaged, skipped to the next valid "
		    "record", "file=%s offset=%" PRIu64 " discarded_bytes=%"
		    PRIu64 " reason=%s", path, at, next - at, r == QREC_IO ?
		    strerror(errno) : qrec_why[r]);
		q->corrupt_bytes += next - at;
		q->corrupt_regions++;
		at = next;
	}
	close(s->fd);
	s->fd = -1;
	free(path);
	return (true);
}

/*
 * Append after the last good record of the last segment, cutting a damaged
 * tail; if that segment cannot be written (or was not readable), start a
 * new one instead: damage is never fatal.
 */
static void
queue_resume(struct queue *q, uint64_t last, uint64_t end, bool scanned)
{
	struct stat	 sb;
	char		*p, err[256];
	int		 fd = -1;

	p = seg_path(q, last);
	if (scanned)
		fd = queue_open_file(p, O_WRONLY | O_APPEND, 0);
	if (fd != -1 && fstat(fd, &sb) == 0 && ((uint64_t)sb.st_size == end ||
	    ftruncate(fd, (off_t)end) == 0)) {
		q->wfd = fd;
		q->woff = end;
		free(p);
		return;
	}
	if (scanned) {
		log_error("queue segment not writable, appending to a new "
		    "one", "file=%s err=%s", p, strerror(errno));
		q->segs_skipped++;
	}
	if (fd != -1)
		close(fd);
	free(p);
	if (queue_rotate(q, err, sizeof err) != 0)
		log_error("queue segment not created, will retry", "err=%s",
		    err);
}

/* Recover the queue from its directory. */
static int
queue_recover(struct queue *q, char *err, size_t errlen)
{
	uint64_t	 cseg = 0, coff = 0, last, end = 0;
	struct qscan	 s;
	size_t		 i;
	bool		 have, scanned = false;

	if (queue_list(q, err, errlen) != 0)
		return (-1);
	if (q->nsegs == 0)
		return (0);
	last = q->segs[q->nsegs - 1];
	have = queue_read_cursor(q, &cseg, &coff);
	if (have && cseg > last) {
		log_warn("queue cursor names a segment past the last, "
		    "resending from the oldest", "dir=%s cursor_segment=%"
		    PRIu64 " last_segment=%" PRIu64, q->dir, cseg, last);
		q->cursor_resets++;
		have = false;
	}
	if (!have || cseg < q->segs[0]) {
		cseg = q->segs[0];
		coff = 0;
	}
	memset(&s, 0, sizeof s);
	s.fd = -1;
	s.win = xmalloc(QUEUE_SCAN_WINDOW);
	for (i = 0; i < q->nsegs; i++) {
		if (q->segs[i] < cseg)
			continue;
		scanned = queue_scan(q, &s, q->segs[i], q->segs[i] == cseg ?
		    coff : 0, &end);
	}
	free(s.win);
	queue_resume(q, last, end, scanned);
	queue_write_cursor(q);
	queue_trim_segments(q);
	if (q->recovered > 0)
		log_info("queue recovered from disk", "dir=%s records=%" PRIu64
		    " samples=%" PRIu64 " bytes=%" PRIu64, q->dir, q->recovered,
		    q->samples, q->bytes);
	queue_enforce(q);
	return (0);
}

/* Open (creating) the queue in dir, or in memory if dir is NULL. */
struct queue *
queue_open(const char *dir, const struct queue_opts *o, char *err,
    size_t errlen)
{
	struct queue	*q;

	q = xcalloc(1, sizeof *q);
	q->o = *o;
	if (q->o.segment_bytes == 0) {
		q->o.segment_bytes = QUEUE_SEGMENT_BYTES;
		if (q->o.max_bytes != 0 && q->o.max_bytes / 4 <
		    q->o.segment_bytes)
			q->o.segment_bytes = q->o.max_bytes / 4 + 1;
	}
	q->wfd = q->rfd = q->cfd = -1;
	buf_init(&q->rbuf);
	if (dir != NULL) {
		q->dir = xstrdup(dir);
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			goto fail;
		}
		if (queue_recover(q, err, errlen) != 0)
			goto fail;
	}
	return (q);

fail:
	queue_close(q);
	return (NULL);
}

/* Close the queue, leaving pending records on disk. */
void
queue_close(struct queue *q)
{
	size_t	i;

	if (q == NULL)
		return;
	if (q->wfd != -1) {
		if (q->o.fsync != QUEUE_FSYNC_NEVER && q->dirty)
			fdatasync(q->wfd);
		close(q->wfd);
	}
	if (q->rfd != -1)
		close(q->rfd);
	if (q->cfd != -1)
		close(q->cfd);
	for (i = q->head; i < q->n; i++)
		free(q->v[i].data);
	free(q->v);
	free(q->segs);
	buf_free(&q->rbuf);
	free(q->dir);
	free(q);
}
