/*
 * Unit tests for the scrape cache: lookups, generations and sweeps, forced
 * hash collisions, and a randomised run checked against a plain reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"
#include "xmalloc.h"
#include "tap.h"

#define NREF	2000

struct seen {
	int	 n;
	char	 keys[64][32];
};

/* Remember the key of each stale entry (a series_stale_fn). */
static void
stale_cb(void *arg, const struct series *s)
{
	struct seen	*seen = arg;

	if (seen->n < 64) {
		memcpy(seen->keys[seen->n], s->data, s->keylen);
		seen->keys[seen->n][s->keylen] = '\0';
	}
	seen->n++;
}

/* Insert key with a label payload derived from it. */
static struct series *
put(struct series_cache *c, const char *key, uint64_t hash)
{
	char	lab[40];

	snprintf(lab, sizeof lab, "L:%s", key);
	return (series_insert(c, key, strlen(key), hash, lab, strlen(lab)));
}

/* Look key up with the given hash. */
static struct series *
get(struct series_cache *c, const char *key, uint64_t hash)
{
	return (series_lookup(c, key, strlen(key), hash));
}

/* Insert prefix0 .. prefix(n-1), each hashed for real. */
static void
put_n(struct series_cache *c, const char *prefix, int n)
{
	char	key[32];
	int	i;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "%s%d", prefix, i);
		put(c, key, series_hash(key, strlen(key)));
	}
}

/* In a new generation see every k-th of prefix0 .. prefix(n-1); sweep. */
static size_t
keep_every(struct series_cache *c, const char *prefix, int n, int k)
{
	char	key[32];
	int	i;

	series_cache_begin(c);
	for (i = 0; i < n; i += k) {
		snprintf(key, sizeof key, "%s%d", prefix, i);
		get(c, key, series_hash(key, strlen(key)))->gen = c->gen;
	}
	return (series_sweep(c, NULL, NULL));
}

/* Count the keys not as keep_every left them: kept with labels, or gone. */
static int
count_unkept(struct series_cache *c, const char *prefix, int n, int k)
{
	const struct series	*s;
	char			 key[32], lab[40];
	int			 i, bad = 0;

	for (i = 0; i < n; i++) {
		snprintf(key, sizeof key, "%s%d", prefix, i);
		s = get(c, key, series_hash(key, strlen(key)));
		snprintf(lab, sizeof lab, "L:%s", key);
		if (i % k == 0 ? s == NULL || s->lablen != strlen(lab) ||
		    memcmp(series_labels(s), lab, s->lablen) != 0 : s != NULL)
			bad++;
	}
	return (bad);
}

