#!/bin/sh
# rwbridge-sim: every flavour's page passes `promtool check metrics` (lint
# warnings such as "metric names should not contain ':'" are expected for
# vLLM and SGLang names; parse errors are not) and carries the names the
# real engines write; counters never go down between scrapes; Ascend has
# dp-labelled KV block gauges and no kv_cache_usage_perc; --listen serves
# /s/<i>/metrics and 404s the rest; the same seed gives the same truth; a
# drained batch leaves some servers idle while others serve the tail;
# --restart-every resets counters; bad flags and busy ports exit 2; runs
# exit 0 on --duration and SIGTERM (so under ASan, leak-clean).
# RWBRIDGE_SIM overrides the binary.
_sim=${RWBRIDGE_SIM:-}
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
RWBRIDGE_SIM=${_sim:-${top_builddir:-.}/rwbridge-sim}

L=127.0.0.1
NSIM=8
SEED=3

# Scrape URL into FILE.
scrape() {
	curl -fsS -o "$2" "$1"
}

# Succeed if promtool finds no error in FILE (exit 0, or 3: lint only).
promtool_ok() {
	promtool check metrics < "$1" > "$1.promtool" 2>&1
	_rc=$?
	echo "# promtool check metrics $(basename "$1"): exit $_rc," \
	    "$(grep -c "should not contain ':'" "$1.promtool") colon" \
	    "warnings, $(grep -vc "should not contain ':'" "$1.promtool")" \
	    "other lines"
	grep -v "should not contain ':'" "$1.promtool" | sed 's/^/#   /'
	[ "$_rc" -eq 0 ] && return 0
	[ "$_rc" -eq 3 ] && ! grep -qi "error" "$1.promtool"
}

# Succeed if FILE has a sample of every NAME (a name followed by { or space).
has_all() {
	_f=$1
	shift
	for _n in "$@"; do
		grep -q "^$_n[{ ]" "$_f" || { echo "# missing $_n"; return 1; }
	done
	return 0
}

# Succeed if FILE has a sample of no NAME.
has_none() {
	_f=$1
	shift
	for _n in "$@"; do
		if grep -q "^$_n[{ ]" "$_f"; then
			echo "# unexpected $_n"
			return 1
		fi
	done
	return 0
}

# Succeed if no counter, histogram bucket, _count or _sum of FILE1 is
# larger than in FILE2.
monotonic() {
	awk '
	/^#/ { next }
	{
		key = substr($0, 1, length($0) - length($NF) - 1)
		name = key
		sub(/\{.*/, "", name)
		if (name !~ /(_total|_bucket|_count|_sum)$/)
			next
	}
	NR == FNR { before[key] = $NF + 0; next }
	(key in before) && $NF + 0 < before[key] {
		print "# went down: " key " " before[key] " -> " $NF
		bad = 1
	}
	END { exit bad }' "$1" "$2"
}

# The sum of metric NAME's samples (the name followed by { or space) in
# FILE; empty when it has none.
total() {
	awk -v n="$2" 'index($0, n "{") == 1 || index($0, n " ") == 1 {
	    s += $NF; f = 1 } END { if (f) printf "%.17g\n", s }' "$1"
}

# Succeed when the vLLM v1 page at URL has requests running and finished
# (saved in FILE).
page_busy() {
	scrape "$1" "$2" &&
	    awk -v r="$(total "$2" vllm:num_requests_running)" \
	    -v d="$(total "$2" vllm:request_success_total)" \
	    'BEGIN { exit !(r > 0 && d > 0) }'
}

# Succeed when the page at URL differs from FILE.
page_moved() {
	scrape "$1" "$T_TMP/moved.prom" && ! cmp -s "$T_TMP/moved.prom" "$2"
}

# Succeed when the page at URL (saved in FILE) has prompt tokens.
has_prompts() {
	scrape "$1" "$2" &&
	    awk -v a="$(total "$2" vllm:prompt_tokens_total)" \
	    'BEGIN { exit !(a > 0) }'
}

# Succeed when the page at URL (saved in FILE) has a prompt_tokens_created
# later than $3: the server restarted.
restarted() {
	scrape "$1" "$2" &&
	    awk -v c="$(total "$2" vllm:prompt_tokens_created)" -v c0="$3" \
	    'BEGIN { exit !(c + 0 > c0 + 0) }'
}

