#!/bin/sh
# rwbridge's windowed latency quantiles against the real thing, for the
# same instant and window:
# - exactly (1e-9) the quantile of the bucket increases between the raw
#   samples Prometheus holds for that window, with PromQL's interpolation;
# - within 5 % of Prometheus's own
#     histogram_quantile(q, sum by (le) (rate(..._bucket[w])))
#   which extrapolates each bucket's increase to the window's edges (and
#   caps it at zero per series), so it scales buckets slightly unevenly;
# - fleet: in the same bucket (the fleet is evaluated on its own timer, each
#   server's window ends at its own last scrape);
# - the simulator's truth, the exact latencies of the requests it finished:
#   within one bucket.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

N=4
t_start_prometheus
SIM_PORT=$(t_free_port_range $N) || t_bail "no $N consecutive free ports"
cat > "$T_TMP/rw.json" <<JSON
{
  "global": {"scrape_interval": "1s", "scrape_timeout": "900ms",
             "self_scrape": false},
  "targets": [{"targets": ["127.0.0.1:$SIM_PORT", "127.0.0.1:$((SIM_PORT + 1))",
                           "127.0.0.1:$((SIM_PORT + 2))", "127.0.0.1:$((SIM_PORT + 3))"]}],
  "remote_write": [{"url": "$PROM_URL/api/v1/write",
                    "batch_send_deadline": "200ms"}],
  "derive": {"windows": ["30s", "10m"]}
}
JSON
# rwbridge first, so its first successful scrape is the simulator's start.
t_start_rwbridge --config "$T_TMP/rw.json"
SIM_START=$(date +%s.%N)
"$RWBRIDGE_SIM" --servers $N --base-port "$SIM_PORT" --flavour vllm-v1 \
    --seed 11 --batch-every 8s --batch-size 24 --truth "$T_TMP/truth.jsonl" \
    >>"$T_TMP/sim.log" 2>&1 &
SIM_PID=$!
t_track $SIM_PID

t_wait_value "count(rollout:e2e_latency_seconds:p50{window=\"30s\"}) >= bool $N" 1 60 ||
    t_bail "no quantiles after 60 s"
sleep 30

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

# The quantile $1 of the summed bucket increases over the samples of
# selector $2 inside the 30 s ending at $3, as PromQL interpolates.
rawq() {
	curl -fsS --get "$PROM_URL/api/v1/query" --data-urlencode "time=$3" \
	    --data-urlencode "query=vllm:e2e_request_latency_seconds_bucket{$2}[30s]" |
	    python3 -c '
import json, math, sys
q = float(sys.argv[1])
inc = {}
for r in json.load(sys.stdin)["data"]["result"]:
    v = [float(x[1]) for x in r["values"]]
    d = sum(b - a if b >= a else b for a, b in zip(v, v[1:]))
    le = float(r["metric"]["le"])
    inc[le] = inc.get(le, 0) + d
b = sorted(inc.items())
if len(b) < 2 or b[-1][1] == 0:
    print("none"); sys.exit()
rank = q * b[-1][1]
for i, (le, c) in enumerate(b):
    if c >= rank:
        break
if math.isinf(le):
    print(b[-2][0]); sys.exit()
lo, clo = (0.0, 0.0) if i == 0 else b[i - 1]
print(lo + (le - lo) * (rank - clo) / (c - clo))' "$1"
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
		exact=$(rawq "0.$q" "instance=\"$INST\"" "$at")
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
# fires a little early must not scrape twice).
n=$(t_query_value "count_over_time(up{instance=\"127.0.0.1:$SIM_PORT\"}[20s])")
t_ok "$([ "$n" -ge 19 ] && [ "$n" -le 21 ]; echo $?)" \
    "20 s at a 1 s interval hold 20 scrapes, not more ($n)"

# Fleet: summed over the servers.
for q in 50 99; do
	set -- $(latest "rollout:e2e_latency_seconds:p$q{window=\"30s\",instance=\"\"}")
	got=$1
	at=$2
	want=$(promq "0.$q" "job=\"rollout\"" "$at")
	d=$(( $(bucket "$got") - $(bucket "$want") ))
	t_ok "$([ "${d#-}" -le 0 ]; echo $?)" \
	    "fleet p$q over 30s: rwbridge $got, Prometheus $want: the same bucket"
done

# Truth: every request the simulator finished for server 0 up to the time
# of rwbridge's 10m quantile (which covers the whole run).
for q in 50 90 99; do
	eval "RUN_$q=\"\$(latest 'rollout:e2e_latency_seconds:p$q{instance=\"127.0.0.1:$SIM_PORT\",window=\"10m\"}')\""
done
sleep 2	# the truth file is flushed every second
for q in 50 90 99; do
	eval "set -- \$RUN_$q"
	got=$1
	at=$2
	truth=$(python3 - "$T_TMP/truth.jsonl" "$SIM_START" "$at" "0.$q" <<'PY'
import json, math, sys
path, start, at, q = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rows = []
for line in open(path):
    if line.endswith("\n"):	# the last line may be half written
        rows.append(json.loads(line))
lat = sorted(r["e2e"] for r in rows
             if r.get("type") == "request" and r["server"] == 0
             and start + r["t"] <= at)
print(lat[max(0, math.ceil(q * len(lat)) - 1)] if lat else "none")
PY
)
	d=$(( $(bucket "$got") - $(bucket "$truth") ))
	t_ok "$([ "${d#-}" -le 1 ]; echo $?)" \
	    "server 0 p$q of the whole run: rwbridge $got, truth $truth: within one bucket"
done
t_done
