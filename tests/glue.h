/*
 * glue: the daemon's handles for unit tests of the glue modules, built as
 * rwbridge.c builds them but with no listener, no remote-write endpoint
 * and no Pushgateway: an event base that never runs, a curl multi handle,
 * a pipeline without sinks and an empty target registry. Targets arm their
 * timers but never fire, so no test touches the network.
 */
#ifndef RWBRIDGE_TEST_GLUE_H
#define RWBRIDGE_TEST_GLUE_H

#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "httpc.h"
#include "pipeline.h"
#include "target.h"
#include "targets.h"

struct glue {
	struct event_base	*base;
	struct httpc		*httpc;
	struct config		 cfg;
	struct pipeline		*pipeline;
	struct target_env	 env;
	struct targets		*targets;
};

/* Build the handles with the config defaults and interval_ms. */
static inline void
glue_init(struct glue *g, int64_t interval_ms)
{
	char	err[512];

	curl_global_init(CURL_GLOBAL_DEFAULT);
	config_init(&g->cfg);
	g->cfg.scrape_interval_ms = interval_ms;
	g->cfg.scrape_timeout_ms = interval_ms < 10000 ? interval_ms : 10000;
	g->base = event_base_new();
	g->httpc = httpc_new(g->base);
	g->pipeline = pipeline_new(g->base, g->httpc, &g->cfg, err,
	    sizeof err);
	if (g->pipeline == NULL) {
		printf("Bail out! pipeline_new: %s\n", err);
		exit(1);
	}
	g->env.evbase = g->base;
	g->env.httpc = g->httpc;
	g->env.cfg = &g->cfg;
	g->env.derive = NULL;
	g->env.pool = NULL;	/* each target's cache its own pool */
	g->env.pipeline = g->pipeline;
	g->targets = targets_new(&g->env);
}

/* Free everything glue_init built. */
static inline void
glue_free(struct glue *g)
{
	targets_free(g->targets);
	pipeline_free(g->pipeline);
	httpc_free(g->httpc);
	event_base_free(g->base);
	config_free(&g->cfg);
	curl_global_cleanup();
}

#endif
