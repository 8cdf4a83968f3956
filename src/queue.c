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
	int			 wfd;		/* the last segment, appending */
	uint64_t		 woff;
	int			 rfd;		/* the segment being read */
	int			 cfd;		/* the cursor file */
	uint64_t		 rseg;
	bool			 dirty;		/* written since the last sync */

	struct buf		 rbuf;
	uint64_t		 bytes;
	uint64_t		 samples;
	uint64_t		 dropped_samples;
	uint64_t		 dropped_records;
	uint64_t		 corrupt_bytes;
	uint64_t		 recovered;
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
 * line fails its CRC and means "resend from the oldest segment").
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
		q->cfd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		free(path);
		if (q->cfd == -1 || ftruncate(q->cfd, QUEUE_CURSOR_LEN) != 0)
			goto fail;
	}
	snprintf(line, sizeof line, "%020" PRIu64 " %020" PRIu64 " ", seg,
	    off);
	snprintf(line + 42, sizeof line - 42, "%08x\n",
	    crc32c(0, line, 42));
	if (pwrite(q->cfd, line, QUEUE_CURSOR_LEN, 0) == QUEUE_CURSOR_LEN)
		return;
fail:
	log_warn("queue cursor not saved, records may be sent twice",
	    "dir=%s err=\"%s\"", q->dir, strerror(errno));
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
			    "err=\"%s\"", p, strerror(errno));
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
		q->dropped_samples += q->v[q->head].meta.nsamples;
		q->dropped_records++;
		queue_pop(q);
		dropped = true;
	}
	if (dropped) {
		queue_write_cursor(q);
		queue_trim_segments(q);
	}
}

/* Start a new segment for appending. */
static int
queue_rotate(struct queue *q, char *err, size_t errlen)
{
	uint64_t	 no;
	char		*p;
	int		 fd;

	no = q->nsegs > 0 ? q->segs[q->nsegs - 1] + 1 : 1;
	p = seg_path(q, no);
	fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
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
	q->segs = xreallocarray(q->segs, q->nsegs + 1, sizeof *q->segs);
	q->segs[q->nsegs++] = no;
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
			log_warn("queue fdatasync failed", "dir=%s err=\"%s\"",
			    q->dir, strerror(errno));
		q->dirty = true;
	}
	e = queue_push(q);
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

	if (q->rfd == -1 || q->rseg != e->seg) {
		if (q->rfd != -1)
			close(q->rfd);
		p = seg_path(q, e->seg);
		q->rfd = open(p, O_RDONLY | O_CLOEXEC);
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
	return (true);
}

/* Look at the oldest unacked record; false if there is none. */
bool
queue_peek(struct queue *q, struct queue_rec *r)
{
	struct qent	*e;

	while (q->head < q->n) {
		e = &q->v[q->head];
		if (q->dir == NULL) {
			r->data = e->data;
		} else if (queue_read(q, e)) {
			r->data = q->rbuf.data;
		} else {
			log_error("queue record unreadable, dropped", "dir=%s "
			    "segment=%" PRIu64 " offset=%" PRIu64 " err=\"%s\"",
			    q->dir, e->seg, e->off, strerror(errno));
			q->corrupt_bytes += QUEUE_HDR + e->len;
			queue_pop(q);
			queue_write_cursor(q);
			continue;
		}
		r->id = e->id;
		r->len = e->len;
		r->meta = e->meta;
		return (true);
	}
	return (false);
}

/* Drop the oldest record if its id is given (others are ignored). */
void
queue_ack(struct queue *q, uint64_t id)
{
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
		q->segs = xreallocarray(q->segs, q->nsegs + 1,
		    sizeof *q->segs);
		q->segs[q->nsegs++] = no;
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
	FILE		*f;
	bool		 ok = false;

	xasprintf(&path, "%s/%s", q->dir, QUEUE_CURSOR);
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno != ENOENT)
			log_warn("queue cursor unreadable, resending from "
			    "the oldest segment", "file=%s err=\"%s\"", path,
			    strerror(errno));
		free(path);
		return (false);
	}
	if (fread(line, 1, QUEUE_CURSOR_LEN, f) == QUEUE_CURSOR_LEN &&
	    line[20] == ' ' && line[41] == ' ' &&
	    line[QUEUE_CURSOR_LEN - 1] == '\n') {
		line[QUEUE_CURSOR_LEN - 1] = '\0';
		errno = 0;
		crc = strtoul(line + 42, &end, 16);
		*seg = strtoull(line, NULL, 10);
		*off = strtoull(line + 21, NULL, 10);
		ok = errno == 0 && *end == '\0' &&
		    crc == crc32c(0, line, 42);
	}
	fclose(f);
	if (!ok)
		log_warn("queue cursor corrupt, resending from the oldest "
		    "segment", "file=%s", path);
	free(path);
	return (ok);
}

