/*
 * check_metrics: `rwbridge check-metrics [--format text|openmetrics]
 * FILE|-`, which validates an exposition page: exit 0 when the page parses,
 * 1 with "file:line:col: message" on stderr when it does not, 2 on a usage
 * error. The caller owns the streams; nothing is kept after a call.
 */
#ifndef RWBRIDGE_CHECK_METRICS_H
#define RWBRIDGE_CHECK_METRICS_H

#include <stdio.h>

enum check_format {
	CHECK_FORMAT_AUTO,		/* OpenMetrics if it ends in "# EOF" */
	CHECK_FORMAT_TEXT,
	CHECK_FORMAT_OPENMETRICS
};

/* Check a file ("-" for stdin); return the exit status. */
int	check_metrics_run(const char *, enum check_format, FILE *, FILE *);
/* Run "check-metrics ARGS" (argv[0] is "check-metrics"); exit status. */
int	check_metrics_main(int, char **, FILE *, FILE *);

#endif
