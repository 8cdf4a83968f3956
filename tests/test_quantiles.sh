#!/bin/sh
# rwbridge's windowed latency quantiles against the real thing, for the
# same instant and window:
# - exactly (1e-9) the quantile of the bucket increases between the raw
#   samples Prometheus holds for that window, with PromQL's interpolation;
# - within 5 % of Prometheus's own
#     histogram_quantile(q, sum by (le) (rate(..._bucket[w])))
#   which extrapolates each bucket's increase to the window's edges (and
#   caps it at zero per series), so it scales buckets slightly unevenly;
# - fleet: exactly (1e-9) the quantile of the summed bucket increases of
#   every server's window ending at its own last scrape before the fleet's
#   timer (the newest or, when that scrape was still running, the one
#   before), and within one bucket of Prometheus's, which evaluates every
#   server at the same instant;
# - the simulator's truth, the exact latencies of the requests it finished:
#   within one bucket.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

N=4
t_start_prometheus
# The simulator's ports, held until it starts: rwbridge is started first.
t_hold_ports $N
SIM_PORT=$HOLD_PORT
cat > "$T_TMP/rw.json" <<JSON
{
  "global": {"scrape_interval": "1s", "scrape_timeout": "900ms",
             "self_scrape": false},
  "targets": [{"targets": [$(t_instances "$SIM_PORT" $N | sed 's/[^ ]*/"&"/g; s/ /, /g')]}],
  "remote_write": [{"url": "$PROM_URL/api/v1/write",
                    "batch_send_deadline": "200ms"}],
  "derive": {"windows": ["30s", "10m"]}
}
JSON
# rwbridge first, so its first successful scrape is the simulator's start.
t_start_rwbridge --config "$T_TMP/rw.json"
t_kill "$HOLD_PID"
t_untrack "$HOLD_PID"
SIM_START=$(date +%s.%N)
t_spawn "$N@$SIM_PORT" rwbridge-sim "$T_TMP/sim.log" "$RWBRIDGE_SIM" \
    --servers $N --base-port @PORT@ --flavour vllm-v1 \
    --seed 11 --batch-every 8s --batch-size 24 --truth "$T_TMP/truth.jsonl"
SIM_PID=$T_LPID

t_wait_value "count(rollout:e2e_latency_seconds:p50{window=\"30s\"}) >= bool $N" 1 120 ||
    t_bail "no quantiles after 120 s"
# Every server's 30 s window full of the run: 35 scrapes of each.
t_wait_value "min(count_over_time(vllm:num_requests_running{job=\"rollout\"}[1h])) >= bool 35" 1 300 ||
    t_bail "not 35 scrapes of every server after 300 s"

# The newest sample of a series: "value timestamp" (the sample's own
# timestamp: an instant query would give the evaluation time).
latest() {
	curl -fsS --get "$PROM_URL/api/v1/query" \
	    --data-urlencode "query=$1[10s]" |
	    jq -r '.data.result[0].values[-1] | "\(.[1]) \(.[0])"'
}

# Prometheus's own quantile at time $3: histogram_quantile($1, ... $2).
promq() {
	curl -fsS --get "$PROM_URL/api/v1/query" --data-urlencode "time=$3" \
	    --data-urlencode "query=histogram_quantile($1, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket{$2}[30s])))" |
	    jq -r '.data.result[0].value[1] // "none"'
}

# The quantile Q of the summed bucket increases of instances INST... over
# 30 s windows, as PromQL interpolates (tests/promquant.py):
# QUANT_PY TESTSDIR PROM Q T MODE INST...
# With MODE exact every window ends at T; with MODE fleet each instance's
# ends where rwbridge's fleet timer at T may have seen it (its newest
# scrape up to T, the one before when the newest was still running, or no
# window when its last scrape failed). Prints the candidates, or "none".
QUANT_PY='import itertools, json, sys, urllib.parse, urllib.request
sys.path.insert(0, sys.argv.pop(1))
from promquant import histogram_quantile
prom, q, at, mode = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
insts = sys.argv[5:]

