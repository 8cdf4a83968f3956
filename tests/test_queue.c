/*
 * Unit tests for the durable send queue and CRC32C: order, acks, reopening,
 * segment rotation and removal, the byte budget, torn and corrupt tails, a
 * bad cursor, and the same budget in memory; and the damage of issue 19:
 * an unopenable last segment, a segment grown by gigabytes (bounded memory),
 * a symlinked cursor or segment, a cursor naming a future segment, an
 * unwritable cursor (rate-limited log), resynchronising after a flipped byte.
 */
#include <sys/stat.h>

#include <errno.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"
#include "log.h"
#include "queue.h"
#include "tap.h"

static char	root[256];

/* A fresh queue directory under root. */
static const char *
qdir(const char *name)
{
	static char	path[512];
	char		cmd[600];

	snprintf(path, sizeof path, "%s/%s", root, name);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		abort();
	return (path);
}

/* Append record i: "rec-<i>" padded to size bytes, i samples. */
static int
put(struct queue *q, int i, size_t size)
{
	struct queue_meta	m;
	static char		data[16384];
	char			err[256];

	memset(data, 'x', sizeof data);
	snprintf(data, sizeof data, "rec-%d", i);
	m.nsamples = (uint32_t)i;
	m.min_ts = 1000 * i;
	m.max_ts = 1000 * i + 999;
	if (size < strlen(data) + 1)
		size = strlen(data) + 1;
	return (queue_append(q, data, size, &m, err, sizeof err));
}

/* The number of the oldest record ("rec-N"), or -1 if empty. */
static int
head(struct queue *q, struct queue_rec *r)
{
	if (!queue_peek(q, r))
		return (-1);
	if (r->len < 5 || memcmp(r->data, "rec-", 4) != 0)
		return (-2);
	return (atoi((const char *)r->data + 4));
}

/* Fill a new queue in d with records 1..n of size bytes, and close it. */
static void
fill(const char *d, const struct queue_opts *o, int n, size_t size)
{
	struct queue	*q;
	char		 err[256];
	int		 i;

	q = queue_open(d, o, err, sizeof err);
	if (q == NULL)
		abort();
	for (i = 1; i <= n; i++)
		put(q, i, size);
	queue_close(q);
}

/* Count segment files in a directory. */
static int
nsegs(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	d = opendir(dir);
	if (d == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".seg") != NULL)
			n++;
	closedir(d);
	return (n);
}

/* The path of the only or last segment. */
static void
last_seg(const char *dir, char *out, size_t len)
{
	DIR		*d;
	struct dirent	*de;
	char		 best[256] = "";

	d = opendir(dir);
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".seg") != NULL &&
		    strcmp(de->d_name, best) > 0)
			snprintf(best, sizeof best, "%s", de->d_name);
	closedir(d);
	snprintf(out, len, "%s/%s", dir, best);
}

/* Known CRC-32C values (RFC 3720 B.4 and the classic check string). */
static void
test_crc(void)
{
	uint8_t		zeros[32], ones[32], inc[32], buf[300];
	size_t		len, off, j;
	uint32_t	seed;
	int		i, bad;

	memset(zeros, 0, sizeof zeros);
	memset(ones, 0xff, sizeof ones);
	for (i = 0; i < 32; i++)
		inc[i] = (uint8_t)i;
	is_int(crc32c(0, "123456789", 9), 0xe3069283, "crc32c check string");
	is_int(crc32c(0, zeros, 32), 0x8a9136aa, "crc32c 32 zeros");
	is_int(crc32c(0, ones, 32), 0x62a8ab43, "crc32c 32 0xff");
	is_int(crc32c(0, inc, 32), 0x46dd794e, "crc32c 0..31");
	is_int(crc32c(crc32c(0, "12345", 5), "6789", 4), 0xe3069283,
	    "crc32c extends across calls");
	for (i = 0, bad = 0; i < 2000; i++) {
		len = (size_t)(random() % (int)sizeof buf);
		off = (size_t)(random() % 8);
		for (j = 0; j < len + off && j < sizeof buf; j++)
			buf[j] = (uint8_t)random();
		if (off + len > sizeof buf)
			len = sizeof buf - off;
		seed = (uint32_t)random();
		if (crc32c(seed, buf + off, len) !=
		    crc32c_portable(seed, buf + off, len))
			bad++;
	}
	is_int(bad, 0, "crc32c and the table version agree on 2000 random "
	    "buffers, lengths and alignments");
	is_int(crc32c_portable(0, "123456789", 9), 0xe3069283,
	    "crc32c_portable check string");
}

