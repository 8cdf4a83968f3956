/*
 * series: the scrape cache behind rwbridge's speed and size. A cache entry
 * is 12 bytes (hash, generation, blob id) in an array kept in page order; an
 * open addressing table (linear probing, backward-shift deletion so no
 * tombstones accumulate as targets churn) holds 4-byte refs into it. The
 * bytes of a series (raw key, encoded labels) are a blob in a pool shared by
 * every cache of the daemon, packed one after another in an arena and
 * reference-counted: a fleet of servers with the same series stores them
 * once. Blobs are named by ids through a table of offsets, so packing the
 * arena moves them without touching an entry or the pool's own hash table.
 * Swept entries and released blobs leave holes that a later sweep packs
 * away. Big arrays are mapped pages (xbig_resize): they double without
 * copying and only the written part is resident.
 */
#include <stdlib.h>
#include <string.h>

#include "series.h"
#include "xmalloc.h"

#define SERIES_MIN_SLOTS	16
#define SERIES_MIN_ENTRIES	16
#define SERIES_MIN_ARENA	512
/* Refs count entries from 1. */
#define SERIES_MAX_ENTRIES	((size_t)UINT32_MAX - 1)
/* Offsets count 4-byte units, so a pool's arena holds at most 16 GiB. */
#define SERIES_MAX_ARENA	((size_t)(UINT32_MAX - 1) * 4)
/* Ids count from 1. */
#define SERIES_MAX_IDS		((size_t)UINT32_MAX - 1)

/* Read 8 bytes little-endian from p. */
static inline uint64_t
read64(const uint8_t *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof v);
	return (v);
}

/* Mix two words into one (a 128-bit multiply folded to 64 bits). */
static inline uint64_t
mix(uint64_t a, uint64_t b)
{
	__uint128_t	r = (__uint128_t)a * b;

	return ((uint64_t)r ^ (uint64_t)(r >> 64));
}

/* Hash a key: fast on the 50-200 byte keys exposition lines have. */
uint64_t
series_hash(const void *key, size_t len)
{
	const uint8_t	*p = key;
	uint64_t	 h = 0x2d358dccaa6c78a5ULL ^ len;
	uint64_t	 tail = 0;
	size_t		 i;

	while (len >= 16) {
		h = mix(read64(p) ^ 0x8bb84b93962eacc9ULL,
		    read64(p + 8) ^ h);
		p += 16;
		len -= 16;
	}
	if (len >= 8) {
		h = mix(read64(p) ^ 0x4b33a62ed433d4a3ULL, h ^ 0x9e3779b9);
		p += 8;
		len -= 8;
	}
	for (i = 0; i < len; i++)
		tail |= (uint64_t)p[i] << (8 * i);
	return (mix(h ^ tail, 0x4f9f67b2e6b5c69dULL ^ (len + 1)));
}

/* Tell where a value of an open addressing table lives (its hash). */
typedef uint32_t (*slot_hash_fn)(const void *, uint32_t);

/* Place v, whose hash is h, in its first free slot. */
static void
slot_place(uint32_t *slots, size_t nslots, uint32_t h, uint32_t v)
{
	size_t	mask = nslots - 1, i;

	for (i = h & mask; slots[i] != 0; i = (i + 1) & mask)
		;
	slots[i] = v;
}

/* Delete the slot holding v (hash h), shifting back values probed past. */
static void
slot_delete(uint32_t *slots, size_t nslots, uint32_t h, uint32_t v,
    slot_hash_fn hashof, const void *arg)
{
	size_t	mask = nslots - 1, i, j, home;

	for (i = h & mask; slots[i] != v; i = (i + 1) & mask)
		;
	slots[i] = 0;
	for (j = (i + 1) & mask; slots[j] != 0; j = (j + 1) & mask) {
		home = hashof(arg, slots[j]) & mask;
		/* Move j back to i if i lies cyclically in [home, j). */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			slots[i] = slots[j];
			slots[j] = 0;
			i = j;
		}
	}
}

/* Tell whether a table of nslots slots needs to grow to take n values. */
static inline bool
slot_full(size_t n, size_t nslots)
{
	return (n * 10 > nslots * 7);
}

/* The slots to keep for n values after packing: 35 % full, if fewer. */
static size_t
slot_fit(size_t n, size_t nslots)
{
	size_t	fit = SERIES_MIN_SLOTS;

	while (n * 20 > fit * 7)
		fit *= 2;
	return (fit < nslots ? fit : nslots);
}

/*
 * The capacity to grow cap to so that need fits: doubled, at least min, at
 * most max; 0 if need is over max.
 */
