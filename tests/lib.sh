# Shared helpers for rwbridge's shell integration tests: TAP output, one
# wait-until helper (t_wait_until: tests wait for conditions, never for the
# clock), servers that bind their own loopback ports (t_spawn), and the real
# Prometheus / Pushgateway started on loopback in a temporary directory.
# Everything a test starts is stopped on exit by its PID, also on failure.
# Source it; set top_builddir / top_srcdir / FIXTURES.

: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${FIXTURES:=$top_srcdir/../shared/fixtures}"
[ -d "$FIXTURES/exposition" ] || FIXTURES="$top_srcdir/tests/fixtures"
RWBRIDGE="$top_builddir/rwbridge"
RWBRIDGE_SIM="$top_builddir/rwbridge-sim"

T_N=0
T_FAILED=0
T_PIDS=""
T_NDEAD=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rwbridge-test.XXXXXX")

# Succeed while process PID runs (an exited child not yet reaped, a
# zombie, does not count).
t_alive() {
	local _st
	_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case $_st in
	''|Z*|X*) return 1 ;;
	esac
	return 0
}

# Succeed once process PID has exited.
t_gone() {
	! t_alive "$1"
}

# Stop process PID: SIGTERM (or the signal $2), up to 30 s, then SIGKILL;
# reap it when it is this shell's child. Prints nothing; always succeeds.
t_kill() {
	kill "-${2:-TERM}" "$1" 2>/dev/null || return 0
	t_wait_until 30 "process $1 exits" t_gone "$1" 2>/dev/null ||
	    kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# Stop everything this test started (by PID, newest first) and remove its
# files.
t_cleanup() {
	local _pid _rev=""
	for _pid in $T_PIDS; do
		_rev="$_pid $_rev"
	done
	for _pid in $_rev; do
		kill "$_pid" 2>/dev/null
	done
	for _pid in $_rev; do
		t_kill "$_pid"
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

# t_wait_until TIMEOUT_S DESCRIPTION CMD [ARG...]: run CMD every 0.2 s
# until it succeeds, for up to TIMEOUT_S seconds of wall-clock time. The
# one way tests wait: for a condition, never for the clock. On timeout it
# says on stderr what it waited for, and fails. Timeouts are generous: a
# loaded machine makes a test slower, not wrong.
t_wait_until() {
	local _wu_limit=$1 _wu_desc=$2 _wu_end
	shift 2
	_wu_end=$(( $(date +%s) + _wu_limit ))
	until "$@"; do
		if [ "$(date +%s)" -ge "$_wu_end" ]; then
			echo "# gave up after ${_wu_limit} s waiting until" \
			    "$_wu_desc" >&2
			return 1
		fi
		sleep 0.2
	done
	return 0
}

# Succeed when URL answers 200.
t_http_ok() {
	curl -fsS -o /dev/null --max-time 5 "$1" 2>/dev/null
}

# Wait until URL answers 200 (up to $2 seconds, default 60).
t_wait_http() {
	t_wait_until "${2:-60}" "$1 answers 200" t_http_ok "$1"
}

# Remember a background process to stop at exit.
t_track() {
	T_PIDS="$T_PIDS $1"
}

# Forget a process that has exited (so its PID is never signalled again).
t_untrack() {
	local _pid _keep=""
	for _pid in $T_PIDS; do
		[ "$_pid" = "$1" ] || _keep="$_keep $_pid"
	done
	T_PIDS=$_keep
}

# --- Ports. Each server binds its own port; the test does not probe a port
# and hand it over (another test, `make -j2 check`, could take it in
# between). t_spawn picks a random base below the kernel's ephemeral range
# (so no outgoing connection takes it), starts the server there, and checks
# in /proc that this very process listens on every port; when the process
# exits instead (the port was taken), it tries another base.

# Print the end of the test ports: the start of the kernel's ephemeral
# range (outgoing connections take their local ports from there).
t_port_ceiling() {
	local _hi
	_hi=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	case $_hi in ''|*[!0-9]*) _hi=32768 ;; esac
	[ "$_hi" -gt 21000 ] || _hi=32768
	echo "$_hi"
}

# Print a random base for N consecutive ports in [20000, t_port_ceiling).
t_port_base() {
	local _r
	_r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	echo $((20000 + _r % ($(t_port_ceiling) - 20000 - $1)))
}

# Succeed when process PID listens on TCP ports PORT .. PORT+N-1 (N
# default 1), on any address, per /proc/PID/fd and /proc/net/tcp{,6}.
t_listens() {
	local _inodes
	_inodes=$(ls -l "/proc/$1/fd" 2>/dev/null |
	    sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
	[ -n "$_inodes" ] || return 1
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk \
	    -v ino=" $_inodes" -v lo="$2" -v n="${3:-1}" '
	function hex(s,    i, v) {
		v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1
		return v
	}
	$4 == "0A" && index(ino, " " $10 " ") {
		p = hex(substr($2, index($2, ":") + 1))
		if (p >= lo && p < lo + n)
			seen[p] = 1
	}
	END {
		c = 0
		for (p in seen)
			c++
		exit c != n
	}'
}

# Succeed when PID listens on its N ports, or has exited.
t_listens_or_gone() {
	t_listens "$@" || t_gone "$1"
}

# Run "$@" with every @PORT@ replaced by $1 (one per argument), by exec.
t_exec_port() {
	local _port=$1 _n _a
	shift
	_n=$#
	while [ "$_n" -gt 0 ]; do
		_a=$1
		shift
		case $_a in
		*@PORT@*) _a="${_a%%@PORT@*}$_port${_a#*@PORT@}" ;;
		esac
		set -- "$@" "$_a"
		_n=$((_n - 1))
	done
	exec "$@"
}

# t_spawn PORTS NAME LOG CMD [ARG...]: start the server CMD in the
# background, logging to LOG, with @PORT@ in its arguments replaced by its
# base port; wait until it listens. PORTS is N (a fresh base for N
# consecutive ports, retried elsewhere when taken) or N@BASE (exactly
# those, e.g. to restart a server where its clients expect it). Sets
# T_PORT (the base) and T_LPID; the process is tracked. Not to be run in
# $(...): the server must be this shell's child.
t_spawn() {
	local _ports=$1 _name=$2 _log=$3 _try=0 _n _fixed=""
	shift 3
	_n=${_ports%@*}
	[ "$_n" = "$_ports" ] || _fixed=${_ports#*@}
	while [ $_try -lt 10 ]; do
		_try=$((_try + 1))
		T_PORT=${_fixed:-$(t_port_base "$_n")}
		(t_exec_port "$T_PORT" "$@") >>"$_log" 2>&1 &
		T_LPID=$!
		t_track $T_LPID
		t_wait_until 120 "$_name (pid $T_LPID) listens on $T_PORT (+$_n)" \
		    t_listens_or_gone "$T_LPID" "$T_PORT" "$_n"
		t_listens "$T_LPID" "$T_PORT" "$_n" && return 0
		if t_alive "$T_LPID"; then
			t_bail "$_name (pid $T_LPID) did not listen on $T_PORT" \
			    "within 120 s (see $(basename "$_log"))"
		fi
		wait "$T_LPID" 2>/dev/null
		t_untrack "$T_LPID"
		[ -z "$_fixed" ] || t_bail "$_name could not listen on its" \
		    "port $T_PORT (see $(basename "$_log"))"
		echo "# $_name could not listen on $T_PORT (+$_n), trying" \
		    "other ports" >&2
	done
	t_bail "$_name could not listen on any of 10 port ranges" \
	    "(see $(basename "$_log"))"
}

# Ports that refuse connections: held bound, never listening, on 127.0.0.1
# and (when there is IPv6) ::1, by a process of this test, so no other
# server can take them meanwhile. t_dead_port [N] holds N (default 1); sets
# DEAD to the first, DEAD_PORTS to all of them. Call again for more.
t_dead_port() {
	local _f="$T_TMP/dead.$T_NDEAD"
	T_NDEAD=$((T_NDEAD + 1))
	python3 -c 'import errno, os, signal, socket, sys
held, ports = [], []
while len(ports) < int(sys.argv[2]):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    try:
        s6 = socket.socket(socket.AF_INET6)
        s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s6.bind(("::1", port))
        held.append(s6)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            s.close()
            continue
    held.append(s)
    ports.append(port)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(" ".join(map(str, ports)) + "\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    signal.pause()' "$_f" "${1:-1}" >>"$T_TMP/deadport.log" 2>&1 &
	t_track $!
	t_wait_until 60 "dead ports are held" test -s "$_f" ||
	    t_bail "cannot hold dead ports (see deadport.log)"
	DEAD_PORTS=$(cat "$_f")
	DEAD=${DEAD_PORTS%% *}
}

# Reserve N consecutive ports for a server that must start later (its
# clients are configured first): a process of this test holds them bound,
# not listening, so connections are refused as on a free port; sets
# HOLD_PORT (the first) and HOLD_PID. Stop the holder with t_kill right
# before starting the server there with t_spawn N@$HOLD_PORT.
t_hold_ports() {
	local _f="$T_TMP/hold.$T_NDEAD"
	T_NDEAD=$((T_NDEAD + 1))
	python3 -c 'import os, random, signal, socket, sys
path, n, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for _ in range(100):
    base = random.randint(lo, hi - n)
    socks = []
    try:
        for p in range(base, base + n):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", p))
    except OSError:
        for s in socks:
            s.close()
        continue
    break
else:
    sys.exit(1)
with open(path + ".tmp", "w") as f:
    f.write("%d\n" % base)
os.rename(path + ".tmp", path)
while True:
    signal.pause()' "$_f" "$1" 20000 "$(t_port_ceiling)" \
	    >>"$T_TMP/hold.log" 2>&1 &
	HOLD_PID=$!
	t_track $HOLD_PID
	t_wait_until 60 "$1 ports are held" test -s "$_f" ||
	    t_bail "cannot hold $1 ports (see hold.log)"
	HOLD_PORT=$(cat "$_f")
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

# Start Prometheus as a remote-write receiver; sets PROM_PORT, PROM_URL,
# PROM_PID. Extra arguments go to prometheus. PROM_DATA may name the data
# dir. Once PROM_PORT is set (by the first start), a restart uses it again.
t_start_prometheus() {
	PROM_DATA=${PROM_DATA:-$T_TMP/prom-data}
	mkdir -p "$PROM_DATA"
	cat > "$T_TMP/prometheus.yml" <<-YML
	global:
	  scrape_interval: 15s
	scrape_configs: []
	YML
	t_spawn "1${PROM_PORT:+@$PROM_PORT}" prometheus "$T_TMP/prometheus.log" \
	    prometheus --config.file="$T_TMP/prometheus.yml" \
	    --storage.tsdb.path="$PROM_DATA" \
	    --web.listen-address="127.0.0.1:@PORT@" \
	    --web.enable-remote-write-receiver \
	    --storage.tsdb.retention.time=1d "$@"
	PROM_PORT=$T_PORT
	PROM_PID=$T_LPID
	PROM_URL="http://127.0.0.1:$PROM_PORT"
	t_wait_http "$PROM_URL/-/ready" 120 ||
	    t_bail "prometheus did not get ready (see prometheus.log)"
}

# Stop the Prometheus started by t_start_prometheus.
t_stop_prometheus() {
	t_kill "$PROM_PID"
	t_untrack "$PROM_PID"
}

# Start a remote-write receiver that accepts everything (204) and keeps
# nothing, for tests that only need rwbridge to have somewhere to send;
# sets SINK to its port.
t_start_sink() {
	t_spawn 1 sink "$T_TMP/sink.log" python3 \
	    "$top_srcdir/tests/rw_stub.py" --port @PORT@ --then 204 \
	    --log /dev/null
	SINK=$T_PORT
}

# Set VM to the victoria-metrics binary (Debian's, or the copy that
# scripts/install-deps unpacks), or end the test with a SKIP line naming
# where it looked.
t_find_victoria_metrics() {
	VM=$(command -v victoria-metrics 2>/dev/null)
	[ -n "$VM" ] || VM=/opt/victoria-metrics/usr/bin/victoria-metrics
	if [ ! -x "$VM" ]; then
		echo "1..0 # SKIP victoria-metrics not found ($VM;" \
		    "scripts/install-deps unpacks Debian's package there)"
		exit 0
	fi
}

# Start the real Pushgateway; sets PGW_PORT, PGW_URL, PGW_PID. In memory
# only: Debian's build persists to one file in /var/lib by default, which
# would share groups between tests and runs.
t_start_pushgateway() {
	t_spawn 1 pushgateway "$T_TMP/pushgateway.log" \
	    prometheus-pushgateway --web.listen-address="127.0.0.1:@PORT@" \
	    --persistence.file=
	PGW_PORT=$T_PORT
	PGW_PID=$T_LPID
	PGW_URL="http://127.0.0.1:$PGW_PORT"
	t_wait_http "$PGW_URL/-/ready" 120 ||
	    t_bail "pushgateway did not get ready (see pushgateway.log)"
}

# Serve a directory over HTTP; sets SERVE_PORT and SERVE_PID, logs to
# httpserver-PORT.log. Not to be run in $(...): the server must be this
# shell's child.
t_serve_dir() {
	t_spawn 1 "http server" "$T_TMP/httpserver-new.log" \
	    python3 -m http.server @PORT@ --bind 127.0.0.1 --directory "$1"
	SERVE_PORT=$T_PORT
	SERVE_PID=$T_LPID
	mv "$T_TMP/httpserver-new.log" "$T_TMP/httpserver-$SERVE_PORT.log"
}

# Start rwbridge-sim with N servers on N consecutive ports and the given
# arguments; sets SIM_PORT (the first) and SIM_PID, logs to sim.log.
t_start_sim() {
	local _n=$1
	shift
	t_spawn "$_n" rwbridge-sim "$T_TMP/sim.log" "$RWBRIDGE_SIM" \
	    --servers "$_n" --base-port @PORT@ "$@"
	SIM_PORT=$T_PORT
	SIM_PID=$T_LPID
}

# Print the N loopback instances from PORT on: "127.0.0.1:PORT ...".
t_instances() {
	local _i=0 _sep=""
	while [ $_i -lt "$2" ]; do
		printf '%s127.0.0.1:%s' "$_sep" $(($1 + _i))
		_sep=" "
		_i=$((_i + 1))
	done
	echo
}

# Start rwbridge with the given arguments on a port of its own; sets
# RW_PORT, RW_URL and RW_PID. RW_LOG names the log (default rwbridge.log),
# RW_HOST the listen address (default 127.0.0.1). A restart gets a new port.
t_start_rwbridge() {
	t_spawn 1 rwbridge "${RW_LOG:-$T_TMP/rwbridge.log}" "$RWBRIDGE" \
	    --listen "${RW_HOST:-127.0.0.1}:@PORT@" "$@"
	RW_PORT=$T_PORT
	RW_PID=$T_LPID
	RW_URL="http://127.0.0.1:$RW_PORT"
	t_wait_http "$RW_URL/-/ready" 120 ||
	    t_bail "rwbridge did not get ready (see rwbridge.log)"
}

# Stop rwbridge (RW_PID, or $1) with SIGTERM and check it exits 0 (within
# 300 s; then it is killed and the check fails).
t_stop_rwbridge() {
	local pid=${1:-$RW_PID} rc
	kill -TERM "$pid"
	if t_wait_until 300 "rwbridge (pid $pid) exits on SIGTERM" t_gone "$pid"
	then
		wait "$pid" 2>/dev/null
		rc=$?
	else
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rc=timeout
	fi
	t_untrack "$pid"
	t_is "$rc" 0 "${2:-rwbridge exits 0 on SIGTERM}"
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

# The value on the first line of rwbridge's own /metrics (at URL, default
# RW_URL) that starts with the extended regex RE: t_selfm RE [URL].
t_selfm() {
	curl -fsS "${2:-$RW_URL}/metrics" 2>/dev/null | grep -E "^$1" |
	    head -1 | awk '{print $2}'
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

# Succeed when the query's first value is WANT ("none": no result).
t_value_is() {
	[ "$(t_query_value "$1")" = "$2" ]
}

# Wait until the query's first value is WANT (up to $3 s, default 60).
t_wait_value() {
	t_wait_until "${3:-60}" "$1 is $2" t_value_is "$1" "$2"
}
