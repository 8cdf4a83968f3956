#!/bin/sh
# Hostile clients on the listener (issue 19, items 2 and 3), each attack
# by tests/hostile.py on loopback while rwbridge scrapes a page and sends
# to a real Prometheus:
# - 40 connections with no token each sending a 16 MiB push: every one is
#   answered 401 from its head, RSS stays within 64 MiB of where it was
#   (it was 600 MB: evhttp buffered each body before the handler ran);
# - a head growing to 300 MB: answered 431 and cut at 64 KiB, RSS bounded;
# - one byte every 0.5 s in a head, and in a body with the token: closed by
#   the request deadline (listen_request_timeout 2s), however long the
#   client would go on;
# - a second rwbridge under a hard descriptor limit of 256 with 371 idle
#   connections: a handful of log lines (not millions), a few CPU ticks,
#   /-/healthy answers, and nothing scraped is lost from the queue;
# - a third under a limit of 16, where accept itself fails (EMFILE): it
#   pauses and retries on a timer, one log line, no spin.
# During every attack /-/healthy answers and scrapes keep reaching
# Prometheus. Checks are on behaviour; the only clocks are the deadlines.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

HOSTILE="$top_srcdir/tests/hostile.py"
TOKEN=hostile-token
printf '%s\n' "$TOKEN" > "$T_TMP/token"
cat > "$T_TMP/rwbridge.json" <<EOF
{"global": {"listen_request_timeout": "2s"}}
EOF

mkdir -p "$T_TMP/www"
printf '# TYPE hostile_page gauge\nhostile_page 1\n' > "$T_TMP/www/metrics"
t_serve_dir "$T_TMP/www"
t_start_prometheus

t_start_rwbridge --config "$T_TMP/rwbridge.json" --scrape-interval 1s \
    --api-token-file "$T_TMP/token" --target "127.0.0.1:$SERVE_PORT" \
    --remote-write "$PROM_URL/api/v1/write"

# The newest timestamp Prometheus holds for the scraped page (0: none).
newest() {
	curl -fsS --get "$PROM_URL/api/v1/query" --data-urlencode \
	    "query=timestamp(hostile_page)" |
	    jq -r '.data.result[0].value[1] // 0' | cut -d. -f1
}

# Succeed once Prometheus holds a sample newer than $1.
newer_than() {
	[ "$(newest)" -gt "$1" ]
}

# The RSS of a process in kB.
rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# One field (key=value) of a hostile.py result line.
field() {
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# Check an attack's line: /-/healthy answered every time it was asked.
healthy_ok() {
	t_ok "$([ "$(field "$1" healthy_ok)" -ge 1 ] &&
	    [ "$(field "$1" healthy_ok)" = "$(field "$1" healthy_tries)" ];
	    echo $?)" "$2: /-/healthy answered during it ($(field "$1" \
	    healthy_ok)/$(field "$1" healthy_tries))"
}

# Check scrapes reached Prometheus after an attack began at $1.
scrapes_arrive() {
	t_ok "$(t_wait_until 60 "a scrape newer than the attack" newer_than \
	    "$1"; echo $?)" "$2: scrapes keep reaching Prometheus"
}

# The sum of one of rwbridge's own counters (all label sets).
own() {
	curl -fsS "${2:-$RW_URL}/metrics" |
	    awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 }
	    END { print s + 0 }'
}

t_wait_until 60 "a first scrape in Prometheus" newer_than 0 ||
    t_bail "no scrape reached Prometheus (see rwbridge.log)"

# 40 unauthenticated 16 MiB bodies.
base=$(rss "$RW_PID")
start=$(date +%s)
out=$(python3 "$HOSTILE" bodies "$RW_PORT" "$RW_PID" 40 16)
echo "# bodies: $out (RSS before: $base kB)"
t_is "$(field "$out" statuses)" "401:40" \
    "40 unauthenticated 16 MiB pushes are all answered 401"