/*
 * The record peeked next is kept in memory from its append: in every order
 * of appends, peeks and acks a peek gives the record's whole bytes, and
 * one appended to an empty queue comes back even when its segment was
 * truncated behind it (it is not read back).
 */
static void
test_hot(void)
{
	static const struct {
		const char	*name;
		const char	*ops;	/* aN: append N, pN: peek gives N, k: ack */
	} cases[] = {
		{ "one at a time", "a1 p1 k a2 p2 k a3 p3 k p0" },
		{ "append while one is out", "a1 p1 a2 k p2 a3 k p3 k p0" },
		{ "a retry of the oldest", "a1 p1 a2 p1 p1 k p2 k p0" },
		{ "a backlog", "a1 p1 a2 a3 a4 k p2 k p3 a5 k p4 k p5 k p0" },
	};
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_NEVER, NULL };
	struct queue_rec	 r = { 0 };
	struct queue		*q;
	const char		*op, *d;
	char			 err[256], seg[600];
	size_t			 i, size = 3000;
	int			 n, got, bad;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		q = queue_open(qdir("hot"), &o, err, sizeof err);
		if (q == NULL)
			abort();
		bad = 0;
		for (op = cases[i].ops; *op != '\0' && !bad; op++) {
			n = atoi(op + 1);
			if (*op == 'a')
				bad = put(q, n, size + (size_t)n) != 0;
			else if (*op == 'k')
				queue_ack(q, r.id);
			else if (*op == 'p' && (got = head(q, &r)) != n) {
				ok(0, "%s: at \"%s\": peek gives %d, want %d",
				    cases[i].name, op, got, n);
				bad = 1;
			} else if (*op == 'p' && n > 0 &&
			    (r.len != size + (size_t)n ||
			    ((const char *)r.data)[r.len - 1] != 'x')) {
				ok(0, "%s: at \"%s\": %zu bytes, want %zu",
				    cases[i].name, op, r.len, size + (size_t)n);
				bad = 1;
			}
			while (op[1] != '\0' && op[1] != ' ')
				op++;
		}
		if (!bad)
			ok(1, "%s: every peek gives the record's bytes",
			    cases[i].name);
		queue_close(q);
	}

	d = qdir("hot-truncated");
	q = queue_open(d, &o, err, sizeof err);
	if (q == NULL)
		abort();
	is_int(put(q, 7, 100), 0, "truncated: append");
	last_seg(d, seg, sizeof seg);
	is_int(truncate(seg, 0), 0, "truncated: segment emptied");
	is_int(head(q, &r), 7, "truncated: the record appended to an empty "
	    "queue is peeked from memory");
	is_int(r.len, 100, "truncated: all its bytes");
	queue_close(q);
}

