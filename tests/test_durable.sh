#!/bin/sh
# Durable delivery against the real Prometheus, in one receiver outage
# shared by four rwbridges, each scraping its own copy of the vLLM v0
# capture every second; the outage lasts until A has taken RWBRIDGE_OUTAGE
# scrapes (default 120), however long a loaded machine makes that:
#   A rides the outage: every scrape it took arrives, none twice.
#   B is killed with SIGKILL in the middle of the outage and started again:
#     nothing that was queued on disk is lost.
#   C is stopped in the outage, its segment damaged (a flipped byte and a
#     torn tail); it starts, reports what it discarded, delivers the rest.
#   D has a 24 KiB queue budget: the oldest samples are dropped and counted,
#     the counter equals what is missing, the newest arrive.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

OUTAGE=${RWBRIDGE_OUTAGE:-120}
PAGE="$FIXTURES/exposition/vllm-v0-qwen3.prom"

t_start_prometheus

# One page server per rwbridge, so each server's log counts its scrapes.
for x in a b c d; do
	mkdir -p "$T_TMP/www-$x"
	cp "$PAGE" "$T_TMP/www-$x/metrics"
	t_serve_dir "$T_TMP/www-$x"
	eval "WWW_$x=\$SERVE_PORT; WWWPID_$x=\$SERVE_PID"
done

# Write rwbridge X's config: job durX, its own state dir; extra JSON for
# the remote_write entry and the top level.
config() {
	_x=$1
	eval "_www=\$WWW_$_x"
	cat > "$T_TMP/rw-$_x.json" <<JSON
{
  "global": {"job": "dur$_x", "scrape_interval": "1s",
             "scrape_timeout": "800ms", "self_scrape": false,
             "state_dir": "$T_TMP/state-$_x"},
  "targets": ["127.0.0.1:$_www"],
  "remote_write": [{"url": "$PROM_URL/api/v1/write", "name": "prom",
                    "batch_send_deadline": "200ms",
                    "min_backoff": "100ms", "max_backoff": "2s"$2}]$3
}
JSON
}
config a "" ""
config b ', "queue": {"fsync": "batch"}' ""
config c ', "queue": {"fsync": "never"}' ""
config d ', "queue": {"max_bytes": "24KiB"}' ', "derive": {"enabled": false}'

# Start rwbridge X (again, on a new port); sets RWPORT_X and RWPID_X.
start_rw() {
	RW_LOG="$T_TMP/rwbridge-$1.log"
	t_start_rwbridge --config "$T_TMP/rw-$1.json"
	eval "RWPID_$1=\$RW_PID; RWPORT_$1=\$RW_PORT"
}

# A value from rwbridge X's own /metrics (the first line matching RE).
selfm() {
	eval "_port=\$RWPORT_$1"
	t_selfm "$2" "http://127.0.0.1:$_port"
}

# Succeed when rwbridge X has sent every sample taken before Unix time T
# (default: 3 s ago; it keeps scraping, so a second of samples is always
# on its way).
sent_before() {
	_age=$(selfm "$1" 'rwbridge_remote_write_oldest_unsent_age_seconds')
	[ -n "$_age" ] && awk -v a="$_age" -v t="${2:-}" -v now="$(date +%s.%N)" \
	    'BEGIN { exit !(a == 0 || (t == "" ? a < 3 : now - a > t)) }'
}

# Wait until rwbridge X has sent everything older than 3 s (up to $2 s).
drained() {
	t_wait_until "$2" "rwbridge $1 has sent all but the last 3 s" \
	    sent_before "$1"
}

# Scrapes page server X has answered.
served() {
	eval "_port=\$WWW_$1"
	grep -c '"GET /metrics' "$T_TMP/httpserver-$_port.log"
}

# Succeed when page server X has answered at least N scrapes.
served_at_least() {
	[ "$(served "$1")" -ge "$2" ]
}

# Failed scrapes of rwbridge X.
failures() {
	selfm "$1" 'rwbridge_scrapes_total\{result="failure"\}'
}

# Succeed when rwbridge X has counted at least N failed scrapes.
failures_at_least() {
	[ "$(failures "$1")" -ge "$2" ] 2>/dev/null
}

# Samples of one raw series of job durX that Prometheus holds.
held() {
	t_query_value "count_over_time(vllm:num_requests_running{job=\"dur$1\"}[1h])"
}

for x in a b c d; do
	start_rw $x
done
for x in a b c d; do
	t_wait_value "up{job=\"dur$x\"}" 1 120 || t_bail "rwbridge $x not delivering"
done
t_ok 0 "four rwbridges deliver to Prometheus"

