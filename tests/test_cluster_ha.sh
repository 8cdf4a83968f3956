#!/bin/sh
# An HA pair: two replicas of one cluster member (same global.cluster,
# identical external labels) remote-write into Debian's VictoriaMetrics
# with -dedup.minScrapeInterval at the scrape interval. Queries return one
# copy of each series (and deduplicated samples, about one per interval
# rather than two); kill -9 of one replica for at least 60 s (until
# VictoriaMetrics holds samples stamped 60 s past the kill, measured on the
# clock but reached by waiting for that condition) leaves no gap in the
# stored series over the whole outage, and the restarted replica joins
# again.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_find_victoria_metrics
N=12
t_start_sim $N --tick 100ms
t_spawn 1 victoria-metrics "$T_TMP/vm.log" "$VM" \
    -httpListenAddr="127.0.0.1:@PORT@" -storageDataPath="$T_TMP/vm-data" \
    -retentionPeriod=1d -loggerLevel=WARN -dedup.minScrapeInterval=1s \
    -search.latencyOffset=0s
VM_URL="http://127.0.0.1:$T_PORT"
t_wait_http "$VM_URL/health" 120 ||
    t_bail "victoria-metrics did not get ready (see vm.log)"

cat > "$T_TMP/ha.json" <<EOF
{"global": {"scrape_interval": "1s", "scrape_timeout": "900ms",
  "external_labels": {"cluster": "rollout-m0"},
  "cluster": {"members_count": 2, "member_num": 0}},
 "targets": $(t_instances "$SIM_PORT" $N | jq -R -c 'split(" ")'),
 "remote_write": [{"url": "$VM_URL/api/v1/write",
   "batch_send_deadline": "1s"}]}
EOF
start_replica() {
	RW_LOG="$T_TMP/rwbridge-$1.log" t_start_rwbridge --config "$T_TMP/ha.json"
	eval "PID_$1=$RW_PID; URL_$1=$RW_URL"
}
start_replica a
start_replica b
# The two replicas own the same targets (member 0 of 2).
owned() {
	curl -fsS "$1/api/v1/targets" |
	    jq -r '.data.activeTargets[] | select(.group != "self") | .scrapeUrl' |
	    sort
}
t_is "$(owned "$URL_a")" "$(owned "$URL_b")" \
    "both replicas scrape the same targets"
NOWN=$(owned "$URL_a" | wc -l)
[ "$NOWN" -gt 0 ] || t_bail "member 0 of 2 owns none of $N targets"