int
main(void)
{
	struct series_cache	 c;
	struct series		*s;
	struct seen		 seen;
	char			 key[32];
	static int		 present[NREF];
	char			*big;
	series_ref		 ref;
	size_t			 used;
	int			 i, round, bad;
	uint64_t		 h;

	/* Basic insert and lookup. */
	series_cache_init(&c);
	series_cache_begin(&c);
	h = series_hash("up{a=\"1\"}", 9);
	ok(h == series_hash("up{a=\"1\"}", 9), "hash is deterministic");
	ok(h != series_hash("up{a=\"2\"}", 9), "hash differs for other key");
	put(&c, "up{a=\"1\"}", h);
	s = get(&c, "up{a=\"1\"}", h);
	ok(s != NULL, "lookup finds an inserted key");
	ok(s != NULL && s->lablen == 11 &&
	    memcmp(series_labels(s), "L:up{a=\"1\"}", 11) == 0,
	    "entry keeps its encoded labels");
	ok(get(&c, "up{a=\"2\"}", series_hash("up{a=\"2\"}", 9)) == NULL,
	    "lookup misses an absent key");

	/* Forced collisions: every key has hash 42. */
	put(&c, "x1", 42);
	put(&c, "x2", 42);
	put(&c, "x3", 42);
	ok(get(&c, "x1", 42) != NULL && get(&c, "x2", 42) != NULL &&
	    get(&c, "x3", 42) != NULL, "colliding keys are all found");
	ok(get(&c, "x4", 42) == NULL, "an absent colliding key is not found");
	is_int((long long)c.n, 4, "entry count with collisions");

	/* A sweep removes exactly what was not seen this generation. */
	series_cache_begin(&c);
	get(&c, "x2", 42)->gen = c.gen;
	get(&c, "up{a=\"1\"}", h)->gen = c.gen;
	memset(&seen, 0, sizeof seen);
	is_int((long long)series_sweep(&c, stale_cb, &seen), 2,
	    "sweep removes the two unseen entries");
	is_int(seen.n, 2, "stale callback ran for each removed entry");
	ok(get(&c, "x1", 42) == NULL && get(&c, "x3", 42) == NULL,
	    "swept colliding keys are gone");
	ok(get(&c, "x2", 42) != NULL,
	    "kept colliding key still found after deletions around it");
	series_cache_clear(&c, NULL, NULL);
	is_int((long long)c.n, 0, "clear empties the cache");

	/* Randomised: inserts, sweeps and lookups against a reference. */
	srandom(7);
	series_cache_init(&c);
	bad = 0;
	for (round = 0; round < 50; round++) {
		series_cache_begin(&c);
		for (i = 0; i < NREF; i++) {
			snprintf(key, sizeof key, "s%d", i);
			/* Small hash space to force long probe chains. */
			h = series_hash(key, strlen(key)) % 257;
			if (random() % 3 == 0)
				continue;
			s = get(&c, key, h);
			if ((s != NULL) != (present[i] != 0))
				bad++;
			if (s == NULL)
				s = put(&c, key, h);
			s->gen = c.gen;
			present[i] = 2;
		}
		series_sweep(&c, NULL, NULL);
		for (i = 0; i < NREF; i++)
			present[i] = present[i] == 2 ? 1 : 0;
		for (i = 0; i < NREF; i++) {
			snprintf(key, sizeof key, "s%d", i);
			h = series_hash(key, strlen(key)) % 257;
			if ((get(&c, key, h) != NULL) != (present[i] != 0))
				bad++;
		}
	}
	is_int(bad, 0, "50 random rounds agree with the reference");
	ok(series_cache_bytes(&c) > 0, "cache reports its size");
	series_cache_clear(&c, NULL, NULL);

	/* Refs survive the arena growing; sweeping most entries packs it. */
	series_cache_init(&c);
	series_cache_begin(&c);
	s = put(&c, "first", series_hash("first", 5));
	ref = series_ref_of(&c, s);
	put_n(&c, "s", NREF);
	s = series_at(&c, ref);
	ok(s->keylen == 5 && memcmp(s->data, "first", 5) == 0,
	    "a ref still names its entry after the arena grew");
	used = c.used;
	is_int((long long)keep_every(&c, "s", NREF, 10), NREF + 1 - NREF / 10,
	    "sweep removes the unseen nine tenths");
	ok(c.used < used / 5, "the sweep packed the arena (%zu of %zu bytes)",
	    c.used, used);
	is_int(count_unkept(&c, "s", NREF, 10), 0,
	    "after packing each kept entry has its key and labels");
	ok(c.cap <= c.used + c.used / 4 + 512,
	    "packing gave back the room (%zu of %zu used)", c.used, c.cap);

	/* A mapped arena: grown past XBIG_MAP, packed back under it. */
	series_cache_clear(&c, NULL, NULL);
	series_cache_begin(&c);
	put_n(&c, "big", 20 * NREF);
	ok(c.cap >= XBIG_MAP, "%zu bytes of entries make a mapped arena",
	    c.used);
	keep_every(&c, "big", 20 * NREF, 100);
	ok(count_unkept(&c, "big", 20 * NREF, 100) == 0 && c.cap < XBIG_MAP,
	    "packed back into %zu bytes from malloc, every kept entry intact",
	    c.cap);

	/* Keys and labels longer than an entry holds are refused. */
	big = calloc(1, SERIES_MAX_LEN + 1);
	memset(big, 'a', SERIES_MAX_LEN + 1);
	ok(series_insert(&c, big, SERIES_MAX_LEN + 1, 1, "x", 1) == NULL,
	    "a key over SERIES_MAX_LEN is refused");
	ok(series_insert(&c, "k", 1, 1, big, SERIES_MAX_LEN + 1) == NULL,
	    "labels over SERIES_MAX_LEN are refused");
	s = series_insert(&c, big, SERIES_MAX_LEN, 1, "x", 1);
	ok(s != NULL && s->keylen == SERIES_MAX_LEN &&
	    series_labels(s)[0] == 'x', "a key of exactly SERIES_MAX_LEN fits");
	free(big);
	series_cache_clear(&c, NULL, NULL);
	return (tap_done());
}