/* Order, ack by id, stats, and reopening a directory. */
static void
test_basic(void)
{
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_BATCH, NULL };
	struct queue_stats	 st;
	struct queue_rec	 r;
	struct queue		*q;
	const char		*d = qdir("basic");
	char			 err[256];
	int			 i;

	q = queue_open(d, &o, err, sizeof err);
	ok(q != NULL, "open a new directory");
	for (i = 1; i <= 5; i++)
		is_int(put(q, i, 100), 0, "append %d", i);
	queue_stats(q, &st);
	is_int(st.pending_records, 5, "5 pending");
	is_int(st.pending_samples, 15, "15 samples pending");
	is_int(st.oldest_min_ts, 1000, "oldest min ts");
	is_int(head(q, &r), 1, "peek gives the oldest");
	is_int(head(q, &r), 1, "peek again gives the same");
	queue_ack(q, r.id + 1);
	is_int(head(q, &r), 1, "ack of another id is ignored");
	queue_ack(q, r.id);
	is_int(head(q, &r), 2, "ack moves to the next");
	is_int(r.meta.max_ts, 2999, "meta comes back");
	queue_ack(q, r.id);
	queue_close(q);

	q = queue_open(d, &o, err, sizeof err);
	ok(q != NULL, "reopen");
	queue_stats(q, &st);
	is_int(st.pending_records, 3, "3 pending after reopen");
	is_int(st.recovered_records, 3, "3 recovered");
	is_int(head(q, &r), 3, "reopen starts at the cursor");
	is_int(put(q, 6, 100), 0, "append after reopen");
	for (i = 3; i <= 6; i++) {
		is_int(head(q, &r), i, "drain %d in order", i);
		queue_ack(q, r.id);
	}
	is_int(head(q, &r), -1, "empty when drained");
	queue_close(q);
	q = queue_open(d, &o, err, sizeof err);
	is_int(head(q, &r), -1, "still empty after reopen");
	queue_close(q);
}

/* Segments rotate and are removed once acked. */
static void
test_segments(void)
{
	struct queue_opts	 o = { 0, 1000, QUEUE_FSYNC_NEVER, NULL };
	struct queue_rec	 r;
	struct queue		*q;
	const char		*d = qdir("segs");
	char			 err[256];
	int			 i;

	q = queue_open(d, &o, err, sizeof err);
	for (i = 1; i <= 20; i++)
		put(q, i, 300);
	ok(nsegs(d) >= 5, "20 records of 328 bytes fill several segments "
	    "(%d)", nsegs(d));
	for (i = 1; i <= 19; i++) {
		head(q, &r);
		queue_ack(q, r.id);
	}
	is_int(nsegs(d), 1, "acked segments are removed");
	is_int(head(q, &r), 20, "the last record is still there");
	queue_close(q);
	q = queue_open(d, &o, err, sizeof err);
	is_int(head(q, &r), 20, "and survives a reopen");
	queue_close(q);
}

/* The byte budget drops the oldest, counts it, keeps the newest. */
static void
test_budget(const char *dir)
{
	struct queue_opts	 o = { 4000, 0, QUEUE_FSYNC_NEVER, NULL };
	struct queue_stats	 st;
	struct queue_rec	 r;
	struct queue		*q;
	char			 err[256];
	int			 i, first, dropped = 0;

	q = queue_open(dir, &o, err, sizeof err);
	for (i = 1; i <= 40; i++)
		put(q, i, 972);		/* 1000 bytes with the header */
	queue_stats(q, &st);
	ok(st.bytes <= 4000, "%s: held bytes %llu within the budget",
	    dir ? "disk" : "memory", (unsigned long long)st.bytes);
	is_int(st.pending_records, 4, "%s: 4 records fit",
	    dir ? "disk" : "memory");
	first = head(q, &r);
	is_int(first, 37, "%s: the oldest kept is 37", dir ? "disk" : "memory");
	for (i = 1; i < first; i++)
		dropped += i;
	is_int(st.dropped_samples, dropped, "%s: dropped samples counted",
	    dir ? "disk" : "memory");
	is_int(st.dropped_records, 36, "%s: dropped records counted",
	    dir ? "disk" : "memory");
	put(q, 41, 10000);
	queue_stats(q, &st);
	is_int(st.pending_records, 1, "%s: an oversized newest record is kept "
	    "alone", dir ? "disk" : "memory");
	is_int(head(q, &r), 41, "%s: and it is the newest",
	    dir ? "disk" : "memory");
	queue_close(q);
}