command -v promtool >/dev/null 2>&1 || t_bail "promtool not installed"
[ -x "$RWBRIDGE_SIM" ] || t_bail "simulator $RWBRIDGE_SIM not built"

# --listen: one listener, /s/<i>/metrics. Static, so its bytes never
# change while the runs below tick.
t_spawn 1 "rwbridge-sim --listen" "$T_TMP/sim-d.log" "$RWBRIDGE_SIM" \
    --servers 2 --listen "$L:@PORT@" --flavour ascend --static \
    --extra-series 5
PD=$T_PORT
PID_D=$T_LPID
codes=""
for path in /s/0/metrics /s/1/metrics /s/2/metrics /metrics /s/x/metrics \
    /s/1/metrics/x /; do
	codes="$codes $(curl -s -o /dev/null -w '%{http_code}' \
	    "http://$L:$PD$path")"
done
t_is "$codes" " 200 200 404 404 404 404 404" \
    "--listen serves /s/0 and /s/1 metrics, 404s the rest"
scrape "http://$L:$PD/s/1/metrics" "$T_TMP/static.1.prom"

# Two identical runs (A and B) for determinism; A is scraped.
t_spawn $NSIM "rwbridge-sim A" "$T_TMP/sim-a.log" "$RWBRIDGE_SIM" \
    --servers $NSIM --base-port @PORT@ --flavour mixed \
    --seed $SEED --batch-every 15s --duration 20s --truth "$T_TMP/a.jsonl"
P=$T_PORT
PID_A=$T_LPID
t_spawn $NSIM "rwbridge-sim B" "$T_TMP/sim-b.log" "$RWBRIDGE_SIM" \
    --servers $NSIM --base-port @PORT@ --flavour mixed \
    --seed $SEED --batch-every 15s --duration 20s --truth "$T_TMP/b.jsonl"
PID_B=$T_LPID

# Into the first batch (at 1 s): pages have requests in flight and done;
# then the next page, at least one tick later.
t_wait_until 60 "the first batch runs on A" page_busy \
    "http://$L:$P/metrics" "$T_TMP/vllm-v1.1.prom"
i=1
for fl in vllm-v0 sglang ascend; do
	scrape "http://$L:$((P + i))/metrics" "$T_TMP/$fl.1.prom"
	i=$((i + 1))
done
t_wait_until 60 "A's page moves on" page_moved "http://$L:$P/metrics" \
    "$T_TMP/vllm-v1.1.prom"
i=0
for fl in vllm-v1 vllm-v0 sglang ascend; do
	scrape "http://$L:$((P + i))/metrics" "$T_TMP/$fl.2.prom"
	i=$((i + 1))
done

for fl in vllm-v1 vllm-v0 sglang ascend; do
	promtool_ok "$T_TMP/$fl.1.prom"
	t_ok $? "$fl page passes promtool check metrics"
done