/* Index one segment's records from off; truncate a torn or corrupt tail. */
static void
queue_scan(struct queue *q, uint64_t no, uint64_t off)
{
	struct qent	*e;
	struct stat	 sb;
	const uint8_t	*p;
	char		*path;
	uint64_t	 size, at;
	uint32_t	 len;
	const char	*why = NULL;
	int		 fd;
	ssize_t		 n;

	path = seg_path(q, no);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &sb) != 0) {
		log_error("queue segment unreadable, skipped", "file=%s "
		    "err=\"%s\"", path, strerror(errno));
		if (fd != -1)
			close(fd);
		free(path);
		return;
	}
	size = (uint64_t)sb.st_size;
	buf_reset(&q->rbuf);
	buf_reserve(&q->rbuf, size + 1);
	q->rbuf.len = 0;
	while (q->rbuf.len < size) {
		n = pread(fd, q->rbuf.data + q->rbuf.len, size - q->rbuf.len,
		    (off_t)q->rbuf.len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		q->rbuf.len += n;
	}
	size = q->rbuf.len;
	if (off > size) {
		why = "cursor beyond the end of its segment";
		off = size;
	}
	for (at = off; at < size; at += QUEUE_HDR + len) {
		p = q->rbuf.data + at;
		if (size - at < QUEUE_HDR) {
			why = "torn record header";
			break;
		}
		len = get32(p + 4);
		if (len > QUEUE_MAX_RECORD) {
			why = "bad record length";
			break;
		}
		if (size - at - QUEUE_HDR < len) {
			why = "torn record";
			break;
		}
		if (crc32c(crc32c(0, p + 4, QUEUE_HDR - 4), p + QUEUE_HDR,
		    len) != get32(p)) {
			why = "record checksum mismatch";
			break;
		}
		e = queue_push(q);
		e->seg = no;
		e->off = at;
		e->len = len;
		e->meta.nsamples = get32(p + 8);
		e->meta.min_ts = (int64_t)get64(p + 12);
		e->meta.max_ts = (int64_t)get64(p + 20);
		q->bytes += QUEUE_HDR + (uint64_t)len;
		q->samples += e->meta.nsamples;
		q->recovered++;
	}
	if (why != NULL && at < size) {
		q->corrupt_bytes += size - at;
		log_warn("queue segment damaged, tail discarded", "file=%s "
		    "offset=%" PRIu64 " discarded_bytes=%" PRIu64 " reason=\"%s\"",
		    path, at, size - at, why);
		if (ftruncate(fd, (off_t)at) != 0)
			log_error("queue segment not truncated", "file=%s "
			    "err=\"%s\"", path, strerror(errno));
	} else if (why != NULL)
		log_warn("queue cursor invalid", "file=%s reason=\"%s\"", path,
		    why);
	close(fd);
	free(path);
}

/* Recover the queue from its directory. */
static int
queue_recover(struct queue *q, char *err, size_t errlen)
{
	uint64_t	 cseg = 0, coff = 0, last;
	struct stat	 sb;
	char		*p;
	size_t		 i;

	if (queue_list(q, err, errlen) != 0)
		return (-1);
	if (q->nsegs == 0)
		return (0);
	if (!queue_read_cursor(q, &cseg, &coff) || cseg < q->segs[0]) {
		cseg = q->segs[0];
		coff = 0;
	}
	for (i = 0; i < q->nsegs; i++) {
		if (q->segs[i] < cseg)
			continue;
		queue_scan(q, q->segs[i], q->segs[i] == cseg ? coff : 0);
	}
	/* Append to the last segment after what survived of it. */
	last = q->segs[q->nsegs - 1];
	p = seg_path(q, last);
	q->wfd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (q->wfd == -1 || fstat(q->wfd, &sb) != 0) {
		snprintf(err, errlen, "%s: %s", p, strerror(errno));
		free(p);
		return (-1);
	}
	free(p);
	q->woff = (uint64_t)sb.st_size;
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
