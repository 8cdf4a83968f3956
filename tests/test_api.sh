#!/bin/sh
# The registration API end to end: every endpoint, bearer-token auth, every
# kind of rejected request (each answered with the right status and a
# message naming the problem, and each leaving the registry exactly as it
# was), the `rwbridge targets` client, and a non-loopback listener without
# a token refusing writes.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

L=127.0.0.1
TOKEN=s3cret-token-for-tests
printf '%s\n' "$TOKEN" > "$T_TMP/token"
printf 'not-the-token\n' > "$T_TMP/badtoken"
AUTH="Authorization: Bearer $TOKEN"

# A sink for remote write that accepts everything.
t_start_sink

# One live page and one dead port to register.
mkdir -p "$T_TMP/www"
printf '# TYPE g gauge\ng{a="1"} 1\n' > "$T_TMP/www/metrics"
t_serve_dir "$T_TMP/www"
WWW=$SERVE_PORT
t_dead_port

t_start_rwbridge --scrape-interval 1s --scrape-timeout 500ms \
    --api-token-file "$T_TMP/token" \
    --remote-write "http://$L:$SINK/api/v1/write"

# req METHOD PATH [BODY|@FILE]: sets CODE and RESP (token sent).
req() {
	_m=$1
	_p=$2
	shift 2
	if [ $# -gt 0 ]; then
		CODE=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X "$_m" \
		    -H "$AUTH" --data-binary "$1" "$RW_URL$_p")
	else
		CODE=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X "$_m" \
		    -H "$AUTH" "$RW_URL$_p")
	fi
	RESP=$(cat "$T_TMP/resp")
}

# Print the arguments sorted (as jq sorts), space-separated.
sorted() {
	printf '%s\n' "$@" | LC_ALL=C sort | paste -sd' ' -
}

# The error message of the last reply.
err() {
	printf '%s' "$RESP" | jq -r '.error // empty'
}

# The registry, without what changes on its own (health, times).
snap() {
	curl -s -H "$AUTH" "$RW_URL/api/v1/targets" | jq -S -c \
	    '[.data.activeTargets[] | {group, scrapeUrl, job, instance, labels,
	    scrapeIntervalSeconds, scrapeTimeoutSeconds}]'
}

# rejected CODE PATTERN DESC METHOD PATH [BODY]: the request is refused
# with CODE and an error matching PATTERN, and nothing changed.
rejected() {
	_code=$1
	_pat=$2
	_desc=$3
	shift 3
	_before=$(snap)
	req "$@"
	t_is "$CODE" "$_code" "$_desc: HTTP $_code"
	t_ok "$(printf '%s' "$RESP" | jq -e --arg p "$_pat" \
	    '.status == "error" and (.error | test($p))' >/dev/null; echo $?)" \
	    "$_desc: error matches /$_pat/ (got: $(err))"
	t_is "$(snap)" "$_before" "$_desc: nothing changed"
}

# Succeed when jq expression $2 is true of GET group $1.
group_has() {
	curl -s -H "$AUTH" "$RW_URL/api/v1/targets/$1" |
	    jq -e "$2" >/dev/null 2>&1
}

# Wait until jq expression $2 is true of GET group $1.
wait_group() {
	t_wait_until 60 "group $1 has $2" group_has "$1" "$2"
}

# --- Auth.
code=$(curl -s -o "$T_TMP/resp" -D "$T_TMP/hdr" -w '%{http_code}' \
    "$RW_URL/api/v1/targets")
t_is "$code" 401 "GET without a token: 401"
t_ok "$(grep -qi '^WWW-Authenticate: Bearer' "$T_TMP/hdr"; echo $?)" \
    "401 carries WWW-Authenticate: Bearer"
t_is "$(jq -r .error "$T_TMP/resp")" "missing bearer token" \
    "401 says the token is missing"
code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' \
    -H "Authorization: Bearer wrong" "$RW_URL/api/v1/targets")
t_is "$code" 401 "GET with a wrong token: 401"
t_is "$(jq -r .error "$T_TMP/resp")" "wrong bearer token" \
    "401 says the token is wrong"
