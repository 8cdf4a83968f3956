# Shared helpers for rwbridge's shell integration tests: TAP output, free
# loopback ports, and the real Prometheus / Pushgateway started on loopback
# in a temporary directory. Everything a test starts is stopped on exit,
# also on failure. Source it; set top_builddir / top_srcdir / FIXTURES.

: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${FIXTURES:=$top_srcdir/../shared/fixtures}"
[ -d "$FIXTURES/exposition" ] || FIXTURES="$top_srcdir/tests/fixtures"
RWBRIDGE="$top_builddir/rwbridge"
RWBRIDGE_SIM="$top_builddir/rwbridge-sim"

T_N=0
T_FAILED=0
T_PIDS=""
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rwbridge-test.XXXXXX")

# Stop everything this test started and remove its files.
t_cleanup() {
	for pid in $T_PIDS; do
		kill "$pid" 2>/dev/null
	done
	for pid in $T_PIDS; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$pid" 2>/dev/null
	done
	if [ "$T_FAILED" -ne 0 ] && [ -n "${T_KEEP_LOGS:-}" ]; then
		echo "# logs kept in $T_TMP"
	else
		rm -rf "$T_TMP"
	fi
}
trap t_cleanup EXIT
trap 'exit 1' INT TERM

# ok COND-EXIT-STATUS DESCRIPTION
t_ok() {
	T_N=$((T_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $T_N - $2"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_N - $2"
	fi
}

# t_is GOT WANT DESCRIPTION
t_is() {
	T_N=$((T_N + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $T_N - $3"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_N - $3: got '$1', want '$2'"
	fi
}

# Print the plan and exit with the test's status.
t_done() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
	exit $?
}

# Bail out of the whole test (TAP), e.g. when a component cannot start.
t_bail() {
	echo "Bail out! $*"
	for f in "$T_TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "# --- $f"
		tail -n 30 "$f" | sed 's/^/# /'
	done
	exit 1
}

# Print a free TCP port on 127.0.0.1.
t_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Succeed when 127.0.0.1:PORT can be bound.
t_port_free() {
	python3 -c 'import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$1"
}

# Print a base port with N consecutive free ports after it, below the
# kernel's ephemeral range so no outgoing connection takes one meanwhile.
t_free_port_range() {
	python3 -c 'import random, socket, sys
n = int(sys.argv[1])
for _ in range(50):
    base = random.randint(20000, 32000 - n)
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(base)
    sys.exit(0)
sys.exit(1)' "$1"
}

# Remember a background process to stop at exit.
t_track() {
	T_PIDS="$T_PIDS $1"
}

# Wait until URL answers 200 (up to $2 seconds, default 20).
t_wait_http() {
	_limit=$(( ${2:-20} * 10 ))
	_i=0
	while [ $_i -lt $_limit ]; do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# Start Prometheus as a remote-write receiver; sets PROM_URL, PROM_PID.
# Extra arguments go to prometheus. PROM_DATA may name the data dir.
t_start_prometheus() {
	PROM_PORT=${PROM_PORT:-$(t_free_port)}
	PROM_DATA=${PROM_DATA:-$T_TMP/prom-data}
	PROM_URL="http://127.0.0.1:$PROM_PORT"
	mkdir -p "$PROM_DATA"
	cat > "$T_TMP/prometheus.yml" <<-YML
	global:
	  scrape_interval: 15s
	scrape_configs: []
	YML
	prometheus --config.file="$T_TMP/prometheus.yml" \
	    --storage.tsdb.path="$PROM_DATA" \
	    --web.listen-address="127.0.0.1:$PROM_PORT" \
	    --web.enable-remote-write-receiver \
	    --storage.tsdb.retention.time=1d \
	    "$@" >>"$T_TMP/prometheus.log" 2>&1 &
	PROM_PID=$!
	t_track $PROM_PID
	t_wait_http "$PROM_URL/-/ready" 60 ||
	    t_bail "prometheus did not start (see prometheus.log)"
}

# Stop the Prometheus started by t_start_prometheus.
t_stop_prometheus() {
	kill "$PROM_PID" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$PROM_PID" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$PROM_PID" 2>/dev/null
}

# Start a remote-write receiver that accepts everything (204) and keeps
# nothing, for tests that only need rwbridge to have somewhere to send;
# sets SINK to its port.
t_start_sink() {
	SINK=$(t_free_port)
	python3 "$top_srcdir/tests/rw_stub.py" --port "$SINK" --then 204 \
	    --log /dev/null >"$T_TMP/sink.log" 2>&1 &
	t_track $!
}

# Start the real Pushgateway; sets PGW_URL, PGW_PID.
t_start_pushgateway() {
	PGW_PORT=$(t_free_port)
	PGW_URL="http://127.0.0.1:$PGW_PORT"
	prometheus-pushgateway --web.listen-address="127.0.0.1:$PGW_PORT" \
	    >>"$T_TMP/pushgateway.log" 2>&1 &
	PGW_PID=$!
	t_track $PGW_PID
	t_wait_http "$PGW_URL/-/ready" 30 ||
	    t_bail "pushgateway did not start (see pushgateway.log)"
}

# Serve a directory over HTTP on loopback; prints the port.
# Serve a directory over HTTP on a free port; sets SERVE_PORT. Not to be
# run in $(...): the server must be tracked by this shell to be stopped.
t_serve_dir() {
	_port=$(t_free_port)
	python3 -m http.server "$_port" --bind 127.0.0.1 --directory "$1" \
	    >>"$T_TMP/httpserver-$_port.log" 2>&1 &
	t_track $!
	t_wait_http "http://127.0.0.1:$_port/" 20 ||
	    t_bail "http server did not start"
	SERVE_PORT=$_port
}

# Start rwbridge with the given arguments; sets RW_URL and RW_PID.
t_start_rwbridge() {
	RW_PORT=${RW_PORT:-$(t_free_port)}
	RW_URL="http://127.0.0.1:$RW_PORT"
	"$RWBRIDGE" --listen "127.0.0.1:$RW_PORT" "$@" \
	    >>"$T_TMP/rwbridge.log" 2>&1 &
	RW_PID=$!
	t_track $RW_PID
	t_wait_http "$RW_URL/-/ready" 20 ||
	    t_bail "rwbridge did not start (see rwbridge.log)"
}

# Stop rwbridge (RW_PID, or $1) with SIGTERM and check it exits 0.
t_stop_rwbridge() {
	local pid=${1:-$RW_PID}
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	t_is "$?" 0 "${2:-rwbridge exits 0 on SIGTERM}"
}

# Check that no sanitizer report is in rwbridge.log (or the logs $2...),
# as the check named $1.
t_no_sanitizer_report() {
	local name=${1:-no sanitizer report in the log}
	[ $# -gt 0 ] && shift
	[ $# -gt 0 ] || set -- "$T_TMP/rwbridge.log"
	t_ok "$(grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' \
	    "$@"; [ $? -ne 0 ]; echo $?)" "$name"
}

# Instant query; prints the JSON result array.
t_query() {
	curl -fsS --get "$PROM_URL/api/v1/query" --data-urlencode "query=$1" |
	    jq -c '.data.result'
}

# Instant query; prints the first value, or "none".
t_query_value() {
	curl -fsS --get "$PROM_URL/api/v1/query" --data-urlencode "query=$1" |
	    jq -r '.data.result[0].value[1] // "none"'
}

# Poll a query until its first value equals WANT (up to $3 s, default 30).
t_wait_value() {
	_limit=$(( ${3:-30} * 5 ))
	_i=0
	while [ $_i -lt $_limit ]; do
		[ "$(t_query_value "$1")" = "$2" ] && return 0
		sleep 0.2
		_i=$((_i + 1))
	done
	return 1
}