t_ok "$([ "$(field "$out" peak_rss_kb)" -lt $((base + 65536)) ]; echo $?)" \
    "RSS stays within 64 MiB of its start during them ($base -> $(field \
    "$out" peak_rss_kb) kB)"
t_ok "$([ "$(rss "$RW_PID")" -lt $((base + 65536)) ]; echo $?)" \
    "RSS is back within 64 MiB after them ($(rss "$RW_PID") kB)"
t_is "$(own rwbridge_http_requests_refused_total)" 40 \
    "rwbridge_http_requests_refused_total counts them"
healthy_ok "$out" "bodies"
scrapes_arrive "$start" "bodies"

# A head growing to 300 MB.
start=$(date +%s)
out=$(python3 "$HOSTILE" headers "$RW_PORT" "$RW_PID" 300)
echo "# headers: $out"
t_is "$(field "$out" cut)/$(field "$out" status)" "1/431" \
    "a 300 MB head is answered 431 and cut"
t_ok "$([ "$(field "$out" sent)" -lt 100000000 ]; echo $?)" \
    "it is cut long before 300 MB ($(field "$out" sent) bytes sent)"
t_ok "$([ "$(field "$out" peak_rss_kb)" -lt $((base + 65536)) ]; echo $?)" \
    "RSS stays within 64 MiB during it ($(field "$out" peak_rss_kb) kB)"
healthy_ok "$out" "headers"
scrapes_arrive "$start" "headers"

# Slow loris in the head, then in the body (with the token).
for where in head body; do
	start=$(date +%s)
	out=$(python3 "$HOSTILE" loris "$RW_PORT" "$where" 0.5 "$TOKEN")
	echo "# loris $where: $out"
	t_is "$(field "$out" closed)" 1 \
	    "a byte every 0.5 s in the $where is closed by the deadline"
	healthy_ok "$out" "loris in the $where"
	scrapes_arrive "$start" "loris in the $where"
done
t_ok "$([ "$(own rwbridge_http_connections_cut_total)" -ge 2 ]; echo $?)" \
    "rwbridge_http_connections_cut_total counts the cuts"
t_no_sanitizer_report "no sanitizer report after the attacks"

# --- Out of descriptors: a second rwbridge (the first stops, so the two
# never send the same fleet series) with a hard limit of 256, a durable
# queue, and 371 idle connections.
t_stop_rwbridge
RW_LOG="$T_TMP/fd.log"
t_spawn 1 "rwbridge (256 fds)" "$RW_LOG" prlimit --nofile=256:256 \
    "$RWBRIDGE" --listen "127.0.0.1:@PORT@" --config "$T_TMP/rwbridge.json" \
    --scrape-interval 1s --state-dir "$T_TMP/state" --job fd \
    --target "127.0.0.1:$SERVE_PORT" \
    --remote-write "$PROM_URL/api/v1/write"
FD_PORT=$T_PORT
FD_URL="http://127.0.0.1:$FD_PORT"
t_wait_http "$FD_URL/-/ready" 120 || t_bail "rwbridge (256 fds) not ready"
FD_PID=$(pgrep -P "$T_LPID" -x rwbridge || echo "$T_LPID")
t_ok "$(grep -q 'msg="file descriptor limit" soft=256 hard=256' "$RW_LOG";
    echo $?)" "the descriptor limit is logged"
ticks() {
	awk '{ print $14 + $15 }' "/proc/$FD_PID/stat"
}
# Hold N idle connections to PORT open from a helper process (IDLE_PID);
# return once they all are. idle_close closes them.
idle_open() {
	python3 "$HOSTILE" idle "$1" "$2" > "$T_TMP/idle-$2.out" &
	IDLE_PID=$!
	t_track $IDLE_PID
	t_wait_until 60 "$2 idle connections are open" \
	    grep -q "opened=$2" "$T_TMP/idle-$2.out"
}
idle_close() {
	kill "$IDLE_PID"
	wait "$IDLE_PID" 2>/dev/null
	t_untrack "$IDLE_PID"
}
before=$(ticks)
lines=$(wc -l < "$RW_LOG")
idle_open "$FD_PORT" 371
t_ok "$(t_wait_http "$FD_URL/-/healthy" 60; echo $?)" \
    "/-/healthy answers with 371 idle connections"