code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' \
    -H "Authorization: Bearer ${TOKEN}x" "$RW_URL/api/v1/targets")
t_is "$code" 401 "GET with the token plus one character: 401"
req GET /api/v1/targets
t_is "$CODE" 200 "GET with the right token: 200"
t_is "$(printf '%s' "$RESP" | jq -r .status)" success "status success"
t_is "$(printf '%s' "$RESP" | jq -c .data.droppedTargets)" "[]" \
    "droppedTargets is an empty list, as in Prometheus"
before=$(snap)
code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X PUT \
    --data '{"targets":["127.0.0.1:1"]}' "$RW_URL/api/v1/targets/x")
t_is "$code" 401 "PUT without a token: 401"
code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X DELETE \
    -H "Authorization: Bearer wrong" "$RW_URL/api/v1/targets/x")
t_is "$code" 401 "DELETE with a wrong token: 401"
t_is "$(snap)" "$before" "unauthorized writes changed nothing"

# --- PUT, GET, POST, DELETE.
req PUT /api/v1/targets/verl "{\"targets\":[\"$L:$WWW\",\"$L:$DEAD\"],
    \"labels\":{\"model_name\":\"Qwen/Qwen3-8B\",\"rollout\":\"r1\"},
    \"interval\":\"1s\",\"timeout\":\"500ms\"}"
t_is "$CODE" 200 "PUT a group: 200"
t_is "$(printf '%s' "$RESP" | jq -c .)" \
    '{"status":"success","data":{"group":"verl","targets":2}}' \
    "PUT answers the group and its size"
req GET /api/v1/targets/verl
t_is "$CODE" 200 "GET the group: 200"
t_is "$(printf '%s' "$RESP" | jq -r '[.data.activeTargets[].scrapeUrl] |
    sort | join(" ")')" "$(sorted "http://$L:$DEAD/metrics" \
    "http://$L:$WWW/metrics")" "the group has both scrape URLs"
t_is "$(printf '%s' "$RESP" | jq -r ".data.activeTargets[] |
    select(.instance == \"$L:$DEAD\") | [.group, .labels.model_name,
    .labels.rollout, .labels.job, .labels.instance, .scrapeIntervalSeconds,
    .scrapeTimeoutSeconds] | map(tostring) | join(\" \")")" \
    "verl Qwen/Qwen3-8B r1 rollout $L:$DEAD 1 0.5" \
    "group, labels, job, instance, interval and timeout are listed"
wait_group verl "(.data.activeTargets[] | select(.instance == \"$L:$WWW\") |
    .health == \"up\" and .lastSamples == 1 and .lastScrape != null)"
t_ok $? "the live target is scraped and up"
wait_group verl "(.data.activeTargets[] | select(.instance == \"$L:$DEAD\") |
    .health == \"down\" and (.lastError | length > 0))"
t_ok $? "the dead target is down with a reason"

req POST /api/v1/targets/verl "{\"targets\":[\"localhost:$DEAD\"],
    \"labels\":{\"model_name\":\"Qwen/Qwen3-8B\"},\"job\":\"verl-rollout\",
    \"metrics_path\":\"/m\"}"
t_is "$CODE" 200 "POST adds to the group: 200"
t_is "$(printf '%s' "$RESP" | jq .data.targets)" 3 "the group has 3 targets"
req GET /api/v1/targets/verl
t_is "$(printf '%s' "$RESP" | jq -r ".data.activeTargets[] |
    select(.instance == \"localhost:$DEAD\") | [.scrapeUrl, .job,
    .labels.job] | join(\" \")")" \
    "http://localhost:$DEAD/m verl-rollout verl-rollout" \
    "job and metrics_path apply to the added target"
req POST /api/v1/targets/verl "{\"targets\":[\"localhost:$DEAD\"],
    \"labels\":{\"model_name\":\"Qwen/Qwen3-8B\"},\"job\":\"verl-rollout\",
    \"metrics_path\":\"/m\"}"
t_is "$(printf '%s' "$RESP" | jq .data.targets)" 3 \
    "POSTing the same target again changes nothing"
req PUT /api/v1/targets/https "{\"targets\":[\"[::1]:$DEAD\",
    \"$L:$DEAD\",\"$L:$DEAD\"],\"scheme\":\"https\"}"