/*
 * The budget may drop the record being sent. If that send succeeds the
 * samples were delivered, not dropped; if the sender moves on (a retry
 * peeks the next record) they were dropped.
 */
static void
test_budget_lent(const char *dir)
{
	struct queue_opts	 o = { 4000, 0, QUEUE_FSYNC_NEVER, NULL };
	struct queue_stats	 st;
	struct queue_rec	 r;
	struct queue		*q;
	const char		*what = dir ? "disk" : "memory";
	char			 err[256];
	int			 i;

	q = queue_open(dir, &o, err, sizeof err);
	for (i = 1; i <= 4; i++)
		put(q, i, 972);
	is_int(head(q, &r), 1, "%s lent: record 1 is being sent", what);
	put(q, 5, 972);		/* the budget drops record 1 */
	queue_ack(q, r.id);	/* ... whose send then succeeds */
	queue_stats(q, &st);
	is_int(st.dropped_records, 0, "%s lent: a record delivered while the "
	    "budget dropped it is not counted as dropped", what);
	is_int(st.pending_records, 4, "%s lent: records 2-5 pending", what);
	is_int(head(q, &r), 2, "%s lent: record 2 is sent next", what);
	put(q, 6, 972);		/* the budget drops record 2 */
	is_int(head(q, &r), 3, "%s lent: a retry moves on to record 3", what);
	queue_stats(q, &st);
	is_int(st.dropped_records, 1, "%s lent: record 2, never acknowledged, "
	    "is counted as dropped", what);
	is_int(st.dropped_samples, 2, "%s lent: with its 2 samples", what);
	queue_ack(q, 2);	/* a late acknowledgement changes nothing */
	queue_stats(q, &st);
	is_int(st.dropped_records + st.pending_records, 1 + 4, "%s lent: a "
	    "stale ack neither drops nor counts", what);
	queue_close(q);
}

/* A torn tail is truncated and the records before it survive. */
static void
test_torn(void)
{
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_BATCH, NULL };
	struct queue_stats	 st;
	struct queue_rec	 r;
	struct queue		*q;
	struct stat		 sb;
	const char		*d = qdir("torn");
	char			 err[256], seg[900];
	int			 i;

	fill(d, &o, 3, 100);
	last_seg(d, seg, sizeof seg);
	stat(seg, &sb);
	if (truncate(seg, sb.st_size - 10) != 0)
		abort();
	q = queue_open(d, &o, err, sizeof err);
	ok(q != NULL, "torn tail: opens");
	queue_stats(q, &st);
	is_int(st.pending_records, 2, "torn tail: two records survive");
	is_int(st.corrupt_bytes_discarded, 128 - 10, "torn tail: discarded "
	    "bytes counted");
	stat(seg, &sb);
	is_int(sb.st_size, 256, "torn tail: segment truncated to the records");
	is_int(put(q, 4, 100), 0, "torn tail: appends after the cut");
	for (i = 1; i <= 4; i++) {
		if (i == 3)
			continue;
		is_int(head(q, &r), i, "torn tail: record %d", i);
		queue_ack(q, r.id);
	}
	queue_close(q);
}

/* Flip one byte of a file. */
static void
flip(const char *path, off_t at)
{
	uint8_t	c;
	int	fd;

	fd = open(path, O_RDWR);
	if (fd == -1 || pread(fd, &c, 1, at) != 1)
		abort();
	c ^= 0x40;
	if (pwrite(fd, &c, 1, at) != 1)
		abort();
	close(fd);
}

/* Drain the queue; the record numbers in order, as "1 3 4". */
static void
drain(struct queue *q, char *out, size_t len)
{
	struct queue_rec	r;
	size_t			n = 0;
	int			i;

	*out = '\0';
	while ((i = head(q, &r)) > 0 && n + 12 < len) {
		n += (size_t)snprintf(out + n, len - n, "%s%d", n ? " " : "",
		    i);
		queue_ack(q, r.id);
	}
}

