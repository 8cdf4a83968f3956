#!/bin/sh
# VictoriaMetrics as a receiver: rwbridge remote-writes the same stream to
# Debian's VictoriaMetrics single-node server (the insert path the cluster's
# vminsert shares) and to the real Prometheus, both on loopback. After a
# graceful stop has delivered everything, both hold the same series with
# the same labels and the same samples (timestamps exactly, values to the
# 12 significant digits VictoriaMetrics' export prints), and
# VictoriaMetrics counts as many rows inserted as rwbridge says it sent
# there. The fleet: the three real
# captures and a simulated mixed fleet (vLLM v1, v0, SGLang, vLLM-Ascend),
# derived series on.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_find_victoria_metrics
EXPO="$FIXTURES/exposition"
[ -d "$EXPO" ] || t_bail "fixtures not found in $EXPO"

# Each capture on a port of its own, as /metrics; then the simulator.
L=127.0.0.1
TARGETS=""
for page in vllm-v1-deepseek vllm-v0-qwen3 sglang-2024; do
	mkdir -p "$T_TMP/$page"
	cp "$EXPO/$page.prom" "$T_TMP/$page/metrics"
	t_serve_dir "$T_TMP/$page"
	TARGETS="$TARGETS --target $L:$SERVE_PORT"
	[ "$page" = sglang-2024 ] && SG=$SERVE_PORT
done
t_start_sim 4 --flavour mixed --tick 100ms
for i in 0 1 2 3; do
	TARGETS="$TARGETS --target $L:$((SIM_PORT + i))"
done

t_start_prometheus
t_spawn 1 victoria-metrics "$T_TMP/vm.log" "$VM" \
    -httpListenAddr="127.0.0.1:@PORT@" -storageDataPath="$T_TMP/vm-data" \
    -retentionPeriod=1d -loggerLevel=WARN
VM_URL="http://127.0.0.1:$T_PORT"
t_wait_http "$VM_URL/health" 120 ||
    t_bail "victoria-metrics did not get ready (see vm.log)"

T0=$(date +%s)
t_start_rwbridge --scrape-interval 1s --scrape-timeout 900ms \
    --remote-write "$PROM_URL/api/v1/write" \
    --remote-write "$VM_URL/api/v1/write" $TARGETS

# A few scrapes of every target, then a graceful stop delivers the rest.
t_wait_value 'sum(up{job="rollout"})' 7 120
t_wait_value 'min(count_over_time(up{job="rollout"}[1m])) >= bool 3' 1 120
curl -fsS "$RW_URL/metrics" > "$T_TMP/rw-metrics.txt"
t_stop_rwbridge
t_no_sanitizer_report

# What rwbridge says it sent to each endpoint, from its exit log.
sent_to() {
	grep 'samples_sent=' "$T_TMP/rwbridge.log" | grep -F "$1" |
	    sed 's/.*samples_sent=\([0-9]*\).*/\1/' | tail -n 1
}
pending_to() {
	grep 'samples_sent=' "$T_TMP/rwbridge.log" | grep -F "$1" |
	    sed -n 's/.*pending=\([0-9]*\).*/\1/p' | tail -n 1
}
VM_SENT=$(sent_to "$VM_URL")
t_ok "$(test -n "$VM_SENT" && test "$VM_SENT" -gt 0; echo $?)" \
    "rwbridge sent samples to victoria-metrics (got '$VM_SENT')"
t_is "$(pending_to "$VM_URL")" 0 "nothing is left pending for victoria-metrics"
t_is "$(pending_to "$PROM_URL")" 0 "nothing is left pending for prometheus"

# VictoriaMetrics counts every row it inserted from remote write.
vm_rows() {
	curl -fsS "$VM_URL/metrics" |
	    sed -n 's/^vm_rows_inserted_total{type="promremotewrite"} //p'
}
t_is "$(vm_rows)" "$VM_SENT" \
    "victoria-metrics inserted as many rows as rwbridge sent it"

# Make everything searchable, then compare the stores series by series.
curl -fsS -o /dev/null "$VM_URL/internal/force_flush" ||
    t_bail "victoria-metrics /internal/force_flush failed"
END=$(( $(date +%s) + 60 ))
curl -fsS --get "$PROM_URL/api/v1/query" \
    --data-urlencode 'query={__name__=~".+"}[1h]' \
    --data-urlencode "time=$END" > "$T_TMP/prom.json" ||
    t_bail "prometheus query failed"
curl -fsS --get "$VM_URL/api/v1/export" \
    --data-urlencode 'match[]={__name__=~".+"}' \
    --data-urlencode "start=$((T0 - 60))" --data-urlencode "end=$END" \
    > "$T_TMP/vm.jsonl" || t_bail "victoria-metrics export failed"