t_is "$(printf '%s' "$RESP" | jq .data.targets)" 2 \
    "PUT with a target listed twice registers it once"
req GET /api/v1/targets/https
t_is "$(printf '%s' "$RESP" | jq -r '[.data.activeTargets[].scrapeUrl] |
    sort | join(" ")')" "$(sorted "https://$L:$DEAD/metrics" \
    "https://[::1]:$DEAD/metrics")" \
    "scheme https and IPv6 addresses build the scrape URLs"
req GET /api/v1/targets
t_is "$(printf '%s' "$RESP" | jq -c '[.data.activeTargets[] |
    select(.group != "self") | .group] | group_by(.) |
    map({(.[0]): length}) | add')" '{"https":2,"verl":3}' \
    "GET /api/v1/targets lists every group"

req PUT /api/v1/targets/verl "{\"targets\":[\"$L:$WWW\"],
    \"labels\":{\"model_name\":\"Qwen/Qwen3-8B\",\"rollout\":\"r2\"},
    \"interval\":\"1s\"}"
t_is "$(printf '%s' "$RESP" | jq .data.targets)" 1 \
    "PUT replaces the whole group"
req GET /api/v1/targets/verl
t_is "$(printf '%s' "$RESP" | jq -r '.data.activeTargets[] |
    .instance + " " + .labels.rollout')" "$L:$WWW r2" \
    "only the new target is left, with the new labels"

req DELETE "/api/v1/targets/https?target=$L:$DEAD"
t_is "$CODE" 200 "DELETE one target: 200"
t_is "$(printf '%s' "$RESP" | jq .data.targets)" 1 "one target left"
req DELETE "/api/v1/targets/https?target=%5B%3A%3A1%5D%3A$DEAD"
t_is "$CODE" 200 "DELETE an IPv6 target (URL-encoded): 200"
req GET /api/v1/targets/https
t_is "$CODE" 404 "a group whose last target went is gone"
req DELETE "/api/v1/targets/verl?target=$L:$DEAD"
t_is "$CODE" 404 "DELETE a target that is not in the group: 404"
t_is "$(err)" "target \"$L:$DEAD\" is not in group \"verl\"" \
    "the 404 names the target and the group"
req DELETE /api/v1/targets/nosuch
t_is "$CODE" 404 "DELETE an unknown group: 404"
t_is "$(err)" 'unknown group "nosuch"' "the 404 names the group"
req GET /api/v1/targets/nosuch
t_is "$CODE" 404 "GET an unknown group: 404"

# --- Rejected requests change nothing.
req PUT /api/v1/targets/keep "{\"targets\":[\"$L:$DEAD\"],
    \"labels\":{\"a\":\"1\"}}"
t_is "$CODE" 200 "PUT a second group"
rejected 400 '^malformed JSON at line 1, column [0-9]+' "malformed JSON" \
    PUT /api/v1/targets/keep '{"targets":['
rejected 400 '^malformed JSON at line 2, column [0-9]+ ' \
    "malformed JSON on line 2" PUT /api/v1/targets/keep \
    '{"targets":[],
     "labels" {}}'
rejected 400 '^malformed JSON' "trailing garbage" \
    PUT /api/v1/targets/keep '{"targets":[]} x'
rejected 400 '^malformed JSON: empty document$' "empty body" \
    PUT /api/v1/targets/keep ''
rejected 400 '^\$: want an object' "a list instead of an object" \
    PUT /api/v1/targets/keep '[]'
rejected 400 'unknown key "intervall"' "unknown key" \
    PUT /api/v1/targets/keep '{"targets":[],"intervall":"5s"}'
rejected 400 'missing "targets"' "missing targets" \
    PUT /api/v1/targets/keep '{"labels":{}}'
rejected 400 '^\$\.labels\["model-name"\]: invalid label name' \
    "invalid label name" PUT /api/v1/targets/keep \
    "{\"targets\":[\"$L:1\"],\"labels\":{\"model-name\":\"x\"}}"
