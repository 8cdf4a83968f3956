/*
 * series: the scrape cache behind rwbridge's speed. Entries live in an open
 * addressing table (linear probing, backward-shift deletion so no tombstones
 * accumulate as targets churn); each entry is one allocation holding the raw
 * key and the encoded labels, allocated only when a series first appears.
 */
#include <stdlib.h>
#include <string.h>

#include "series.h"
#include "xmalloc.h"

#define SERIES_MIN_SLOTS	16

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
	c->slots = NULL;
	c->nslots = 0;
	c->n = 0;
	c->gen = 0;
}

/* Remove every entry. */
void
series_cache_clear(struct series_cache *c, series_stale_fn fn, void *arg)
{
	size_t	i;

	for (i = 0; i < c->nslots; i++) {
		if (c->slots[i] == NULL)
			continue;
		if (fn != NULL)
			fn(arg, c->slots[i]);
		free(c->slots[i]);
	}
	free(c->slots);
	c->slots = NULL;
	c->nslots = 0;
	c->n = 0;
}

/* Start a new generation; entries seen in it get this number. */
void
series_cache_begin(struct series_cache *c)
{
	c->gen++;
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
	for (i = hash & mask;; i = (i + 1) & mask) {
		s = c->slots[i];
		if (s == NULL)
			return (NULL);
		if (s->hash == hash && s->keylen == len &&
		    memcmp(s->data, key, len) == 0)
			return (s);
	}
}

/* Place s in its first free slot. */
static void
series_place(struct series **slots, size_t nslots, struct series *s)
{
	size_t	mask = nslots - 1, i;

	for (i = s->hash & mask; slots[i] != NULL; i = (i + 1) & mask)
		;
	slots[i] = s;
}

/* Grow the table to keep the load factor under 0.7. */
static void
series_grow(struct series_cache *c)
{
	struct series	**slots;
	size_t		  nslots, i;

	nslots = c->nslots == 0 ? SERIES_MIN_SLOTS : c->nslots * 2;
	slots = xcalloc(nslots, sizeof *slots);
	for (i = 0; i < c->nslots; i++) {
		if (c->slots[i] != NULL)
			series_place(slots, nslots, c->slots[i]);
	}
	free(c->slots);
	c->slots = slots;
	c->nslots = nslots;
}

/* Add an entry for key with its encoded labels. */
struct series *
series_insert(struct series_cache *c, const void *key, size_t len,
    uint64_t hash, const void *labels, size_t lablen)
{
	struct series	*s;

	if ((c->n + 1) * 10 > c->nslots * 7)
		series_grow(c);
	s = xmalloc(sizeof *s + len + lablen);
	s->hash = hash;
	s->gen = c->gen;
	s->keylen = (uint32_t)len;
	s->lablen = (uint32_t)lablen;
	memcpy(s->data, key, len);
	memcpy(s->data + len, labels, lablen);
	series_place(c->slots, c->nslots, s);
	c->n++;
	return (s);
}

/* Delete slot i, shifting back the entries that probed past it. */
static void
series_delete_slot(struct series_cache *c, size_t i)
{
	size_t	mask = c->nslots - 1, j, home;

	free(c->slots[i]);
	c->slots[i] = NULL;
	c->n--;
	for (j = (i + 1) & mask; c->slots[j] != NULL; j = (j + 1) & mask) {
		home = c->slots[j]->hash & mask;
		/* Move j back to i if i lies cyclically in [home, j). */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			c->slots[i] = c->slots[j];
			c->slots[j] = NULL;
			i = j;
		}
	}
}

/* Remove entries not seen in this generation. */
size_t
series_sweep(struct series_cache *c, series_stale_fn fn, void *arg)
{
	size_t	i, removed = 0;

	i = 0;
	while (i < c->nslots) {
		if (c->slots[i] == NULL || c->slots[i]->gen == c->gen) {
			i++;
			continue;
		}
		if (fn != NULL)
			fn(arg, c->slots[i]);
		series_delete_slot(c, i);
		removed++;
		/* Slot i may now hold a shifted entry: look at it again. */
	}
	return (removed);
}

/* Bytes used by the table and its entries (malloc overhead excluded). */
size_t
series_cache_bytes(const struct series_cache *c)
{
	size_t	i, bytes = c->nslots * sizeof *c->slots;

	for (i = 0; i < c->nslots; i++) {
		if (c->slots[i] != NULL)
			bytes += sizeof (struct series) + c->slots[i]->keylen +
			    c->slots[i]->lablen;
	}
	return (bytes);
}
