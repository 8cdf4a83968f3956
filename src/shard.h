/*
 * shard: which members of a cluster of rwbridges scrape a target, by
 * rendezvous (highest-random-weight) hashing of the target's identity (job
 * and scrape URL), vmagent's cluster model: members_count members numbered
 * 0..members_count-1, each target owned by replication_factor of them.
 * Adding a member moves only the targets the new member wins (about 1/N),
 * and every member computes the same owners without talking to the others.
 * Pure and stateless: callers own every buffer.
 */
#ifndef RWBRIDGE_SHARD_H
#define RWBRIDGE_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHARD_MAX_MEMBERS	1024

struct shard_config {
	unsigned	members_count;		/* 0 or 1: no sharding */
	unsigned	member_num;		/* this member, < members_count */
	unsigned	replication_factor;	/* default 1 */
};

/* Fill in the defaults: one member that owns everything. */
void	 shard_config_init(struct shard_config *);
/* Check a cluster config; false with the reason in err. */
bool	 shard_config_check(const struct shard_config *, char *, size_t);
/* Tell whether sharding is on (more than one member). */
bool	 shard_enabled(const struct shard_config *);
/* The weight of member m for a target identity (exposed for tests). */
uint64_t shard_weight(const char *, const char *, unsigned);
/*
 * Write the replication_factor members that own the target (job, url) into
 * owners, highest weight first; return how many were written.
 */
size_t	 shard_owners(const struct shard_config *, const char *,
	     const char *, unsigned *, size_t);
/* Tell whether this member owns the target (job, url). */
bool	 shard_owns(const struct shard_config *, const char *, const char *);

#endif
