/*
 * series: the per-target scrape cache. A series seen on the previous scrape
 * is found by its raw exposition bytes (name and braces exactly as on the
 * wire), so its labels are not re-parsed, re-sorted or re-encoded: the entry
 * keeps the remote-write encoding of its final label set, and a scrape only
 * appends a value and a timestamp. Each scrape bumps a generation; series not
 * seen in it are swept and get a Prometheus stale marker. A series_cache owns
 * its entries; pointers returned stay valid until the next sweep or clear.
 */
#ifndef RWBRIDGE_SERIES_H
#define RWBRIDGE_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct series {
	uint64_t	 hash;		/* of the key */
	uint32_t	 gen;		/* last generation it was seen in */
	uint32_t	 keylen;
	uint32_t	 lablen;	/* encoded labels follow the key */
	uint8_t		 data[];
};

struct series_cache {
	struct series	**slots;	/* open addressing, power of two */
	size_t		  nslots;
	size_t		  n;
	uint32_t	  gen;
};

typedef void (*series_stale_fn)(void *, const struct series *);

uint64_t	 series_hash(const void *, size_t);
void		 series_cache_init(struct series_cache *);
/* Remove every entry, calling fn (may be NULL) for each first. */
void		 series_cache_clear(struct series_cache *, series_stale_fn,
		     void *);
/* Start a new scrape generation. */
void		 series_cache_begin(struct series_cache *);
/* Find the entry for a key; NULL if it was not seen before. */
struct series	*series_lookup(struct series_cache *, const void *, size_t,
		     uint64_t);
/* Add an entry for key with its encoded labels; it must not exist. */
struct series	*series_insert(struct series_cache *, const void *, size_t,
		     uint64_t, const void *, size_t);
/* Remove entries not seen this generation, calling fn for each first. */
size_t		 series_sweep(struct series_cache *, series_stale_fn, void *);
/* Bytes used by the cache, for the memory figures. */
size_t		 series_cache_bytes(const struct series_cache *);

/* The encoded labels of an entry. */
static inline const uint8_t *
series_labels(const struct series *s)
{
	return (s->data + s->keylen);
}

#endif
