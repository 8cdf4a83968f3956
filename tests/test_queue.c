/*
 * Unit tests for the durable send queue and CRC32C: order, acks, reopening,
 * segment rotation and removal, the byte budget, torn and corrupt tails, a
 * bad cursor, and the same budget in memory.
 */
#include <sys/stat.h>

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

/* Order, ack by id, stats, and reopening a directory. */
static void
test_basic(void)
{
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_BATCH };
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
	struct queue_opts	 o = { 0, 1000, QUEUE_FSYNC_NEVER };
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
	struct queue_opts	 o = { 4000, 0, QUEUE_FSYNC_NEVER };
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

/* A torn tail is truncated and the records before it survive. */
static void
test_torn(void)
{
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_BATCH };
	struct queue_stats	 st;
	struct queue_rec	 r;
	struct queue		*q;
	struct stat		 sb;
	const char		*d = qdir("torn");
	char			 err[256], seg[900];
	int			 i;

	q = queue_open(d, &o, err, sizeof err);
	for (i = 1; i <= 3; i++)
		put(q, i, 100);
	queue_close(q);
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

/* A flipped byte ends the segment there; later segments still count. */
static void
test_corrupt(void)
{
	struct queue_opts	 o = { 0, 984, QUEUE_FSYNC_NEVER };
	struct queue_stats	 st;
	struct queue_rec	 r;
	struct queue		*q;
	const char		*d = qdir("corrupt");
	char			 err[256], seg[900];
	int			 i, fd, n = 0;
	uint8_t			 c;

	q = queue_open(d, &o, err, sizeof err);
	for (i = 1; i <= 9; i++)
		put(q, i, 300);		/* three per segment */
	queue_close(q);
	snprintf(seg, sizeof seg, "%s/%020d.seg", d, 1);
	fd = open(seg, O_RDWR);
	if (pread(fd, &c, 1, 328 + 50) != 1)
		abort();
	c ^= 0x40;
	if (pwrite(fd, &c, 1, 328 + 50) != 1)
		abort();
	close(fd);
	q = queue_open(d, &o, err, sizeof err);
	ok(q != NULL, "corrupt record: opens");
	queue_stats(q, &st);
	is_int(st.pending_records, 7, "corrupt record: the rest of its "
	    "segment is discarded, other segments kept");
	is_int(st.corrupt_bytes_discarded, 2 * 328, "corrupt record: bytes "
	    "counted");
	while ((i = head(q, &r)) > 0) {
		n++;
		queue_ack(q, r.id);
		if (n == 1)
			is_int(i, 1, "corrupt record: first record intact");
		if (n == 2)
			is_int(i, 4, "corrupt record: then the next segment");
	}
	is_int(n, 7, "corrupt record: seven delivered");
	queue_close(q);
}

/* A garbage cursor resends from the oldest segment. */
static void
test_bad_cursor(void)
{
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_NEVER };
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
	struct queue_opts	 o = { 0, 0, QUEUE_FSYNC_NEVER };
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

int
main(void)
{
	char	tmpl[] = "/tmp/test_queue.XXXXXX", cmd[300];

	log_set_level(LOG_LEVEL_ERROR);
	if (mkdtemp(tmpl) == NULL)
		abort();
	snprintf(root, sizeof root, "%s", tmpl);
	test_crc();
	test_basic();
	test_segments();
	test_budget(qdir("budget"));
	test_budget(NULL);
	test_torn();
	test_corrupt();
	test_bad_cursor();
	test_errors();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	if (system(cmd) != 0)
		return (1);
	return (tap_done());
}
