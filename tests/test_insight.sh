#!/bin/sh
# The rollout insight series (issue 15) against the simulator's truth and,
# where PromQL can say it, against Prometheus's own answer on the raw
# series, for a mixed fleet (vLLM v1, v0, SGLang, vLLM-Ascend) run through
# rwbridge into a real Prometheus:
# - waves: every wave rwbridge finished matches the simulator's (duration,
#   requests, the 50/90/99 % completion times, the tail) within the
#   quantisation of 1 s scrapes and fleet evaluations;
# - idle/busy server-seconds: the counters never go down and approach the
#   simulator's integrals; the wasted fraction within 0.05;
# - server_asleep: each sample agrees with the simulator's state (away from
#   transitions), an asleep server is never idle, and engines without a
#   sleep metric (vLLM v0) get no sample;
# - windowed ratios, rates and quantiles: exactly (1e-9) what the raw
#   samples Prometheus holds give for the same window (prefix-cache hits,
#   truncation, spec-decode acceptance and length, preemptions, response
#   length and queue-time quantiles); the fleet ratios against PromQL's
#   sums over every server; the truncation ratio, response length and
#   queue time of the whole run against the simulator's requests;
# - the fleet response length over mixed bucket layouts against the truth;
# - a page missing an input gives no sample, never 0.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

N=6
WAVES=3
t_start_prometheus
t_start_sim $N --flavour mixed --seed 5 --batch-every 20s --batch-size 16 \
    --max-tokens 256 --truth "$T_TMP/truth.jsonl"
TARGETS=""
i=0
while [ $i -lt $N ]; do
	TARGETS="$TARGETS${TARGETS:+, }\"127.0.0.1:$((SIM_PORT + i))\""
	i=$((i + 1))
done
cat > "$T_TMP/rw.json" <<JSON
{
  "global": {"scrape_interval": "1s", "scrape_timeout": "900ms",
             "self_scrape": false},
  "targets": [{"targets": [$TARGETS]}],
  "remote_write": [{"url": "$PROM_URL/api/v1/write",
                    "batch_send_deadline": "200ms"}],
  "derive": {"windows": ["30s", "10m"]}
}
JSON
t_start_rwbridge --config "$T_TMP/rw.json"

# Whole waves finished (the first may have begun before rwbridge
# looked), and the 30 s window has seen requests finish.
t_wait_value "rollout:waves_total{job=\"rollout\"} >= bool $WAVES" 1 240 ||
    t_bail "rwbridge reported fewer than $WAVES waves in 240 s"
t_wait_value "count(rollout:generation_tokens:p50{window=\"30s\"}) > bool 0" \
    1 60 || t_bail "no response-length quantiles"
# The truth file is flushed every simulated second: wait until it has
# passed the newest sample Prometheus holds.
newest() {
	curl -fsS --get "$PROM_URL/api/v1/query" \
	    --data-urlencode 'query=timestamp(rollout:waves_total)' |
	    jq -r '.data.result[0].value[1]'
}
truth_past() {
	python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.endswith("\n")]
sys.exit(0 if rows and rows[-1].get("t", 0) + rows[0]["epoch"] >
         float(sys.argv[2]) + 1 else 1)' "$T_TMP/truth.jsonl" "$1"
}
AT=$(newest)
t_wait_until 30 "the truth passes $AT" truth_past "$AT" ||
    t_bail "the truth file lags"

python3 "$top_srcdir/tests/insight_check.py" --prom "$PROM_URL" \
    --truth "$T_TMP/truth.jsonl" --base-port "$SIM_PORT" --servers $N \
    --at "$AT" > "$T_TMP/checks.txt" 2>"$T_TMP/checks.err" ||
    { cat "$T_TMP/checks.err"; t_bail "insight_check.py failed"; }
while IFS='|' read -r status desc; do
	case $status in
	PASS) t_ok 0 "$desc" ;;
	FAIL) t_ok 1 "$desc" ;;
	*) echo "# $status${desc:+|$desc}" ;;
	esac
done < "$T_TMP/checks.txt"
t_no_sanitizer_report
t_done
