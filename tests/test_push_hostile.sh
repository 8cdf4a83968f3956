#!/bin/sh
# Hostile pushes, many groups and failing sinks (issue 19 items 1, 4, 5,
# 6c, 8; issue 17 item 5), against the real Prometheus and Pushgateway:
# - an 80,000-family push is answered while /-/healthy keeps answering and
#   scrapes keep arriving in Prometheus; over push_max_families it is a 413
#   naming the cap;
# - a TYPE clash and a 1 MB label value are a 400 with the reason, and
#   nothing is stored or forwarded;
# - push groups stop at push_max_groups with a clear 429, RSS bounded;
# - registering thousands of API groups batches the state file's writes
#   (rwbridge_state_saves_total), time per request printed as a figure;
# - job@base64 paths are accepted as the Pushgateway accepts them;
# - an interval under the minimum is refused with its JSON path;
# - an unreachable Pushgateway or receiver logs one line per state change,
#   then repeated=N, not a line per retry;
# - a queue recovered from disk drains with no targets and no new data.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_start_prometheus
t_dead_port
mkdir -p "$T_TMP/www"
cp "$FIXTURES/exposition/vllm-v1-deepseek.prom" "$T_TMP/www/metrics"
t_serve_dir "$T_TMP/www"
PAGE=$SERVE_PORT

# Print a text body of N families of one sample each.
families() {
	python3 -c 'import sys
sys.stdout.write("".join("f%d 1\n" % i for i in range(int(sys.argv[1]))))' "$1"
}

# push METHOD PATH FILE: print the status; the reply goes to $T_TMP/resp.
push() {
	curl -s -o "$T_TMP/resp" -w '%{http_code}' -X "$1" --max-time 120 \
	    --data-binary "@$3" "$RW_URL$2"
}

# Print a metric of rwbridge's /metrics (first sample's value).
rw_metric() {
	curl -fsS --max-time 10 "$RW_URL/metrics" 2>/dev/null | awk -v m="$1" \
	    '$1 == m || index($1, m "{") == 1 { print $2; exit }'
}

# Print rwbridge's resident set in kB.
rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$RW_PID/status"
}

# ---- 1. the 80,000-family push, accepted under a raised cap ----------
cat > "$T_TMP/big.json" <<EOF
{"global": {"scrape_interval": "1s", "self_scrape": false,
            "push_max_families": 100000, "push_max_samples": 100000},
 "targets": ["127.0.0.1:$PAGE"],
 "remote_write": ["$PROM_URL/api/v1/write"]}
EOF
t_start_rwbridge --config "$T_TMP/big.json"
scrapes() {
	t_query_value 'count_over_time(up{instance="127.0.0.1:'"$PAGE"'"}[10m])'
}
t_wait_value "up{instance=\"127.0.0.1:$PAGE\"}" 1 120
before=$(scrapes)
families 80000 > "$T_TMP/f80k"
t0=$(date +%s.%N)
push PUT /metrics/job/big "$T_TMP/f80k" > "$T_TMP/big.code" &
PUSH=$!
# /-/healthy answers while the push is parsed, stored and forwarded (it
# took 14 s before pushes were split through hash tables; now well under
# a second without sanitizers).
healthy=0 unhealthy=0
while t_alive "$PUSH"; do
	if curl -fsS -o /dev/null --max-time 5 "$RW_URL/-/healthy"; then
		healthy=$((healthy + 1))
	else
		unhealthy=$((unhealthy + 1))
	fi
done
wait "$PUSH"
t1=$(date +%s.%N)
echo "# 80,000-family push answered in $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }") s;" \
    "/-/healthy answered $healthy times meanwhile, failed $unhealthy"
t_is "$(cat "$T_TMP/big.code")" 200 "an 80,000-family push under the cap is accepted"
t_is "$unhealthy" 0 "/-/healthy never failed while it ran"
t_wait_value 'f79999{job="big"}' 1 120
t_ok "$(t_value_is 'f0{job="big"}' 1; echo $?)" "its first and last families arrive"
t_is "$(push DELETE /metrics/job/big /dev/null)" 202 "the big group is deleted"
# Scrapes keep arriving after it (counted, not timed).
more_scrapes() {
	[ "$(scrapes)" -ge $((before + 3)) ]
}
t_ok "$(t_wait_until 120 "three more scrapes arrive" more_scrapes; echo $?)" \
    "scrapes keep arriving in Prometheus"
t_stop_rwbridge

