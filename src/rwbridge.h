/*
 * rwbridge: the daemon. rwbridge_run is the one place that creates every
 * module, hands each the narrow handles it needs and runs the event loop;
 * the config is borrowed for the run.
 */
#ifndef RWBRIDGE_RWBRIDGE_H
#define RWBRIDGE_RWBRIDGE_H

#include "config.h"

/* Run the daemon until a signal stops it; 0 on a clean exit. */
int	rwbridge_run(struct config *);

#endif
