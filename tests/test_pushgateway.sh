#!/bin/sh
# The Pushgateway bridge, both ways, against Debian's real Pushgateway and
# Prometheus: rwbridge pushes each target's series (and derived series) to
# the Pushgateway and deletes a removed target's group; and rwbridge accepts
# the Pushgateway docs' own curl pushes, forwarding them by remote write
# with PUT, POST and DELETE semantics, @base64 grouping values and ttl.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_start_pushgateway
t_start_prometheus
serve_page() {
	mkdir -p "$T_TMP/www-$1"
	cat > "$T_TMP/www-$1/metrics"
	t_serve_dir "$T_TMP/www-$1"
}
serve_page a < "$FIXTURES/exposition/vllm-v1-deepseek.prom"; A=$SERVE_PORT
serve_page b < "$FIXTURES/exposition/sglang-2024.prom"; B=$SERVE_PORT
t_start_rwbridge --scrape-interval 1s --pushgateway "$PGW_URL" \
    --remote-write "$PROM_URL/api/v1/write"
PUT() {
	curl -s -o "$T_TMP/resp" -w '%{http_code}' -X PUT \
	    -H 'Content-Type: application/json' --data-binary "$2" \
	    "$RW_URL/api/v1/targets/$1"
}
t_is "$(PUT fleet "{\"targets\":[\"127.0.0.1:$A\",\"127.0.0.1:$B\"]}")" \
    200 "two targets registered"

# Sink: each target's series land in its own group on the Pushgateway.
pgw_value() {
	curl -fsS "$PGW_URL/metrics" | grep -F "$1" | head -n 1 |
	    awk '{print $NF}'
}
# Succeed when both targets' groups are on the Pushgateway.
both_pushed() {
	[ -n "$(pgw_value "sglang:num_queue_reqs{instance=\"127.0.0.1:$B\"")" ] &&
	    [ -n "$(pgw_value "vllm:kv_cache_usage_perc{engine=\"0\",instance=\"127.0.0.1:$A\"")" ]
}

# Succeed when the Pushgateway has a group for instance $1.
pgw_has() {
	curl -fsS "$PGW_URL/api/v1/metrics" | jq -e --arg i "$1" \
	    '.data[] | select(.labels.instance == $i)' >/dev/null
}

# Succeed when the Pushgateway has no group for instance $1.
pgw_lacks() {
	! pgw_has "$1"
}

# Each target pushes after its own scrape: wait for both groups.
t_wait_until 120 "both targets are pushed" both_pushed
t_is "$(pgw_value "vllm:kv_cache_usage_perc{engine=\"0\",instance=\"127.0.0.1:$A\",job=\"rollout\",model_name=\"DeepSeek-V3.1\"}")" \
    0.00021202162620592713 "vLLM series pushed with job and instance grouping"
t_is "$(pgw_value "sglang:num_queue_reqs{instance=\"127.0.0.1:$B\",job=\"rollout\",model_name=\"meta-llama/Llama-3.1-8B-Instruct\"}")" \
    2826 "SGLang series pushed to its own group"
t_ok "$(curl -fsS "$PGW_URL/api/v1/metrics" | jq -e --arg i "127.0.0.1:$A" \
    '[.data[] | select(.labels.instance == $i and .labels.job == "rollout")] | length == 1' \
    >/dev/null; echo $?)" "the Pushgateway has one group per target"

# Removing a target deletes its group.
t_is "$(PUT fleet "{\"targets\":[\"127.0.0.1:$B\"]}")" 200 \
    "one target removed"
t_wait_until 60 "A's group is gone" pgw_lacks "127.0.0.1:$A"
t_ok $? "the removed target's group is deleted from the Pushgateway"
t_ok "$(pgw_has "127.0.0.1:$B"; echo $?)" "the other target's group stays"

# Ingest: the Pushgateway README's examples, sent to rwbridge instead.
push() {
	_m=$1
	shift
	curl -s -o "$T_TMP/resp" -w '%{http_code}' -X "$_m" --data-binary @- \
	    "$RW_URL$1"
}
t_is "$(echo "some_metric 3.14" | push POST /metrics/job/some_job)" 200 \
    "docs example: a single sample"
t_is "$(cat <<'X' | push POST /metrics/job/some_job/instance/some_instance
# TYPE some_metric counter
some_metric{label="val1"} 42
# TYPE another_metric gauge
# HELP another_metric Just an example.
another_metric 2398.283
X
)" 200 "docs example: several metrics with TYPE and HELP"
t_wait_value 'some_metric{job="some_job",instance="some_instance",label="val1"}' 42 60
t_is "$(t_query_value 'some_metric{job="some_job",instance="some_instance",label="val1"}')" \
    42 "pushed counter arrives in Prometheus with the grouping labels"
t_is "$(t_query_value 'another_metric{job="some_job",instance="some_instance"}')" \
    2398.283 "pushed gauge arrives"
t_is "$(t_query_value 'some_metric{job="some_job",instance=""}')" 3.14 \
    "the job-only group is its own group"
t_ok "$(t_query_value 'push_time_seconds{job="some_job",instance="some_instance"}' |
    grep -q '^1[0-9]*'; echo $?)" "push_time_seconds is forwarded"