# ---- caps, invalid pushes, groups, base64 on a small-capped rwbridge --
t_start_pushgateway
cat > "$T_TMP/caps.json" <<EOF
{"global": {"scrape_interval": "1s", "self_scrape": false,
            "push_max_families": 1000, "push_max_groups": 2000},
 "remote_write": ["$PROM_URL/api/v1/write"]}
EOF
t_start_rwbridge --config "$T_TMP/caps.json"
t_is "$(push PUT /metrics/job/capped "$T_TMP/f80k")" 413 \
    "80,000 families over a cap of 1000: 413"
t_ok "$(grep -q 'push_max_families' "$T_TMP/resp"; echo $?)" \
    "the 413 names the cap (push_max_families): $(cat "$T_TMP/resp")"
t_ok "$(grep -q 'more than 1000 metric families' "$T_TMP/resp"; echo $?)" \
    "the 413 says what the cap is"

# ---- 4. what forwarding would refuse is refused before the reply ------
printf '# TYPE a counter\n# TYPE b gauge\nb 1\n# TYPE a gauge\na 1\n' \
    > "$T_TMP/clash"
for url in "$RW_URL" "$PGW_URL"; do
	curl -s -o "$T_TMP/resp" -w '%{http_code}\n' -X PUT \
	    --data-binary "@$T_TMP/clash" "$url/metrics/job/clash"
done > "$T_TMP/clash.codes"
t_is "$(tr '\n' ' ' < "$T_TMP/clash.codes")" "400 400 " \
    "a second TYPE line: 400 from rwbridge and from the Pushgateway"
push PUT /metrics/job/clash "$T_TMP/clash" >/dev/null
t_ok "$(grep -qi 'type' "$T_TMP/resp"; echo $?)" \
    "the 400 gives the reason: $(cat "$T_TMP/resp")"
python3 -c 'import sys
sys.stdout.write("m{l=\"%s\"} 1\n" % ("x" * (1 << 20)))' > "$T_TMP/bigvalue"
t_is "$(push PUT /metrics/job/bigvalue "$T_TMP/bigvalue")" 400 \
    "a 1 MB label value: 400"
t_ok "$(grep -q 'too long' "$T_TMP/resp"; echo $?)" \
    "the 400 says the series is too long: $(cut -c1-160 "$T_TMP/resp")"
t_is "$(rw_metric rwbridge_push_groups)" 0 "nothing was stored"

# ---- 8. job@base64, as the Pushgateway and client_python use it -------
B64=$(printf 'a/b' | base64 | tr '+/' '-_')
printf 'b64_metric 7\n' > "$T_TMP/b64"
for url in "$RW_URL" "$PGW_URL"; do
	curl -s -o /dev/null -w '%{http_code}\n' -X PUT \
	    --data-binary "@$T_TMP/b64" "$url/metrics/job@base64/$B64/x/y"
done > "$T_TMP/b64.codes"
t_is "$(tr '\n' ' ' < "$T_TMP/b64.codes")" "200 200 " \
    "/metrics/job@base64/... accepted by rwbridge and the Pushgateway"
t_ok "$(curl -fsS "$PGW_URL/api/v1/metrics" | jq -e \
    '.data[] | select(.labels.job == "a/b")' >/dev/null; echo $?)" \
    "the Pushgateway decodes the job to a/b"
t_wait_value 'b64_metric{job="a/b",x="y"}' 7 120

# ---- 5. push groups stop at the cap -----------------------------------
rss0=$(rss_kb)
python3 - "$RW_PORT" 2100 > "$T_TMP/groups.out" <<'EOF'
import http.client, sys, collections
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
codes, last = collections.Counter(), ""
for i in range(n):
    c.request("PUT", "/metrics/job/g/instance/%d" % i,
              body=b"# TYPE m gauge\nm 1\n")
    r = c.getresponse()
    body = r.read().decode()
    codes[r.status] += 1
    if r.status != 200:
        last = body
print(" ".join("%d:%d" % kv for kv in sorted(codes.items())))
print(last)
EOF
rss1=$(rss_kb)
echo "# push groups: $(head -n 1 "$T_TMP/groups.out"); RSS $rss0 -> $rss1 kB"
t_is "$(head -n 1 "$T_TMP/groups.out")" "200:1999 429:101" \
    "push groups stop at push_max_groups (2000 with job@base64's)"
t_ok "$(sed -n 2p "$T_TMP/groups.out" | grep -q 'push_max_groups'; echo $?)" \
    "the 429 names the cap: $(sed -n 2p "$T_TMP/groups.out")"
