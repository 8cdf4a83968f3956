/*
 * series: the scrape cache behind rwbridge's speed. Entries are packed one
 * after another in an arena (a 12-byte header, the raw key, the encoded
 * labels), so a series costs no malloc header and no pointer: the open
 * addressing table (linear probing, backward-shift deletion so no tombstones
 * accumulate as targets churn) holds 4-byte refs into the arena. Swept
 * entries leave holes that a later sweep packs away. Big arenas are mapped
 * pages (xbig_resize): they double without copying and only the written
 * part is resident.
 */
#include <stdlib.h>
#include <string.h>

#include "series.h"
#include "xmalloc.h"

#define SERIES_MIN_SLOTS	16
#define SERIES_MIN_ARENA	512
/* Refs count 4-byte units from 1, so an arena holds at most 16 GiB. */
#define SERIES_MAX_ARENA	((size_t)(UINT32_MAX - 1) * 4)

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

/* Start empty. */
void
series_cache_init(struct series_cache *c)
{
	memset(c, 0, sizeof *c);
}

/* Remove every entry. */
void
series_cache_clear(struct series_cache *c, series_stale_fn fn, void *arg)
{
	struct series	*s;
	size_t		 off;
	uint32_t	 gen = c->gen;

	for (off = 0; fn != NULL && off < c->used; off += series_size(s)) {
		s = series_at_offset(c, off);
		if (s->gen != SERIES_GEN_DEAD)
			fn(arg, s);
	}
	xbig_free(c->arena, c->cap);
	free(c->slots);
	series_cache_init(c);
	/* Keep counting, so generations from before stay stale. */
	c->gen = gen;
}

/* Start a new generation; entries seen in it get this number. */
void
series_cache_begin(struct series_cache *c)
{
	c->gen++;
	if (c->gen >= SERIES_GEN_DEAD)
		c->gen = 0;
}

/* Make the arena cap bytes (at least SERIES_MIN_ARENA, at most the max). */
static void
series_resize(struct series_cache *c, size_t cap)
{
	if (cap < SERIES_MIN_ARENA)
		cap = SERIES_MIN_ARENA;
	if (cap > SERIES_MAX_ARENA)
		cap = SERIES_MAX_ARENA;
	c->arena = xbig_resize(c->arena, c->cap, cap);
	c->cap = cap;
}

/* Find the entry for key. */
struct series *
series_lookup(struct series_cache *c, const void *key, size_t len,
    uint64_t hash)
{
	struct series	*s;
	size_t		 mask, i;

	if (c->nslots == 0)
		return (NULL);
	mask = c->nslots - 1;
	for (i = (uint32_t)hash & mask; c->slots[i] != 0; i = (i + 1) & mask) {
		s = series_at(c, c->slots[i]);
		if (s->hash == (uint32_t)hash && s->keylen == len &&
		    memcmp(s->data, key, len) == 0)
			return (s);
	}
	return (NULL);
}

/* Place the entry with ref r in its first free slot. */
static void
series_place(struct series_cache *c, series_ref r)
{
	size_t	mask = c->nslots - 1, i;

	for (i = series_at(c, r)->hash & mask; c->slots[i] != 0;
	    i = (i + 1) & mask)
		;
	c->slots[i] = r;
}

/* Rebuild the table with nslots slots from the live entries. */
static void
series_rehash(struct series_cache *c, size_t nslots)
{
	struct series	*s;
	size_t		 off;

	free(c->slots);
	c->slots = xcalloc(nslots, sizeof *c->slots);
	c->nslots = nslots;
	for (off = 0; off < c->used; off += series_size(s)) {
		s = series_at_offset(c, off);
		if (s->gen != SERIES_GEN_DEAD)
			series_place(c, series_ref_of(c, s));
	}
}

/* Add an entry for key with its encoded labels. */
struct series *
series_insert(struct series_cache *c, const void *key, size_t len,
    uint64_t hash, const void *labels, size_t lablen)
{
	struct series	*s;
	size_t		 need;

	if (len > SERIES_MAX_LEN || lablen > SERIES_MAX_LEN)
		return (NULL);
	need = (sizeof *s + len + lablen + 3) & ~(size_t)3;
	if (c->used + need > c->cap) {
		if (c->used + need > SERIES_MAX_ARENA)
			return (NULL);
		/* Doubling: the unwritten half of a mapping is not resident. */
		series_resize(c, 2 * c->cap > c->used + need ? 2 * c->cap :
		    c->used + need);
	}
	s = series_at_offset(c, c->used);
	c->used += need;
	s->hash = (uint32_t)hash;
	s->gen = c->gen;
	s->keylen = (uint16_t)len;
	s->lablen = (uint16_t)lablen;
	memcpy(s->data, key, len);
	memcpy(s->data + len, labels, lablen);
	if ((c->n + 1) * 10 > c->nslots * 7)
		series_rehash(c, c->nslots == 0 ? SERIES_MIN_SLOTS :
		    c->nslots * 2);
	else
		series_place(c, series_ref_of(c, s));
	c->n++;
	return (s);
}

/* Delete the slot holding ref r, shifting back entries that probed past. */
static void
series_delete(struct series_cache *c, series_ref r)
{
	size_t	mask = c->nslots - 1, i, j, home;

	for (i = series_at(c, r)->hash & mask; c->slots[i] != r;
	    i = (i + 1) & mask)
		;
	c->slots[i] = 0;
	for (j = (i + 1) & mask; c->slots[j] != 0; j = (j + 1) & mask) {
		home = series_at(c, c->slots[j])->hash & mask;
		/* Move j back to i if i lies cyclically in [home, j). */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			c->slots[i] = c->slots[j];
			c->slots[j] = 0;
			i = j;
		}
	}
}

/* Pack the live entries together, give back the room, rebuild the table. */
static void
series_compact(struct series_cache *c)
{
	struct series	*s;
	size_t		 off, to = 0, size;

	for (off = 0; off < c->used; off += size) {
		s = series_at_offset(c, off);
		size = series_size(s);
		if (s->gen == SERIES_GEN_DEAD)
			continue;
		if (to != off)
			memmove(c->arena + to, s, size);
		to += size;
	}
	c->used = to;
	c->dead = 0;
	if (c->cap > c->used + c->used / 4)
		series_resize(c, c->used + c->used / 4);
	series_rehash(c, c->nslots);
}

/* Remove entries not seen in this generation. */
size_t
series_sweep(struct series_cache *c, series_stale_fn fn, void *arg)
{
	struct series	*s;
	size_t		 off, removed = 0;

	for (off = 0; off < c->used; off += series_size(s)) {
		s = series_at_offset(c, off);
		if (s->gen == c->gen || s->gen == SERIES_GEN_DEAD)
			continue;
		if (fn != NULL)
			fn(arg, s);
		series_delete(c, series_ref_of(c, s));
		s->gen = SERIES_GEN_DEAD;
		c->dead += series_size(s);
		c->n--;
		removed++;
	}
	if (c->dead > 0 && c->dead * 4 >= c->used)
		series_compact(c);
	return (removed);
}

/* Bytes held by the table and the arena (malloc overhead excluded). */
size_t
series_cache_bytes(const struct series_cache *c)
{
	return (c->nslots * sizeof *c->slots + c->cap);
}