# POST replaces only same-name metrics; PUT replaces the group.
t_is "$(echo 'another_metric 7' | push POST /metrics/job/some_job/instance/some_instance)" \
    200 "POST another_metric"
t_wait_value 'another_metric{job="some_job",instance="some_instance"}' 7 60
t_is "$(t_query_value 'some_metric{job="some_job",instance="some_instance"}')" 42 \
    "POST keeps metrics of other names"
t_is "$(echo 'third_metric 1' | push PUT /metrics/job/some_job/instance/some_instance)" \
    200 "PUT third_metric"
t_wait_value 'third_metric{job="some_job",instance="some_instance"}' 1 60
t_ok $? "the PUT's metric arrives"
# The stale markers may travel in another request (another shard) than
# the new sample: wait for them too, far below the 5 minute lookback.
t_wait_value 'some_metric{job="some_job",instance="some_instance"}' none 60
t_ok $? "PUT removed the group's other metrics (stale markers)"

# A pushed label that is also a grouping label is replaced by the grouping.
t_is "$(echo 'lbl{instance="inner",x="1"} 5' | push PUT /metrics/job/j2/instance/outer)" \
    200 "push with a clashing instance label"
t_wait_value 'lbl{job="j2",instance="outer",x="1"} ' 5 60
t_is "$(t_query_value 'lbl{job="j2",instance="outer",x="1"}')" 5 \
    "grouping labels replace pushed ones, as the Pushgateway does"

# @base64 grouping values, including a slash and the empty value.
t_is "$(echo 'b64_metric 9' | push PUT /metrics/job/backup/path@base64/L3Zhci90bXA)" \
    200 "@base64 value with a slash"
t_wait_value 'b64_metric{job="backup",path="/var/tmp"}' 9 60
t_is "$(t_query_value 'b64_metric{job="backup",path="/var/tmp"}')" 9 \
    "@base64 value decoded"

# DELETE removes the group and its series at once.
t_is "$(push DELETE /metrics/job/backup/path@base64/L3Zhci90bXA </dev/null)" 202 \
    "DELETE answers 202"
# Stale markers go out with the next batch (batch_send_deadline, 5 s by
# default), not after Prometheus's 5 minute lookback.
t_wait_value 'b64_metric{job="backup"}' none 60
t_is "$(t_query_value 'b64_metric{job="backup"}')" none \
    "deleted group's series are stale at once"

# ttl: a group not pushed again in time expires.
t_is "$(echo 'ttl_metric 1' | push PUT '/metrics/job/ephemeral?ttl=1s')" 200 \
    "push with ttl=1s"
# The sample and its stale marker may travel in one batch: wait for the
# sample among the raw samples, not for an instant value.
t_wait_value 'count_over_time(ttl_metric{job="ephemeral"}[1h]) > bool 0' 1 60
t_ok $? "the pushed sample arrives"
t_wait_value 'ttl_metric{job="ephemeral"}' none 60
t_ok $? "the group expires after its ttl and its series go stale"

# Bad input: clear 400s that change nothing.
t_is "$(echo 'bad{ 1' | push PUT /metrics/job/some_job/instance/some_instance)" \
    400 "malformed body is refused"
t_ok "$(grep -q 'line 1 col' "$T_TMP/resp"; echo $?)" \
    "the refusal names line and column"
t_is "$(t_query_value 'third_metric{job="some_job",instance="some_instance"}')" 1 \
    "a refused push changes nothing"
t_is "$(echo 'm 1 1700000000000' | push PUT /metrics/job/ts)" 400 \
    "samples with timestamps are refused"
t_is "$(echo 'm 1' | push PUT /metrics/job)" 400 "missing job is refused"
t_is "$(echo 'm 1' | push PUT /metrics/job/x/lonely)" 400 \
    "a label without value is refused"
t_is "$(echo 'm 1' | push PUT /metrics/job/x/__bad/1)" 400 \
    "a reserved label name is refused"
t_is "$(echo 'm 1' | push PUT '/metrics/job/x/y@base64/!!!')" 400 \
    "invalid base64 is refused"
t_is "$(push GET /metrics/job/x </dev/null)" 405 "GET is not a push"
t_done
