/*
 * timer: arm a libevent timer for a number of milliseconds, the conversion
 * every self-re-arming timer of the daemon and the simulator needs. The
 * caller owns the event.
 */
#ifndef RWBRIDGE_TIMER_H
#define RWBRIDGE_TIMER_H

#include <sys/time.h>

#include <stdint.h>

#include <event2/event.h>

/* Arm ev to fire in ms milliseconds. */
static inline void
timer_arm_ms(struct event *ev, int64_t ms)
{
	struct timeval	tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

#endif