/*
 * A flipped byte costs only the record it hit: recovery resynchronises on
 * the next record whose CRC is valid and counts the bytes skipped (it once
 * discarded the rest of the segment). Three records of 328 bytes per
 * segment; the byte is in segment 1 or in segment 3, the one appended to.
 */
static void
test_corrupt(void)
{
	static const struct {
		const char	*name;
		int		 seg;
		off_t		 at;
		const char	*want;
	} cases[] = {
		{ "crc", 1, 328 + 0, "1 3 4 5 6 7 8 9 10" },
		{ "length", 1, 328 + 5, "1 3 4 5 6 7 8 9 10" },
		{ "length top byte", 1, 328 + 7, "1 3 4 5 6 7 8 9 10" },
		{ "sample count", 1, 328 + 9, "1 3 4 5 6 7 8 9 10" },
		{ "timestamp", 1, 328 + 20, "1 3 4 5 6 7 8 9 10" },
		{ "data", 1, 328 + 50, "1 3 4 5 6 7 8 9 10" },
		{ "first record", 1, 3, "2 3 4 5 6 7 8 9 10" },
		{ "last segment", 3, 328 + 50, "1 2 3 4 5 6 7 9 10" },
		{ "last record", 3, 656 + 300, "1 2 3 4 5 6 7 8 10" },
	};
	struct queue_opts	 o = { 0, 984, QUEUE_FSYNC_NEVER, NULL };
	struct queue_stats	 st;
	struct queue		*q;
	const char		*d;
	char			 err[256], seg[900], got[128];
	size_t			 c;

	for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		d = qdir("corrupt");
		fill(d, &o, 9, 300);		/* three per segment */
		snprintf(seg, sizeof seg, "%s/%020d.seg", d, cases[c].seg);
		flip(seg, cases[c].at);
		q = queue_open(d, &o, err, sizeof err);
		ok(q != NULL, "flipped %s byte: opens", cases[c].name);
		if (q == NULL)
			continue;
		queue_stats(q, &st);
		is_int(st.pending_records, 8, "flipped %s byte: the other "
		    "eight records kept", cases[c].name);
		is_int(st.corrupt_bytes_discarded, 328, "flipped %s byte: the "
		    "bytes skipped are counted", cases[c].name);
		is_int(st.corrupt_regions, 1, "flipped %s byte: one damaged "
		    "region", cases[c].name);
		is_int(put(q, 10, 300), 0, "flipped %s byte: appends",
		    cases[c].name);
		drain(q, got, sizeof got);
		is_str(got, cases[c].want, "flipped %s byte: delivered in "
		    "order", cases[c].name);
		queue_close(q);
	}
}

/* A garbage cursor resends from the oldest segment. */
static void
test_bad_cursor(void)
{
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_NEVER, NULL };
	struct queue_rec	 r;
	struct queue		*q;
	const char		*d = qdir("cursor");
	char			 err[256], path[600], line[64];
	FILE			*f;
	int			 i;

	q = queue_open(d, &o, err, sizeof err);
	for (i = 1; i <= 3; i++)
		put(q, i, 50);
	head(q, &r);
	queue_ack(q, r.id);
	queue_close(q);
	snprintf(path, sizeof path, "%s/cursor", d);
	f = fopen(path, "w");
	fputs("garbage", f);
	fclose(f);
	q = queue_open(d, &o, err, sizeof err);
	is_int(head(q, &r), 1, "bad cursor: resend from the oldest record");
	queue_close(q);
	snprintf(path, sizeof path, "%s/cursor", d);
	f = fopen(path, "w");
	snprintf(line, sizeof line, "%020d %020d ", 1, 999999);
	fprintf(f, "%s%08x\n", line, crc32c(0, line, 42));
	fclose(f);
	q = queue_open(d, &o, err, sizeof err);
	is_int(head(q, &r), -1, "cursor past the end: nothing pending");
	is_int(put(q, 7, 50), 0, "cursor past the end: appends");
	is_int(head(q, &r), 7, "cursor past the end: new record readable");
	queue_close(q);
}

