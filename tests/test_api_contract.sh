#!/bin/sh
# API groups take the scrape contract of config groups: the same
# metric_relabel_configs, limits and TLS (a test CA made here with openssl)
# given to a config group and to an API group give the same series in a
# real Prometheus receiver and the same failures; the same JSON registered
# again keeps the running target (no series new to its cache, no stale
# marker), other rules restart it; the keys survive a restart in the
# state file as given, and the targets relabel_configs dropped are listed
# as dropped again; bad input (an inline secret, an invalid regex, an
# unknown action, replace without target_label) is answered 400 with its
# JSON path and changes nothing.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

command -v openssl >/dev/null || t_bail "openssl not installed"
D="$T_TMP/pki"
mkdir -p "$D"
ossl() {
	openssl "$@" >>"$T_TMP/openssl.log" 2>&1 ||
	    t_bail "openssl $1 failed (see openssl.log)"
}
ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=test ca" \
    -keyout "$D/ca.key" -out "$D/ca.pem"
ossl req -newkey rsa:2048 -nodes -subj "/CN=server" -keyout "$D/server.key" \
    -out "$D/server.csr"
printf 'subjectAltName=IP:127.0.0.1\n' > "$D/server.ext"
ossl x509 -req -in "$D/server.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
    -CAcreateserial -days 2 -extfile "$D/server.ext" -out "$D/server.pem"

cat > "$T_TMP/page.txt" <<'EOF'
# TYPE keep_me gauge
keep_me{a="1"} 1
keep_me{a="2"} 2
# TYPE go_gc_runs gauge
go_gc_runs 3
# TYPE other gauge
other{path="/x"} 4
EOF
t_spawn 1 "https server" "$T_TMP/https.log" \
    python3 "$top_srcdir/tests/tls_server.py" @PORT@ tls "$D" "$T_TMP/page.txt"
HTTPS=$T_PORT
t_start_prometheus

L=127.0.0.1
# The contract both kinds of group get: drop a family, rewrite a label.
RULES='[{"source_labels": ["__name__"], "regex": "go_.*", "action": "drop"},
 {"source_labels": ["a"], "regex": "(.*)", "target_label": "aa",
  "replacement": "v${1}"}]'
# group JOB CASE EXTRA: a group's keys (the params make each URL its own).
group() {
	printf '"job": "%s", "targets": ["%s:%s"], "scheme": "https",
 "params": {"case": ["%s"]}, "tls_config": {"ca_file": "%s/ca.pem"}%s' \
	    "$1" "$L" "$HTTPS" "$2" "$D" "$3"
}
cat > "$T_TMP/rwbridge.json" <<EOF
{"global": {"scrape_interval": "1s", "scrape_timeout": "900ms",
            "self_scrape": false, "state_dir": "$T_TMP/state"},
 "derive": {"enabled": false},
 "remote_write": ["$PROM_URL/api/v1/write"],
 "targets": [
  {$(group cfg cfg ", \"metric_relabel_configs\": $RULES")},
  {$(group cfg_limited cfg_limited ", \"sample_limit\": 2")},
  {$(group cfg_ok_limit cfg_ok_limit ", \"sample_limit\": 3,
     \"metric_relabel_configs\": $RULES")}
 ]}
EOF
t_start_rwbridge --config "$T_TMP/rwbridge.json"

# req METHOD GROUP BODY: sets CODE, the reply in $T_TMP/resp.
req() {
	CODE=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X "$1" \
	    -H 'Content-Type: application/json' --data-binary "$3" \
	    "$RW_URL/api/v1/targets/$2")
}
req PUT api "{$(group api api ", \"metric_relabel_configs\": $RULES")}"
t_is "$CODE" 200 "PUT an API group with TLS and metric_relabel_configs"
req PUT api_limited "{$(group api_limited api_limited ", \"sample_limit\": 2")}"
t_is "$CODE" 200 "PUT an API group with sample_limit 2"
req PUT api_ok_limit "{$(group api_ok_limit api_ok_limit ", \"sample_limit\": 3,
 \"metric_relabel_configs\": $RULES")}"
t_is "$CODE" 200 "PUT an API group with sample_limit 3 and the rules"

