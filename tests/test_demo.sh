#!/bin/sh
# scripts/demo end to end, on loopback ports of its own with the built
# binaries: --help and a busy port fail fast and clearly; a run without
# --duration, watched from outside, has Prometheus hold up{job="rollout"}
# for every simulated server and rwbridge's derived rollout: series, and is
# stopped by SIGTERM; a --duration run exits 0 by itself and prints its
# URLs; after each, nothing it started is alive and its ports are free.
# The demo checks its ports before it starts anything; when another test
# took one meanwhile, the run is tried again on other ports.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

DEMO="$top_srcdir/scripts/demo"
SERVERS=4
DEMO_PID=""

# Stop a demo still running (its own trap stops its children), then the rest.
demo_cleanup() {
	if [ -n "$DEMO_PID" ] && t_alive "$DEMO_PID"; then
		kill -TERM "$DEMO_PID" 2>/dev/null
		t_wait_until 30 "the demo stops" t_gone "$DEMO_PID"
	fi
	for f in "$T_TMP"/demo*/pids; do
		[ -f "$f" ] || continue
		while read -r _name pid; do
			kill -9 "$pid" 2>/dev/null
		done < "$f"
	done
	t_cleanup
}
trap demo_cleanup EXIT

# Pick ports for one demo run (one random range: Prometheus, Pushgateway,
# rwbridge, then the simulator's) and export them.
pick_ports() {
	PROM_PORT=$(t_port_base $((SERVERS + 3)))
	PGW_PORT=$((PROM_PORT + 1))
	RW_PORT=$((PROM_PORT + 2))
	SIM_PORT=$((PROM_PORT + 3))
	PROM_URL="http://127.0.0.1:$PROM_PORT"
	RW_URL="http://127.0.0.1:$RW_PORT"
	export PROM_PORT PGW_PORT RW_PORT SIM_PORT
}

# Print the demo's ports that are still bound.
busy_ports() {
	for p in $PROM_PORT $PGW_PORT $RW_PORT $(seq "$SIM_PORT" \
	    $((SIM_PORT + SERVERS - 1))); do
		t_port_free "$p" || printf ' %s' "$p"
	done
}

# Print the pids listed in DIR/pids that are still alive.
alive_pids() {
	while read -r name pid; do
		t_alive "$pid" && printf ' %s(%s)' "$name" "$pid"
	done < "$1/pids"
}

# Succeed when the demo in the background printed its server list or exited.
started_or_gone() {
	grep -q 'simulated rollout servers' "$T_TMP/demo.out" 2>/dev/null ||
	    t_gone "$DEMO_PID"
}

# start_demo DIR [ARG...]: start the demo in the background on ports of its
# own (sets DEMO_PID) and wait until it prints its server list; when it
# failed for a port another test took, try other ports.
start_demo() {
	_dir=$1
	shift
	for _try in 1 2 3 4 5; do
		pick_ports
		rm -rf "$_dir"
		RWBRIDGE_DEMO_DIR="$_dir" sh "$DEMO" "$@" >"$T_TMP/demo.out" 2>&1 &
		DEMO_PID=$!
		t_wait_until 300 "the demo starts" started_or_gone
		grep -q 'simulated rollout servers' "$T_TMP/demo.out" && return 0
		t_alive "$DEMO_PID" && break
		wait "$DEMO_PID"
		grep -q 'is in use\|exited before it was ready' "$T_TMP/demo.out" ||
		    break
		sed 's/^/# /' "$T_TMP/demo.out" | tail -n 5
		echo "# the demo's ports were taken, trying others"
	done
	sed 's/^/# /' "$T_TMP/demo.out"
	t_bail "the demo did not start"
}

export SERVERS INTERVAL=1s RWBRIDGE_DEMO_NO_BUILD=1 RWBRIDGE_DEMO_NO_INSTALL=1
export RWBRIDGE_BIN="$RWBRIDGE" RWBRIDGE_SIM_BIN="$RWBRIDGE_SIM"
[ -x "$RWBRIDGE_SIM" ] || t_bail "$RWBRIDGE_SIM not built"

# --help and bad arguments.
t_ok "$(sh "$DEMO" --help 2>&1 | grep -q 'usage:.*--duration'; echo $?)" \
    "--help prints the usage"
sh "$DEMO" --duration 5x >/dev/null 2>&1
t_is "$?" 2 "a malformed --duration exits 2"