# Wait until the deadline has cut every idle connection.
t_wait_until 120 "the idle connections are cut" \
    sh -c "[ \$(curl -fsS $FD_URL/metrics | awk '/^rwbridge_http_connections_cut_total{reason=\"deadline_idle\"}/ { print \$2 }') -ge 371 ]"
idle_close
after=$(ticks)
t_ok "$([ $(($(wc -l < "$RW_LOG") - lines)) -le 10 ]; echo $?)" \
    "a few log lines, not a flood ($(($(wc -l < "$RW_LOG") - lines)))"
t_ok "$([ $((after - before)) -lt 1000 ]; echo $?)" \
    "the accept loop does not spin ($((after - before)) CPU ticks)"
t_ok "$([ "$(own rwbridge_http_accept_pauses_total "$FD_URL")" -ge 1 ];
    echo $?)" "accepting paused at the connection cap, counted"
t_is "$(own rwbridge_remote_write_samples_dropped_total "$FD_URL")/$(own \
    rwbridge_remote_write_samples_failed_total "$FD_URL")" "0/0" \
    "no sample dropped or failed"
t_ok "$(t_wait_until 60 "the queue drains" sh -c "[ \$(curl -fsS \
    $FD_URL/metrics | awk '/^rwbridge_remote_write_samples_pending/ \
    { s += \$2 } END { print s + 0 }') -eq 0 ]"; echo $?)" \
    "every sample scraped is delivered (nothing pending)"
t_no_sanitizer_report "no sanitizer report under the descriptor limit" \
    "$RW_LOG"

# --- Past the reserve: with a limit of 16 the connection cap (8) is more
# than the descriptors left, so accept itself fails (EMFILE): accepting
# pauses and resumes on a timer, one log line, no spin.
printf '{"global": {"listen_request_timeout": "2s", "self_scrape": false}}\n' \
    > "$T_TMP/emfile.json"
RW_LOG="$T_TMP/emfile.log"
t_spawn 1 "rwbridge (16 fds)" "$RW_LOG" prlimit --nofile=16:16 \
    "$RWBRIDGE" --listen "127.0.0.1:@PORT@" --config "$T_TMP/emfile.json"
EM_URL="http://127.0.0.1:$T_PORT"
FD_PID=$T_LPID
t_wait_http "$EM_URL/-/ready" 120 || t_bail "rwbridge (16 fds) not ready"
before=$(ticks)
lines=$(wc -l < "$RW_LOG")
idle_open "$T_PORT" 40
t_wait_until 60 "accept fails for want of descriptors" sh -c \
    "grep -q 'accept failed, pausing the listener' '$RW_LOG'"
t_ok "$(t_wait_http "$EM_URL/-/healthy" 60; echo $?)" \
    "/-/healthy answers while accept fails with EMFILE"
idle_close
after=$(ticks)
t_ok "$([ "$(own rwbridge_http_accept_pauses_total "$EM_URL")" -ge 1 ];
    echo $?)" "the EMFILE pauses are counted"
t_ok "$([ $(($(wc -l < "$RW_LOG") - lines)) -le 4 ]; echo $?)" \
    "EMFILE logs a line or two, not a flood ($(($(wc -l < "$RW_LOG") - \
    lines)))"
t_ok "$([ $((after - before)) -lt 1000 ]; echo $?)" \
    "no spin on EMFILE ($((after - before)) CPU ticks)"
t_no_sanitizer_report "no sanitizer report after EMFILE" "$RW_LOG"

t_done