static size_t
series_grow(size_t cap, size_t need, size_t min, size_t max)
{
	size_t	n;

	if (need > max)
		return (0);
	n = 2 * cap > need ? 2 * cap : need;
	if (n < min)
		n = min;
	return (n > max ? max : n);
}

/* An empty pool. */
struct series_pool *
series_pool_new(void)
{
	return (xcalloc(1, sizeof (struct series_pool)));
}

/* Free a pool; NULL is a no-op. */
void
series_pool_free(struct series_pool *p)
{
	if (p == NULL)
		return;
	xbig_free(p->arena, p->cap);
	xbig_free(p->off, p->capids * sizeof *p->off);
	free(p->slots);
	free(p);
}

/* Count the live blobs. */
size_t
series_pool_count(const struct series_pool *p)
{
	return (p->n);
}

/* Bytes held by the arena, the offsets and the table. */
size_t
series_pool_bytes(const struct series_pool *p)
{
	return (sizeof *p + p->cap + p->capids * sizeof *p->off +
	    p->nslots * sizeof *p->slots);
}

/* The blob at byte offset off of the arena. */
static inline struct series_blob *
pool_blob_at(const struct series_pool *p, size_t off)
{
	return ((struct series_blob *)(void *)(p->arena + off));
}

/* The blob of a live id. */
static inline struct series_blob *
pool_blob(const struct series_pool *p, uint32_t id)
{
	return (pool_blob_at(p, (size_t)p->off[id] * 4));
}

/* The arena bytes a blob takes. */
static inline size_t
pool_blob_size(size_t keylen, size_t lablen)
{
	return ((sizeof (struct series_blob) + keylen + lablen + 3) &
	    ~(size_t)3);
}

/* The hash of a blob id (a slot_hash_fn). */
static uint32_t
pool_hash_cb(const void *arg, uint32_t id)
{
	return (pool_blob(arg, id)->hash);
}

/* Hash a key and its labels together. */
static uint32_t
pool_hash(const void *key, size_t len, const void *lab, size_t lablen)
{
	uint64_t	h = series_hash(key, len) ^
			    series_hash(lab, lablen) * 0x9e3779b97f4a7c15ULL;

	return ((uint32_t)(h ^ (h >> 32)));
}

/* Rebuild the pool's table with nslots slots from the live blobs. */
static void
pool_rehash(struct series_pool *p, size_t nslots)
{
	struct series_blob	*b;
	size_t			 off, size;

	free(p->slots);
	p->slots = xcalloc(nslots, sizeof *p->slots);
	p->nslots = nslots;
	for (off = 0; off < p->used; off += size) {
		b = pool_blob_at(p, off);
		size = pool_blob_size(b->keylen, b->lablen);
		if (b->id != 0)
			slot_place(p->slots, nslots, b->hash, b->id);
	}
}

/* A free id: a released one, else the next. */
static uint32_t
pool_new_id(struct series_pool *p)
{
	uint32_t	id;
	size_t		cap;

	if (p->freeid != 0) {
		id = p->freeid;
		p->freeid = p->off[id];
		return (id);
	}
	if (p->nids == 0)
		p->nids = 1;		/* id 0 names no blob */
	if (p->nids >= p->capids) {
		cap = series_grow(p->capids, p->nids + 1, 64, SERIES_MAX_IDS);
		if (cap == 0)
			return (0);
		p->off = xbig_resize(p->off, p->capids * sizeof *p->off,
		    cap * sizeof *p->off);
		p->capids = cap;
	}
	return ((uint32_t)p->nids++);
}

/* Find the blob of key and labels. */
static struct series_blob *
pool_find(const struct series_pool *p, uint32_t h, const void *key,
    size_t len, const void *lab, size_t lablen)
{
	struct series_blob	*b;
	size_t			 mask, i;

	if (p->nslots == 0)
		return (NULL);
	mask = p->nslots - 1;
	for (i = h & mask; p->slots[i] != 0; i = (i + 1) & mask) {
		b = pool_blob(p, p->slots[i]);
		if (b->hash == h && b->keylen == len && b->lablen == lablen &&
		    memcmp(b->data, key, len) == 0 &&
		    (lablen == 0 || memcmp(b->data + len, lab, lablen) == 0))
			return (b);
	}
	return (NULL);
}

