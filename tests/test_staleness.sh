#!/bin/sh
# Staleness end to end with the real Prometheus as the remote-write
# receiver. When a target is removed through the API, every series it
# produced gets a stale marker, so an instant query stops returning it
# within a couple of seconds instead of after Prometheus's 5-minute
# lookback (the test waits up to a minute, far below those 5 minutes, and
# prints how long it took); the other target's series keep answering. A series missing from
# a successful scrape goes stale the same way, and removing a whole group
# stale-marks all of its targets.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

L=127.0.0.1

# Wait until the query returns nothing (up to 60 s); prints the wait in ms.
wait_gone() {
	_start=$(date +%s%N)
	if t_wait_until 60 "$1 returns nothing" t_value_is "$1" none; then
		echo $(( ($(date +%s%N) - _start) / 1000000 ))
		return 0
	fi
	echo never
	return 1
}

# Succeed when Prometheus holds at least N samples of query Q's series.
samples_at_least() {
	[ "$(t_query_value "count_over_time($1[1h])")" -ge "$2" ] 2>/dev/null
}

[ -x "$RWBRIDGE_SIM" ] || t_bail "simulator $RWBRIDGE_SIM not built"
t_start_sim 2 --flavour vllm-v1
A="$L:$SIM_PORT"
B="$L:$((SIM_PORT + 1))"

# A page whose series set we change between scrapes.
mkdir -p "$T_TMP/www"
printf '# TYPE churn_a gauge\nchurn_a 1\n# TYPE churn_b gauge\nchurn_b 2\n' \
    > "$T_TMP/www/metrics"
t_serve_dir "$T_TMP/www"
WWW=$SERVE_PORT

t_start_prometheus
cat > "$T_TMP/rwbridge.json" <<JSON
{
  "global": {"scrape_interval": "1s", "scrape_timeout": "800ms"},
  "remote_write": [{"url": "$PROM_URL/api/v1/write",
                    "batch_send_deadline": "100ms"}]
}
JSON
t_start_rwbridge --config "$T_TMP/rwbridge.json"

code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X PUT --data \
    "{\"targets\":[\"$A\",\"$B\",\"$L:$WWW\"],\"labels\":{\"rollout\":\"s\"}}" \
    "$RW_URL/api/v1/targets/sim")
t_is "$code" 200 "three targets registered"

t_wait_value "up{instance=\"$A\"}" 1 120
t_is "$(t_query_value "up{instance=\"$A\"}")" 1 "target A is up in Prometheus"
t_wait_value "up{instance=\"$B\"}" 1 60
t_is "$(t_query_value "up{instance=\"$B\"}")" 1 "target B is up in Prometheus"
RAW="count({instance=\"$B\",__name__=~\"vllm:.+\"})"
RAWA="count({instance=\"$A\",__name__=~\"vllm:.+\"})"
t_wait_value "$RAW > bool 0" 1 60
t_ok "$([ "$(t_query_value "$RAW")" != none ]; echo $?)" \
    "B's vllm: series are in Prometheus ($(t_query_value "$RAW") series)"
t_ok "$([ "$(t_query_value "$RAWA")" != none ]; echo $?)" \
    "A's vllm: series are in Prometheus"
t_wait_value 'churn_b{rollout="s"}' 2 60
t_is "$(t_query_value 'churn_b{rollout="s"}')" 2 \
    "the page's churn_b series is in Prometheus"

# A series that disappears from a successful scrape goes stale.
printf '# TYPE churn_a gauge\nchurn_a 1\n' > "$T_TMP/www/metrics.new"
mv "$T_TMP/www/metrics.new" "$T_TMP/www/metrics"
ms=$(wait_gone 'churn_b')
t_ok $? "churn_b is gone from instant queries ${ms} ms after it left the page"
t_is "$(t_query_value 'churn_a')" 1 "churn_a, still on the page, answers"

# Remove B through the API: up and its raw series go at once.
code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X DELETE \
    "$RW_URL/api/v1/targets/sim?target=$B")
t_is "$code" 200 "B removed through the API"
ms=$(wait_gone "up{instance=\"$B\"}")
t_ok $? "up{instance=\"$B\"} returns nothing ${ms} ms after the removal"
ms=$(wait_gone "$RAW")
t_ok $? "B's vllm: series return nothing ${ms} ms after the removal"
t_is "$(t_query_value "{instance=\"$B\"}")" none \
    "no series of B at all (scrape_* included)"
t_is "$(t_query_value "up{instance=\"$A\"}")" 1 "A's up still answers"
t_ok "$([ "$(t_query_value "$RAWA")" != none ]; echo $?)" \
    "A's vllm: series still answer"
NA=$(t_query_value "count_over_time(up{instance=\"$A\"}[1h])")
t_wait_until 60 "two more scrapes of A arrive" samples_at_least \
    "up{instance=\"$A\"}" $((NA + 2))
t_is "$(t_query_value "up{instance=\"$A\"}")" 1 \
    "A keeps answering after more scrapes"
t_is "$(t_query_value "$RAW")" none "B stays gone"

# Remove the whole group: every remaining target's series go.
code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X DELETE \
    "$RW_URL/api/v1/targets/sim")
t_is "$code" 200 "the group removed through the API"
ms=$(wait_gone "up{rollout=\"s\"}")
t_ok $? "up of every target of the group returns nothing ${ms} ms later"
ms=$(wait_gone "$RAWA")
t_ok $? "A's vllm: series return nothing ${ms} ms later"
t_is "$(t_query_value 'churn_a')" none "the page's series are gone too"

t_stop_rwbridge
t_no_sanitizer_report
t_done