rejected 400 '^\$\.labels\.__address__: label names starting with "__"' \
    "reserved label name" PUT /api/v1/targets/keep \
    "{\"targets\":[\"$L:1\"],\"labels\":{\"__address__\":\"x\"}}"
printf '{"targets":["%s:1"],"labels":{"a":"\377"}}' "$L" > "$T_TMP/badutf8"
rejected 400 '^\$\.labels\.a: value is not valid UTF-8$' \
    "label value not UTF-8" PUT /api/v1/targets/keep "@$T_TMP/badutf8"
python3 -c 'print("{\"targets\":[],\"labels\":{\"a\":\"" + "x" * 4097 +
"\"}}")' > "$T_TMP/longvalue"
rejected 400 'value is 4097 bytes, at most 4096' "label value too long" \
    PUT /api/v1/targets/keep "@$T_TMP/longvalue"
python3 -c 'import json; print(json.dumps({"targets": [], "labels":
{"l%d" % i: "v" for i in range(65)}}))' > "$T_TMP/labels65"
rejected 400 '65 labels, at most 64' "65 labels" \
    PUT /api/v1/targets/keep "@$T_TMP/labels65"
rejected 400 '^\$\.targets\[1\]: invalid target "10\.0\.0\.5": missing port' \
    "target without a port" PUT /api/v1/targets/keep \
    "{\"targets\":[\"$L:$WWW\",\"10.0.0.5\"]}"
rejected 400 'port must be a number from 1 to 65535' "port 70000" \
    PUT /api/v1/targets/keep '{"targets":["10.0.0.5:70000"]}'
rejected 400 'not a URL' "a URL instead of host:port" \
    POST /api/v1/targets/keep '{"targets":["http://10.0.0.5:8000/metrics"]}'
rejected 400 'needs brackets' "IPv6 without brackets" \
    POST /api/v1/targets/keep '{"targets":["::1:8000"]}'
rejected 400 '^\$\.targets\[0\]: want a "host:port" string' \
    "a number as target" POST /api/v1/targets/keep '{"targets":[8000]}'
