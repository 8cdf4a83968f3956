/*
 * Unit tests for the scrape cache: lookups, generations and sweeps, forced
 * hash collisions, and a randomised run checked against a plain reference;
 * the shared pool: one blob per key and label set across caches, released
 * with the last entry naming it, blobs moved by packing without a ref or an
 * entry noticing, and a randomised run of several caches sharing one pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"
#include "xmalloc.h"
#include "tap.h"

#define NREF	2000

struct seen {
	struct series_pool	*pool;
	int			 n;
	char			 keys[64][32];
};

/* Remember the key of each stale entry (a series_stale_fn). */
static void
stale_cb(void *arg, const struct series *s)
{
	struct seen	*seen = arg;
	size_t		 len = series_keylen(seen->pool, s);

	if (seen->n < 64 && len < 32) {
		memcpy(seen->keys[seen->n], series_key(seen->pool, s), len);
		seen->keys[seen->n][len] = '\0';
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

/* Tell whether entry s of c has the labels lab. */
static bool
has_labels(const struct series_cache *c, const struct series *s,
    const char *lab)
{
	return (series_lablen(c->pool, s) == strlen(lab) &&
	    memcmp(series_labels(c->pool, s), lab, strlen(lab)) == 0);
}

/* Tell whether entry s of c has the key key. */
static bool
has_key(const struct series_cache *c, const struct series *s, const char *key)
{
	return (series_keylen(c->pool, s) == strlen(key) &&
	    memcmp(series_key(c->pool, s), key, strlen(key)) == 0);
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
		if (i % k == 0 ? s == NULL || !has_labels(c, s, lab) :
		    s != NULL)
			bad++;
	}
	return (bad);
}

/* Insert key with the labels lab ("" for a dropped series), hashed. */
static struct series *
put_lab(struct series_cache *c, const char *key, const char *lab)
{
	return (series_insert(c, key, strlen(key), series_hash(key,
	    strlen(key)), lab, strlen(lab)));
}

/* Look key up, hashed. */
static struct series *
find(struct series_cache *c, const char *key)
{
	return (get(c, key, series_hash(key, strlen(key))));
}

/* Count the entries of c not in page order s0, sk, s2k ... below n. */
static int
count_misordered(struct series_cache *c, const char *prefix, int n, int k)
{
	const struct series	*s = series_after(c, 0);
	char			 key[32];
	int			 i, bad = 0;

	for (i = 0; i < n; i += k) {
		snprintf(key, sizeof key, "%s%d", prefix, i);
		if (s == NULL || !has_key(c, s, key))
			bad++;
		if (s != NULL)
			s = series_next(c, s);
	}
	return (bad + (s != NULL));
}

/* Case table of the pool: what two caches insert, and the blobs it makes. */
static const struct {
	const char	*name;
	const char	*key_a;
	const char	*lab_a;
	const char	*key_b;
	const char	*lab_b;
	int		 blobs;		/* new in the pool */
} pool_cases[] = {
	{ "same key and labels", "k1", "L1", "k1", "L1", 1 },
	{ "same key, other labels", "k2", "L1", "k2", "L2", 2 },
	{ "dropped in both", "k3", "", "k3", "", 1 },
	{ "dropped in one", "k4", "", "k4", "L1", 2 },
	{ "labels a prefix of the other's", "k5", "L1", "k5", "L1x", 2 },
	{ "the same bytes split elsewhere", "k6", "L1", "k6L", "1", 2 },
};

/* The randomised pool run: caches, keys, rounds. */
#define RC	4
#define RK	300
#define RROUNDS	60

/* The labels cache c gives key k: variant 0 is dropped. */
static const char *
rnd_labels(int c, int k, char *buf, size_t len)
{
	switch ((k * 7 + c) % 3) {
	case 0:
		return ("");
	case 1:
		snprintf(buf, len, "A:r%d", k);
		return (buf);
	default:
		snprintf(buf, len, "B:r%d", k);
		return (buf);
	}
}

/* One round of the randomised run for cache i: see, add, sweep or clear. */
static void
rnd_round(struct series_cache *c, int i, int *present, int *bad)
{
	struct series	*s;
	char		 key[32], lab[32];
	int		 k;

	if (random() % 10 == 0) {
		series_cache_clear(c, NULL, NULL);
		memset(present, 0, RK * sizeof *present);
		return;
	}
	series_cache_begin(c);
	for (k = 0; k < RK; k++) {
		if (random() % 3 == 0)
			continue;
		snprintf(key, sizeof key, "r%d", k);
		s = find(c, key);
		if ((s != NULL) != (present[k] != 0))
			(*bad)++;
		if (s == NULL)
			s = put_lab(c, key, rnd_labels(i, k, lab, sizeof lab));
		s->gen = c->gen;
		present[k] = 2;
	}
	series_sweep(c, NULL, NULL);
	for (k = 0; k < RK; k++)
		present[k] = present[k] == 2;
}

/* Random inserts, sweeps and clears of RC caches sharing a pool. */
static void
test_pool_random(void)
{
	static int		 present[RC][RK];
	static int		 distinct[RK][3];
	struct series_pool	*pool = series_pool_new();
	struct series_cache	 c[RC];
	struct series		*s;
	char			 key[32], lab[32];
	int			 i, k, round, bad = 0, badcount = 0, want;

	srandom(11);
	for (i = 0; i < RC; i++)
		series_cache_init(&c[i], pool);
	for (round = 0; round < RROUNDS; round++) {
		for (i = 0; i < RC; i++)
			rnd_round(&c[i], i, present[i], &bad);
		memset(distinct, 0, sizeof distinct);
		for (i = 0; i < RC; i++) {
			for (k = 0; k < RK; k++) {
				snprintf(key, sizeof key, "r%d", k);
				s = find(&c[i], key);
				if ((s != NULL) != (present[i][k] != 0))
					bad++;
				if (s == NULL)
					continue;
				if (!has_key(&c[i], s, key) ||
				    !has_labels(&c[i], s, rnd_labels(i, k, lab,
				    sizeof lab)))
					bad++;
				distinct[k][(k * 7 + i) % 3] = 1;
			}
		}
		for (want = 0, k = 0; k < RK; k++)
			want += distinct[k][0] + distinct[k][1] +
			    distinct[k][2];
		if ((int)series_pool_count(pool) != want && badcount++ == 0)
			printf("# round %d: the pool holds %zu blobs, want "
			    "%d\n", round, series_pool_count(pool), want);
	}
	is_int(bad, 0, "pool: %d random rounds of %d caches agree with the "
	    "reference (presence, key, labels)", RROUNDS, RC);
	is_int(badcount, 0, "pool: after every round it holds one blob per "
	    "distinct key and label set in use");
	for (i = 0; i < RC; i++)
		series_cache_clear(&c[i], NULL, NULL);
	is_int((long long)series_pool_count(pool), 0,
	    "pool: empty once every cache is cleared");
	series_pool_free(pool);
}

/* Sharing, release, distinct label sets, dropped series. */
static void
test_pool_cases(void)
{
	struct series_pool	*pool = series_pool_new();
	struct series_cache	 a, b;
	struct series		*sa, *sb;
	size_t			 i, n;

	series_cache_init(&a, pool);
	series_cache_init(&b, pool);
	series_cache_begin(&a);
	series_cache_begin(&b);
	for (i = 0; i < sizeof pool_cases / sizeof pool_cases[0]; i++) {
		n = series_pool_count(pool);
		put_lab(&a, pool_cases[i].key_a, pool_cases[i].lab_a);
		put_lab(&b, pool_cases[i].key_b, pool_cases[i].lab_b);
		is_int((long long)(series_pool_count(pool) - n),
		    pool_cases[i].blobs, "pool, %s: new blobs",
		    pool_cases[i].name);
		sa = find(&a, pool_cases[i].key_a);
		sb = find(&b, pool_cases[i].key_b);
		ok(sa != NULL && sb != NULL &&
		    has_key(&a, sa, pool_cases[i].key_a) &&
		    has_labels(&a, sa, pool_cases[i].lab_a) &&
		    has_key(&b, sb, pool_cases[i].key_b) &&
		    has_labels(&b, sb, pool_cases[i].lab_b),
		    "pool, %s: each cache finds its own key and labels",
		    pool_cases[i].name);
		ok(sa != NULL && sb != NULL &&
		    (sa->blob == sb->blob) == (pool_cases[i].blobs == 1),
		    "pool, %s: one blob id exactly when the bytes are one",
		    pool_cases[i].name);
	}
	ok(find(&a, "k6L") == NULL && find(&b, "k6") == NULL,
	    "pool: a cache finds no key only another cache has");
	ok(series_lablen(pool, find(&a, "k4")) == 0 &&
	    series_lablen(pool, find(&b, "k4")) == 2,
	    "pool: a dropped entry has no labels beside a kept one");

	/* A shared blob outlives the first entry naming it. */
	n = series_pool_count(pool);
	series_cache_begin(&a);
	find(&a, "k2")->gen = a.gen;
	is_int((long long)series_sweep(&a, NULL, NULL), 5,
	    "pool: a sweeps all but k2");
	is_int((long long)(n - series_pool_count(pool)), 3,
	    "pool: the sweep released a's own k4, k5 and k6 blobs, not the "
	    "k1 and k3 blobs b names too");
	ok(find(&b, "k1") != NULL && has_labels(&b, find(&b, "k1"), "L1") &&
	    find(&b, "k3") != NULL && has_labels(&b, find(&b, "k3"), ""),
	    "pool: b's entries on the shared blobs are intact");
	series_cache_clear(&b, NULL, NULL);
	is_int((long long)series_pool_count(pool), 1,
	    "pool: with b cleared only a's k2 blob is left");
	ok(find(&a, "k2") != NULL && has_labels(&a, find(&a, "k2"), "L1"),
	    "pool: a's k2 keeps its labels after the pool was packed");
	series_cache_clear(&a, NULL, NULL);
	is_int((long long)series_pool_count(pool), 0,
	    "pool: clearing the last cache releases the last blob");
	ok(pool->cap <= 512, "pool: the empty pool gave back its arena "
	    "(%zu bytes)", pool->cap);
	series_pool_free(pool);
}

/* Refs and ids stay valid while the pool grows and is packed. */
static void
test_pool_growth(void)
{
	struct series_pool	*pool = series_pool_new();
	struct series_cache	 a, b;
	series_ref		 ra, rb;
	size_t			 used, cap;

	series_cache_init(&a, pool);
	series_cache_init(&b, pool);
	series_cache_begin(&a);
	series_cache_begin(&b);
	ra = series_ref_of(&a, put(&a, "first", series_hash("first", 5)));
	rb = series_ref_of(&b, put(&b, "first", series_hash("first", 5)));
	put_n(&a, "g", 20 * NREF);
	put_n(&b, "g", 20 * NREF);
	is_int((long long)series_pool_count(pool), 20 * NREF + 1,
	    "growth: two caches of the same series hold one blob each");
	ok(pool->cap >= XBIG_MAP && a.cap * sizeof *a.v >= XBIG_MAP,
	    "growth: the pool (%zu bytes) and the entries (%zu) are mapped",
	    pool->cap, a.cap * sizeof *a.v);
	ok(has_key(&a, series_at(&a, ra), "first") &&
	    has_labels(&a, series_at(&a, ra), "L:first") &&
	    has_key(&b, series_at(&b, rb), "first"),
	    "growth: refs taken before the growth name their entries");

	/* a keeps every 10th, b every 5th: the pool loses 4 of 5 blobs. */
	used = pool->used;
	cap = pool->cap;
	keep_every(&a, "g", 20 * NREF, 10);
	keep_every(&b, "g", 20 * NREF, 5);
	is_int((long long)series_pool_count(pool), 20 * NREF / 5,
	    "growth: the blobs left are those b keeps (a's are among them)");
	ok(pool->used < used / 4 && pool->cap < cap,
	    "growth: the pool was packed (%zu of %zu bytes used, %zu of %zu "
	    "held)", pool->used, used, pool->cap, cap);
	is_int(count_unkept(&a, "g", 20 * NREF, 10) +
	    count_unkept(&b, "g", 20 * NREF, 5), 0,
	    "growth: after packing every kept entry has its key and labels");
	is_int(count_misordered(&a, "g", 20 * NREF, 10) +
	    count_misordered(&b, "g", 20 * NREF, 5), 0,
	    "growth: the entries kept their page order");
	ra = series_ref_of(&a, find(&a, "g990"));
	series_cache_begin(&a);
	put_n(&a, "h", 2 * NREF);
	ok(has_key(&a, series_at(&a, ra), "g990"),
	    "growth: a ref taken after the packing survives more inserts");
	series_cache_clear(&a, NULL, NULL);
	series_cache_clear(&b, NULL, NULL);
	is_int((long long)series_pool_count(pool), 0,
	    "growth: empty after both clears");
	series_pool_free(pool);
}

int
main(void)
{
	struct series_pool	*pool = series_pool_new();
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
	series_cache_init(&c, pool);
	series_cache_begin(&c);
	h = series_hash("up{a=\"1\"}", 9);
	ok(h == series_hash("up{a=\"1\"}", 9), "hash is deterministic");
	ok(h != series_hash("up{a=\"2\"}", 9), "hash differs for other key");
	put(&c, "up{a=\"1\"}", h);
	s = get(&c, "up{a=\"1\"}", h);
	ok(s != NULL, "lookup finds an inserted key");
	ok(s != NULL && has_labels(&c, s, "L:up{a=\"1\"}"),
	    "entry keeps its encoded labels");
	ok(get(&c, "up{a=\"2\"}", series_hash("up{a=\"2\"}", 9)) == NULL,
	    "lookup misses an absent key");
	is_int((long long)sizeof *s, 12, "an entry is 12 bytes");

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
	seen.pool = pool;
	is_int((long long)series_sweep(&c, stale_cb, &seen), 2,
	    "sweep removes the two unseen entries");
	is_int(seen.n, 2, "stale callback ran for each removed entry");
	ok(strcmp(seen.keys[0], "x1") == 0 && strcmp(seen.keys[1], "x3") == 0,
	    "stale callback saw x1 and x3 (got %s, %s)", seen.keys[0],
	    seen.keys[1]);
	ok(get(&c, "x1", 42) == NULL && get(&c, "x3", 42) == NULL,
	    "swept colliding keys are gone");
	ok(get(&c, "x2", 42) != NULL,
	    "kept colliding key still found after deletions around it");
	series_cache_clear(&c, NULL, NULL);
	is_int((long long)c.n, 0, "clear empties the cache");
	is_int((long long)series_pool_count(pool), 0,
	    "clear releases the entries' blobs");

	/* Randomised: inserts, sweeps and lookups against a reference. */
	srandom(7);
	series_cache_init(&c, pool);
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
	is_int((long long)series_pool_count(pool), (long long)c.n,
	    "one blob per entry of a lone cache");
	series_cache_clear(&c, NULL, NULL);

	/* Refs survive the array growing; sweeping most entries packs it. */
	series_cache_init(&c, pool);
	series_cache_begin(&c);
	s = put(&c, "first", series_hash("first", 5));
	ref = series_ref_of(&c, s);
	put_n(&c, "s", NREF);
	s = series_at(&c, ref);
	ok(has_key(&c, s, "first"),
	    "a ref still names its entry after the array grew");
	used = c.used;
	is_int((long long)keep_every(&c, "s", NREF, 10), NREF + 1 - NREF / 10,
	    "sweep removes the unseen nine tenths");
	ok(c.used < used / 5, "the sweep packed the array (%zu of %zu "
	    "entries)", c.used, used);
	is_int(count_unkept(&c, "s", NREF, 10), 0,
	    "after packing each kept entry has its key and labels");
	is_int(count_misordered(&c, "s", NREF, 10), 0,
	    "after packing the entries are in page order");
	ok(c.cap <= c.used + c.used / 4 + 16,
	    "packing gave back the room (%zu of %zu used)", c.used, c.cap);
	ok(c.nslots * 7 >= c.n * 20 && c.nslots <= 1024,
	    "packing shrank the table to %zu slots for %zu entries", c.nslots,
	    c.n);

	/* A mapped array: grown past XBIG_MAP, packed back under it. */
	series_cache_clear(&c, NULL, NULL);
	series_cache_begin(&c);
	put_n(&c, "big", 20 * NREF);
	ok(c.cap * sizeof *c.v >= XBIG_MAP, "%zu entries make a mapped array",
	    c.used);
	keep_every(&c, "big", 20 * NREF, 100);
	ok(count_unkept(&c, "big", 20 * NREF, 100) == 0 &&
	    c.cap * sizeof *c.v < XBIG_MAP && pool->cap < XBIG_MAP,
	    "packed back into %zu entries and a %zu-byte pool from malloc, "
	    "every kept entry intact", c.cap, pool->cap);

	/* Keys and labels longer than an entry holds are refused. */
	big = calloc(1, SERIES_MAX_LEN + 1);
	memset(big, 'a', SERIES_MAX_LEN + 1);
	ok(series_insert(&c, big, SERIES_MAX_LEN + 1, 1, "x", 1) == NULL,
	    "a key over SERIES_MAX_LEN is refused");
	ok(series_insert(&c, "k", 1, 1, big, SERIES_MAX_LEN + 1) == NULL,
	    "labels over SERIES_MAX_LEN are refused");
	s = series_insert(&c, big, SERIES_MAX_LEN, 1, "x", 1);
	ok(s != NULL && series_keylen(pool, s) == SERIES_MAX_LEN &&
	    series_labels(pool, s)[0] == 'x',
	    "a key of exactly SERIES_MAX_LEN fits");
	free(big);
	series_cache_clear(&c, NULL, NULL);
	series_pool_free(pool);

	test_pool_cases();
	test_pool_growth();
	test_pool_random();
	return (tap_done());
}
