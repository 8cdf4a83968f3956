/*
 * series: the per-target scrape cache. A series seen on the previous scrape
 * is found by its raw exposition bytes (name and braces exactly as on the
 * wire), so its labels are not re-parsed, re-sorted or re-encoded: the entry
 * names the remote-write encoding of its final label set, and a scrape only
 * appends a value and a timestamp. Each scrape bumps a generation; series not
 * seen in it are swept and get a Prometheus stale marker.
 *
 * The key and encoded labels of an entry live in a series_pool, interned:
 * the pages of a fleet's servers carry the same series with the same own
 * labels (the target's labels are spliced in when a sample is encoded), so
 * the bytes are stored once however many caches hold the series. A pool
 * blob is keyed by both its key and its labels, so two caches whose rules
 * give one key different labels get two blobs. The pool is a pure object:
 * whoever owns the caches creates it, passes it to series_cache_init, clears
 * every cache that uses it and then frees it; pointers into it (series_key,
 * series_labels) are valid until the next insert, sweep or clear of any
 * cache sharing it.
 *
 * A series_cache owns its entries, small fixed-size records packed in one
 * array in the order they were added (which a sweep keeps), so the entry
 * after a series is the one that followed it on the page that added them. A
 * pointer to an entry is valid until the next insert, sweep or clear; a
 * series_ref (its place in the array) until the next sweep or clear.
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

/* A cache entry: 12 bytes, whatever the series. */
struct series {
	uint32_t	 hash;		/* the key's hash, low 32 bits */
	uint32_t	 gen;		/* last generation it was seen in */
	uint32_t	 blob;		/* its key and labels: a pool id */
};

/* Interned bytes: a key and the encoded labels that follow it. */
struct series_blob {
	uint32_t	 refs;		/* entries naming it */
	uint32_t	 hash;		/* of key and labels, for the pool */
	uint32_t	 id;		/* 0: released, a hole in the arena */
	uint16_t	 keylen;
	uint16_t	 lablen;
	uint8_t		 data[];
};

struct series_pool {
	uint8_t		*arena;		/* blobs, 4-byte aligned */
	size_t		 used;
	size_t		 cap;
	size_t		 dead;		/* bytes of released blobs in used */
	uint32_t	*off;		/* per id: offset in 4-byte units */
	size_t		 nids;		/* ids handed out, 1 .. nids - 1 */
	size_t		 capids;
	uint32_t	 freeid;	/* released ids, chained in off */
	uint32_t	*slots;		/* open addressing of ids; 0 empty */
	size_t		 nslots;
	size_t		 n;		/* live blobs */
};

typedef uint32_t series_ref;

struct series_cache {
	struct series_pool *pool;	/* borrowed */
	struct series	*v;		/* entries, in the order added */
	size_t		 used;		/* entries in v, swept ones too */
	size_t		 cap;
	size_t		 dead;		/* swept entries in used */
	series_ref	*slots;		/* open addressing; 0 is empty */
	size_t		 nslots;
	size_t		 n;
	uint32_t	 gen;
};

typedef void (*series_stale_fn)(void *, const struct series *);

uint64_t	 series_hash(const void *, size_t);
/* An empty pool. */
struct series_pool *series_pool_new(void);
/* Free a pool; every cache using it must be cleared first. */
void		 series_pool_free(struct series_pool *);
/* Blobs held (distinct key and label sets in use). */
size_t		 series_pool_count(const struct series_pool *);
/* Bytes held by the pool (malloc overhead excluded). */
size_t		 series_pool_bytes(const struct series_pool *);

/* Start empty, keeping keys and labels in pool. */
void		 series_cache_init(struct series_cache *, struct series_pool *);
/*
 * Remove every entry, calling fn (may be NULL) for each first. The cache
 * stays usable, with the same pool.
 */
void		 series_cache_clear(struct series_cache *, series_stale_fn,
		     void *);
/* Start a new scrape generation. */
void		 series_cache_begin(struct series_cache *);
/* Find the entry for a key; NULL if it was not seen before. */
struct series	*series_lookup(struct series_cache *, const void *, size_t,
		     uint64_t);
/*
 * Add an entry for key with its encoded labels; it must not exist, and
 * neither may point into the pool. NULL if the key or the labels are longer
 * than SERIES_MAX_LEN.
 */
struct series	*series_insert(struct series_cache *, const void *, size_t,
		     uint64_t, const void *, size_t);
/*
 * Remove entries not seen this generation, calling fn for each first. When
 * removed entries take a quarter of the array (or released blobs a quarter
 * of the pool), the rest are packed together and the room given back; an
 * array with more than a quarter spare is cut to an eighth spare.
 */
size_t		 series_sweep(struct series_cache *, series_stale_fn, void *);
/* Bytes used by the cache, pool excluded, for the memory figures. */
size_t		 series_cache_bytes(const struct series_cache *);

/* The blob of an entry. */
static inline const struct series_blob *
series_blob_of(const struct series_pool *p, const struct series *s)
{
	return ((const struct series_blob *)(const void *)(p->arena +
	    (size_t)p->off[s->blob] * 4));
}

/* The raw key of an entry. */
static inline const uint8_t *
series_key(const struct series_pool *p, const struct series *s)
{
	return (series_blob_of(p, s)->data);
}

/* The length of the raw key of an entry. */
static inline size_t
series_keylen(const struct series_pool *p, const struct series *s)
{
	return (series_blob_of(p, s)->keylen);
}

/* The encoded labels of an entry. */
static inline const uint8_t *
series_labels(const struct series_pool *p, const struct series *s)
{
	const struct series_blob	*b = series_blob_of(p, s);

	return (b->data + b->keylen);
}

/* The length of the encoded labels of an entry (0: none, dropped). */
static inline size_t
series_lablen(const struct series_pool *p, const struct series *s)
{
	return (series_blob_of(p, s)->lablen);
}

/* The ref of an entry of c. */
static inline series_ref
series_ref_of(const struct series_cache *c, const struct series *s)
{
	return ((series_ref)(s - c->v + 1));
}

/* The entry of a ref. */
static inline struct series *
series_at(const struct series_cache *c, series_ref r)
{
	return (&c->v[r - 1]);
}

/*
 * The first live entry at or after place i of the array (NULL if none):
 * series_after(c, 0) is the first entry; series_after(c, used), with used
 * taken earlier, the first added since.
 */
static inline struct series *
series_after(const struct series_cache *c, size_t i)
{
	for (; i < c->used; i++) {
		if (c->v[i].gen != SERIES_GEN_DEAD)
			return (&c->v[i]);
	}
	return (NULL);
}

/* The live entry after s, NULL if s is the last. */
static inline struct series *
series_next(const struct series_cache *c, const struct series *s)
{
	return (series_after(c, (size_t)(s - c->v) + 1));
}

#endif
