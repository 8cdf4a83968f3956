/*
 * series: the per-target scrape cache. A series seen on the previous scrape
 * is found by its raw exposition bytes (name and braces exactly as on the
 * wire), so its labels are not re-parsed, re-sorted or re-encoded: the entry
 * keeps the remote-write encoding of its final label set, and a scrape only
 * appends a value and a timestamp. Each scrape bumps a generation; series not
 * seen in it are swept and get a Prometheus stale marker.
 *
 * A series_cache owns its entries, packed one after another in one arena
 * in the order they were added (which a sweep keeps), so the entry after a
 * series is the one that followed it on the page that added them. A pointer
 * to an entry is valid until the next insert, sweep or clear; a series_ref
 * (its place in the arena) until the next sweep or clear.
 */
#ifndef RWBRIDGE_SERIES_H
#define RWBRIDGE_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest key and the longest encoded label set an entry can hold. */
#define SERIES_MAX_LEN		UINT16_MAX

/*
 * Generations from SERIES_GEN_DEAD up are never started: that one marks
 * swept entries, the ones above it are the caller's to use as flags.
 */
#define SERIES_GEN_DEAD		(UINT32_MAX - 1)

struct series {
	uint32_t	 hash;		/* the key's hash, low 32 bits */
	uint32_t	 gen;		/* last generation it was seen in */
	uint16_t	 keylen;
	uint16_t	 lablen;	/* encoded labels follow the key */
	uint8_t		 data[];
};

typedef uint32_t series_ref;

struct series_cache {
	uint8_t		*arena;		/* entries, 4-byte aligned */
	size_t		 used;
	size_t		 cap;
	size_t		 dead;		/* bytes of swept entries in used */
	series_ref	*slots;		/* open addressing; 0 is empty */
	size_t		 nslots;
	size_t		 n;
	uint32_t	 gen;
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
/*
 * Add an entry for key with its encoded labels; it must not exist. NULL if
 * the key or the labels are longer than SERIES_MAX_LEN.
 */
struct series	*series_insert(struct series_cache *, const void *, size_t,
		     uint64_t, const void *, size_t);
/*
 * Remove entries not seen this generation, calling fn for each first. When
 * removed entries take a quarter of the arena, the rest are packed together
 * and the room given back.
 */
size_t		 series_sweep(struct series_cache *, series_stale_fn, void *);
/* Bytes used by the cache, for the memory figures. */
size_t		 series_cache_bytes(const struct series_cache *);

/* The encoded labels of an entry. */
static inline const uint8_t *
series_labels(const struct series *s)
{
	return (s->data + s->keylen);
}

/* The ref of an entry of c. */
static inline series_ref
series_ref_of(const struct series_cache *c, const struct series *s)
{
	return ((series_ref)(((const uint8_t *)s - c->arena) / 4 + 1));
}

/* The entry of a ref. */
static inline struct series *
series_at(const struct series_cache *c, series_ref r)
{
	return ((struct series *)(void *)(c->arena + (size_t)(r - 1) * 4));
}

/* The arena bytes an entry takes. */
static inline size_t
series_size(const struct series *s)
{
	return ((sizeof *s + s->keylen + s->lablen + 3) & ~(size_t)3);
}

/* The entry at byte offset off of the arena. */
static inline struct series *
series_at_offset(const struct series_cache *c, size_t off)
{
	return ((struct series *)(void *)(c->arena + off));
}

/*
 * The first live entry at or after byte offset off of the arena (NULL if
 * none): series_after(c, 0) is the first entry; series_after(c, used), with
 * used taken earlier, the first added since.
 */
static inline struct series *
series_after(const struct series_cache *c, size_t off)
{
	struct series	*s;

	for (; off < c->used; off += series_size(s)) {
		s = series_at_offset(c, off);
		if (s->gen != SERIES_GEN_DEAD)
			return (s);
	}
	return (NULL);
}

/* The live entry after s, NULL if s is the last. */
static inline struct series *
series_next(const struct series_cache *c, const struct series *s)
{
	return (series_after(c, (size_t)((const uint8_t *)s - c->arena) +
	    series_size(s)));
}

#endif
