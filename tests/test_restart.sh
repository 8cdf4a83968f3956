#!/bin/sh
# Persistence: groups registered through the API survive a restart with the
# same --state-dir (listed with the same URLs, labels and settings, and
# scraped again: health up); the state file holds only API groups; a group
# removed before the restart stays removed; a corrupt state file is logged,
# moved aside and never fatal; without --state-dir nothing is kept.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

L=127.0.0.1
STATE="$T_TMP/state"

t_start_sink

mkdir -p "$T_TMP/www/custom"
printf '# TYPE g gauge\ng 1\n' > "$T_TMP/www/metrics"
cp "$T_TMP/www/metrics" "$T_TMP/www/custom/metrics"
t_serve_dir "$T_TMP/www"
W1=$SERVE_PORT
t_serve_dir "$T_TMP/www"
W2=$SERVE_PORT
t_dead_port
COMMON="--scrape-interval 1s --scrape-timeout 500ms
    --remote-write http://$L:$SINK/api/v1/write --target $L:$W2"

# The registry without what changes on its own (health, times, and the
# self target: each start listens on a port of its own).
snap() {
	curl -s "$RW_URL/api/v1/targets" | jq -S -c \
	    '[.data.activeTargets[] | select(.group != "self") |
	    {group, scrapeUrl, job, instance, labels,
	    scrapeIntervalSeconds, scrapeTimeoutSeconds}]'
}

# Succeed when every target of the API groups a and b is up.
all_up() {
	curl -s "$RW_URL/api/v1/targets" | jq -e '[.data.activeTargets[] |
	    select(.group == "a" or .group == "b") | .health] |
	    length == 3 and all(. == "up")' >/dev/null 2>&1
}

# Wait until every target of the API groups a and b is up.
wait_up() {
	t_wait_until 60 "the targets of groups a and b are up" all_up
}

t_start_rwbridge $COMMON --state-dir "$STATE"
put() {
	curl -s -o "$T_TMP/resp" -w '%{http_code}' -X PUT --data "$2" \
	    "$RW_URL/api/v1/targets/$1"
}
t_is "$(put a "{\"targets\":[\"$L:$W1\",\"localhost:$W1\"],
    \"labels\":{\"model_name\":\"Qwen/Qwen3-8B\",\"rollout\":\"7\"},
    \"interval\":\"1s\",\"timeout\":\"300ms\",\"job\":\"verl\"}")" 200 \
    "group a registered"
t_is "$(put b "{\"targets\":[\"$L:$W2\"],\"metrics_path\":\"/custom/metrics\",
    \"labels\":{\"zone\":\"z\"}}")" 200 "group b registered"
t_is "$(put gone "{\"targets\":[\"$L:$DEAD\"]}")" 200 "group gone registered"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE \
    "$RW_URL/api/v1/targets/gone")
t_is "$code" 200 "group gone removed again"
wait_up
t_ok $? "the registered targets are up before the restart"
before=$(snap)

# State saves are batched (at most one a second), so the removal of "gone"
# may reach the file a moment after its reply: wait for it.
state_is_a_b() {
	jq -e '.version == 1 and (.groups | keys == ["a", "b"])' \
	    "$STATE/targets.json" >/dev/null 2>&1
}
t_wait_until 60 "the state file holds groups a and b" state_is_a_b
t_ok $? "the state file holds exactly the API groups a and b"
t_is "$(stat -c %a "$STATE/targets.json")" 600 "the state file is mode 0600"
t_is "$(ls -A "$STATE" | grep -c tmp)" 0 "no temporary file is left behind"
t_stop_rwbridge "$RW_PID" "rwbridge exits 0 on SIGTERM"

# Same state dir: everything is back and scraped.
t_start_rwbridge $COMMON --state-dir "$STATE"
t_is "$(snap)" "$before" \
    "after the restart the same targets, labels and settings are listed"
t_ok "$(grep -q 'msg="registered targets restored".*groups=2 targets=3' \
    "$T_TMP/rwbridge.log"; echo $?)" "the restore is logged"
wait_up
t_ok $? "the restored targets are scraped and up"
t_is "$(curl -s "$RW_URL/api/v1/targets/gone" -o /dev/null \
    -w '%{http_code}')" 404 "a group removed before the restart stays removed"

# A change after the restart is saved too.
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE \
    "$RW_URL/api/v1/targets/a?target=localhost:$W1")
t_is "$code" 200 "one target of a removed after the restart"
t_is "$(jq -c '.groups.a[0].targets' "$STATE/targets.json")" \
    "[\"$L:$W1\"]" "the state file follows"
before=$(snap)
t_stop_rwbridge "$RW_PID" "rwbridge exits 0 again"
t_start_rwbridge $COMMON --state-dir "$STATE"
t_is "$(snap)" "$before" "the second restart restores the changed group"
t_stop_rwbridge "$RW_PID" "rwbridge exits 0 again"

# A corrupt state file is logged, moved aside, and not fatal.
printf '{"version":1,"groups":{"a":[{"targets":["nope"]}]}}' \
    > "$STATE/targets.json"
t_start_rwbridge $COMMON --state-dir "$STATE"
t_ok "$(grep -q 'registered targets not restored.*\$\.groups\.a\[0\]\.targets\[0\]: invalid target' \
    "$T_TMP/rwbridge.log"; echo $?)" \
    "a state file with a bad target is logged with its JSON path"
t_ok "$([ -f "$STATE/targets.json.corrupt" ]; echo $?)" \
    "the bad state file is moved aside"
t_is "$(curl -s "$RW_URL/api/v1/targets" | jq -c '[.data.activeTargets[] |
    .group | select(. != "self" and . != "static")]')" '[]' \
    "rwbridge runs with only its own groups"
t_stop_rwbridge "$RW_PID" "rwbridge exits 0"
printf '{"version":1,"groups":' > "$STATE/targets.json"
t_start_rwbridge $COMMON --state-dir "$STATE"
t_ok "$(grep -q 'registered targets not restored.*malformed JSON' \
    "$T_TMP/rwbridge.log"; echo $?)" "a truncated state file is logged"
t_stop_rwbridge "$RW_PID" "rwbridge exits 0"

# Without --state-dir nothing survives.
t_start_rwbridge $COMMON
t_is "$(put c "{\"targets\":[\"$L:$W1\"]}")" 200 "group c registered"
t_stop_rwbridge "$RW_PID" "rwbridge exits 0"
t_start_rwbridge $COMMON
t_is "$(curl -s "$RW_URL/api/v1/targets/c" -o /dev/null -w '%{http_code}')" \
    404 "without --state-dir a registered group is gone after a restart"
t_stop_rwbridge "$RW_PID" "rwbridge exits 0"

t_no_sanitizer_report
t_done