t_is "$(rw_metric rwbridge_push_groups)" 2000 "2000 groups held"
t_ok "$([ $((rss1 - rss0)) -lt 262144 ]; echo $?)" \
    "2000 groups cost less than 256 MiB of RSS (+$((rss1 - rss0)) kB)"

# ---- 8. an interval under the minimum is refused with its path --------
curl -s -o "$T_TMP/resp" -w '%{http_code}' -X PUT \
    --data-binary '{"targets":["127.0.0.1:1"],"interval":"1ms"}' \
    "$RW_URL/api/v1/targets/fast" > "$T_TMP/fast.code"
t_is "$(cat "$T_TMP/fast.code")" 400 '"interval": "1ms" is refused'
t_ok "$(grep -q '\$.interval.*minimum of 100ms' "$T_TMP/resp"; echo $?)" \
    "with the JSON path and the minimum: $(cat "$T_TMP/resp")"
printf '{"global": {"scrape_interval": "1ms"}}\n' > "$T_TMP/fast.json"
"$RWBRIDGE" check-config "$T_TMP/fast.json" > "$T_TMP/fast.out" 2>&1
t_ok "$(grep -q 'global.scrape_interval.*minimum of 100ms' "$T_TMP/fast.out"; echo $?)" \
    "a config file's 1ms scrape_interval is refused: $(cat "$T_TMP/fast.out")"
t_no_sanitizer_report
t_stop_rwbridge

# ---- 5. API groups: state writes are batched ---------------------------
mkdir -p "$T_TMP/state"
cat > "$T_TMP/api.json" <<EOF
{"global": {"scrape_interval": "1m", "self_scrape": false,
            "state_dir": "$T_TMP/state", "api_max_groups": 3000},
 "remote_write": ["$PROM_URL/api/v1/write"]}
EOF
RW_LOG=$T_TMP/rwbridge-api.log t_start_rwbridge --config "$T_TMP/api.json"
python3 - "$RW_PORT" 3000 "$DEAD" > "$T_TMP/api.out" <<'EOF'
import http.client, sys, time
port, n, dead = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
def put(name):
    c.request("PUT", "/api/v1/targets/" + name, body=(
        '{"targets":["127.0.0.1:%s"],"labels":{"g":"%s"},"interval":"1h"}'
        % (dead, name)).encode())
    r = c.getresponse()
    return r.status, r.read().decode()
t0 = time.monotonic(); tf = t0
for i in range(n):
    code, body = put("g%d" % i)
    if code != 200:
        sys.exit("g%d: %d %s" % (i, code, body))
    if i == 499:
        tf = time.monotonic()
    if i == n - 500:
        tl = time.monotonic()
t1 = time.monotonic()
code, body = put("over")
print("%.3f %.3f %.1f" % ((tf - t0) / 500 * 1000, (t1 - tl) / 500 * 1000, t1 - t0))
print(code, body)
EOF
t_ok $? "3000 API groups registered"
set -- $(head -n 1 "$T_TMP/api.out")
echo "# API registration: first 500 ${1} ms/request, last 500 ${2} ms/request," \
    "3000 in ${3} s"
saves=$(rw_metric rwbridge_state_saves_total)
echo "# state file written $saves times for 3000 registrations"
t_ok "$([ "$saves" -le $(( ${3%.*} + 3 )) ]; echo $?)" \
    "state writes are batched: $saves for 3000 writes in ${3} s (one a second)"
t_ok "$(sed -n 2p "$T_TMP/api.out" | grep -q '^429 .*api_max_groups'; echo $?)" \
    "the group past api_max_groups gets a 429 naming it: $(sed -n 2p "$T_TMP/api.out")"
# The last batch is saved: at shutdown at the latest.
t_stop_rwbridge
t_is "$(jq '.groups | length' "$T_TMP/state/targets.json")" 3000 \
    "every group is in the state file after shutdown"

# ---- 17.5 / 6c: failing sinks, then a recovered backlog -----------------
t_hold_ports 1
PGW2=$HOLD_PORT
PGW2_HOLD=$HOLD_PID
t_stop_prometheus
mkdir -p "$T_TMP/qstate"
cat > "$T_TMP/down.json" <<EOF
{"global": {"scrape_interval": "1s", "self_scrape": false,
            "state_dir": "$T_TMP/qstate"},
 "remote_write": [{"url": "$PROM_URL/api/v1/write", "min_backoff": "10ms",
                   "max_backoff": "100ms", "batch_send_deadline": "100ms"}],
 "pushgateway": "http://127.0.0.1:$PGW2"}