/* An unusable directory is an error, not a crash. */
static void
test_errors(void)
{
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_NEVER, NULL };
	struct queue		*q;
	char			 err[256] = "", path[600];

	snprintf(path, sizeof path, "%s/file", root);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof path, "%s/file/sub", root);
	q = queue_open(path, &o, err, sizeof err);
	ok(q == NULL, "a path under a file fails");
	ok(strstr(err, "file/sub") != NULL, "the error names it: %s", err);
	queue_close(NULL);
}

/* Peak resident memory of this process, in KiB (VmHWM). */
static long
peak_rss_kib(void)
{
	char	line[256];
	long	kib = -1;
	FILE	*f;

	f = fopen("/proc/self/status", "r");
	if (f == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, "VmHWM:", 6) == 0)
			kib = atol(line + 6);
	fclose(f);
	return (kib);
}

/*
 * A segment grown by `truncate -s +4G` (recovery once read segments whole:
 * +1G cost 1 GB of RSS, +4G aborted every start). Recovery must read it a
 * window at a time, treat the bytes past the largest size a segment can
 * reach as corrupt without reading them, keep every record and cut the
 * tail. Bound: the peak RSS grows by less than 32 MiB while it opens.
 */
static void
test_grown(void)
{
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_NEVER, NULL };
	struct queue_stats	 st;
	struct queue		*q;
	struct stat		 sb;
	const char		*d = qdir("grown");
	char			 err[256], seg[900], got[128];
	long			 before, after;
	off_t			 size;

	fill(d, &o, 3, 1000);
	last_seg(d, seg, sizeof seg);
	stat(seg, &sb);
	size = sb.st_size;
	if (truncate(seg, size + (4LL << 30)) != 0) {
		ok(0, "grown segment: truncate +4G: %s", strerror(errno));
		return;
	}
	before = peak_rss_kib();
	q = queue_open(d, &o, err, sizeof err);
	after = peak_rss_kib();
	ok(q != NULL, "grown segment: opens");
	if (q == NULL)
		return;
	printf("# grown segment: peak RSS %ld KiB before opening, %ld KiB "
	    "after (bound: +32768 KiB)\n", before, after);
	ok(after - before < 32768, "grown segment: peak RSS grew by %ld KiB, "
	    "under 32 MiB", after - before);
	queue_stats(q, &st);
	is_int(st.pending_records, 3, "grown segment: three records kept");
	is_int(st.corrupt_bytes_discarded, 4LL << 30, "grown segment: the "
	    "4 GiB counted as discarded");
	stat(seg, &sb);
	is_int(sb.st_size, size, "grown segment: cut back to its records");
	is_int(put(q, 4, 1000), 0, "grown segment: appends");
	drain(q, got, sizeof got);
	is_str(got, "1 2 3 4", "grown segment: delivered in order");
	queue_close(q);
}

/*
 * The last segment cannot be opened (a directory, a symlink, a FIFO): it is
 * skipped, the records before it are kept and appends go to a new segment;
 * a symlink's target outside the state dir is never written, a FIFO never
 * blocks the open.
 */