def query(expr, t):
    u = prom + "/api/v1/query?" + urllib.parse.urlencode(
        {"query": expr, "time": repr(t)})
    return json.load(urllib.request.urlopen(u))["data"]["result"]

def incs(inst, t):
    inc = {}
    for r in query("vllm:e2e_request_latency_seconds_bucket"
                   "{instance=\"%s\"}[30s]" % inst, t):
        v = [float(x[1]) for x in r["values"]]
        d = sum(b - a if b >= a else b for a, b in zip(v, v[1:]))
        le = float(r["metric"]["le"])
        inc[le] = inc.get(le, 0) + d
    return inc

choices = []
for inst in insts:
    if mode == "exact":
        choices.append([incs(inst, at)])
        continue
    r = query("vllm:e2e_request_latency_seconds_count"
              "{instance=\"%s\"}[10s]" % inst, at)
    ts = [float(x[0]) for x in r[0]["values"]] if r else []
    choices.append([incs(inst, t) for t in ts[-2:]] + [{}])
cands = set()
for combo in itertools.product(*choices):
    tot = {}
    for inc in combo:
        for le, c in inc.items():
            tot[le] = tot.get(le, 0) + c
    v = histogram_quantile(q, tot)
    if v is not None:
        cands.add(v)
print(" ".join(repr(v) for v in sorted(cands)) or "none")'

# The quantile $1 of instance $2's bucket increases in the 30 s ending at $3.
rawq() {
	python3 -c "$QUANT_PY" "$top_srcdir/tests" "$PROM_URL" "$1" "$3" exact "$2"
}

# Is |a-b| <= tol * max(|a|,|b|)?
close() {
	python3 -c 'import sys
a, b, tol = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
sys.exit(0 if abs(a - b) <= tol * max(abs(a), abs(b), 1e-9) else 1)' "$1" "$2" "$3"
}

# The e2e bucket upper bounds of the vLLM pages.
BOUNDS="0.3 0.5 0.8 1 1.5 2 2.5 5 10 15 20 30 40 50 60 120 240 480 960 1920 7680"
bucket() {
	python3 -c 'import sys
v = float(sys.argv[1]); b = [float(x) for x in sys.argv[2].split()]
print(next((i for i, u in enumerate(b) if v <= u), len(b)))' "$1" "$BOUNDS"
}

i=0
while [ $i -lt $N ]; do
	INST="127.0.0.1:$((SIM_PORT + i))"
	for q in 50 90 99; do
		set -- $(latest "rollout:e2e_latency_seconds:p$q{instance=\"$INST\",window=\"30s\"}")
		got=$1
		at=$2
		exact=$(rawq "0.$q" "$INST" "$at")
		want=$(promq "0.$q" "instance=\"$INST\"" "$at")
		if [ "$want" = none ] || [ "$got" = null ] ||
		    [ "$exact" = none ]; then
			t_ok 1 "server $i p$q: rwbridge $got, Prometheus $want"
			continue
		fi
		close "$got" "$exact" 1e-9
		t_ok $? "server $i p$q over 30s: rwbridge $got = the raw samples' quantile $exact"
		close "$got" "$want" 0.05
		t_ok $? "server $i p$q over 30s: rwbridge $got ~ Prometheus's histogram_quantile(rate) $want (5 %)"
	done
	i=$((i + 1))
done

# The schedule itself: one scrape per interval, none extra (a timer that
# fires a little early must not scrape twice). A loaded machine may delay
# a scrape, so the check is on the gaps, not on the clock: over the last
# 20 s no two scrapes closer than half an interval, at most 21 scrapes.
set -- $(curl -fsS --get "$PROM_URL/api/v1/query" --data-urlencode \
    "query=up{instance=\"127.0.0.1:$SIM_PORT\"}[20s]" |
    jq -r '.data.result[0].values | [length, ([range(1; length) as $i |
    .[$i][0] - .[$i - 1][0]] | min)] | map(tostring) | join(" ")')
