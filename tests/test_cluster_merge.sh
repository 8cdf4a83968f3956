#!/bin/sh
# Merged fleet series: three members (replication_factor 1) and one bridge
# scrape the same 30 servers (tests/cluster_pages.py: vLLM pages whose
# counters and histograms grow by a per-server multiple when the test says
# so, fixed in between, so every bridge sees the same increase in a
# window; their load is set by the test). contrib/rollout-cluster.rules.yml,
# evaluated over the members' series through the real Prometheus's query
# API, gives one bridge's fleet series: server counts, running/waiting,
# idle and busy counts exactly, the KV mean/max/min/imbalance, the windowed
# ratios (prefix cache, truncation, spec decode) from their summed parts,
# the idle ratio, the response-length max_bucket and the slow requests to
# 1e-9, and every fleet quantile family per window to 1e-9
# (histogram_quantile of the members' summed window buckets); the summed
# +Inf buckets equal one bridge's count exactly. Then the load ends and the
# rollout wave's requests must equal exactly, its start, end and duration
# within the scrape timing (each bridge sees the change at its own scrape).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

N=30
NGROW=20	# servers i % 3 != 0: busy under "partial", their pages grow
PAGE="$FIXTURES/exposition/vllm-v1-deepseek.prom"
[ -f "$PAGE" ] || t_bail "fixture $PAGE not found"
t_spawn 1 "page server" "$T_TMP/pages.log" python3 \
    "$top_srcdir/tests/cluster_pages.py" --port @PORT@ --servers $N \
    --page "$PAGE" --load idle
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

# Both runs scrape every server, a few times, idle at gen 0 (so a wave's
# start is known); then two thirds of the servers get work.
t_ok "$(t_wait_value 'count(count_over_time(up{job="rollout"}[1m]) >= 3)' \
    $((2 * N)) 120; echo $?)" "one bridge and three members scrape all $N servers"
curl -fsS -X POST -d partial "$PAGES/load" || t_bail "cannot set the load"
t_ok "$(t_wait_value 'count(rollout:requests_running{job="rollout"} > 0)' \
    $((2 * NGROW)) 120; echo $?)" "both runs see the $NGROW busy servers"
# Every member with a busy server is in the wave, and one bridge too.
in_wave() {
	[ "$(t_query 'count(rollout:wave_elapsed_seconds{job="rollout",run="rf1"}) == count(count by (bridge) (rollout:requests_running{job="rollout",run="rf1"} > 0))' |
	    jq -r '.[0].value[1] // "none"')" != none ] &&
	[ "$(t_query 'count(rollout:wave_elapsed_seconds{job="rollout",run="single"})' |
	    jq -r '.[0].value[1] // "none"')" = 1 ]
}
t_wait_until 120 "every bridge is in the wave" in_wave
t_ok $? "one bridge and the members with busy servers started the wave"
curl -fsS -X POST -d 1 "$PAGES/gen" || t_bail "cannot bump the pages"
# Every growing server's gen-1 count has arrived from both runs.
W=$(grep '^vllm:e2e_request_latency_seconds_count' "$PAGE" | head -n 1 |
    awk '{ print $2 }')
GEN1="count(vllm:e2e_request_latency_seconds_count{job=\"rollout\"} > $W)"
t_ok "$(t_wait_value "$GEN1" $((2 * NGROW)) 120; echo $?)" \
    "both runs scraped the grown pages"

RULES="$top_srcdir/contrib/rollout-cluster.rules.yml"
# vmalert (beside the victoria-metrics that scripts/install-deps unpacks)
# parses the rules and their expressions as MetricsQL.
VMALERT=$(command -v vmalert 2>/dev/null)
[ -n "$VMALERT" ] || VMALERT=/opt/victoria-metrics/usr/bin/vmalert
if [ -x "$VMALERT" ]; then
	"$VMALERT" -rule="$RULES" -dryRun > "$T_TMP/vmalert.log" 2>&1
	RC=$?
	[ "$RC" -eq 0 ] || sed 's/^/# /' "$T_TMP/vmalert.log" | tail -5
	t_ok "$RC" "vmalert -dryRun accepts the rules"
else
	T_N=$((T_N + 1))
	echo "ok $T_N - vmalert -dryRun accepts the rules # SKIP no vmalert ($VMALERT)"
fi
# promtool's unit tests of the rules on hand-made member series: the
# slow-request interpolation's three cases, the wave kept while the
# members disagree (tests/cluster_rules_test.yml).
promtool test rules "$top_srcdir/tests/cluster_rules_test.yml" \
    > "$T_TMP/promtool-test.log" 2>&1
RC=$?
[ "$RC" -eq 0 ] || sed 's/^/# /' "$T_TMP/promtool-test.log" | tail -20
t_ok "$RC" "promtool test rules: the rules' unit tests pass"
rules_equal() {	# OUT [cluster_rules_check.py options]
	local out=$1
	shift
	python3 "$top_srcdir/tests/cluster_rules_check.py" "$PROM_URL" \
	    "$RULES" rf1 single "$@" > "$out" 2>&1
}
# While the wave runs: everything but the finished wave's series, which
# neither run has yet; these must all have data.
NEED='idle_servers:ratio|busy_servers|ratio_num|ratio_den|:ratio$|:mean$|max_bucket|slow_requests|window_bucket_bound|wave_elapsed'
t_wait_until 120 "the rules over the members equal one bridge" \
    rules_equal "$T_TMP/rules.txt" --require "$NEED"
RC=$?
sed 's/^/# /' "$T_TMP/rules.txt"
t_ok "$RC" "the recording rules over three members give one bridge's fleet series (counts exactly, ratios and quantiles to 1e-9)"
t_ok "$(grep -q 'rollout:e2e_latency_seconds:p99: equal ([1-9]' "$T_TMP/rules.txt"; echo $?)" \
    "the e2e p99 was compared (windows with requests)"
t_ok "$(grep -q 'rollout:idle_servers:ratio: equal (1 ' "$T_TMP/rules.txt"; echo $?)" \
    "the idle ratio was compared (the fleet had work)"
SLOW='rollout:slow_requests:count{job="rollout",run="single",window="1m"}'
t_ok "$(t_query "$SLOW > 0" | jq -e 'length == 1' >/dev/null; echo $?)" \
    "some requests were slow (the slow-request count compared is not 0)"
INF='sum by (window) (rollout:e2e_latency_seconds:window_bucket{job="rollout",le="+Inf",run="rf1"}) - sum by (window) (rollout:e2e_latency_seconds:window_bucket{job="rollout",le="+Inf",run="single"})'
t_is "$(t_query 'count('"$INF"' != 0)' | jq -r '.[0].value[1] // "none"')" none \
    "the members' summed +Inf buckets equal one bridge's request count"

# The wave ends: its requests exactly, its times within the scrape timing.
WAVE='wave_(start_timestamp|end_timestamp|duration|requests)'
curl -fsS -X POST -d idle "$PAGES/load" || t_bail "cannot set the load"
t_wait_until 120 "the rules give one bridge's last wave" \
    rules_equal "$T_TMP/waves.txt" --only "$WAVE" --require "$WAVE"
RC=$?
sed 's/^/# /' "$T_TMP/waves.txt"
t_ok "$RC" "the rules over three members give one bridge's last wave (requests exactly, times within 3 s)"
t_ok "$(grep -q 'rollout:wave_requests: equal (1 ' "$T_TMP/waves.txt"; echo $?)" \
    "the wave's requests were compared"
t_no_sanitizer_report "no sanitizer report in any bridge's log" \
    "$T_TMP"/rwbridge-*.log
t_done