EOF
RW_LOG=$T_TMP/rwbridge-down.log t_start_rwbridge --config "$T_TMP/down.json"
t_is "$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
    --data-binary "{\"targets\":[\"127.0.0.1:$PAGE\"],\"labels\":{\"phase\":\"backlog\"}}" \
    "$RW_URL/api/v1/targets/page")" 200 "the page is registered"
pg_failures() {
	curl -fsS --max-time 10 "$RW_URL/metrics" 2>/dev/null |
	    awk '$1 == "rwbridge_pushgateway_pushes_total{result=\"failure\"}" { print $2 }'
}
# The sink backs off from 250 ms to 30 s: 8 tries take about 30 s.
many_failures() {
	[ "$(pg_failures)" -ge 8 ] &&
	    [ "$(rw_metric rwbridge_remote_write_requests_total)" -ge 20 ]
}
t_wait_until 180 "8 pushes and 20 sends failed" many_failures ||
	t_bail "the sinks were not tried 8 and 20 times"
fails=$(pg_failures)
sends=$(rw_metric rwbridge_remote_write_requests_total)
lines=$(grep -c 'msg="pushgateway push failed"' "$T_TMP/rwbridge-down.log")
rwlines=$(grep -c 'msg="remote write failed' "$T_TMP/rwbridge-down.log")
echo "# $fails failed pushes logged $lines lines; $sends failed sends" \
    "logged $rwlines"
t_ok "$([ "$lines" -ge 1 ] && [ "$lines" -le 2 ]; echo $?)" \
    "an unreachable Pushgateway: $lines log lines for $fails failures"
t_ok "$([ "$rwlines" -ge 1 ] && [ "$rwlines" -le 2 ]; echo $?)" \
    "an unreachable receiver: $rwlines log lines for $sends failed sends"
# The Pushgateway comes up: one line says so, with the count held back.
t_kill "$PGW2_HOLD"
t_untrack "$PGW2_HOLD"
t_spawn "1@$PGW2" pushgateway2 "$T_TMP/pushgateway2.log" \
    prometheus-pushgateway --web.listen-address="127.0.0.1:$PGW2" \
    --persistence.file=
PGW2_PID=$T_LPID
recovered() {
	grep 'msg="pushgateway push recovered"' "$T_TMP/rwbridge-down.log" |
	    grep -q 'repeated=[1-9]'
}
t_ok "$(t_wait_until 120 "the recovery is logged" recovered; echo $?)" \
    "recovery logged with repeated=N: $(grep 'push recovered' \
    "$T_TMP/rwbridge-down.log" | head -n 1 | cut -d' ' -f3-)"
t_kill "$PGW2_PID"
t_untrack "$PGW2_PID"
# The target goes (its group leaves the state file); its scrapes wait in
# the queue on disk, unsent.
t_is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE \
    "$RW_URL/api/v1/targets/page")" 200 "the page is removed"
scraped=$(curl -fsS "$RW_URL/metrics" |
    awk '$1 == "rwbridge_scrapes_total{result=\"success\"}" { print $2 }')
pending=$(rw_metric rwbridge_remote_write_samples_pending)
echo "# $scraped scrapes, $pending samples pending at shutdown"
t_ok "$([ "$pending" -gt 0 ]; echo $?)" "samples are pending ($pending)"
t_stop_rwbridge
# Restart with the receiver up, no targets and no self-scrape: nothing
# new arrives, so only the recovered backlog can reach Prometheus.
t_start_prometheus
RW_LOG=$T_TMP/rwbridge-drain.log t_start_rwbridge --config "$T_TMP/down.json"
t_is "$(rw_metric rwbridge_targets)" 0 "restarted with no targets"
arrived() {
	[ "$(t_query_value 'count_over_time(up{phase="backlog"}[1h])')" = "$scraped" ]
}
nothing_pending() {
	[ "$(rw_metric rwbridge_remote_write_samples_pending)" = 0 ]
}
t_ok "$(t_wait_until 120 "nothing is pending" nothing_pending; echo $?)" \
    "the recovered backlog is sent with no new data"
t_is "$(rw_metric rwbridge_remote_write_samples_total)" "$pending" \
    "every pending sample is sent"
t_wait_until 60 "$scraped scrapes arrive" arrived
t_is "$(t_query_value 'count_over_time(up{phase="backlog"}[1h])')" \
    "$scraped" "every scrape of the outage arrives in Prometheus"
t_stop_rwbridge
t_no_sanitizer_report "no sanitizer report" "$T_TMP/rwbridge.log" \
    "$T_TMP/rwbridge-api.log" "$T_TMP/rwbridge-down.log" \
    "$T_TMP/rwbridge-drain.log"
t_done
