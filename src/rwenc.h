/*
 * rwenc: the Prometheus remote-write 1.0 wire format, appended directly into
 * reusable buffers. A series' labels are encoded once (rwenc_labels) and kept
 * by the scrape cache; each scrape then appends only a small TimeSeries
 * around those bytes and one sample. The schema is proto/remote.proto; tests
 * check that these bytes equal what protobuf-c packs for the same message.
 * All functions borrow their inputs and append to the caller's buffer.
 */
#ifndef RWBRIDGE_RWENC_H
#define RWBRIDGE_RWENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "labels.h"
#include "promtext.h"

/* The NaN Prometheus uses as a staleness marker. */
#define RW_STALE_NAN_BITS	0x7ff0000000000002ULL

double	 rw_stale_nan(void);
bool	 rw_is_stale_nan(double);

/* Encode labels as the repeated Label field (1) of a TimeSeries. */
void	 rwenc_labels(struct buf *, const struct label *, size_t);
/*
 * Append to a WriteRequest one TimeSeries (field 1) made of pre-encoded
 * label bytes and one sample.
 */
void	 rwenc_series(struct buf *, const uint8_t *, size_t, double, int64_t);
/* Encoded labels spliced into a series' own at byte offset at. */
struct rwenc_splice {
	const uint8_t	*p;
	size_t		 len;
	size_t		 at;
};
/* Like rwenc_series, with pieces (in order of at) inserted in the labels. */
void	 rwenc_series_splice(struct buf *, const uint8_t *, size_t,
	     const struct rwenc_splice *, size_t, double, int64_t);
/* Append to a WriteRequest one MetricMetadata (field 3). */
void	 rwenc_metadata(struct buf *, enum pt_type, const char *, size_t,
	     const char *, size_t, const char *, size_t);
/* The largest message rwenc_unsnappy expands, against hostile input. */
#define RW_UNSNAPPY_MAX		(64UL << 20)

/* Snappy-compress (block format) in into out; out is reset first. */
bool	 rwenc_snappy(const uint8_t *, size_t, struct buf *);
/*
 * Decompress a snappy block into out (reset first); false if it is not valid
 * or would expand beyond RW_UNSNAPPY_MAX.
 */
bool	 rwenc_unsnappy(const uint8_t *, size_t, struct buf *);
/* Bytes a varint of v takes. */
size_t	 rwenc_varint_len(uint64_t);
void	 rwenc_varint(struct buf *, uint64_t);

#endif
