#!/bin/sh
# Every PromQL expression of every bundled dashboard, with its Grafana
# variables filled in, returns data from a real Prometheus that received a
# simulated mixed fleet (vLLM v1, v0, SGLang, vLLM-Ascend) through rwbridge;
# and from a second Prometheus fed by a cluster of three rwbridges
# (global.cluster) over the same fleet, evaluating
# contrib/rollout-cluster.rules.yml: the fleet panels, which select
# member="", show the rules' cluster-wide series and never a member's.
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

# The cluster's Prometheus evaluates the rules every second.
RULES="$(cd "$top_srcdir" && pwd)/contrib/rollout-cluster.rules.yml"
cat > "$T_TMP/prom-cluster.yml" <<-YML
global:
  scrape_interval: 15s
  evaluation_interval: 1s
rule_files: ["$RULES"]
scrape_configs: []
YML
mkdir -p "$T_TMP/prom-cluster-data"
t_spawn 1 "prometheus (cluster)" "$T_TMP/prom-cluster.log" prometheus \
    --config.file="$T_TMP/prom-cluster.yml" \
    --storage.tsdb.path="$T_TMP/prom-cluster-data" \
    --web.listen-address="127.0.0.1:@PORT@" \
    --web.enable-remote-write-receiver --storage.tsdb.retention.time=1d
CPROM_URL="http://127.0.0.1:$T_PORT"
t_wait_http "$CPROM_URL/-/ready" 120 ||
    t_bail "the cluster's prometheus did not get ready (see prom-cluster.log)"
for m in 0 1 2; do
	# shellcheck disable=SC2086
	RW_LOG="$T_TMP/rwbridge-m$m.log" t_start_rwbridge \
	    --scrape-interval 1s --remote-write "$CPROM_URL/api/v1/write" \
	    --cluster-members-count 3 --cluster-member-num $m $TARGETS
done

# Run the queries of every dashboard against PROM (OUT.tap), and of the
# fleet dashboard with a concrete instance and model chosen, as a user
# would (OUT-inst.tap); succeed when both return data everywhere. Further
# options go to dashboard_queries.py.
# idle_servers:ratio and wave_elapsed_seconds exist only while the fleet
# has work, slow_requests only once some request was slower than k times
# the median: they may be empty at the instant of the query.
queries_pass() {	# PROM OUT [options]
	local prom=$1 out=$2
	shift 2
	python3 "$top_srcdir/tests/dashboard_queries.py" --prom "$prom" \
	    --allow-empty 'idle_servers:ratio|slow_requests|wave_elapsed' \
	    "$@" "$top_srcdir"/grafana/dashboards/*.json > "$out.tap"
	RC_ALL=$?
	MODEL=$(curl -fsS --get "$prom/api/v1/query" \
	    --data-urlencode "query=rollout:kv_cache_usage:ratio{instance=\"$INST\"}" |
	    jq -r '.data.result[0].metric.model_name // ""')
	python3 "$top_srcdir/tests/dashboard_queries.py" --prom "$prom" \
	    --var "instance=$INST" --var "model_name=$MODEL" --var job=rollout \
	    --allow-empty 'idle_servers:ratio|slow_requests|wave_elapsed|sglang|profiling|gpu_cache|time_per_output' \
	    "$@" "$top_srcdir/grafana/dashboards/rollout-fleet.json" \
	    > "$out-inst.tap"
	RC_INST=$?
	[ "$RC_ALL" -eq 0 ] && [ "$RC_INST" -eq 0 ]
}
report() {	# OUT WHAT
	grep -E '^not ok' "$1.tap" | head -20 | sed 's/^/# /'
	t_is "$RC_ALL" 0 "$2: every dashboard expression returns data \
($(grep -c '^ok' "$1.tap") of $(grep -c '^\(not \)\{0,1\}ok' "$1.tap"))"
	grep -E '^not ok' "$1-inst.tap" | head -20 | sed 's/^/# /'
	t_is "$RC_INST" 0 "$2: rollout fleet dashboard with instance $INST and model '$MODEL'"
}

# Quantiles need two scrapes in the window and finished requests in it,
# idle servers a batch draining, the 5m windows a first batch: wait, on a
# loaded machine as long as it takes, until every expression has data.
t_wait_until 300 "every dashboard expression returns data" \
    queries_pass "$PROM_URL" "$T_TMP/queries"
report "$T_TMP/queries" "one rwbridge"

# The cluster: the same, and a fleet panel showing a member's series (a
# member="" missing) fails; the wave completion times and tail are per
# member by design (they cannot be merged).
t_wait_until 300 "every dashboard expression returns data from the cluster" \
    queries_pass "$CPROM_URL" "$T_TMP/cluster" --forbid-label member \
    --forbid-except 'wave_tail|wave_completion'
# The members' last waves, which the rules merge while they overlap.
PROM_URL=$CPROM_URL t_query '{__name__=~"rollout:wave_(start|end)_timestamp_seconds|rollout:waves_total"}' |
    jq -r '.[] | "# \(.metric.__name__){member=\"\(.metric.member // "")\"} \(.value[1])"' | sort
report "$T_TMP/cluster" "three rwbridges and the rules"
t_done
