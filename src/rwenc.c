/*
 * rwenc: remote-write 1.0 messages written straight into byte buffers,
 * without building protobuf-c structs. Every function reserves the largest
 * size it can need and then stores bytes through a pointer, so the hot path
 * (rwenc_series, once per sample) is a handful of stores and one memcpy.
 *
 * The bytes are exactly those protobuf-c 1.4.1 packs for the same proto3
 * message, fields in number order: empty strings, a zero enum, a 0 timestamp
 * and a 0.0 value are left out. -0.0 compares equal to 0.0 and is left out
 * too, so a receiver reads it back as +0.0; protobuf-c does the same. Any NaN,
 * the staleness marker among them, is not equal to 0.0 and is written with
 * its bits untouched. tests/test_rwenc.c checks all of this byte for byte.
 *
 * Snappy is the block format remote write uses (not the framed one).
 * Decompression treats its input as hostile: it is validated before any
 * memory is reserved, and the declared size is capped.
 */
#include <snappy-c.h>
#include <string.h>

#include "rwenc.h"

/* Wire types and field tags: (field << 3) | wire type. */
#define RW_TAG_LEN(f)	((uint8_t)((f) << 3 | 2))
#define RW_TAG_VARINT(f) ((uint8_t)((f) << 3 | 0))
#define RW_TAG_FIXED64(f) ((uint8_t)((f) << 3 | 1))

/* The most bytes a varint takes. */
#define RW_VARINT_MAX	10

/* Return the NaN Prometheus writes to mark a series stale. */
double
rw_stale_nan(void)
{
	uint64_t	bits = RW_STALE_NAN_BITS;
	double		v;

	memcpy(&v, &bits, sizeof v);
	return (v);
}

/* Tell whether v is the staleness marker, comparing bits. */
bool
rw_is_stale_nan(double v)
{
	uint64_t	bits;

	memcpy(&bits, &v, sizeof bits);
	return (bits == RW_STALE_NAN_BITS);
}

/* Bytes a varint of v takes. */
size_t
rwenc_varint_len(uint64_t v)
{
	size_t	n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return (n);
}

/* Store a varint at p, which has room; return the byte after it. */
static uint8_t *
rwenc_put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return (p);
}

/* Store v's bits at p as a little-endian fixed64; NaN payloads survive. */
static uint8_t *
rwenc_put_double(uint8_t *p, double v)
{
	uint64_t	bits;
	int		i;

	memcpy(&bits, &v, sizeof bits);
	for (i = 0; i < 8; i++)
		*p++ = (uint8_t)(bits >> (8 * i));
	return (p);
}

/* Store a length-delimited field at p, which has room. */
static uint8_t *
rwenc_put_bytes(uint8_t *p, uint8_t tag, const void *s, size_t len)
{
	*p++ = tag;
	p = rwenc_put_varint(p, len);
	if (len != 0)
		memcpy(p, s, len);
	return (p + len);
}

/* Bytes a string field takes; proto3 leaves an empty one out. */
static size_t
rwenc_str_len(size_t len)
{
	if (len == 0)
		return (0);
	return (1 + rwenc_varint_len(len) + len);
}

/* Append a varint. */
void
rwenc_varint(struct buf *b, uint64_t v)
{
	buf_reserve(b, RW_VARINT_MAX);
	b->len = (size_t)(rwenc_put_varint(b->data + b->len, v) - b->data);
}

/* Encode labels as the repeated Label field (1) of a TimeSeries. */
void
rwenc_labels(struct buf *b, const struct label *l, size_t n)
{
	uint8_t	*p;
	size_t	 i, body;

	for (i = 0; i < n; i++) {
		body = rwenc_str_len(l[i].name_len) +
		    rwenc_str_len(l[i].value_len);
		buf_reserve(b, 1 + RW_VARINT_MAX + body);
		p = b->data + b->len;
		*p++ = RW_TAG_LEN(1);
		p = rwenc_put_varint(p, body);
		if (l[i].name_len != 0)
			p = rwenc_put_bytes(p, RW_TAG_LEN(1), l[i].name,
			    l[i].name_len);
		if (l[i].value_len != 0)
			p = rwenc_put_bytes(p, RW_TAG_LEN(2), l[i].value,
			    l[i].value_len);
		b->len = (size_t)(p - b->data);
	}
}

/*
 * Append to a WriteRequest one TimeSeries (field 1) made of pre-encoded
 * label bytes and one sample.
 */
void
rwenc_series(struct buf *b, const uint8_t *lab, size_t lablen, double v,
    int64_t ts)
{
	rwenc_series_splice(b, lab, lablen, NULL, 0, v, ts);
}