# A busy port is named with the variable that moves it (tried again when
# another of its ports happened to be busy too).
t_serve_dir "$T_TMP"; BUSY=$SERVE_PORT
for _try in 1 2 3 4 5; do
	pick_ports
	RWBRIDGE_DEMO_DIR="$T_TMP/demo-busy" PGW_PORT=$BUSY sh "$DEMO" \
	    --duration 5s >"$T_TMP/busy.out" 2>&1
	rc=$?
	grep -q "port $BUSY " "$T_TMP/busy.out" && break
	grep -q "is in use" "$T_TMP/busy.out" || break
done
t_is "$rc" 1 "a busy port makes the demo exit 1"
t_ok "$(grep -q "port $BUSY .*in use.*PGW_PORT" "$T_TMP/busy.out"; echo $?)" \
    "the message names the busy port and PGW_PORT"

# A run without --duration, watched from outside, then stopped by SIGTERM.
DIR="$T_TMP/demo-term"
start_demo "$DIR"
t_wait_value "sum(up{job=\"rollout\"})" "$SERVERS" 120
for i in $(seq 0 $((SERVERS - 1))); do
	t_is "$(t_query_value "up{job=\"rollout\",instance=\"127.0.0.1:$((SIM_PORT + i))\"}")" \
	    1 "Prometheus has up 1 for sim server $i (127.0.0.1:$((SIM_PORT + i)))"
done
# vLLM-Ascend servers have one ratio per DP rank: count instances.
KV='count(count by (instance) (rollout:kv_cache_usage:ratio))'
t_wait_value "$KV" "$SERVERS" 120
t_ok "$([ "$(t_query_value 'count({__name__=~"rollout:.+"})')" != none ];
    echo $?)" "derived rollout: series reach Prometheus"
t_is "$(t_query_value "$KV")" "$SERVERS" \
    "rollout:kv_cache_usage:ratio for every sim server"
t_is "$(curl -fsS "$RW_URL/api/v1/targets" |
    jq '[.data.activeTargets[] | select(.group == "demo")] | length')" \
    "$SERVERS" "rwbridge lists every sim server as a target"
t_is "$(curl -fsS "$PROM_URL/api/v1/targets" |
    jq '.data.activeTargets | length')" 0 \
    "Prometheus scrapes nothing itself: every series came by remote write"
kill -TERM "$DEMO_PID"
wait "$DEMO_PID"
t_is "$?" 0 "SIGTERM stops the demo with status 0"
DEMO_PID=""
t_is "$(alive_pids "$DIR")" "" "after SIGTERM no process it started is alive"
t_is "$(busy_ports)" "" "after SIGTERM every port it used is free again"
t_ok "$(grep -qF "data and logs are in $DIR" "$T_TMP/demo.out"; echo $?)" \
    "after SIGTERM it says where its data is"

# A --duration run ends by itself.
DIR="$T_TMP/demo"
start_demo "$DIR" --duration 25s
wait "$DEMO_PID"
t_is "$?" 0 "the --duration run exits 0"
DEMO_PID=""
sed 's/^/# /' "$T_TMP/demo.out" | tail -n 25
for url in "http://127.0.0.1:$PROM_PORT/" "http://127.0.0.1:$PGW_PORT/" \
    "http://127.0.0.1:$RW_PORT/metrics" \
    "http://127.0.0.1:$RW_PORT/api/v1/targets" \
    "http://127.0.0.1:$SIM_PORT/metrics" \
    "http://127.0.0.1:$((SIM_PORT + SERVERS - 1))/metrics"; do
	t_ok "$(grep -qF "$url" "$T_TMP/demo.out"; echo $?)" "prints $url"
done
t_ok "$(grep -q '^final summary' "$T_TMP/demo.out"; echo $?)" \
    "prints a final summary"
t_ok "$(grep -qF "data and logs are in $DIR" "$T_TMP/demo.out"; echo $?)" \
    "says where its data is"
t_is "$(cut -d' ' -f1 "$DIR/pids" | sort -u | tr '\n' ' ')" \
    "prometheus pushgateway rwbridge sim summary " \
    "pids lists prometheus, pushgateway, sim, rwbridge and the summary"
t_is "$(alive_pids "$DIR")" "" "no process the demo started is alive"
t_is "$(busy_ports)" "" "every port the demo used is free again"
t_done
