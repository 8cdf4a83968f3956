/*
 * stats: rwbridge's own counters, plain data owned by the daemon context and
 * rendered on /metrics (and forwarded with job="rwbridge"). Per-target and
 * per-endpoint figures live in their owners; these are the global ones.
 */
#ifndef RWBRIDGE_STATS_H
#define RWBRIDGE_STATS_H

#include <stdint.h>

struct rw_stats {
	uint64_t	scrapes_ok;
	uint64_t	scrapes_failed;
	uint64_t	samples_scraped;
	uint64_t	stale_markers;
	uint64_t	duplicates;
	uint64_t	derived_samples;
	uint64_t	api_requests;
	uint64_t	api_errors;
	uint64_t	push_requests;
	uint64_t	push_errors;
	uint64_t	pushgateway_ok;
	uint64_t	pushgateway_failed;
};

#endif