/*
 * The same, with other pre-encoded labels (a target's, stored once rather
 * than in every series) inserted into lab at their offsets, so the labels
 * stay sorted.
 */
void
rwenc_series_splice(struct buf *b, const uint8_t *lab, size_t lablen,
    const struct rwenc_splice *sp, size_t nsp, double v, int64_t ts)
{
	uint8_t	*p;
	size_t	 sample, series, all = lablen, i, from = 0;

	for (i = 0; i < nsp; i++)
		all += sp[i].len;
	sample = 0;
	if (v != 0.0)
		sample += 1 + sizeof v;
	if (ts != 0)
		sample += 1 + rwenc_varint_len((uint64_t)ts);
	series = all + 1 + rwenc_varint_len(sample) + sample;

	buf_reserve(b, 1 + RW_VARINT_MAX + series);
	p = b->data + b->len;
	*p++ = RW_TAG_LEN(1);
	p = rwenc_put_varint(p, series);
	for (i = 0; i < nsp; i++) {
		memcpy(p, lab + from, sp[i].at - from);
		p += sp[i].at - from;
		memcpy(p, sp[i].p, sp[i].len);
		p += sp[i].len;
		from = sp[i].at;
	}
	if (lablen > from) {
		memcpy(p, lab + from, lablen - from);
		p += lablen - from;
	}
	*p++ = RW_TAG_LEN(2);
	p = rwenc_put_varint(p, sample);
	if (v != 0.0) {
		*p++ = RW_TAG_FIXED64(1);
		p = rwenc_put_double(p, v);
	}
	if (ts != 0) {
		*p++ = RW_TAG_VARINT(2);
		p = rwenc_put_varint(p, (uint64_t)ts);
	}
	b->len = (size_t)(p - b->data);
}

/* Append to a WriteRequest one MetricMetadata (field 3). */
void
rwenc_metadata(struct buf *b, enum pt_type type, const char *name,
    size_t name_len, const char *help, size_t help_len, const char *unit,
    size_t unit_len)
{
	uint8_t		*p;
	uint64_t	 t;
	size_t		 body;

	/* An enum is an int32 on the wire: negative ones take 10 bytes. */
	t = (uint64_t)(int64_t)(int32_t)type;
	body = rwenc_str_len(name_len) + rwenc_str_len(help_len) +
	    rwenc_str_len(unit_len);
	if (t != 0)
		body += 1 + rwenc_varint_len(t);

	buf_reserve(b, 1 + RW_VARINT_MAX + body);
	p = b->data + b->len;
	*p++ = RW_TAG_LEN(3);
	p = rwenc_put_varint(p, body);
	if (t != 0) {
		*p++ = RW_TAG_VARINT(1);
		p = rwenc_put_varint(p, t);
	}
	if (name_len != 0)
		p = rwenc_put_bytes(p, RW_TAG_LEN(2), name, name_len);
	if (help_len != 0)
		p = rwenc_put_bytes(p, RW_TAG_LEN(4), help, help_len);
	if (unit_len != 0)
		p = rwenc_put_bytes(p, RW_TAG_LEN(5), unit, unit_len);
	b->len = (size_t)(p - b->data);
}

/* Snappy-compress (block format) in into out; out is reset first. */
bool
rwenc_snappy(const uint8_t *in, size_t len, struct buf *out)
{
	size_t	max, n;

	buf_reset(out);
	max = snappy_max_compressed_length(len);
	buf_reserve(out, max);
	n = max;
	if (snappy_compress((const char *)in, len, (char *)out->data,
	    &n) != SNAPPY_OK)
		return (false);
	out->len = n;
	return (true);
}

/*
 * Decompress a snappy block into out; false if it is not valid or would be
 * larger than RW_UNSNAPPY_MAX. out is reset first.
 */
bool
rwenc_unsnappy(const uint8_t *in, size_t len, struct buf *out)
{
	size_t	want, n;

	buf_reset(out);
	if (in == NULL || len == 0)
		return (false);
	if (snappy_uncompressed_length((const char *)in, len,
	    &want) != SNAPPY_OK)
		return (false);
	if (want > RW_UNSNAPPY_MAX)
		return (false);
	/* Walk the whole block before trusting its length with memory. */
	if (snappy_validate_compressed_buffer((const char *)in,
	    len) != SNAPPY_OK)
		return (false);
	buf_reserve(out, want + 1);
	n = want;
	if (snappy_uncompress((const char *)in, len, (char *)out->data,
	    &n) != SNAPPY_OK || n != want)
		return (false);
	out->len = n;
	return (true);
}
