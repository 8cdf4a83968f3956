/*
 * check_metrics: `rwbridge check-metrics FILE|-`, which validates an
 * exposition page like `promtool check metrics`: exit 0 when the page
 * parses, 1 with "file:line:col: message" on stderr when it does not.
 */
#ifndef RWBRIDGE_CHECK_METRICS_H
#define RWBRIDGE_CHECK_METRICS_H

#include <stdio.h>

/* Check a file ("-" for stdin); return the exit status. */
int	check_metrics_run(const char *, FILE *, FILE *);

#endif
