#!/bin/sh
# Every PromQL expression of every bundled dashboard, with its Grafana
# variables filled in, returns data from a real Prometheus that received a
# simulated mixed fleet (vLLM v1, v0, SGLang, vLLM-Ascend) through rwbridge.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

N=8
t_start_prometheus
# Short responses, so the fleet drains between batches and waves end.
t_start_sim $N --flavour mixed --seed 7 --batch-every 20s --max-tokens 256

TARGETS=$(t_instances "$SIM_PORT" $N | sed 's/[^ ]*/--target &/g')
# shellcheck disable=SC2086
t_start_rwbridge --scrape-interval 1s --remote-write "$PROM_URL/api/v1/write" \
    $TARGETS
INST="127.0.0.1:$SIM_PORT"

# Run the queries of every dashboard (queries.tap), and of the fleet
# dashboard with a concrete instance and model chosen, as a user would
# (queries-inst.tap); succeed when both return data everywhere.
# idle_servers:ratio and wave_elapsed_seconds exist only while the fleet
# has work, slow_requests only once some request was slower than k times
# the median: they may be empty at the instant of the query.
queries_pass() {
	python3 "$top_srcdir/tests/dashboard_queries.py" --prom "$PROM_URL" \
	    --allow-empty 'idle_servers:ratio|slow_requests|wave_elapsed' \
	    "$top_srcdir"/grafana/dashboards/*.json > "$T_TMP/queries.tap"
	RC_ALL=$?
	MODEL=$(curl -fsS --get "$PROM_URL/api/v1/query" \
	    --data-urlencode "query=rollout:kv_cache_usage:ratio{instance=\"$INST\"}" |
	    jq -r '.data.result[0].metric.model_name // ""')
	python3 "$top_srcdir/tests/dashboard_queries.py" --prom "$PROM_URL" \
	    --var "instance=$INST" --var "model_name=$MODEL" --var job=rollout \
	    --allow-empty 'idle_servers:ratio|slow_requests|wave_elapsed|sglang|profiling|gpu_cache|time_per_output' \
	    "$top_srcdir/grafana/dashboards/rollout-fleet.json" \
	    > "$T_TMP/queries-inst.tap"
	RC_INST=$?
	[ "$RC_ALL" -eq 0 ] && [ "$RC_INST" -eq 0 ]
}

# Quantiles need two scrapes in the window and finished requests in it,
# idle servers a batch draining, the 5m windows a first batch: wait, on a
# loaded machine as long as it takes, until every expression has data.
t_wait_until 300 "every dashboard expression returns data" queries_pass

grep -E '^not ok' "$T_TMP/queries.tap" | head -20
t_is "$RC_ALL" 0 "every dashboard expression returns data \
($(grep -c '^ok' "$T_TMP/queries.tap") of $(grep -c '^\(not \)\{0,1\}ok' "$T_TMP/queries.tap"))"
grep -E '^not ok' "$T_TMP/queries-inst.tap" | head -20
t_is "$RC_INST" 0 "rollout fleet dashboard with instance $INST and model '$MODEL'"
t_done