# A target's field by job.
field() {
	curl -fsS "$RW_URL/api/v1/targets" | jq -r --arg j "$1" --arg f "$2" \
	    '.data.activeTargets[] | select(.labels.job == $j) | .[$f]'
}
scraped() {
	[ -n "$(field "$1" lastScrape)" ] && [ "$(field "$1" lastScrape)" != null ]
}
check_groups() {
	local j
	for j in cfg cfg_limited cfg_ok_limit api api_limited api_ok_limit; do
		t_wait_until 120 "$j scraped" scraped $j ||
		    t_bail "$j was not scraped (see rwbridge.log)"
	done
	for j in cfg api cfg_ok_limit api_ok_limit; do
		t_is "$(field $j health)" up "$1$j: up over TLS with the test CA"
	done
	for j in cfg_limited api_limited; do
		t_is "$(field $j health)/$(field $j lastError)" \
		    "down/sample limit exceeded" "$1$j: the limit fails the scrape"
	done
}
check_groups ""

# The label sets a job sent to the receiver (without job), sorted.
sets() {
	t_query "{job=\"$1\"}" | jq -c '[.[].metric | del(.job)] | sort'
}
have_series() {
	[ "$(t_query "count({job=\"$1\", __name__=\"other\"})" |
	    jq -r '.[0].value[1] // 0')" = 1 ]
}
for j in cfg api cfg_ok_limit api_ok_limit; do
	t_wait_until 120 "$j's series in the receiver" have_series $j ||
	    t_bail "no series of $j arrived (see prometheus.log)"
done
t_is "$(sets api)" "$(sets cfg)" "API group and config group: the same series"
t_is "$(sets api_ok_limit)" "$(sets cfg_ok_limit)" \
    "with sample_limit 3: the same series"
t_is "$(t_query '{job="api", __name__="keep_me"}' |
    jq -r '[.[].metric.aa] | sort | join(",")')" "v1,v2" \
    "the API group's metric_relabel_configs rewrote the label"
t_is "$(t_query '{job="api", __name__="go_gc_runs"}')" "[]" \
    "the API group's metric_relabel_configs dropped the family"
t_is "$(t_query_value 'scrape_samples_post_metric_relabeling{job="api"}')" \
    "$(t_query_value 'scrape_samples_post_metric_relabeling{job="cfg"}')" \
    "scrape_samples_post_metric_relabeling alike"

# Bad input: 400 with the JSON path, nothing changed.
snapshot() {
	curl -fsS "$RW_URL/api/v1/targets/api" |
	    jq -c '[.data.activeTargets[] | .scrapeUrl]'
}
before=$(snapshot)
bad() {
	req PUT api "$1"
	t_is "$CODE" 400 "$2: 400"
	case $(jq -r .error "$T_TMP/resp") in
	*"$3"*)	t_ok 0 "$2: the message names $3" ;;
	*)	t_ok 1 "$2: message \"$(jq -r .error "$T_TMP/resp")\"" ;;
	esac
	t_is "$(snapshot)" "$before" "$2: the group is unchanged"
}
printf 's3cret\n' > "$T_TMP/pw"
bad "{\"targets\": [\"$L:1\"], \"basic_auth\": {\"username\": \"u\",
 \"password\": \"s3cret-inline\"}}" "inline password" \
    '$.basic_auth.password: secrets are given by file reference in API groups: use password_file'
bad "{\"targets\": [\"$L:1\"], \"authorization\": {\"credentials\": \"t\"}}" \
    "inline credentials" '$.authorization.credentials: secrets are given by file reference in API groups: use credentials_file'
bad "{\"targets\": [\"$L:1\"], \"bearer_token\": \"t\"}" "inline bearer_token" \
    '$.bearer_token: secrets are given by file reference in API groups: use bearer_token_file'
bad "{\"targets\": [\"$L:1\"], \"metric_relabel_configs\": [{\"regex\": \"(a\",
 \"action\": \"drop\"}]}" "invalid regex" '$.metric_relabel_configs[0].regex: '
