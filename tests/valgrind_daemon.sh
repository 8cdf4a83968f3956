#!/bin/sh
# The daemon under valgrind (a plain build; run by scripts/test after the
# unit tests): scrape the real captures, a dead port and a garbage page,
# remote-write to the real Prometheus, push to the real Pushgateway, take
# registrations and Pushgateway-style pushes, persist state, then stop on
# SIGTERM. Any valgrind error or definite leak makes rwbridge exit 99.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_start_prometheus
t_start_pushgateway
# One server per page, so each is its own instance.
serve() {
	mkdir -p "$T_TMP/www-$1"
	cat > "$T_TMP/www-$1/metrics"
	t_serve_dir "$T_TMP/www-$1"
}
serve v1 < "$FIXTURES/exposition/vllm-v1-deepseek.prom"; V1=$SERVE_PORT
serve v0 < "$FIXTURES/exposition/vllm-v0-qwen3.prom"; V0=$SERVE_PORT
serve sg < "$FIXTURES/exposition/sglang-2024.prom"; SG=$SERVE_PORT
printf 'not { a page\n' > "$T_TMP/garbage"
serve gb < "$T_TMP/garbage"; GB=$SERVE_PORT
serve reg < "$FIXTURES/exposition/vllm-v1-deepseek.prom"; W=$SERVE_PORT
t_dead_port
printf 'secret\n' > "$T_TMP/token"
cat > "$T_TMP/rw.json" <<JSON
{
  "global": {"scrape_interval": "1s", "scrape_timeout": "900ms",
             "state_dir": "$T_TMP/state", "api_token_file": "$T_TMP/token"},
  "targets": ["127.0.0.1:$V1", "127.0.0.1:$V0", "127.0.0.1:$SG",
              "127.0.0.1:$GB", "127.0.0.1:$DEAD"],
  "remote_write": [{"url": "$PROM_URL/api/v1/write",
                    "batch_send_deadline": "200ms"}],
  "pushgateway": {"url": "$PGW_URL"}
}
JSON
t_spawn 1 "rwbridge under valgrind" "$T_TMP/rwbridge.log" \
    valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --log-file="$T_TMP/valgrind.log" \
    "$RWBRIDGE" --config "$T_TMP/rw.json" --listen "127.0.0.1:@PORT@"
RW_PORT=$T_PORT
RW_PID=$T_LPID
RW_URL="http://127.0.0.1:$RW_PORT"
t_wait_http "$RW_URL/-/ready" 300 || t_bail "rwbridge did not get ready"

# Succeed when the Pushgateway has a group for instance $1.
pgw_has() {
	curl -fsS "$PGW_URL/api/v1/metrics" | jq -e --arg i "$1" \
	    '.data[] | select(.labels.instance == $i)' >/dev/null
}

# Succeed when the Pushgateway has no group for instance $1.
pgw_lacks() {
	! pgw_has "$1"
}

AUTH="Authorization: Bearer secret"
t_is "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "$AUTH" \
    --data "{\"targets\":[\"127.0.0.1:$W\"],\"labels\":{\"g\":\"1\"}}" \
    "$RW_URL/api/v1/targets/vg")" 200 "register a group"
t_is "$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
    --data '{"targets":[]}' "$RW_URL/api/v1/targets/vg")" 401 \
    "a write without the token is refused"
t_is "$(printf 'pushed_metric{a="b"} 3\n' | curl -s -o /dev/null \
    -w '%{http_code}' -H "$AUTH" --data-binary @- \
    "$RW_URL/metrics/job/vg/instance/x?ttl=2s")" 200 "a Pushgateway-style push"
t_is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$AUTH" \
    --data '{bad json' "$RW_URL/api/v1/targets/vg")" 400 "bad JSON is a 400"
t_wait_value 'up{instance="127.0.0.1:'"$W"'",g="1"}' 1 300
t_is "$(t_query_value 'up{instance="127.0.0.1:'"$W"'",g="1"}')" 1 \
    "the registered target is scraped"
t_wait_value 'sum(up{job="rollout"})' 4 300
t_is "$(t_query_value 'sum(up{job="rollout"})')" 4 \
    "four live targets up, the dead and garbage ones not"
t_is "$(curl -s -o "$T_TMP/targets.html" -w '%{http_code}' -H "$AUTH" \
    "$RW_URL/targets?health=down&job=rollout")" 200 \
    "the status page, filtered"
t_ok "$(grep -q "127.0.0.1:$DEAD<br>" "$T_TMP/targets.html"; echo $?)" \
    "the status page lists the dead target"
# With a 2 s ttl the sample may be stale again by the time it is queried:
# look among the raw samples.
t_wait_value 'max_over_time(pushed_metric{job="vg"}[1h])' 3 300
t_ok $? "the push arrived"
t_wait_value 'pushed_metric{job="vg"}' none 300
t_ok $? "the pushed group expires after its ttl (stale markers sent)"
t_wait_until 300 "the registered target is on the Pushgateway" pgw_has \
    "127.0.0.1:$W"
t_ok $? "the registered target is pushed to the Pushgateway"
t_is "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "$AUTH" \
    "$RW_URL/api/v1/targets/vg")" 200 "remove the group"
t_wait_value 'up{instance="127.0.0.1:'"$W"'",g="1"}' none 300
t_ok $? "the removed target's series go stale"
t_wait_until 300 "the removed target leaves the Pushgateway" pgw_lacks \
    "127.0.0.1:$W"
t_ok $? "the removed target's Pushgateway group is deleted"
t_stop_rwbridge "$RW_PID" \
    "rwbridge exits 0 under valgrind: no errors, no definite leaks"
[ -s "$T_TMP/valgrind.log" ] && sed 's/^/# /' "$T_TMP/valgrind.log" | head -60
t_done