static void
test_unopenable_last(void)
{
	static const char	*kinds[] = { "directory", "symlink", "fifo" };
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_BATCH, NULL };
	struct queue_stats	 st;
	struct queue		*q;
	struct stat		 sb;
	const char		*d;
	char			 err[256] = "", seg[900], out[600], got[128];
	size_t			 k;
	int			 rc = -1;
	FILE			*f;

	snprintf(out, sizeof out, "%s/outside", root);
	for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
		d = qdir("unopenable");
		fill(d, &o, 3, 100);
		f = fopen(out, "w");
		fputs("outside\n", f);
		fclose(f);
		snprintf(seg, sizeof seg, "%s/%020d.seg", d, 2);
		if (k == 0)
			rc = mkdir(seg, 0755);
		else if (k == 1)
			rc = symlink(out, seg);
		else
			rc = mkfifo(seg, 0644);
		if (rc != 0)
			abort();
		q = queue_open(d, &o, err, sizeof err);
		ok(q != NULL, "last segment a %s: opens (%s)", kinds[k],
		    q == NULL ? err : "ok");
		if (q == NULL)
			continue;
		queue_stats(q, &st);
		is_int(st.pending_records, 3, "last segment a %s: records "
		    "before it kept", kinds[k]);
		is_int(st.segments_skipped, 1, "last segment a %s: counted "
		    "as skipped", kinds[k]);
		is_int(put(q, 4, 100), 0, "last segment a %s: appends",
		    kinds[k]);
		snprintf(seg, sizeof seg, "%s/%020d.seg", d, 3);
		ok(stat(seg, &sb) == 0 && S_ISREG(sb.st_mode), "last segment "
		    "a %s: a new segment 3 started", kinds[k]);
		drain(q, got, sizeof got);
		is_str(got, "1 2 3 4", "last segment a %s: delivered in order",
		    kinds[k]);
		queue_close(q);
		stat(out, &sb);
		is_int(sb.st_size, 8, "last segment a %s: the file outside "
		    "is untouched", kinds[k]);
	}
}

/*
 * A symlinked cursor (pointing outside the state dir) is replaced by a
 * file, never written through; the queue works on.
 */
static void
test_symlinks(void)
{
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_NEVER, NULL };
	struct queue_rec	 r;
	struct queue		*q;
	struct stat		 sb;
	const char		*d = qdir("symlink");
	char			 err[256], cur[600], out[600], buf[64];
	FILE			*f;

	fill(d, &o, 3, 100);
	snprintf(out, sizeof out, "%s/precious", root);
	f = fopen(out, "w");
	fputs("precious\n", f);
	fclose(f);
	snprintf(cur, sizeof cur, "%s/cursor", d);
	unlink(cur);
	if (symlink(out, cur) != 0)
		abort();
	q = queue_open(d, &o, err, sizeof err);
	ok(q != NULL, "symlinked cursor: opens");
	is_int(head(q, &r), 1, "symlinked cursor: resend from the oldest");
	queue_ack(q, r.id);
	queue_close(q);
	f = fopen(out, "r");
	memset(buf, 0, sizeof buf);
	if (fread(buf, 1, sizeof buf - 1, f) == 0)
		abort();
	fclose(f);
	is_str(buf, "precious\n", "symlinked cursor: the target outside the "
	    "state dir is untouched");
	ok(lstat(cur, &sb) == 0 && S_ISREG(sb.st_mode), "symlinked cursor: "
	    "replaced by a regular file");
	q = queue_open(d, &o, err, sizeof err);
	is_int(head(q, &r), 2, "symlinked cursor: the new cursor is used");
	queue_close(q);
}

/*
 * A cursor whose CRC is valid but names a segment past the last one once
 * deleted the whole backlog silently: it is logged, counted, and every
 * record is kept (resent from the oldest).
 */
static void
test_future_cursor(void)
{
	struct queue_opts	 o = { 0, 1000, QUEUE_FSYNC_NEVER, NULL };
	struct queue_stats	 st;
	struct queue		*q;
	const char		*d = qdir("future");
	char			 err[256], path[600], line[64], got[128];
	FILE			*f;

	fill(d, &o, 6, 300);		/* four, then two in a segment */
	snprintf(path, sizeof path, "%s/cursor", d);
	f = fopen(path, "w");
	snprintf(line, sizeof line, "%020d %020d ", 99, 0);
	fprintf(f, "%s%08x\n", line, crc32c(0, line, 42));
	fclose(f);
	q = queue_open(d, &o, err, sizeof err);
	ok(q != NULL, "future cursor: opens");
	queue_stats(q, &st);
	is_int(st.pending_records, 6, "future cursor: the backlog is kept");
	is_int(st.cursor_resets, 1, "future cursor: counted");
	is_int(nsegs(d), 2, "future cursor: no segment deleted");
	drain(q, got, sizeof got);
	is_str(got, "1 2 3 4 5 6", "future cursor: delivered in order");
	queue_close(q);
}