# The outage.
t_stop_prometheus
T_DOWN=$(date +%s)
S_DOWN=$(served a)
echo "# Prometheus stopped until A has taken $OUTAGE scrapes"
t_wait_until $((OUTAGE * 5)) "A takes $((OUTAGE / 2)) scrapes in the outage" \
    served_at_least a $((S_DOWN + OUTAGE / 2))
kill -9 "$RWPID_b"
kill -TERM "$RWPID_c"
wait "$RWPID_b" 2>/dev/null
wait "$RWPID_c" 2>/dev/null
t_untrack "$RWPID_b"
t_untrack "$RWPID_c"
t_ok "$([ "$(cat "$T_TMP"/state-b/queue/*/shard-0/*.seg | wc -c)" -gt 0 ]
    echo $?)" "B's queue is on disk when it is killed"
start_rw b

# Damage C's queue: flip a byte in the data of an unsent record that holds
# a page (of the records after the cursor with the most samples, the middle
# one: a record of derived series alone would cost no scrape, and records
# before the damage must remain) and cut the last record short.
QDIR=$(dirname "$(ls "$T_TMP"/state-c/queue/*/shard-0/*.seg | head -1)")
SIZE=$(cat "$QDIR"/*.seg | wc -c)
DAMAGED=$(python3 - "$QDIR" <<'PY'
import glob, os, struct, sys
# Record framing, as src/queue.h states it: u32 crc32c, u32 len,
# u32 nsamples, i64 min_ts, i64 max_ts, then len bytes of data.
HDR = 28
qdir = sys.argv[1]
segs = sorted(glob.glob(os.path.join(qdir, "*.seg")))
try:        # the oldest unsent record; none acked yet: the start
    with open(os.path.join(qdir, "cursor")) as f:
        cseg, coff = (int(x) for x in f.read().split()[:2])
except FileNotFoundError:
    cseg, coff = 0, 0
recs = []
for path in segs:
    seg = int(os.path.basename(path)[:-4])
    if seg < cseg:
        continue
    data = open(path, "rb").read()
    off = coff if seg == cseg else 0
    while off + HDR <= len(data):
        length, nsamples = struct.unpack_from("<II", data, off + 4)
        end = off + HDR + length
        if end > len(data):
            break
        if end < len(data):
            recs.append((path, off, nsamples))
        off = end
most = max((r[2] for r in recs), default=0)
pages = [r for r in recs if r[2] == most]
if not pages:
    sys.exit("no unsent record to damage in " + qdir)
path, off, nsamples = pages[len(pages) // 2]
with open(path, "r+b") as f:
    f.seek(off + HDR + 10)
    b = f.read(1)
    f.seek(off + HDR + 10)
    f.write(bytes([b[0] ^ 0x55]))
last = segs[-1]
os.truncate(last, os.path.getsize(last) - 7)
print("%s offset %d (%d samples)" % (os.path.basename(path), off, nsamples))
PY
)
echo "# C: flipped a byte in the record at ${DAMAGED:-(none)}"
t_ok "$([ -n "$DAMAGED" ]; echo $?)" "C has an unsent page record to damage"
t_ok "$([ "$SIZE" -gt 1000 ]; echo $?)" "C left ${SIZE} bytes queued"
t_wait_until $((OUTAGE * 5)) "A takes $OUTAGE scrapes in the outage" \
    served_at_least a $((S_DOWN + OUTAGE))
PEND_A=$(selfm a 'rwbridge_remote_write_samples_pending')
t_ok "$([ "${PEND_A:-0}" -gt $((OUTAGE * 200)) ]; echo $?)" \
    "A holds the outage's samples (${PEND_A} pending)"
DROP_D=$(selfm d 'rwbridge_remote_write_samples_dropped_total\{reason="queue_full"')
t_ok "$([ "${DROP_D:-0}" -gt 0 ]; echo $?)" \
    "D's budget is full: ${DROP_D} samples dropped so far, still scraping"

# Recovery: the same data dir, the same port.
t_start_prometheus
T_UP=$(date +%s)
S_UP=$(served a)
start_rw c
t_wait_until 60 "C logs the damaged segment" grep -q 'queue segment damaged' \
    "$T_TMP/rwbridge-c.log"
t_ok $? "C starts and logs the damaged segment"
CORRUPT=$(selfm c 'rwbridge_remote_write_queue_corrupt_bytes_total')
t_ok "$([ "${CORRUPT:-0}" -gt 0 ]; echo $?)" \
    "C reports ${CORRUPT} discarded bytes in its metrics"
REGIONS=$(selfm c 'rwbridge_remote_write_queue_corrupt_regions_total')
t_ok "$([ "${REGIONS:-0}" -gt 0 ]; echo $?)" \
    "C reports ${REGIONS} damaged regions in its metrics"
for m in segments_skipped cursor_resets cursor_write_errors; do
	v=$(selfm c "rwbridge_remote_write_queue_${m}_total")
	t_ok "$(expr "${v:-x}" : '[0-9][0-9]*$' >/dev/null; echo $?)" \
	    "C reports rwbridge_remote_write_queue_${m}_total ${v:-(missing)}"
done
for x in a b c d; do
	drained $x 120
	t_ok $? "$x drains its queue after the outage"
done
CATCHUP=$(( $(date +%s) - T_UP ))
echo "# caught up ${CATCHUP}s after Prometheus came back"

# Stop the page servers of A, B and C, so no scrape succeeds any more;
# once each rwbridge has seen two scrapes fail, wait until it has sent
# everything taken before.
for x in a b c; do
	eval "_pid=\$WWWPID_$x"
	t_kill "$_pid"
	t_untrack "$_pid"
	eval "FAIL_$x=\$(failures $x)"
done
for x in a b c; do
	eval "_f=\$FAIL_$x"
	t_wait_until 60 "$x sees two scrapes fail" failures_at_least $x $((_f + 2))
	_t=$(date +%s.%N)
	t_wait_until 120 "$x sends what it took before" sent_before $x "$_t"
done
drained d 120

# A: every scrape arrived once.
t_is "$(held a)" "$(served a)" "A: every scrape taken arrived, none twice"
HELD_OUT=$(t_query_value "count_over_time(vllm:num_requests_running{job=\"dura\"}[$((T_UP - T_DOWN))s] @ $T_UP)")
t_ok "$([ "$HELD_OUT" -ge $((S_UP - S_DOWN - 2)) ]; echo $?)" \
    "A: the outage itself is covered ($HELD_OUT held of $((S_UP - S_DOWN)) scrapes)"
t_is "$(selfm a 'rwbridge_remote_write_samples_dropped_total\{reason="queue_full"')" 0 \
    "A: nothing dropped"

# B: at most the scrape in flight and the batch in memory at the kill.
HB=$(held b)
SB=$(served b)
t_ok "$([ "$HB" -le "$SB" ] && [ "$HB" -ge $((SB - 2)) ]; echo $?)" \
    "B: all but the unqueued last second arrived after SIGKILL ($HB of $SB)"
t_ok "$(grep -q 'queue recovered from disk' "$T_TMP/rwbridge-b.log"; echo $?)" \
    "B: logs the recovered queue"

# C: the queue resynchronises after a damaged record, so the flipped byte
# costs the record it hit and the cut costs the torn tail; everything else
# arrived.
HC=$(held c)
SC=$(served c)
t_ok "$([ "$HC" -lt "$SC" ] && [ "$HC" -ge $((SC - 5)) ]; echo $?)" \
    "C: delivered all but the damaged records ($HC of $SC scrapes)"
t_ok "$([ "$(t_query_value "count_over_time(vllm:num_requests_running{job=\"durc\"}[10s] @ $((T_DOWN + 5)))")" -ge 5 ]
    echo $?)" "C: records before the damage arrived"

# D: the drop counter is exactly what is missing; the newest arrived.
# Stopped with SIGTERM, D logs its lifetime totals.
t_stop_rwbridge "$RWPID_d" "D exits 0 on SIGTERM"
TOT=$(grep 'remote write totals' "$T_TMP/rwbridge-d.log" | tail -1)
tot() { echo "$TOT" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
IN_D=$(tot samples_in)
DROP_D=$(tot dropped_queue_full)
SENT_D=$(tot samples_sent)
# Every sample of every series of job durd (count_over_time would drop the
# names and clash).
HELD_D=$(curl -fsS --get "$PROM_URL/api/v1/query" \
    --data-urlencode 'query={job="durd"}[1h]' |
    jq '[.data.result[].values | length] | add')
t_ok "$([ "${DROP_D:-0}" -gt 0 ]; echo $?)" "D: dropped $DROP_D samples"
t_is "$HELD_D" "$((IN_D - DROP_D))" \
    "D: Prometheus holds samples in ($IN_D) minus dropped ($DROP_D)"
t_is "$SENT_D" "$HELD_D" "D: samples sent equals samples held (no duplicates)"
t_ok "$([ "$(t_query_value "count_over_time(up{job=\"durd\"}[10s] @ $((T_UP - 1)))")" -ge 1 ]
    echo $?)" "D: the newest samples before recovery arrived"
t_ok "$([ "$(t_query_value "count_over_time(up{job=\"durd\"}[8s] @ $((T_DOWN + 10)))")" = none ]
    echo $?)" "D: the oldest samples of the outage were the ones dropped"
t_done