python3 -c 'import json; print(json.dumps({"targets": ["10.1.%d.%d:80" %
(i // 256, i % 256) for i in range(10001)]}))' > "$T_TMP/t10001"
rejected 400 '10001 targets, at most 10000 per request' "10001 targets" \
    PUT /api/v1/targets/keep "@$T_TMP/t10001"
python3 -c 'print("{\"targets\":[], \"pad\":\"" + "x" * (1 << 20) + "\"}")' \
    > "$T_TMP/big"
rejected 413 'at most 1048576' "body over 1 MiB" \
    PUT /api/v1/targets/keep "@$T_TMP/big"
rejected 400 'invalid duration "5x"' "bad interval" \
    PUT /api/v1/targets/keep '{"targets":[],"interval":"5x"}'
rejected 400 'timeout 10s is longer than the interval 5s' \
    "timeout longer than interval" PUT /api/v1/targets/keep \
    '{"targets":[],"interval":"5s","timeout":"10s"}'
rejected 400 'scheme must be "http" or "https"' "scheme ftp" \
    PUT /api/v1/targets/keep '{"targets":[],"scheme":"ftp"}'
rejected 400 'invalid metrics path' "metrics path without /" \
    PUT /api/v1/targets/keep '{"targets":[],"metrics_path":"metrics"}'
rejected 400 'conflicts with job' "job key and job label disagree" \
    PUT /api/v1/targets/keep \
    '{"targets":[],"job":"a","labels":{"job":"b"}}'
rejected 400 'duplicate key "targets"' "duplicate key" \
    PUT /api/v1/targets/keep '{"targets":[],"targets":[]}'
rejected 400 'takes no query parameters' "PUT with a query" \
    PUT '/api/v1/targets/keep?targets=x' '{"targets":[]}'
rejected 400 'unknown query parameter "targets"' "DELETE with a typo" \
    DELETE '/api/v1/targets/keep?targets=x'
rejected 400 'invalid target' "DELETE ?target= with a bad address" \
    DELETE '/api/v1/targets/keep?target=nope'
rejected 403 'belongs to rwbridge' "PUT to the reserved group static" \
    PUT /api/v1/targets/static '{"targets":[]}'
rejected 403 'belongs to rwbridge' "DELETE the reserved group self" \
    DELETE /api/v1/targets/self
rejected 403 'belongs to rwbridge' "POST to a file_sd: group" \
    POST /api/v1/targets/file_sd:x '{"targets":[]}'
rejected 400 'invalid group name' "group name with a space" \
    PUT '/api/v1/targets/a%20b' '{"targets":[]}'
rejected 400 'invalid group name' "group name with a slash" \
    PUT '/api/v1/targets/a/b' '{"targets":[]}'
long=$(python3 -c 'print("g" * 129)')
rejected 400 'invalid group name' "group name of 129 characters" \
    PUT "/api/v1/targets/$long" '{"targets":[]}'
rejected 405 'use PUT, POST or DELETE on /api/v1/targets/\{group\}' \
    "PUT on the collection" PUT /api/v1/targets '{"targets":[]}'
req GET /api/v1/targets/keep
t_is "$(printf '%s' "$RESP" | jq -r '.data.activeTargets[] |
    .instance + " " + .labels.a')" "$L:$DEAD 1" \
    "after all that the group is exactly as registered"
long=$(python3 -c 'print("g" * 128)')
req PUT "/api/v1/targets/$long" '{"targets":[]}'
t_is "$CODE" 200 "a group name of 128 characters is fine"
req PUT "/api/v1/targets/A-z_0.9:x" '{"targets":[]}'
t_is "$CODE" 200 "a group name using every allowed character is fine"

# --- Emptying and removing.
req PUT /api/v1/targets/keep '{"targets":[]}'
t_is "$(printf '%s' "$RESP" | jq -c .data)" '{"group":"keep","targets":0}' \
    "PUT with no targets empties the group"
req GET /api/v1/targets/keep
t_is "$CODE" 404 "an emptied group is gone"
req DELETE /api/v1/targets/verl
t_is "$CODE" 200 "DELETE a group: 200"
req GET /api/v1/targets/verl
t_is "$CODE" 404 "a deleted group is gone"
t_ok "$(grep -q 'msg="target group changed".*op=replace group=verl' \
    "$T_TMP/rwbridge.log"; echo $?)" "changes are logged at info level"
curl -s "$RW_URL/metrics" > "$T_TMP/self.prom"
t_ok "$(grep -Eq '^rwbridge_api_errors_total [1-9]' "$T_TMP/self.prom";
    echo $?)" "own /metrics counts rejected API requests"

# --- The rwbridge targets client.
CLI="$RWBRIDGE targets --url $RW_URL --api-token-file $T_TMP/token"
out=$($CLI set cli "$L:$WWW" --label model_name=m --label rollout=r3 \
    --interval 1s 2>&1)
t_is "$?:$out" "0:group cli: 1 target" "targets set"
out=$($CLI add cli "$L:$DEAD" --interval 1s 2>&1)
t_is "$?:$out" "0:group cli: 2 targets" "targets add"
$CLI list --group cli --json > "$T_TMP/cli.json"
t_is "$?" 0 "targets list --json exits 0"
t_is "$(jq -r '[.data.activeTargets[] | .instance + "=" +
    (.labels.model_name // "-")] | sort | join(" ")' "$T_TMP/cli.json")" \
    "$(sorted "$L:$DEAD=-" "$L:$WWW=m")" \
    "targets list --json shows both, with labels"
wait_group cli "(.data.activeTargets[] | select(.instance == \"$L:$WWW\") |
    .health == \"up\")"
$CLI list > "$T_TMP/cli.txt"
t_is "$?" 0 "targets list exits 0"
t_ok "$(head -n 1 "$T_TMP/cli.txt" | grep -Eq \
    '^GROUP +INSTANCE +HEALTH +LAST_SCRAPE +ERROR$'; echo $?)" \
    "targets list prints a header"
t_ok "$(grep -Eq "^cli +$L:$WWW +up +[0-9.]+s ago" "$T_TMP/cli.txt";
    echo $?)" "targets list shows the live target up"
t_ok "$(grep -Eq "^cli +$L:$DEAD +(down|unknown) " "$T_TMP/cli.txt";
    echo $?)" "targets list shows the dead target"
