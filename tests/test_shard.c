/*
 * test_shard: rendezvous hashing of targets onto cluster members. Checks the
 * config rules, that every target has exactly replication_factor distinct
 * owners, that the split is even, that growing the cluster moves a target
 * only to the new member, and that weights stay the same across releases
 * (mixed versions in one cluster must agree on owners).
 */
#include <stdio.h>
#include <string.h>

#include "shard.h"
#include "tap.h"

#define NTARGETS	3000

static const struct {
	const char	*name;
	unsigned	 count, num, rf;
	const char	*err;		/* NULL: valid */
} config_cases[] = {
	{ "one member", 1, 0, 1, NULL },
	{ "three members", 3, 2, 1, NULL },
	{ "rf equals count", 3, 0, 3, NULL },
	{ "zero members", 0, 0, 1, "members_count 0" },
	{ "member_num = count", 3, 3, 1, "member_num 3: must be below" },
	{ "member_num > count", 3, 7, 1, "member_num 7" },
	{ "rf > count", 3, 0, 4, "replication_factor 4" },
	{ "rf zero", 3, 0, 0, "replication_factor 0" },
	{ "too many members", SHARD_MAX_MEMBERS + 1, 0, 1, "members_count" },
};

/* The URL of test target i. */
static const char *
url_of(size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "http://10.0.%zu.%zu:8000/metrics", i / 250,
	    i % 250);
	return (buf);
}

static void
test_config(void)
{
	struct shard_config	sc;
	char			err[256];
	size_t			i;
	bool			good;

	for (i = 0; i < sizeof config_cases / sizeof config_cases[0]; i++) {
		sc.members_count = config_cases[i].count;
		sc.member_num = config_cases[i].num;
		sc.replication_factor = config_cases[i].rf;
		err[0] = '\0';
		good = shard_config_check(&sc, err, sizeof err);
		if (config_cases[i].err == NULL)
			ok(good, "config %s: valid (%s)", config_cases[i].name,
			    err);
		else
			ok(!good && strstr(err, config_cases[i].err) != NULL,
			    "config %s: error \"%s\" names \"%s\"",
			    config_cases[i].name, err, config_cases[i].err);
	}
	shard_config_init(&sc);
	ok(!shard_enabled(&sc) && shard_owns(&sc, "rollout", "http://x/"),
	    "default: one member owns everything");
}

/* Every target has rf distinct owners and shard_owns agrees with them. */
static void
test_owners(unsigned count, unsigned rf)
{
	struct shard_config	sc = { count, 0, rf };
	unsigned		owners[8], per[8] = { 0 }, m;
	char			url[64];
	size_t			i, j, k, n, bad = 0, disagree = 0;
	double			share, want = (double)rf / count;

	for (i = 0; i < NTARGETS; i++) {
		url_of(i, url, sizeof url);
		n = shard_owners(&sc, "rollout", url, owners, 8);
		if (n != rf)
			bad++;
		for (j = 0; j < n; j++) {
			per[owners[j]]++;
			for (k = 0; k < j; k++)
				if (owners[k] == owners[j])
					bad++;
		}
		for (m = 0; m < count; m++) {
			bool	own = false;

			sc.member_num = m;
			for (j = 0; j < n; j++)
				own |= owners[j] == m;
			if (shard_owns(&sc, "rollout", url) != own)
				disagree++;
		}
		sc.member_num = 0;
	}
	is_int(bad, 0, "%u members rf %u: every target has %u distinct "
	    "owners", count, rf, rf);
	is_int(disagree, 0, "%u members rf %u: shard_owns agrees with "
	    "shard_owners", count, rf);
	for (m = 0; m < count; m++) {
		share = (double)per[m] / NTARGETS;
		ok(share > want * 0.85 && share < want * 1.15,
		    "%u members rf %u: member %u owns %.3f of targets "
		    "(want %.3f +-15%%)", count, rf, m, share, want);
	}
}

/* Growing 3 -> 4 moves a target only to the new member, about 1/4. */
static void
test_growth(void)
{
	struct shard_config	three = { 3, 0, 1 }, four = { 4, 0, 1 };
	unsigned		a, b;
	char			url[64];
	size_t			i, moved = 0, elsewhere = 0;

	for (i = 0; i < NTARGETS; i++) {
		url_of(i, url, sizeof url);
		shard_owners(&three, "rollout", url, &a, 1);
		shard_owners(&four, "rollout", url, &b, 1);
		if (a != b) {
			moved++;
			if (b != 3)
				elsewhere++;
		}
	}
	is_int(elsewhere, 0, "3 -> 4 members: a target moves only to the "
	    "new member");
	ok(moved * 100 <= NTARGETS * 40 && moved * 100 >= NTARGETS * 15,
	    "3 -> 4 members: %zu of %d targets moved (want 15-40%%)", moved,
	    NTARGETS);
}

static void
test_stable(void)
{
	/* Golden weights: changing the hash reshuffles mixed-version clusters. */
	ok(shard_weight("rollout", "http://127.0.0.1:8000/metrics", 0) ==
	    0x3e5844fcc85a22aeULL, "weight of a fixed identity is stable");
	ok(shard_weight("a", "bc", 0) != shard_weight("ab", "c", 0),
	    "job and url are separated in the identity");
	ok(shard_weight("rollout", "http://x/", 0) !=
	    shard_weight("rollout", "http://x/", 1), "members weigh apart");
}

int
main(void)
{
	test_config();
	test_owners(3, 1);
	test_owners(3, 2);
	test_owners(5, 3);
	test_growth();
	test_stable();
	return (tap_done());
}
