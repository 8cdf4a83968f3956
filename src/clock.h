/*
 * clock: the wall clock in milliseconds since the epoch, the one time base
 * of scrape schedules, sample timestamps and ttl checks, and the elapsed
 * seconds of scrape and send durations. Pure and header-only, so the core
 * modules and their tests can use it.
 */
#ifndef RWBRIDGE_CLOCK_H
#define RWBRIDGE_CLOCK_H

#include <sys/time.h>

#include <stdint.h>

/* Milliseconds since the epoch. */
static inline int64_t
clock_now_ms(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return ((int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
}

/* Seconds elapsed since start (a gettimeofday time), as a duration. */
static inline double
clock_since_s(const struct timeval *start)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return ((double)(tv.tv_sec - start->tv_sec) +
	    (double)(tv.tv_usec - start->tv_usec) / 1e6);
}

#endif
