#!/bin/sh
# Merged fleet series: three members (replication_factor 1) and one bridge
# scrape the same 30 servers (tests/cluster_pages.py: vLLM pages whose
# counters and histograms grow by a per-server multiple when the test says
# so, fixed in between, so every bridge sees the same increase in a
# window). contrib/rollout-cluster.rules.yml, evaluated over the members'
# series through the real Prometheus's query API, gives one bridge's fleet
# series: server counts, running/waiting, the KV mean/max/min/imbalance
# exactly or to 1e-9, and every fleet quantile family per window to 1e-9
# (histogram_quantile of the members' summed window buckets); the summed
# +Inf buckets equal one bridge's count exactly.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

N=30
PAGE="$FIXTURES/exposition/vllm-v1-deepseek.prom"
[ -f "$PAGE" ] || t_bail "fixture $PAGE not found"
t_spawn 1 "page server" "$T_TMP/pages.log" python3 \
    "$top_srcdir/tests/cluster_pages.py" --port @PORT@ --servers $N \
    --page "$PAGE"
PAGES="http://127.0.0.1:$T_PORT"
t_start_prometheus
TARGETS=$(python3 -c 'import json, sys
print(json.dumps([{"url": sys.argv[1] + "/s/%d/metrics" % i,
                  "labels": {"instance": "server-%d" % i}}
                 for i in range(int(sys.argv[2]))]))' \
    "$PAGES" $N)

start_run() {	# RUN COUNT
	local m=0
	while [ $m -lt "$2" ]; do
		cat > "$T_TMP/$1-$m.json" <<-JSON
		{"global": {"scrape_interval": "1s", "scrape_timeout": "900ms",
		  "external_labels": {"run": "$1", "bridge": "m$m"},
		  "cluster": {"members_count": $2, "member_num": $m}},
		 "targets": $TARGETS,
		 "remote_write": [{"url": "$PROM_URL/api/v1/write",
		   "batch_send_deadline": "1s"}]}
		JSON
		RW_LOG="$T_TMP/rwbridge-$1-$m.log" t_start_rwbridge \
		    --config "$T_TMP/$1-$m.json"
		m=$((m + 1))
	done
}
start_run single 1
start_run rf1 3

# Both runs scrape every server, a few times, at gen 0; then the pages grow.
t_ok "$(t_wait_value 'count(count_over_time(up{job="rollout"}[1m]) >= 3)' \
    $((2 * N)) 120; echo $?)" "one bridge and three members scrape all $N servers"
curl -fsS -X POST -d 1 "$PAGES/gen" || t_bail "cannot bump the pages"
# Every server's gen-1 count has arrived from both runs.
W=$(grep '^vllm:e2e_request_latency_seconds_count' "$PAGE" | head -n 1 |
    awk '{ print $2 }')
GEN1="count(vllm:e2e_request_latency_seconds_count{job=\"rollout\"} > $W)"
t_ok "$(t_wait_value "$GEN1" $((2 * N)) 120; echo $?)" \
    "both runs scraped the grown pages"

RULES="$top_srcdir/contrib/rollout-cluster.rules.yml"
rules_equal() {
	python3 "$top_srcdir/tests/cluster_rules_check.py" "$PROM_URL" \
	    "$RULES" rf1 single > "$T_TMP/rules.txt" 2>&1
}
t_wait_until 120 "the rules over the members equal one bridge" rules_equal
RC=$?
sed 's/^/# /' "$T_TMP/rules.txt"
t_ok "$RC" "the recording rules over three members give one bridge's fleet series (counts exactly, quantiles to 1e-9)"
t_ok "$(grep -q 'rollout:e2e_latency_seconds:p99: equal ([1-9]' "$T_TMP/rules.txt"; echo $?)" \
    "the e2e p99 was compared (windows with requests)"
INF='sum by (window) (rollout:e2e_latency_seconds:window_bucket{job="rollout",le="+Inf",run="rf1"}) - sum by (window) (rollout:e2e_latency_seconds:window_bucket{job="rollout",le="+Inf",run="single"})'
t_is "$(t_query 'count('"$INF"' != 0)' | jq -r '.[0].value[1] // "none"')" none \
    "the members' summed +Inf buckets equal one bridge's request count"
t_no_sanitizer_report "no sanitizer report in any bridge's log" \
    "$T_TMP"/rwbridge-*.log
t_done