ENG='engine="0"'
STOP='finished_reason="stop"'
LE='le="7680.0"'
MODEL='model_name="Qwen/Qwen2.5-7B-Instruct"'
has_all "$T_TMP/vllm-v1.1.prom" vllm:num_requests_running \
    vllm:num_requests_waiting vllm:kv_cache_usage_perc \
    vllm:prompt_tokens_total vllm:prompt_tokens_created \
    vllm:generation_tokens_total vllm:request_success_total \
    vllm:num_preemptions_total vllm:e2e_request_latency_seconds_bucket \
    vllm:e2e_request_latency_seconds_count \
    vllm:e2e_request_latency_seconds_sum \
    vllm:time_to_first_token_seconds_bucket \
    vllm:inter_token_latency_seconds_bucket \
    vllm:request_prompt_tokens_bucket vllm:request_generation_tokens_bucket \
    vllm:request_queue_time_seconds_bucket vllm:cache_config_info \
    vllm:prefix_cache_queries_total vllm:prefix_cache_hits_total \
    vllm:spec_decode_num_drafts_total vllm:spec_decode_num_draft_tokens_total \
    vllm:spec_decode_num_accepted_tokens_total \
    vllm:spec_decode_num_accepted_tokens_per_pos_total \
    vllm:engine_sleep_state \
    process_start_time_seconds python_gc_objects_collected_total &&
    [ "$(grep -c '^vllm:engine_sleep_state{engine="0",model_name="[^"]*",sleep_state="\(awake\|weights_offloaded\|discard_all\)"} [01]\.0$' \
    "$T_TMP/vllm-v1.1.prom")" -eq 3 ] &&
    grep -q "^vllm:request_success_total{$ENG,$STOP,$MODEL} " \
    "$T_TMP/vllm-v1.1.prom" &&
    grep -q "^vllm:e2e_request_latency_seconds_bucket{$ENG,$LE,$MODEL} " \
    "$T_TMP/vllm-v1.1.prom"
t_ok $? "vllm-v1 page has the v1 names and label layout"

has_all "$T_TMP/vllm-v0.1.prom" vllm:num_requests_running \
    vllm:num_requests_waiting vllm:gpu_cache_usage_perc \
    vllm:prompt_tokens_total vllm:generation_tokens_total \
    vllm:request_success_total vllm:num_preemptions_total \
    vllm:e2e_request_latency_seconds_bucket \
    vllm:time_to_first_token_seconds_bucket \
    vllm:time_per_output_token_seconds_bucket \
    vllm:request_prompt_tokens_bucket vllm:request_generation_tokens_bucket &&
    has_none "$T_TMP/vllm-v0.1.prom" vllm:kv_cache_usage_perc \
    vllm:prompt_tokens_created vllm:inter_token_latency_seconds_bucket &&
    awk '/^vllm:e2e_request_latency_seconds_(sum|bucket|count)/ {
	sub(/\{.*/, ""); o = o " " $0 }
	END { exit !(o ~ /^ [^ ]*_sum( [^ ]*_bucket)+ [^ ]*_count$/) }' \
    "$T_TMP/vllm-v0.1.prom"
t_ok $? "vllm-v0 page has the v0 names and multiprocess order"

has_all "$T_TMP/sglang.1.prom" sglang:token_usage sglang:num_used_tokens \
    sglang:max_total_num_tokens sglang:num_running_reqs \
    sglang:num_queue_reqs sglang:gen_throughput sglang:prompt_tokens_total \
    sglang:generation_tokens_total sglang:e2e_request_latency_seconds_bucket \
    sglang:time_to_first_token_seconds_bucket \
    sglang:inter_token_latency_seconds_bucket sglang:queue_time_seconds_bucket \
    sglang:cache_hit_rate sglang:cached_tokens_total \
    sglang:num_retracted_requests_total sglang:num_aborted_requests_total \
    sglang:num_paused_reqs sglang:spec_accept_rate sglang:spec_accept_length \
    sglang:generation_tokens_histogram_bucket &&
    grep -q '^sglang:queue_time_seconds_bucket{le="0.0",' "$T_TMP/sglang.1.prom"
t_ok $? "sglang page has the current SGLang names (collector.py)"

has_all "$T_TMP/ascend.1.prom" vllm:num_requests_running \
    vllm:prompt_tokens_total vllm_profiling_total_kvcache_blocks \
    vllm_profiling_free_kvcache_blocks \
    vllm_profiling_allocated_kvcache_blocks &&
    has_none "$T_TMP/ascend.1.prom" vllm:kv_cache_usage_perc \
    vllm:gpu_cache_usage_perc &&
    [ "$(grep -c '^vllm_profiling_[a-z]*_kvcache_blocks{dp="[01]"} ' \
    "$T_TMP/ascend.1.prom")" -eq 6 ]
t_ok $? "ascend page has dp-labelled block gauges, no kv_cache_usage_perc"

ok=0
for fl in vllm-v1 vllm-v0 sglang ascend; do
	monotonic "$T_TMP/$fl.1.prom" "$T_TMP/$fl.2.prom" || ok=1
done
t_ok $ok "counters, buckets, _count and _sum never decrease between scrapes"

v1=$(awk '/^vllm:generation_tokens_total/ { print $NF }' \
    "$T_TMP/vllm-v1.1.prom")
v2=$(awk '/^vllm:generation_tokens_total/ { print $NF }' \
    "$T_TMP/vllm-v1.2.prom")
awk -v a="$v1" -v b="$v2" 'BEGIN { exit !(b + 0 > a + 0) }'
t_ok $? "generation_tokens_total grows while a batch runs ($v1 -> $v2)"

# The static page, again after A's pages moved on: the same bytes.
scrape "http://$L:$PD/s/1/metrics" "$T_TMP/static.2.prom"
cmp -s "$T_TMP/static.1.prom" "$T_TMP/static.2.prom" &&
    [ "$(grep -c '^rollout_sim_extra{idx="[0-9]*"} ' "$T_TMP/static.1.prom")" \
    -eq 5 ] && promtool_ok "$T_TMP/static.1.prom"
t_ok $? "--static serves the same bytes, with --extra-series gauges"
kill -TERM $PID_D
wait $PID_D
t_is $? 0 "SIGTERM: clean exit 0"
t_untrack $PID_D

# --restart-every: counters back to zero, _created and start time move.
# The first batch comes at 1 s, the next after 30 s: between the restarts
# at 5 s and 10 s the counters stay zero.
t_spawn 1 "rwbridge-sim C" "$T_TMP/sim-c.log" "$RWBRIDGE_SIM" \
    --servers 1 --base-port @PORT@ --restart-every 5s \
    --truth "$T_TMP/c.jsonl"
PC=$T_PORT
PID_C=$T_LPID
t_wait_until 60 "C has prompt tokens" has_prompts "http://$L:$PC/metrics" \
    "$T_TMP/restart.1.prom"
ca=$(total "$T_TMP/restart.1.prom" vllm:prompt_tokens_created)
t_wait_until 60 "C restarts" restarted "http://$L:$PC/metrics" \
    "$T_TMP/restart.2.prom" "$ca"
a=$(awk '/^vllm:prompt_tokens_total/ { print $NF }' "$T_TMP/restart.1.prom")
b=$(awk '/^vllm:prompt_tokens_total/ { print $NF }' "$T_TMP/restart.2.prom")
cb=$(total "$T_TMP/restart.2.prom" vllm:prompt_tokens_created)
awk -v a="$a" -v b="$b" -v ca="$ca" -v cb="$cb" \
    'BEGIN { exit !(a + 0 > 0 && b == "0.0" && cb + 0 > ca + 0) }'
t_ok $? "--restart-every resets counters ($a -> $b), _created moves"
kill -TERM $PID_C
wait $PID_C
t_untrack $PID_C

# Sleep between waves: a batch short enough to drain long before the next
# one; once the truth records the wave, the fleet is asleep and the vLLM
# page says so; the wave line is consistent.
t_spawn 2 "rwbridge-sim E" "$T_TMP/sim-e.log" "$RWBRIDGE_SIM" \
    --servers 2 --base-port @PORT@ --flavour vllm-v1 \
    --max-tokens 32 --batch-size 4 --batch-every 30s --duration 60s \
    --truth "$T_TMP/e.jsonl"
PE=$T_PORT
PID_E=$T_LPID
t_wait_until 60 "E's truth records a wave" grep -q '"type":"wave"' \
    "$T_TMP/e.jsonl"
scrape "http://$L:$PE/metrics" "$T_TMP/asleep.prom"
grep -q '^vllm:engine_sleep_state{[^}]*sleep_state="awake"} 0\.0$' \
    "$T_TMP/asleep.prom" &&
    grep -q '^vllm:engine_sleep_state{[^}]*sleep_state="weights_offloaded"} 1\.0$' \
    "$T_TMP/asleep.prom"
t_ok $? "a drained fleet sleeps: engine_sleep_state awake 0, weights_offloaded 1"
python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.endswith("\n")]
w = [r for r in rows if r["type"] == "wave"][0]
req = [r for r in rows if r["type"] == "request"
       and w["start"] <= r["t"] <= w["end"]]