bad "{\"targets\": [\"$L:1\"], \"relabel_configs\": [{\"action\": \"rename\"}]}" \
    "unknown action" '$.relabel_configs[0].action: unknown relabel action'
bad "{\"targets\": [\"$L:1\"], \"metric_relabel_configs\": [{\"action\": \"replace\"}]}" \
    "replace without target_label" "\$.metric_relabel_configs[0]: relabel configuration for replace action requires 'target_label' value"
case $(cat "$T_TMP/rwbridge.log"; curl -fsS "$RW_URL/api/v1/targets") in
*s3cret-inline*) t_ok 1 "a refused inline secret appears in the log or API" ;;
*)	t_ok 0 "a refused inline secret appears nowhere" ;;
esac
req PUT api_auth "{\"targets\": [\"$L:$HTTPS\"], \"scheme\": \"https\",
 \"tls_config\": {\"ca_file\": \"$D/ca.pem\"}, \"basic_auth\":
 {\"username\": \"u\", \"password_file\": \"$T_TMP/pw\"}}"
t_is "$CODE" 200 "basic_auth with password_file is accepted"

# Registering the same JSON again (as verl's trainer does) keeps the
# running target: rules, TLS and auth are compared by content, so its
# scrape cache stays (no new series, no stale markers) and its state too.
# Other rules restart it: new series, the old ones stale-marked.
REPUT="{$(group reput reput ", \"metric_relabel_configs\": $RULES,
 \"basic_auth\": {\"username\": \"u\", \"password_file\": \"$T_TMP/pw\"}")}"
# added_since JOB T: the job's scrape_series_added values scraped after T.
added_since() {
	t_query "scrape_series_added{job=\"$1\"}[10m]" | jq -r --argjson t "$2" \
	    '[.[0].values[]? | select(.[0] > $t) | .[1]] | join(" ")'
}
# at_least N CMD...: succeed when CMD prints N values or more.
at_least() {
	local n=$1
	shift
	[ "$("$@" | wc -w)" -ge "$n" ]
}
stale_total() {
	curl -fsS "$RW_URL/metrics" |
	    awk '$1 == "rwbridge_stale_markers_total" { print $2 }'
}
req PUT reput "$REPUT"
t_is "$CODE" 200 "PUT a group with TLS, basic_auth and metric_relabel_configs"
t_wait_until 120 "reput's second scrape in the receiver" t_value_is \
    'scrape_series_added{job="reput"}' 0 ||
    t_bail "reput was not scraped twice (see rwbridge.log)"
first=$(field reput lastScrape)
stale0=$(stale_total)
t0=$(date +%s.%N)
req PUT reput "$REPUT"
t_is "$CODE" 200 "PUT the identical JSON again"
t_is "$(field reput health)" up "the same JSON: the target keeps its health"
case $(field reput lastScrape) in
null|"")	t_ok 1 "the same JSON: the target lost its last scrape" ;;
*)	t_ok 0 "the same JSON: the target keeps its last scrape" ;;
esac
t_wait_until 120 "two scrapes of reput after the second PUT" \
    at_least 2 added_since reput "$t0" ||
    t_bail "reput was not scraped after the second PUT (see rwbridge.log)"
t_is "$(added_since reput "$t0" | tr ' ' '\n' | sort -u)" 0 \
    "the same JSON: no series is new to the scrape cache afterwards"
t_is "$(stale_total)" "$stale0" "the same JSON: no stale marker sent"
t_ok "$([ "$(field reput lastScrape)" != "$first" ]; echo $?)" \
    "the same JSON: the kept target goes on scraping"
stale1=$(stale_total)
t1=$(date +%s.%N)
req PUT reput "$(printf '%s' "$REPUT" | sed 's/"go_\.\*"/"go_.*|other"/')"
t_is "$CODE" 200 "PUT other metric_relabel_configs"
t_wait_until 120 "a scrape of reput after the change" \
    at_least 1 added_since reput "$t1" ||
    t_bail "reput was not scraped after the change (see rwbridge.log)"