out=$($CLI remove cli "$L:$DEAD" 2>&1)
t_is "$?:$out" "0:removed $L:$DEAD from group cli (1 left)" \
    "targets remove GROUP HOST:PORT"
out=$(RWBRIDGE_URL=$RW_URL RWBRIDGE_API_TOKEN_FILE=$T_TMP/token \
    "$RWBRIDGE" targets list --group cli --json | jq '.data.activeTargets |
    length')
t_is "$out" 1 "\$RWBRIDGE_URL and \$RWBRIDGE_API_TOKEN_FILE are used"
out=$($CLI remove cli 2>&1)
t_is "$?:$out" "0:removed group cli" "targets remove GROUP"
out=$($CLI list --group cli 2>&1)
t_is "$?:$out" '1:rwbridge targets: unknown group "cli" (HTTP 404)' \
    "list of an unknown group exits 1 with the server's message"
out=$($CLI set cli "10.0.0.5" 2>&1)
t_is "$?:$out" '1:rwbridge targets: $.targets[0]: invalid target "10.0.0.5": missing port (want host:port) (HTTP 400)' \
    "a bad address exits 1 with the server's message"
out=$("$RWBRIDGE" targets --url "$RW_URL" --api-token-file \
    "$T_TMP/badtoken" list 2>&1)
t_is "$?:$out" "1:rwbridge targets: wrong bearer token (HTTP 401)" \
    "a wrong token exits 1"
$CLI set >/dev/null 2>&1
t_is "$?" 2 "set without a group is a usage error"
$CLI add g >/dev/null 2>&1
t_is "$?" 2 "add without targets is a usage error"
$CLI frobnicate >/dev/null 2>&1
t_is "$?" 2 "an unknown command is a usage error"
$CLI set g "$L:1" --interval 5x >/dev/null 2>&1
t_is "$?" 2 "a bad --interval is a usage error"
$CLI set g "$L:1" --label novalue >/dev/null 2>&1
t_is "$?" 2 "a --label without = is a usage error"
"$RWBRIDGE" targets --help | grep -q '^usage: rwbridge targets list'
t_ok $? "targets --help prints the usage"
"$RWBRIDGE" targets --url "http://$L:$DEAD" list >/dev/null 2>&1
t_is "$?" 1 "an unreachable rwbridge exits 1"

# --- Without a token: loopback may write, anything else may only read.
MAIN_PID=$RW_PID
RW_LOG="$T_TMP/rwbridge-loopback.log"
t_start_rwbridge --scrape-interval 1s \
    --remote-write "http://$L:$SINK/api/v1/write"
P2=$RW_PORT
PID2=$RW_PID
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
    --data "{\"targets\":[\"$L:$DEAD\"]}" "http://$L:$P2/api/v1/targets/g")
t_is "$code" 200 "loopback listener without a token: writes allowed"
RW_LOG="$T_TMP/rwbridge-any.log"
RW_HOST=0.0.0.0
t_start_rwbridge --scrape-interval 1s \
    --remote-write "http://$L:$SINK/api/v1/write"
P3=$RW_PORT
PID3=$RW_PID
code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X PUT \
    --data "{\"targets\":[\"$L:$DEAD\"]}" "http://$L:$P3/api/v1/targets/g")
t_is "$code" 403 "0.0.0.0 listener without a token: PUT refused with 403"
t_ok "$(jq -e '.error | test("--api-token-file")' "$T_TMP/resp" \
    >/dev/null; echo $?)" "the 403 says to set --api-token-file"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE \
    "http://$L:$P3/api/v1/targets/g")
t_is "$code" 403 "0.0.0.0 listener without a token: DELETE refused"
code=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' \
    "http://$L:$P3/api/v1/targets")
t_is "$code" 200 "0.0.0.0 listener without a token: reads allowed"

# --- Shut down cleanly; ASan (make check) reports nothing.
for pid in $MAIN_PID $PID2 $PID3; do
	t_stop_rwbridge "$pid" "rwbridge $pid exits 0 on SIGTERM"
done
t_no_sanitizer_report "no sanitizer report in the logs" "$T_TMP"/rwbridge*.log
t_done
