#!/bin/sh
# Churn: 500 targets (100 simulated vLLM servers and 400 dead ports)
# registered and removed in five waves (PUT 500 / PUT 0) while scraping
# every second. rwbridge must not crash, must list exactly what was
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

[ -x "$RWBRIDGE_SIM" ] || t_bail "simulator $RWBRIDGE_SIM not built"
P=$(t_free_port_range $NALL) || t_bail "no $NALL consecutive free ports"
"$RWBRIDGE_SIM" --servers $NSIM --base-port "$P" --flavour vllm-v1 \
    >>"$T_TMP/sim.log" 2>&1 &
t_track $!
t_wait_http "http://$L:$P/metrics" 30 || t_bail "simulator did not start"
t_wait_http "http://$L:$((P + NSIM - 1))/metrics" 30 ||
    t_bail "simulator did not start all servers"

t_start_sink

cat > "$T_TMP/rwbridge.json" <<JSON
{
  "global": {"scrape_interval": "1s", "scrape_timeout": "500ms"},
  "remote_write": [{"url": "http://$L:$SINK/api/v1/write",
                    "batch_send_deadline": "200ms"}]
}
JSON
t_start_rwbridge --config "$T_TMP/rwbridge.json" --log-level warn

python3 -c 'import json, sys
base, n = int(sys.argv[1]), int(sys.argv[2])
print(json.dumps({"targets": ["127.0.0.1:%d" % p for p in range(base, base + n)],
                  "labels": {"rollout": "churn"}, "interval": "1s"}))' \
    "$P" $NALL > "$T_TMP/all.json"

wave=1
base_rss=
while [ $wave -le $WAVES ]; do
	code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X PUT \
	    --data-binary "@$T_TMP/all.json" "$RW_URL/api/v1/targets/churn")
	t_is "$code:$(jq .data.targets "$T_TMP/resp")" "200:$NALL" \
	    "wave $wave: PUT $NALL targets"
	t_is "$(count)" $NALL "wave $wave: $NALL targets listed"
	# Wait for every live server to be up, then let a few scrapes pass.
	_i=0
	while [ $_i -lt 100 ] && [ "$(count up)" != $NSIM ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	t_is "$(count up)" $NSIM "wave $wave: the $NSIM live servers are up"
	sleep 2
	code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X PUT \
	    --data '{"targets":[]}' "$RW_URL/api/v1/targets/churn")
	t_is "$code" 200 "wave $wave: PUT no targets"
	t_is "$(count)" 0 "wave $wave: nothing listed"
	sleep 1
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