vmq() {		# instant query at VictoriaMetrics, first value or none
	curl -fsS --get "$VM_URL/api/v1/query" --data-urlencode "query=$1" |
	    jq -r '.data.result[0].value[1] // "none"'
}
vm_is() {
	[ "$(vmq "$1")" = "$2" ]
}
t_ok "$(t_wait_until 120 "every owned target has 20 s of up samples" vm_is \
    "count(count_over_time(up{job=\"rollout\"}[20s]) >= 15)" "$NOWN"; echo $?)" \
    "VictoriaMetrics holds up of every owned target ($NOWN)"
t_is "$(vmq 'count(up{job="rollout"})')" "$NOWN" \
    "one copy of each series, not one per replica"
MAXC=$(vmq 'max(count_over_time(up{job="rollout"}[20s]))')
t_ok "$(awk -v c="$MAXC" 'BEGIN { exit !(c <= 24) }'; echo $?)" \
    "deduplicated: at most ~one sample per second in 20 s (got $MAXC; two replicas undeduplicated give ~40)"

# kill -9 replica a and keep it down for 60 s: until VictoriaMetrics holds
# samples of every owned target stamped 60 s past the kill (replica b's
# alone), then restart it.
scrapes() {
	curl -fsS "$1/metrics" |
	    sed -n 's/^rwbridge_scrapes_total{result="success"} //p'
}
grew() {	# URL N: the replica at URL has N successful scrapes
	[ "$(scrapes "$1")" -ge "$2" ]
}
OUTAGE_MS=60000
S0=$(scrapes "$URL_b")
T_KILL_MS=$(date +%s%3N)
kill -9 "$PID_a"
wait "$PID_a" 2>/dev/null
t_untrack "$PID_a"
PAST=$(awk -v t="$T_KILL_MS" -v o="$OUTAGE_MS" \
    'BEGIN { printf "%.3f", (t + o) / 1000 }')
t_ok "$(t_wait_until 300 "VictoriaMetrics holds samples 60 s past the kill" \
    vm_is "count(timestamp(up{job=\"rollout\"}) >= $PAST)" "$NOWN"; echo $?)" \
    "replica b alone delivered every owned target's up 60 s past the kill"
T_UP_MS=$(date +%s%3N)
S1=$(scrapes "$URL_b")
start_replica a
DOWN_MS=$((T_UP_MS - T_KILL_MS))
t_ok "$([ "$DOWN_MS" -ge "$OUTAGE_MS" ]; echo $?)" \
    "replica a was down for at least 60 s (${DOWN_MS} ms to the restart)"
t_ok "$([ $((S1 - S0)) -ge $((30 * (NOWN + 1))) ]; echo $?)" \
    "replica b scraped on alone ($(((S1 - S0) / (NOWN + 1))) rounds of $((NOWN + 1)) targets)"
t_ok "$(t_wait_until 60 "replica a scrapes again" grew "$URL_a" \
    $((NOWN + 1)); echo $?)" "replica a restarted and scrapes"
AFTER=$(date +%s%3N | awk '{ printf "%.3f", $1 / 1000 }')
# Wait until the stored series reach past the restart, then look for gaps
# from 10 s before the kill to now.
t_ok "$(t_wait_until 60 "VictoriaMetrics has samples after the restart" \
    vm_is "count(timestamp(up{job=\"rollout\"}) > $AFTER)" \
    "$NOWN"; echo $?)" "samples after the restart arrived"
curl -fsS "$VM_URL/api/v1/export" --data-urlencode 'match[]=up{job="rollout"}' \
    --data-urlencode "start=$((T_KILL_MS / 1000 - 10))" \
    --data-urlencode "end=$(($(date +%s) + 1))" > "$T_TMP/export.jsonl"
# Series, widest gap (s), latest first sample and earliest last sample
# (ms since the epoch): the export must span the outage.
GAPS=$(python3 - "$T_TMP/export.jsonl" <<'EOF'
import json, sys
worst, n, first, last = 0.0, 0, 0, None
for line in open(sys.argv[1]):
    s = json.loads(line)
    ts = sorted(s["timestamps"])
    n += 1
    first = max(first, ts[0])
    last = ts[-1] if last is None else min(last, ts[-1])
    for a, b in zip(ts, ts[1:]):
        worst = max(worst, (b - a) / 1000.0)
print("%d %.3f %d %d" % (n, worst, first, last or 0))
EOF
)
set -- ${GAPS:-0 999 0 0}
t_is "$1" "$NOWN" "the export holds one series of up per owned target"
t_ok "$([ "$3" -le "$T_KILL_MS" ] && [ "$4" -ge "$T_UP_MS" ]; echo $?)" \
    "every series spans the outage (samples from $(((T_KILL_MS - $3) / 1000)) s before the kill to $((($4 - T_UP_MS) / 1000)) s after the restart)"
t_ok "$(awk -v g="$2" 'BEGIN { exit !(g <= 3.0) }'; echo $?)" \
    "no gap across the ${DOWN_MS} ms kill -9: the widest gap between samples is ${2}s (interval 1s, at most 3 s allowed)"
t_stop_rwbridge "$PID_a" "replica a exits 0 on SIGTERM"
t_stop_rwbridge "$PID_b" "replica b exits 0 on SIGTERM"
t_no_sanitizer_report "no sanitizer report in the replicas' logs" \
    "$T_TMP"/rwbridge-*.log
t_done
