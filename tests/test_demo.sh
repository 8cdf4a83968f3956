#!/bin/sh
# scripts/demo end to end, on free loopback ports with the built binaries:
# --help and a busy port fail fast and clearly; a --duration run exits 0,
# prints its URLs, and while it runs Prometheus holds up{job="rollout"} for
# every simulated server and rwbridge's derived rollout: series; afterwards
# nothing it started is alive and its ports are free. A second run is
# stopped by SIGTERM and must clean up the same way.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

DEMO="$top_srcdir/scripts/demo"
SERVERS=4
DEMO_PID=""

# Stop a demo still running (its own trap stops its children), then the rest.
demo_cleanup() {
	if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
		kill -TERM "$DEMO_PID" 2>/dev/null
		for _ in $(seq 1 75); do
			kill -0 "$DEMO_PID" 2>/dev/null || break
			sleep 0.2
		done
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

# Pick free ports for one demo run and export them.
pick_ports() {
	PROM_PORT=$(t_free_port)
	PGW_PORT=$(t_free_port)
	RW_PORT=$(t_free_port)
	SIM_PORT=$(t_free_port_range "$SERVERS") || t_bail "no free port range"
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
		kill -0 "$pid" 2>/dev/null && printf ' %s(%s)' "$name" "$pid"
	done < "$1/pids"
}

# Wait until the demo in the background prints S or exits (up to $2 s).
wait_output() {
	for _ in $(seq 1 $(($2 * 5))); do
		grep -q "$1" "$T_TMP/demo.out" 2>/dev/null && return 0
		kill -0 "$DEMO_PID" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

export SERVERS INTERVAL=1s RWBRIDGE_DEMO_NO_BUILD=1 RWBRIDGE_DEMO_NO_INSTALL=1
export RWBRIDGE_BIN="$RWBRIDGE" RWBRIDGE_SIM_BIN="$RWBRIDGE_SIM"
[ -x "$RWBRIDGE_SIM" ] || t_bail "$RWBRIDGE_SIM not built"

# --help and bad arguments.
t_ok "$(sh "$DEMO" --help 2>&1 | grep -q 'usage:.*--duration'; echo $?)" \
    "--help prints the usage"
sh "$DEMO" --duration 5x >/dev/null 2>&1
t_is "$?" 2 "a malformed --duration exits 2"

# A busy port is named with the variable that moves it.
pick_ports
t_serve_dir "$T_TMP"; BUSY=$SERVE_PORT
RWBRIDGE_DEMO_DIR="$T_TMP/demo-busy" PGW_PORT=$BUSY sh "$DEMO" \
    --duration 5s >"$T_TMP/busy.out" 2>&1
t_is "$?" 1 "a busy port makes the demo exit 1"
t_ok "$(grep -q "port $BUSY .*in use.*PGW_PORT" "$T_TMP/busy.out"; echo $?)" \
    "the message names the busy port and PGW_PORT"

# A --duration run, watched from outside while it runs.
DIR="$T_TMP/demo"
RWBRIDGE_DEMO_DIR="$DIR" sh "$DEMO" --duration 25s >"$T_TMP/demo.out" 2>&1 &
DEMO_PID=$!
wait_output 'simulated rollout servers' 30 || {
	sed 's/^/# /' "$T_TMP/demo.out"
	t_bail "the demo did not start"
}
t_wait_value "sum(up{job=\"rollout\"})" "$SERVERS" 20
for i in $(seq 0 $((SERVERS - 1))); do
	t_is "$(t_query_value "up{job=\"rollout\",instance=\"127.0.0.1:$((SIM_PORT + i))\"}")" \
	    1 "Prometheus has up 1 for sim server $i (127.0.0.1:$((SIM_PORT + i)))"
done
# vLLM-Ascend servers have one ratio per DP rank: count instances.
KV='count(count by (instance) (rollout:kv_cache_usage:ratio))'
t_wait_value "$KV" "$SERVERS" 15
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

# SIGTERM stops a demo running without --duration.
pick_ports
DIR="$T_TMP/demo-term"
RWBRIDGE_DEMO_DIR="$DIR" sh "$DEMO" >"$T_TMP/demo.out" 2>&1 &
DEMO_PID=$!
wait_output 'simulated rollout servers' 30 || {
	sed 's/^/# /' "$T_TMP/demo.out"
	t_bail "the second demo did not start"
}
sleep 1
kill -TERM "$DEMO_PID"
wait "$DEMO_PID"
t_is "$?" 0 "SIGTERM stops the demo with status 0"
DEMO_PID=""
t_is "$(alive_pids "$DIR")" "" "after SIGTERM no process it started is alive"
t_is "$(busy_ports)" "" "after SIGTERM every port it used is free again"
t_ok "$(grep -qF "data and logs are in $DIR" "$T_TMP/demo.out"; echo $?)" \
    "after SIGTERM it says where its data is"
t_done