/* A reference to the blob of key and labels, added if new; 0 if full. */
static uint32_t
pool_intern(struct series_pool *p, const void *key, size_t len,
    const void *lab, size_t lablen)
{
	struct series_blob	*b;
	uint32_t		 h = pool_hash(key, len, lab, lablen), id;
	size_t			 need, cap;

	b = pool_find(p, h, key, len, lab, lablen);
	if (b != NULL) {
		b->refs++;
		return (b->id);
	}
	need = pool_blob_size(len, lablen);
	if (p->used + need > p->cap) {
		cap = series_grow(p->cap, p->used + need, SERIES_MIN_ARENA,
		    SERIES_MAX_ARENA);
		if (cap == 0)
			return (0);
		/* Doubling: the unwritten half of a mapping is not resident. */
		p->arena = xbig_resize(p->arena, p->cap, cap);
		p->cap = cap;
	}
	id = pool_new_id(p);
	if (id == 0)
		return (0);
	p->off[id] = (uint32_t)(p->used / 4);
	b = pool_blob_at(p, p->used);
	p->used += need;
	b->refs = 1;
	b->hash = h;
	b->id = id;
	b->keylen = (uint16_t)len;
	b->lablen = (uint16_t)lablen;
	memcpy(b->data, key, len);
	if (lablen > 0)
		memcpy(b->data + len, lab, lablen);
	if (slot_full(p->n + 1, p->nslots))
		pool_rehash(p, p->nslots == 0 ? SERIES_MIN_SLOTS :
		    p->nslots * 2);
	else
		slot_place(p->slots, p->nslots, h, id);
	p->n++;
	return (id);
}

/* Drop a reference to a blob; the last one releases it. */
static void
pool_release(struct series_pool *p, uint32_t id)
{
	struct series_blob	*b = pool_blob(p, id);

	if (--b->refs > 0)
		return;
	slot_delete(p->slots, p->nslots, b->hash, id, pool_hash_cb, p);
	p->dead += pool_blob_size(b->keylen, b->lablen);
	b->id = 0;
	p->off[id] = p->freeid;
	p->freeid = id;
	p->n--;
}

/*
 * Pack the live blobs together when released ones take a quarter of the
 * arena, give back the room; ids and the table stay as they are.
 */
static void
pool_trim(struct series_pool *p)
{
	struct series_blob	*b;
	size_t			 off, to = 0, size, cap;
	uint32_t		 id;

	if (p == NULL || p->dead == 0 || p->dead * 4 < p->used)
		return;
	for (off = 0; off < p->used; off += size) {
		b = pool_blob_at(p, off);
		size = pool_blob_size(b->keylen, b->lablen);
		id = b->id;
		if (id == 0)
			continue;
		if (to != off)
			memmove(p->arena + to, b, size);
		p->off[id] = (uint32_t)(to / 4);
		to += size;
	}
	p->used = to;
	p->dead = 0;
	cap = p->used + p->used / 4;
	if (cap < SERIES_MIN_ARENA)
		cap = SERIES_MIN_ARENA;
	if (p->cap > cap) {
		p->arena = xbig_resize(p->arena, p->cap, cap);
		p->cap = cap;
	}
	if (slot_fit(p->n, p->nslots) < p->nslots)
		pool_rehash(p, slot_fit(p->n, p->nslots));
}

/* Start empty. */
void
series_cache_init(struct series_cache *c, struct series_pool *pool)
{
	memset(c, 0, sizeof *c);
	c->pool = pool;
}

/* Remove every entry. */
void
series_cache_clear(struct series_cache *c, series_stale_fn fn, void *arg)
{
	struct series_pool	*pool = c->pool;
	struct series		*s;
	size_t			 i;
	uint32_t		 gen = c->gen;

	/* Blobs are released as we go but not moved before the end. */
	for (i = 0; i < c->used; i++) {
		s = &c->v[i];
		if (s->gen == SERIES_GEN_DEAD)
			continue;
		if (fn != NULL)
			fn(arg, s);
		pool_release(pool, s->blob);
	}
	xbig_free(c->v, c->cap * sizeof *c->v);
	free(c->slots);
	series_cache_init(c, pool);
	/* Keep counting, so generations from before stay stale. */
	c->gen = gen;
	pool_trim(pool);
}

/* Start a new generation; entries seen in it get this number. */
void
series_cache_begin(struct series_cache *c)
{
	c->gen++;
	if (c->gen >= SERIES_GEN_DEAD)
		c->gen = 0;
}

/* Make the entry array cap entries. */
static void
cache_resize(struct series_cache *c, size_t cap)
{
	c->v = xbig_resize(c->v, c->cap * sizeof *c->v, cap * sizeof *c->v);
	c->cap = cap;
}