python3 - "$T_TMP/prom.json" "$T_TMP/vm.jsonl" > "$T_TMP/cmp.txt" <<'PY'
import json, math, re, sys

def key(m):
    return json.dumps(m, sort_keys=True)

prom = {}
for r in json.load(open(sys.argv[1]))["data"]["result"]:
    # Range selectors leave out staleness markers, so do the same below.
    prom[key(r["metric"])] = [(int(round(float(t) * 1000)), float(v))
                              for t, v in r["values"]]
vm = {}
for line in open(sys.argv[2]):
    # The export prints infinite values as bare +Inf and -Inf (a bucket
    # bound series has them), which JSON lacks: make them Infinity.
    r = json.loads(re.sub(r"([\[,])([+-]?)Inf(?=[,\]])",
                          lambda m: m[1] + ("-" if m[2] == "-" else "")
                          + "Infinity", line))
    pts = [(t, float(v)) for t, v in zip(r["timestamps"], r["values"])
           if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if pts:
        vm.setdefault(key(r["metric"]), []).extend(pts)
for k in vm:
    vm[k].sort()
print("series", len(prom), len(vm))
print("samples", sum(map(len, prom.values())), sum(map(len, vm.values())))
only_p = sorted(set(prom) - set(vm))
only_v = sorted(set(vm) - set(prom))
print("only_prometheus", len(only_p), only_p[:1])
print("only_victoria", len(only_v), only_v[:1])
ts_diff = val_diff = 0
first_ts = first_val = ""
worst = 0.0
for k in sorted(set(prom) & set(vm)):
    a, b = prom[k], vm[k]
    if [t for t, _ in a] != [t for t, _ in b]:
        ts_diff += 1
        first_ts = first_ts or "%s: %s vs %s" % (k, a[:3], b[:3])
        continue
    for (_, x), (_, y) in zip(a, b):
        if x == y or (math.isinf(x) and x == y):
            continue
        rel = abs(x - y) / max(abs(x), abs(y))
        worst = max(worst, rel)
        # /api/v1/export prints 12 significant digits.
        if rel > 1e-11:
            val_diff += 1
            first_val = first_val or "%s: %r vs %r" % (k, x, y)
print("timestamps_differ", ts_diff)
print("values_differ", val_diff)
print("worst_relative_difference %.3g" % worst)
print("first_timestamp_difference", first_ts or "none")
print("first_value_difference", first_val or "none")
PY
t_is "$?" 0 "the comparison ran"
sed 's/^/# /' "$T_TMP/cmp.txt"
field() {
	sed -n "s/^$1 //p" "$T_TMP/cmp.txt"
}
set -- $(field series)
t_ok "$(test "${1:-0}" -gt 1000; echo $?)" \
    "prometheus holds the fleet's series (got ${1:-none})"
t_is "${2:-none}" "${1:-none}" \
    "victoria-metrics holds as many series as prometheus"
set -- $(field samples)
t_is "${2:-none}" "${1:-none}" \
    "victoria-metrics holds as many samples as prometheus"
t_is "$(field only_prometheus | cut -d' ' -f1)" 0 \
    "no series only in prometheus ($(field only_prometheus))"
t_is "$(field only_victoria | cut -d' ' -f1)" 0 \
    "no series only in victoria-metrics ($(field only_victoria))"
t_is "$(field timestamps_differ)" 0 \
    "every series has the same timestamps in both (first difference: $(field first_timestamp_difference))"
t_is "$(field values_differ)" 0 \
    "every value agrees to 12 significant digits (first difference: $(field first_value_difference))"

# Names and labels that stress a receiver arrive as sent: a colon in the
# name, a histogram's le="+Inf", a derived rollout:* series.
vm_count() {
	curl -fsS --get "$VM_URL/api/v1/query" --data-urlencode "query=$1" \
	    --data-urlencode "time=$END" --data-urlencode "step=1h" |
	    jq -r '.data.result[0].value[1] // "none"'
}
t_is "$(vm_count 'count(last_over_time(sglang:time_to_first_token_seconds_bucket{le="+Inf"}[1h]))')" \
    "$(t_query_value "count(last_over_time(sglang:time_to_first_token_seconds_bucket{le=\"+Inf\"}[1h]))")" \
    "the +Inf buckets are the same series in both"
t_is "$(vm_count "last_over_time(sglang:num_queue_reqs{instance=\"$L:$SG\"}[1h])")" \
    2826 "victoria-metrics answers a query with the capture's exact value"
t_ok "$(test "$(vm_count 'count(last_over_time({__name__=~"rollout:.+"}[1h]))')" != none
    echo $?)" "derived rollout:* series reach victoria-metrics"
t_done
