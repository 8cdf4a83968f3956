/*
 * shard: rendezvous hashing of targets onto cluster members. A member's
 * weight for a target is a 64-bit hash of (job, NUL, url, NUL, member); the
 * owners are the replication_factor members of highest weight. FNV-1a over
 * the bytes, then a SplitMix64 finaliser, gives weights that are independent
 * enough across members for an even split (tested in test_shard).
 */
#include <stdio.h>
#include <string.h>

#include "shard.h"

#define FNV_OFFSET	0xcbf29ce484222325ULL
#define FNV_PRIME	0x100000001b3ULL

/* Fold len bytes into an FNV-1a hash. */
static uint64_t
shard_fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char	*s = p;
	size_t			 i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= FNV_PRIME;
	}
	return (h);
}

/* Mix a 64-bit value so every input bit moves every output bit. */
static uint64_t
shard_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (x ^ (x >> 31));
}

/* Fill in the defaults: one member that owns everything. */
void
shard_config_init(struct shard_config *sc)
{
	sc->members_count = 1;
	sc->member_num = 0;
	sc->replication_factor = 1;
}

/* Check a cluster config; false with the reason in err. */
bool
shard_config_check(const struct shard_config *sc, char *err, size_t errlen)
{
	if (sc->members_count < 1 || sc->members_count > SHARD_MAX_MEMBERS) {
		snprintf(err, errlen, "members_count %u: must be 1 to %d",
		    sc->members_count, SHARD_MAX_MEMBERS);
		return (false);
	}
	if (sc->member_num >= sc->members_count) {
		snprintf(err, errlen, "member_num %u: must be below "
		    "members_count %u", sc->member_num, sc->members_count);
		return (false);
	}
	if (sc->replication_factor < 1 ||
	    sc->replication_factor > sc->members_count) {
		snprintf(err, errlen, "replication_factor %u: must be 1 to "
		    "members_count %u", sc->replication_factor,
		    sc->members_count);
		return (false);
	}
	return (true);
}

/* Tell whether sharding is on (more than one member). */
bool
shard_enabled(const struct shard_config *sc)
{
	return (sc->members_count > 1);
}

/* The weight of member m for a target identity. */
uint64_t
shard_weight(const char *job, const char *url, unsigned m)
{
	unsigned char	mb[4];
	uint64_t	h = FNV_OFFSET;

	h = shard_fnv(h, job, strlen(job) + 1);
	h = shard_fnv(h, url, strlen(url) + 1);
	mb[0] = m >> 24;
	mb[1] = m >> 16;
	mb[2] = m >> 8;
	mb[3] = m;
	h = shard_fnv(h, mb, sizeof mb);
	return (shard_mix(h));
}

/*
 * Write the owners, highest weight first. Insertion into a sorted array of
 * at most replication_factor entries: members_count * rf steps, both small.
 */
size_t
shard_owners(const struct shard_config *sc, const char *job, const char *url,
    unsigned *owners, size_t cap)
{
	uint64_t	w[SHARD_MAX_MEMBERS], x;
	size_t		n = 0, rf = sc->replication_factor, i;
	unsigned	m;

	if (rf > cap)
		rf = cap;
	if (rf > sc->members_count)
		rf = sc->members_count;
	for (m = 0; m < sc->members_count; m++) {
		x = shard_weight(job, url, m);
		if (n == rf && x <= w[n - 1])
			continue;
		i = n < rf ? n++ : n - 1;
		/* Ties go to the lower member number, already placed. */
		while (i > 0 && w[i - 1] < x) {
			w[i] = w[i - 1];
			owners[i] = owners[i - 1];
			i--;
		}
		w[i] = x;
		owners[i] = m;
	}
	return (n);
}

/* Tell whether this member owns the target (job, url). */
bool
shard_owns(const struct shard_config *sc, const char *job, const char *url)
{
	unsigned	owners[SHARD_MAX_MEMBERS];
	size_t		n, i;

	if (!shard_enabled(sc))
		return (true);
	n = shard_owners(sc, job, url, owners, SHARD_MAX_MEMBERS);
	for (i = 0; i < n; i++) {
		if (owners[i] == sc->member_num)
			return (true);
	}
	return (false);
}
