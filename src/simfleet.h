/*
 * simfleet: a simulated RL rollout fleet of vLLM (v0, v1), SGLang and
 * vLLM-Ascend servers, for tests, demos and benchmarks of rwbridge. Pure:
 * simulation state and /metrics page rendering only, no event loop, no I/O.
 *
 * The state after n calls to simfleet_step is a function of the config
 * (seed, servers, flavour, tick, batch settings) and n alone. A struct
 * simfleet owns its servers, their requests and their cached pages;
 * simfleet_page returns a buffer owned by the fleet, valid until the next
 * simfleet_step or simfleet_free. The config's strings are copied.
 */
#ifndef RWBRIDGE_SIMFLEET_H
#define RWBRIDGE_SIMFLEET_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

enum sim_flavour {
	SIM_VLLM_V1,
	SIM_VLLM_V0,
	SIM_SGLANG,
	SIM_ASCEND,
	SIM_MIXED
};

struct simfleet_config {
	int		 servers;
	enum sim_flavour flavour;
	uint64_t	 seed;
	const char	*model;		  /* NULL: per flavour */
	int64_t		 tick_ms;	  /* simulation step */
	int64_t		 batch_every_ms;  /* mean rollout period */
	int		 batch_size;	  /* mean requests per server */
	int64_t		 restart_every_ms; /* 0: never */
	int		 extra_series;	  /* rollout_sim_extra gauges */
	int		 max_tokens;	  /* per request; "length" beyond */
	int64_t		 sync_ms;	  /* weight-sync pause, busy fleet */
	double		 epoch;		  /* unix time of sim time 0 */
};

struct simfleet;

bool			 simfleet_parse_flavour(const char *,
			     enum sim_flavour *);
const char		*simfleet_flavour_name(enum sim_flavour);
void			 simfleet_config_default(struct simfleet_config *);
struct simfleet		*simfleet_new(const struct simfleet_config *);
void			 simfleet_free(struct simfleet *);
/* Advance one tick; append JSON Lines truth to truth unless it is NULL. */
void			 simfleet_step(struct simfleet *, struct buf *);
/* Simulated seconds since start. */
double			 simfleet_now(const struct simfleet *);
int			 simfleet_servers(const struct simfleet *);
/* The page of server i for the current tick, rendered at most once a tick. */
const struct buf	*simfleet_page(struct simfleet *, int);
/* Append v as Python's prometheus_client writes it (1.0, 1e+06, 0.25). */
void			 simfleet_put_float(struct buf *, double);

#endif