static int64_t	fake_ms;

/* The test's clock for the log rate limit. */
static int64_t
fake_clock(void)
{
	return (fake_ms);
}

/* Count the lines of a file that contain s. */
static int
count_lines(const char *path, const char *s)
{
	char	line[1024];
	int	n = 0;
	FILE	*f;

	f = fopen(path, "r");
	if (f == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, s) != NULL)
			n++;
	fclose(f);
	return (n);
}

/*
 * An unwritable cursor (here a directory in its place) once logged a line
 * per acknowledged request. Now: one line when it starts failing, a count
 * per minute while it goes on, one line when it works again; every failure
 * is counted in the stats. 150 acks, one a second by the test's clock.
 */
static void
test_cursor_unwritable(void)
{
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_NEVER, fake_clock };
	struct queue_stats	 st;
	struct queue_rec	 r;
	struct queue		*q;
	const char		*d = qdir("cursor-dir");
	char			 err[256], path[600], logf[600];
	int			 i, saved, fd;

	q = queue_open(d, &o, err, sizeof err);
	queue_close(q);
	snprintf(path, sizeof path, "%s/cursor", d);
	unlink(path);
	if (mkdir(path, 0755) != 0)
		abort();
	snprintf(logf, sizeof logf, "%s/log", root);
	fflush(stderr);
	saved = dup(2);
	fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	close(fd);
	log_set_level(LOG_LEVEL_INFO);
	q = queue_open(d, &o, err, sizeof err);
	for (i = 1; i <= 150; i++)
		put(q, i, 50);
	for (i = 1; i <= 150; i++) {
		fake_ms += 1000;
		head(q, &r);
		queue_ack(q, r.id);
	}
	queue_stats(q, &st);
	rmdir(path);
	is_int(put(q, 151, 50), 0, "unwritable cursor: appends");
	head(q, &r);
	queue_ack(q, r.id);
	queue_close(q);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	log_set_level(LOG_LEVEL_ERROR);
	is_int(st.cursor_write_errors, 150, "unwritable cursor: every failed "
	    "save counted (150 acks)");
	is_int(count_lines(logf, "queue cursor not saved"), 1,
	    "unwritable cursor: one line when it starts failing");
	is_int(count_lines(logf, "queue cursor still not saved"), 2,
	    "unwritable cursor: then one count a minute (150 s)");
	is_int(count_lines(logf, "failures=60 "), 2, "unwritable cursor: "
	    "each count says 60 failures");
	is_int(count_lines(logf, "queue cursor saved again"), 1,
	    "unwritable cursor: one line when it works again");
}

int
main(void)
{
	char	tmpl[] = "/tmp/test_queue.XXXXXX", cmd[300];

	log_set_level(LOG_LEVEL_ERROR);
	if (mkdtemp(tmpl) == NULL)
		abort();
	snprintf(root, sizeof root, "%s", tmpl);
	test_grown();
	test_crc();
	test_basic();
	test_hot();
	test_segments();
	test_budget(qdir("budget"));
	test_budget(NULL);
	test_budget_lent(qdir("budget-lent"));
	test_budget_lent(NULL);
	test_torn();
	test_corrupt();
	test_bad_cursor();
	test_errors();
	test_unopenable_last();
	test_symlinks();
	test_future_cursor();
	test_cursor_unwritable();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return (1);
	return (tap_done());
}
