#!/bin/sh
# Churn: 500 targets (100 simulated vLLM servers and 400 dead ports, held
# by the test so nothing else listens there) registered and removed in five
# waves (PUT 500 / PUT 0) while scraping every 5 s (every second would ask
# more of a loaded 2-core machine than ASan builds give: scrapes would be
# skipped, not wrong). rwbridge must not crash, must list exactly what was
# registered after every wave, and its RSS after the last wave must be back
# near its RSS after the first (< 1.5x + 4 MiB): nothing a target owns may
# outlive it. Under make check the binary has ASan, whose log must be clean.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

L=127.0.0.1
NSIM=100
NALL=500
WAVES=5

# ASan keeps freed memory in quarantine (256 MiB by default), which would
# look like growth; a small quarantine keeps RSS meaningful.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
export ASAN_OPTIONS

# rwbridge's resident set size in KiB.
rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$RW_PID/status"
}

# The number of targets of the churn group listed (health $1, if given).
count() {
	curl -s "$RW_URL/api/v1/targets" | jq --arg h "${1:-}" \
	    '[.data.activeTargets[] | select(.group == "churn" and
	    ($h == "" or .health == $h))] | length'
}

# Succeed when exactly N churn targets are up.
n_up() {
	[ "$(count up)" = "$1" ]
}

# Succeed when rwbridge has taken at least N successful scrapes.
scrapes_at_least() {
	[ "$(t_selfm 'rwbridge_scrapes_total\{result="success"\}')" -ge "$1" ] \
	    2>/dev/null
}

# Succeed when rwbridge has no sample waiting to be sent.
nothing_pending() {
	[ "$(t_selfm 'rwbridge_remote_write_samples_pending')" = 0 ]
}

[ -x "$RWBRIDGE_SIM" ] || t_bail "simulator $RWBRIDGE_SIM not built"
t_start_sim $NSIM --flavour vllm-v1
t_dead_port $((NALL - NSIM))

t_start_sink

cat > "$T_TMP/rwbridge.json" <<JSON
{
  "global": {"scrape_interval": "1s", "scrape_timeout": "900ms"},
  "remote_write": [{"url": "http://$L:$SINK/api/v1/write",
                    "batch_send_deadline": "200ms"}]
}
JSON
t_start_rwbridge --config "$T_TMP/rwbridge.json" --log-level warn

python3 -c 'import json, sys
base, n = int(sys.argv[1]), int(sys.argv[2])
ports = list(range(base, base + n)) + [int(p) for p in sys.argv[3].split()]
print(json.dumps({"targets": ["127.0.0.1:%d" % p for p in ports],
                  "labels": {"rollout": "churn"}, "interval": "5s",
                  "timeout": "4s"}))' \
    "$SIM_PORT" $NSIM "$DEAD_PORTS" > "$T_TMP/all.json"

wave=1
base_rss=
while [ $wave -le $WAVES ]; do
	code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X PUT \
	    --data-binary "@$T_TMP/all.json" "$RW_URL/api/v1/targets/churn")
	t_is "$code:$(jq .data.targets "$T_TMP/resp")" "200:$NALL" \
	    "wave $wave: PUT $NALL targets"
	t_is "$(count)" $NALL "wave $wave: $NALL targets listed"
	# Wait for every live server to be up, then for two more scrapes of
	# each.
	t_wait_until 120 "the $NSIM live servers are up" n_up $NSIM
	t_ok $? "wave $wave: the $NSIM live servers are up"
	n=$(t_selfm 'rwbridge_scrapes_total\{result="success"\}')
	t_wait_until 120 "two more scrapes of every live server" \
	    scrapes_at_least $((n + 2 * NSIM))
	code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X PUT \
	    --data '{"targets":[]}' "$RW_URL/api/v1/targets/churn")
	t_is "$code" 200 "wave $wave: PUT no targets"
	t_is "$(count)" 0 "wave $wave: nothing listed"
	# The removed targets' stale markers are sent before RSS is read.
	t_wait_until 60 "nothing is pending" nothing_pending
	rss=$(rss_kib)
	echo "# wave $wave: VmRSS ${rss} KiB"
	[ -z "$base_rss" ] && base_rss=$rss
	t_ok "$(kill -0 "$RW_PID" 2>/dev/null; echo $?)" \
	    "wave $wave: rwbridge is alive"
	wave=$((wave + 1))
done

limit=$((base_rss * 3 / 2 + 4096))
t_ok "$([ "$rss" -lt "$limit" ]; echo $?)" \
    "RSS after the last wave (${rss} KiB) < 1.5 x first wave (${base_rss} KiB) + 4 MiB"

# The API still works and the process exits cleanly.
code=$(curl -s -o /dev/null -w '%{http_code}' "$RW_URL/api/v1/targets")
t_is "$code" 200 "the API still answers"
t_stop_rwbridge
t_no_sanitizer_report
t_done
