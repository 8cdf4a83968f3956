/*
 * metrics: rwbridge's own metrics in the text exposition format, rendered on
 * each request to /metrics from the counters their owners keep. Appends to a
 * caller-owned buffer.
 */
#ifndef RWBRIDGE_METRICS_H
#define RWBRIDGE_METRICS_H

#include "buf.h"

struct rwbridge;

void	metrics_render(struct rwbridge *, struct buf *);

#endif