after = [r for r in rows if r["type"] == "fleet" and r["t"] >= w["end"]]
ok = (w["requests"] == len(req) > 0
      and 0 <= w["t50"] <= w["t90"] <= w["t99"] <= w["duration"]
      and abs(w["tail"] - (w["duration"] - w["t90"])) < 1e-9
      and abs(w["start"] + w["duration"] - w["end"]) < 1e-9
      and after and after[0]["asleep"] == 2 and after[0]["work"] == 0)
print("# wave", w, "requests in it", len(req))
sys.exit(0 if ok else 1)' "$T_TMP/e.jsonl"
t_ok $? "the wave truth counts its requests, t50 <= t90 <= t99 <= duration"
kill -TERM $PID_E
wait $PID_E
t_untrack $PID_E

# Bad flags and a busy port (held by this test, so surely busy); a
# --duration ends a run that wrongly starts.
t_dead_port
PC=$DEAD
"$RWBRIDGE_SIM" --servers 2 --base-port "$PC" --no-such-flag \
    >/dev/null 2>"$T_TMP/err1"
rc=$?
[ $rc -eq 2 ] && grep -q "no-such-flag" "$T_TMP/err1"
t_ok $? "unknown flag exits 2 naming it (exit $rc)"
"$RWBRIDGE_SIM" --servers 2 --base-port "$PC" --flavour vllm-v9 \
    >/dev/null 2>"$T_TMP/err2"
