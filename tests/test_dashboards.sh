#!/bin/sh
# Every PromQL expression of every bundled dashboard, with its Grafana
# variables filled in, returns data from a real Prometheus that received a
# simulated mixed fleet (vLLM v1, v0, SGLang, vLLM-Ascend) through rwbridge.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

N=8
t_start_prometheus
SIM_PORT=$(t_free_port_range $N) || t_bail "no $N consecutive free ports"
"$RWBRIDGE_SIM" --servers $N --base-port "$SIM_PORT" --flavour mixed \
    --seed 7 --batch-every 20s >>"$T_TMP/sim.log" 2>&1 &
t_track $!
t_wait_http "http://127.0.0.1:$SIM_PORT/metrics" 20 ||
    t_bail "rwbridge-sim did not start"

TARGETS=""
i=0
while [ $i -lt $N ]; do
	TARGETS="$TARGETS --target 127.0.0.1:$((SIM_PORT + i))"
	i=$((i + 1))
done
# shellcheck disable=SC2086
t_start_rwbridge --scrape-interval 1s --remote-write "$PROM_URL/api/v1/write" \
    $TARGETS

# Quantiles need two scrapes in the window and finished requests; idle
# servers need a batch draining: wait for the slowest of them.
t_wait_value 'count(rollout:e2e_latency_seconds:p99{window="1m"}) >= bool 5' 1 90
t_wait_value 'count(rollout:itl_seconds:p50{window="5m"}) > bool 0' 1 30
sleep 5

# idle_servers:ratio exists only while the fleet has work, slow_requests
# only once some request was slower than k times the median: both may be
# empty at the instant of the query.
python3 "$top_srcdir/tests/dashboard_queries.py" --prom "$PROM_URL" \
    --allow-empty 'idle_servers:ratio|slow_requests' \
    "$top_srcdir"/grafana/dashboards/*.json > "$T_TMP/queries.tap"
rc=$?
grep -E '^not ok' "$T_TMP/queries.tap" | head -20
t_is "$rc" 0 "every dashboard expression returns data \
($(grep -c '^ok' "$T_TMP/queries.tap") of $(grep -c '^\(not \)\{0,1\}ok' "$T_TMP/queries.tap"))"

# And with a concrete instance and model chosen, as a user would.
INST="127.0.0.1:$SIM_PORT"
MODEL=$(curl -fsS --get "$PROM_URL/api/v1/query" \
    --data-urlencode "query=rollout:kv_cache_usage:ratio{instance=\"$INST\"}" |
    jq -r '.data.result[0].metric.model_name // ""')
python3 "$top_srcdir/tests/dashboard_queries.py" --prom "$PROM_URL" \
    --var "instance=$INST" --var "model_name=$MODEL" --var job=rollout \
    --allow-empty 'idle_servers:ratio|slow_requests|sglang|profiling|gpu_cache|time_per_output' \
    "$top_srcdir/grafana/dashboards/rollout-fleet.json" \
    > "$T_TMP/queries-inst.tap"
rc=$?
grep -E '^not ok' "$T_TMP/queries-inst.tap" | head -20
t_is "$rc" 0 "rollout fleet dashboard with instance $INST and model '$MODEL'"
t_done