# The old target may still start a scrape between t1 and the PUT (its
# cache is warm: 0 added); the new target's first scrape comes after it,
# and its series are all new to its fresh cache.
fresh_since() {
	added_since "$1" "$2" | tr ' ' '\n' |
	    awk '$1 > 0 { f = 1 } END { exit !f }'
}
t_wait_until 120 "a scrape of reput with a fresh cache after the change" \
    fresh_since reput "$t1"
fresh=$?
t_ok $fresh "other rules: the target restarted with a fresh cache\
 ($(added_since reput "$t1") added, scrape by scrape)"
t_ok "$([ "$(stale_total)" -gt "$stale1" ]; echo $?)" \
    "other rules: the old target's series stale-marked"
t_wait_value 'count({job="reput", __name__="other"})' none 120
t_ok $? "other rules: the family they drop leaves the receiver"
t_wait_value 'count({job="reput", __name__="keep_me"})' 2 120
t_ok $? "other rules: keep_me still sent, relabeled"

# relabel_configs: one target dropped and listed, the other renamed.
req PUT relabeled "{\"targets\": [\"$L:$HTTPS\", \"$L:1\"], \"job\": \"rl\",
 \"scheme\": \"https\", \"tls_config\": {\"ca_file\": \"$D/ca.pem\"},
 \"relabel_configs\": [{\"source_labels\": [\"__address__\"],
 \"regex\": \"$L:1\", \"action\": \"drop\"},
 {\"target_label\": \"instance\", \"replacement\": \"srv-a\"}]}"
t_is "$CODE" 200 "PUT a group with relabel_configs"
relabeled() {
	curl -fsS "$RW_URL/api/v1/targets" | jq -r '[(.data.activeTargets[] |
	    select(.group == "relabeled") | .labels.instance),
	    (.data.droppedTargets[].discoveredLabels.__address__)] | join(",")'
}
t_is "$(relabeled)" "srv-a,$L:1" \
    "relabel_configs: the kept target renamed, the dropped one listed"

# Restart: the state file keeps the keys as given, the contract holds.
t_stop_rwbridge
t_is "$(jq -c '.groups.api[0].tls_config' "$T_TMP/state/targets.json")" \
    "{\"ca_file\":\"$D/ca.pem\"}" "the state file keeps tls_config as given"
t_is "$(jq -c '.groups.api_limited[0].sample_limit' \
    "$T_TMP/state/targets.json")" 2 "the state file keeps sample_limit"
t_is "$(jq -c '.groups.api[0].metric_relabel_configs | length' \
    "$T_TMP/state/targets.json")" 2 \
    "the state file keeps metric_relabel_configs"
t_is "$(jq -c '.groups.relabeled[0].targets' "$T_TMP/state/targets.json")" \
    "[\"$L:$HTTPS\",\"$L:1\"]" \
    "the state file keeps the dropped target in its entry"
case $(cat "$T_TMP/state/targets.json") in
*s3cret*) t_ok 1 "a secret's contents are in the state file" ;;
*)	t_ok 0 "the state file names the password file, not the secret" ;;
esac
mv "$T_TMP/rwbridge.log" "$T_TMP/rwbridge-1.log"
t_start_rwbridge --config "$T_TMP/rwbridge.json"
check_groups "after a restart: "
t_is "$(field api lastError)" "" "after a restart: the API group scrapes"
t_is "$(relabeled)" "srv-a,$L:1" \
    "after a restart: the same targets kept and dropped"
CODE=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X DELETE \
    "$RW_URL/api/v1/targets/relabeled?target=$L:$HTTPS")
t_is "$CODE" 200 "DELETE ?target= takes the address as registered"
# The group now holds only its dropped target: it still exists.
CODE=$(curl -s -o "$T_TMP/resp" -w '%{http_code}' -X DELETE \
    "$RW_URL/api/v1/targets/relabeled")
t_is "$CODE" 200 "DELETE a group whose targets relabel_configs all dropped"
t_is "$(relabeled)" "" "that group's dropped target is no longer listed"
t_stop_rwbridge
t_is "$(jq -c '.groups.relabeled' "$T_TMP/state/targets.json")" null \
    "the state file no longer has that group"
t_no_sanitizer_report "no sanitizer report" "$T_TMP/rwbridge-1.log" \
    "$T_TMP/rwbridge.log"
t_done