rc=$?
[ $rc -eq 2 ] && grep -q "flavour" "$T_TMP/err2"
t_ok $? "bad --flavour exits 2 with a message (exit $rc)"
"$RWBRIDGE_SIM" --servers 2 --base-port "$PC" --tick soon \
    >/dev/null 2>"$T_TMP/err3"
rc=$?
[ $rc -eq 2 ] && grep -q "tick" "$T_TMP/err3"
t_ok $? "bad --tick exits 2 with a message (exit $rc)"
"$RWBRIDGE_SIM" --servers 1 --base-port "$PC" --duration 30s \
    >/dev/null 2>"$T_TMP/err4"
rc=$?
[ $rc -eq 2 ] && grep -q "$L:$PC" "$T_TMP/err4"
t_ok $? "busy port exits 2 naming the port (exit $rc)"

# The duration runs end by themselves.
wait $PID_A
t_is $? 0 "--duration: run A exits 0"
t_untrack $PID_A
wait $PID_B
t_is $? 0 "--duration: run B exits 0"
t_untrack $PID_B

N=300
na=$(wc -l < "$T_TMP/a.jsonl")
# The first line, the start's wall-clock time, differs.
sed -n "2,$((N + 1))p" "$T_TMP/a.jsonl" > "$T_TMP/a.head"
sed -n "2,$((N + 1))p" "$T_TMP/b.jsonl" > "$T_TMP/b.head"
[ "$na" -ge $N ] && cmp -s "$T_TMP/a.head" "$T_TMP/b.head"
t_ok $? "same seed, same first $N truth lines ($na lines)"

python3 -c 'import json, sys
ok = all(json.loads(l)["type"] in ("start", "request", "server", "restart",
                                   "fleet", "wave")
         for l in open(sys.argv[1]))
sys.exit(0 if ok else 1)' "$T_TMP/a.jsonl"
t_ok $? "truth file is JSON Lines"

# After the first batch drains, most servers are idle while a few still
# serve the tail: at some time, idle >= busy >= 1 (states after the tick).
python3 -c 'import json, sys
state, seen = {}, []
lines = [json.loads(l) for l in open(sys.argv[1])]
for i, x in enumerate(lines):
    if x["type"] != "server":
        continue
    state[x["server"]] = x["running"] + x["waiting"]
    nxt = next((y for y in lines[i + 1:] if y["type"] == "server"), None)
    if nxt is not None and nxt["t"] == x["t"]:
        continue
    busy = sum(1 for v in state.values() if v > 0)
    idle = len(state) - busy
    if x["t"] >= 2 and len(state) == int(sys.argv[2]) and idle >= busy >= 1:
        seen.append(x["t"])
print("# idle >= busy >= 1 at %d times, first t=%s" %
      (len(seen), seen[0] if seen else None))
sys.exit(0 if seen else 1)' "$T_TMP/a.jsonl" $NSIM
t_ok $? "a drained batch leaves most servers idle, a few serving the tail"

t_done
