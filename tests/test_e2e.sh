#!/bin/sh
# End to end: the real fixture pages served on loopback, rwbridge scraping
# them, and Debian's real Prometheus receiving remote write. Exact values
# from the fixtures must arrive with job and instance labels; up is 1 for
# live targets and 0 for a dead one and for one serving garbage.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

EXPO="$FIXTURES/exposition"
[ -d "$EXPO" ] || t_bail "fixtures not found in $EXPO"

# Pages: the three real captures, a page with labels that clash with the
# target's, and a page that is not the exposition format; each on its own
# port so each is its own instance, as real rollout servers are.
serve_page() {
	mkdir -p "$T_TMP/www-$1"
	cat > "$T_TMP/www-$1/metrics"
	t_serve_dir "$T_TMP/www-$1"
}
serve_page v1 < "$EXPO/vllm-v1-deepseek.prom"; V1=$SERVE_PORT
serve_page v0 < "$EXPO/vllm-v0-qwen3.prom"; V0=$SERVE_PORT
serve_page sg < "$EXPO/sglang-2024.prom"; SG=$SERVE_PORT
printf '# TYPE clash gauge\nclash{job="inner",instance="x",a="b"} 7\n' \
    > "$T_TMP/clash.prom"
serve_page clash < "$T_TMP/clash.prom"; CL=$SERVE_PORT
printf 'this is not { an exposition page\n' > "$T_TMP/garbage.prom"
serve_page garbage < "$T_TMP/garbage.prom"; GB=$SERVE_PORT
t_dead_port
L=127.0.0.1

t_start_prometheus
t_start_rwbridge --scrape-interval 1s --scrape-timeout 900ms \
    --remote-write "$PROM_URL/api/v1/write" \
    --target "$L:$V1" --target "$L:$V0" --target "$L:$SG" \
    --target "$L:$CL" --target "http://$L:$GB/metrics" --target "$L:$DEAD"

t_wait_value 'count(up{job="rollout"})' 6 120
t_is "$(t_query_value 'count(up{job="rollout"})')" 6 \
    "six targets report up"
t_wait_value 'sum(up{job="rollout"})' 4 60
t_is "$(t_query_value 'sum(up{job="rollout"})')" 4 \
    "four live targets are up, the dead and the garbage ones are not"
t_is "$(t_query_value "up{instance=\"$L:$DEAD\"}")" 0 \
    "dead target has up 0"
t_is "$(t_query_value "up{instance=\"$L:$GB\"}")" 0 \
    "target serving garbage has up 0"

# Exact values from the captures, with job and instance labels.
t_is "$(t_query_value "process_virtual_memory_bytes{job=\"rollout\",instance=\"$L:$V1\"}")" \
    67359739904 "vLLM v1: Go-style float 6.7359739904e+010 arrives exactly"
t_is "$(t_query_value "vllm:kv_cache_usage_perc{engine=\"0\",model_name=\"DeepSeek-V3.1\",instance=\"$L:$V1\"}")" \
    0.00021202162620592713 "vLLM v1: kv_cache_usage_perc arrives exactly"
t_is "$(t_query_value 'vllm:spec_decode_num_drafts_total{model_name="DeepSeek-V3.1"}')" \
    15106 "vLLM v1: a counter arrives"
t_is "$(t_query_value "vllm:iteration_tokens_total_count{model_name=\"Qwen/Qwen3-0.6B\",instance=\"$L:$V0\"}")" \
    1325 "vLLM v0: a histogram count arrives"
t_is "$(t_query_value "sglang:token_usage{instance=\"$L:$SG\",job=\"rollout\"}")" \
    0.28 "SGLang: token_usage arrives"
t_is "$(t_query_value 'sglang:time_to_first_token_seconds_bucket{le="+Inf"}')" \
    11008 "SGLang: the +Inf bucket arrives"
t_is "$(t_query_value 'sglang:num_queue_reqs')" 2826 \
    "SGLang: num_queue_reqs arrives"

# Synthetic series with Prometheus's meaning.
for f in $V1:420 $V0:260 $SG:91; do
	t_is "$(t_query_value "scrape_samples_scraped{instance=\"$L:${f%%:*}\"}")" \
	    "${f##*:}" "scrape_samples_scraped is ${f##*:} for $L:${f%%:*}"
done
t_is "$(t_query_value 'count(scrape_duration_seconds{job="rollout"})')" 6 \
    "scrape_duration_seconds for every target"

# A scraped label that clashes with a target label is kept as exported_*.
t_is "$(t_query_value 'clash{exported_job="inner",exported_instance="x",job="rollout",a="b"}')" \
    7 "clashing job/instance labels are kept as exported_job/exported_instance"

# The targets API names the reason a target is down.
curl -fsS "$RW_URL/api/v1/targets" > "$T_TMP/targets.json"
t_ok "$(jq -e --arg u "http://$L:$GB/metrics" '.data.activeTargets[] |
    select(.scrapeUrl == $u) | .health == "down" and
    (.lastError | test("line 1 col"))' "$T_TMP/targets.json" >/dev/null;
    echo $?)" "garbage target is down with a line:col parse error"

# rwbridge's own metrics count what it did.
curl -fsS "$RW_URL/metrics" > "$T_TMP/self.prom"
t_ok "$(grep -q '^rwbridge_scrapes_total{result="success"} [1-9]' \
    "$T_TMP/self.prom"; echo $?)" "own /metrics counts successful scrapes"
t_ok "$(grep -Eq '^rwbridge_remote_write_samples_total\{remote="[^"]+"\} [1-9]' \
    "$T_TMP/self.prom"; echo $?)" "own /metrics counts samples sent"
t_ok "$("$RWBRIDGE" check-metrics "$T_TMP/self.prom" >/dev/null 2>&1;
    echo $?)" "own /metrics passes check-metrics"
t_ok "$(promtool check metrics < "$T_TMP/self.prom" >/dev/null 2>&1;
    echo $?)" "own /metrics passes promtool check metrics"

t_stop_rwbridge

# A listen address in use: a clear error naming it, exit 1, nothing else.
"$RWBRIDGE" --listen "127.0.0.1:$DEAD" --target "127.0.0.1:$DEAD" \
    > "$T_TMP/inuse.log" 2>&1
t_is "$?" 1 "a listen address in use: exit 1"
t_ok "$(grep -q "cannot listen on 127.0.0.1:$DEAD: Address already in use" \
    "$T_TMP/inuse.log" && ! grep -v '^ts=' "$T_TMP/inuse.log"; echo $?)" \
    "a listen address in use: the error names it, and nothing but log lines ($(grep -c . "$T_TMP/inuse.log") lines)"
t_done