/* The hash of the entry with ref r (a slot_hash_fn). */
static uint32_t
cache_hash_cb(const void *arg, uint32_t r)
{
	return (series_at(arg, r)->hash);
}

/* Find the entry for key. */
struct series *
series_lookup(struct series_cache *c, const void *key, size_t len,
    uint64_t hash)
{
	const struct series_blob	*b;
	struct series			*s;
	size_t				 mask, i;

	if (c->nslots == 0)
		return (NULL);
	mask = c->nslots - 1;
	for (i = (uint32_t)hash & mask; c->slots[i] != 0; i = (i + 1) & mask) {
		s = series_at(c, c->slots[i]);
		if (s->hash != (uint32_t)hash)
			continue;
		b = series_blob_of(c->pool, s);
		if (b->keylen == len && memcmp(b->data, key, len) == 0)
			return (s);
	}
	return (NULL);
}

/* Rebuild the table with nslots slots from the live entries. */
static void
cache_rehash(struct series_cache *c, size_t nslots)
{
	size_t	i;

	free(c->slots);
	c->slots = xcalloc(nslots, sizeof *c->slots);
	c->nslots = nslots;
	for (i = 0; i < c->used; i++) {
		if (c->v[i].gen != SERIES_GEN_DEAD)
			slot_place(c->slots, nslots, c->v[i].hash,
			    (series_ref)(i + 1));
	}
}

/* Add an entry for key with its encoded labels. */
struct series *
series_insert(struct series_cache *c, const void *key, size_t len,
    uint64_t hash, const void *labels, size_t lablen)
{
	struct series	*s;
	size_t		 cap;
	uint32_t	 id;

	if (len > SERIES_MAX_LEN || lablen > SERIES_MAX_LEN)
		return (NULL);
	if (c->used == c->cap) {
		cap = series_grow(c->cap, c->used + 1, SERIES_MIN_ENTRIES,
		    SERIES_MAX_ENTRIES);
		if (cap == 0)
			return (NULL);
		cache_resize(c, cap);
	}
	id = pool_intern(c->pool, key, len, labels, lablen);
	if (id == 0)
		return (NULL);
	s = &c->v[c->used++];
	s->hash = (uint32_t)hash;
	s->gen = c->gen;
	s->blob = id;
	if (slot_full(c->n + 1, c->nslots))
		cache_rehash(c, c->nslots == 0 ? SERIES_MIN_SLOTS :
		    c->nslots * 2);
	else
		slot_place(c->slots, c->nslots, s->hash, series_ref_of(c, s));
	c->n++;
	return (s);
}

/* Pack the live entries together, give back the room, rebuild the table. */
static void
cache_compact(struct series_cache *c)
{
	size_t	i, to = 0, cap;

	for (i = 0; i < c->used; i++) {
		if (c->v[i].gen != SERIES_GEN_DEAD)
			c->v[to++] = c->v[i];
	}
	c->used = to;
	c->dead = 0;
	cap = c->used + c->used / 4;
	if (cap < SERIES_MIN_ENTRIES)
		cap = SERIES_MIN_ENTRIES;
	if (c->cap > cap)
		cache_resize(c, cap);
	cache_rehash(c, slot_fit(c->n, c->nslots));
}

/*
 * Remove entries not seen in this generation. A page's series are added in
 * one scrape and then stay, so the room the array doubled into is given
 * back here (a malloc'd array's spare half would be reused by nobody).
 */
size_t
series_sweep(struct series_cache *c, series_stale_fn fn, void *arg)
{
	struct series	*s;
	size_t		 i, removed = 0;

	for (i = 0; i < c->used; i++) {
		s = &c->v[i];
		if (s->gen == c->gen || s->gen == SERIES_GEN_DEAD)
			continue;
		if (fn != NULL)
			fn(arg, s);
		slot_delete(c->slots, c->nslots, s->hash, series_ref_of(c, s),
		    cache_hash_cb, c);
		pool_release(c->pool, s->blob);
		s->gen = SERIES_GEN_DEAD;
		c->dead++;
		c->n--;
		removed++;
	}
	if (c->dead > 0 && c->dead * 4 >= c->used)
		cache_compact(c);
	else if (c->cap > c->used + c->used / 4 + SERIES_MIN_ENTRIES)
		cache_resize(c, c->used + c->used / 8 + SERIES_MIN_ENTRIES);
	if (removed > 0)
		pool_trim(c->pool);
	return (removed);
}

/* Bytes held by the table and the entries (malloc overhead excluded). */
size_t
series_cache_bytes(const struct series_cache *c)
{
	return (c->nslots * sizeof *c->slots + c->cap * sizeof *c->v);
}