n=$1
gap=$2
t_ok "$(awk -v n="$n" -v g="$gap" 'BEGIN { exit !(n >= 2 && n <= 21 &&
    g >= 0.5) }'; echo $?)" \
    "20 s at a 1 s interval: $n scrapes, none extra (smallest gap ${gap} s)"

# The candidates for the fleet's quantile $1 at time $2 of the servers
# $3..., as rwbridge defines it (see QUANT_PY).
fleetq() {
	_q=$1
	_at=$2
	shift 2
	python3 -c "$QUANT_PY" "$top_srcdir/tests" "$PROM_URL" "$_q" "$_at" fleet "$@"
}

# Fleet: summed over the servers.
for q in 50 99; do
	set -- $(latest "rollout:e2e_latency_seconds:p$q{window=\"30s\",instance=\"\"}")
	got=$1
	at=$2
	# shellcheck disable=SC2086
	cands=$(fleetq "0.$q" "$at" $(t_instances "$SIM_PORT" $N))
	match=none
	for c in $cands; do
		[ "$c" != none ] && close "$got" "$c" 1e-9 && match=$c
	done
	t_ok "$([ "$match" != none ]; echo $?)" \
	    "fleet p$q over 30s: rwbridge $got = the summed windows' quantile $match"
	[ "$match" != none ] || echo "# candidates: $cands"
	want=$(promq "0.$q" "job=\"rollout\"" "$at")
	d=$(( $(bucket "$got") - $(bucket "$want") ))
	t_ok "$([ "${d#-}" -le 1 ]; echo $?)" \
	    "fleet p$q over 30s: rwbridge $got, Prometheus $want: within one bucket"
done

# Truth: every request the simulator finished for server 0 up to the time
# of rwbridge's 10m quantile (which covers the whole run).
for q in 50 90 99; do
	eval "RUN_$q=\"\$(latest 'rollout:e2e_latency_seconds:p$q{instance=\"127.0.0.1:$SIM_PORT\",window=\"10m\"}')\""
done
# The simulator's truth (flushed every second; the last line may be half
# written): TRUTH_PY FILE START AT covers succeeds once it has reached Unix
# time AT; TRUTH_PY FILE START AT Q prints the quantile Q of the latencies
# of server 0's requests finished by AT. Simulated time t is Unix time
# epoch + t, the epoch from the file's start line (START without one).
TRUTH_PY='import json, math, sys
path, start, at, what = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
rows = [json.loads(l) for l in open(path) if l.endswith("\n")]
start = next((r["epoch"] for r in rows if r["type"] == "start"), start)
if what == "covers":
    sys.exit(0 if start + max((r.get("t", -1) for r in rows), default=-1)
             >= at else 1)
q = float(what)
lat = sorted(r["e2e"] for r in rows
             if r["type"] == "request" and r["server"] == 0
             and start + r["t"] <= at)
print(lat[max(0, math.ceil(q * len(lat)) - 1)] if lat else "none")'
eval "set -- \$RUN_50"
t_wait_until 120 "the truth file reaches $2" python3 -c "$TRUTH_PY" \
    "$T_TMP/truth.jsonl" "$SIM_START" "$2" covers
for q in 50 90 99; do
	eval "set -- \$RUN_$q"
	got=$1
	at=$2
	truth=$(python3 -c "$TRUTH_PY" "$T_TMP/truth.jsonl" "$SIM_START" "$at" \
	    "0.$q")
	d=$(( $(bucket "$got") - $(bucket "$truth") ))
	t_ok "$([ "${d#-}" -le 1 ]; echo $?)" \
	    "server 0 p$q of the whole run: rwbridge $got, truth $truth: within one bucket"
done
t_done
