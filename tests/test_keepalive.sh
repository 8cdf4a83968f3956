#!/bin/sh
# Keep-alive: each target is scraped over one connection, kept from scrape
# to scrape. rwbridge runs its transfers in lanes of libcurl multi handles
# (src/httpc.c), fewer lanes than the 40 simulated servers here, and a
# request must stay in its lane to find its connection again. The test
# reads rwbridge's connections to the servers from /proc/net/tcp twice,
# with every target scraped three more times in between and no scrape
# failed (a failed scrape may rightly close its connection; then it looks
# again): the same 40 connections both times.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

N=40

[ -x "$RWBRIDGE_SIM" ] || t_bail "simulator $RWBRIDGE_SIM not built"
t_start_sim $N --static
t_start_sink
t_start_rwbridge --scrape-interval 1s --scrape-timeout 900ms \
    --remote-write "http://127.0.0.1:$SINK/api/v1/write" \
    $(for a in $(t_instances "$SIM_PORT" $N); do echo "--target $a"; done)

scrapes() {
	t_selfm "rwbridge_scrapes_total\\{result=\"$1\"\\}"
}

# Succeed when rwbridge has taken at least N successful scrapes.
scrapes_at_least() {
	[ "$(scrapes success)" -ge "$1" ] 2>/dev/null
}

# The local ports of the established connections to the servers, sorted.
conns() {
	python3 - "$SIM_PORT" "$N" <<'PY'
import sys
lo, n = int(sys.argv[1]), int(sys.argv[2])
ports = []
with open("/proc/net/tcp") as f:
    next(f)
    for line in f:
        fields = line.split()
        local, remote, state = fields[1], fields[2], fields[3]
        if state == "01" and lo <= int(remote.split(":")[1], 16) < lo + n:
            ports.append(int(local.split(":")[1], 16))
print(" ".join(str(p) for p in sorted(ports)))
PY
}

# Succeed when the connections stay the same while every target is scraped
# three more times and no scrape fails.
same_conns() {
	_f0=$(scrapes failure)
	_s0=$(scrapes success)
	_c0=$(conns)
	t_wait_until 120 "every target scraped three more times" \
	    scrapes_at_least $((_s0 + 3 * N)) || return 1
	_c1=$(conns)
	[ "$(scrapes failure)" = "$_f0" ] || return 1
	echo "# connections: $(echo "$_c0" | wc -w), then $(echo "$_c1" | wc -w)"
	[ "$_c0" = "$_c1" ] && [ "$(echo "$_c0" | wc -w)" = "$N" ]
}

t_wait_until 120 "every target scraped twice" scrapes_at_least $((2 * N)) ||
    t_bail "rwbridge does not scrape"
t_wait_until 300 "the same $N connections, no scrape failing between" \
    same_conns
t_ok $? "$N targets, one kept-alive connection each, the same over\
 three scrapes"
t_is "$(conns | wc -w)" "$N" "rwbridge holds $N connections to the servers"
t_done
