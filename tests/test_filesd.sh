#!/bin/sh
# file_sd end to end: rwbridge watches Prometheus file_sd JSON files (the
# format Ray writes) named in its config. Each change is observed through
# GET /api/v1/targets (the test waits for it, it does not time it): a write
# in place, a replacement by rename, a corrupt file (the last good set
# stays: the test waits for the error in the log, then looks), a bad target
# (same), a deleted file (its targets go), a file that did not exist at
# start, and a directory that did not exist at start.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

L=127.0.0.1
SD="$T_TMP/sd"
F="$SD/targets.json"
LATE="$SD/late.json"
NODIR="$T_TMP/later/ray.json"
mkdir -p "$SD"

t_start_sink

mkdir -p "$T_TMP/www/custom"
printf '# TYPE g gauge\ng 1\n' > "$T_TMP/www/metrics"
cp "$T_TMP/www/metrics" "$T_TMP/www/custom/metrics"
t_serve_dir "$T_TMP/www"
WWW=$SERVE_PORT
t_dead_port
D1=$DEAD
t_dead_port
D2=$DEAD

cat > "$T_TMP/rwbridge.json" <<JSON
{
  "global": {"scrape_interval": "1s", "scrape_timeout": "500ms"},
  "file_sd": ["$F", "$LATE", "$NODIR"],
  "remote_write": [{"url": "http://$L:$SINK/api/v1/write"}]
}
JSON
printf '[{"targets":["%s:%s"],"labels":{"job":"ray"}}]\n' "$L" "$WWW" > "$F"
t_start_rwbridge --config "$T_TMP/rwbridge.json"

# The targets of one file's group as "instance=label..." lines, sorted.
group() {
	curl -s "$RW_URL/api/v1/targets" | jq -r --arg g "file_sd:$1" \
	    '[.data.activeTargets[] | select(.group == $g) | .instance + " " +
	    .job + " " + (.labels.zone // "-") + " " + .scrapeUrl] | sort |
	    join(",")'
}

# Succeed when group FILE equals WANT.
group_is() {
	[ "$(group "$1")" = "$2" ]
}

# Succeed when group FILE has targets.
group_set() {
	[ -n "$(group "$1")" ]
}

# Wait until group FILE equals WANT; prints the last value.
wait_group() {
	t_wait_until 60 "group $1 is '$2'" group_is "$1" "$2"
	group "$1"
}

# Succeed when the rwbridge log has a line matching the grep RE.
logged() {
	grep -q "$1" "$T_TMP/rwbridge.log"
}

# Succeed when the rwbridge log has more than N lines matching RE.
logged_more() {
	[ "$(grep -c "$1" "$T_TMP/rwbridge.log")" -gt "$2" ]
}

t_is "$(group "$F")" "$L:$WWW ray - http://$L:$WWW/metrics" \
    "the file is read at start; its job label sets the job"
t_ok "$(grep -q 'msg="file_sd file does not exist yet, watching its directory".*late.json' \
    "$T_TMP/rwbridge.log"; echo $?)" \
    "a file that does not exist at start is logged, not fatal"
t_ok "$(grep -q 'cannot watch file_sd directory.*later' \
    "$T_TMP/rwbridge.log"; echo $?)" \
    "a directory that does not exist at start is logged, not fatal"
enc=$(python3 -c 'import sys, urllib.parse
print(urllib.parse.quote(sys.argv[1], safe=""))' "file_sd:$F")
t_is "$(curl -s "$RW_URL/api/v1/targets/$enc" |
    jq '.data.activeTargets | length')" 1 \
    "GET /api/v1/targets/{group} with the URL-encoded file_sd group"
# Succeed when the file_sd target is up.
sd_up() {
	curl -s "$RW_URL/api/v1/targets" | jq -e '.data.activeTargets[] |
	    select(.group | startswith("file_sd:")) | .health == "up"' \
	    >/dev/null 2>&1
}
t_wait_until 60 "the file_sd target is up" sd_up
t_ok $? "the discovered target is scraped and up"

# Write in place.
cat > "$F" <<JSON
[
  {"targets": ["$L:$WWW", "$L:$D1"], "labels": {"job": "ray", "zone": "a"}},
  {"targets": ["$L:$D2"], "labels": {"__metrics_path__": "/custom/metrics",
   "__meta_ray_node": "dropped"}}
]
JSON
want="$L:$D1 ray a http://$L:$D1/metrics,$L:$D2 rollout - http://$L:$D2/custom/metrics,$L:$WWW ray a http://$L:$WWW/metrics"
want=$(printf '%s' "$want" | tr ',' '\n' | LC_ALL=C sort | paste -sd, -)
t_is "$(wait_group "$F" "$want")" "$want" \
    "a write in place is applied (__metrics_path__ sets the path)"
t_is "$(curl -s "$RW_URL/api/v1/targets" | jq -r --arg u \
    "http://$L:$D2/custom/metrics" '.data.activeTargets[] |
    select(.scrapeUrl == $u) | .labels | keys | join(",")')" \
    "instance,job" "other __ labels are dropped"

# Replace by rename, as careful writers (and Ray) do.
printf '[{"targets":["%s:%s"],"labels":{"zone":"b"}}]\n' "$L" "$D1" \
    > "$SD/.targets.json.tmp"
mv "$SD/.targets.json.tmp" "$F"
want="$L:$D1 rollout b http://$L:$D1/metrics"
t_is "$(wait_group "$F" "$want")" "$want" "a replacement by rename is applied"

# A corrupt file keeps the last good set.
printf '[{"targets":["%s:%s"' "$L" "$D2" > "$F"
t_wait_until 60 "the corrupt file is logged" logged \
    "msg=\"invalid file_sd file, keeping its last good targets\" file=$F err=\"malformed JSON at line 1"
t_ok $? "the corrupt file is logged with its name and the JSON error position"
t_is "$(group "$F")" "$want" "a corrupt file keeps the last good targets"
printf '[{"targets":["%s:%s"]},{"targets":["nope"]}]\n' "$L" "$D2" > "$F"
t_wait_until 60 "the bad target is logged" logged \
    'err="\$\[1\]\.targets\[0\]: invalid target \\"nope\\": missing port'
t_ok $? "the bad target is logged with its JSON path"
t_is "$(group "$F")" "$want" "a file with a bad target keeps the last good set"

# Fixed again.
printf '[{"targets":["%s:%s"]}]\n' "$L" "$D2" > "$F"
want="$L:$D2 rollout - http://$L:$D2/metrics"
t_is "$(wait_group "$F" "$want")" "$want" "a fixed file is applied"

# Deleted: its targets go; recreated: they come back.
rm "$F"
t_is "$(wait_group "$F" "")" "" "a deleted file removes its targets"
t_ok "$(grep -q "msg=\"file_sd file is gone, its targets are removed\" file=$F" \
    "$T_TMP/rwbridge.log"; echo $?)" "the removal is logged"
printf '[{"targets":["%s:%s"]}]\n' "$L" "$D1" > "$F.new"
mv "$F.new" "$F"
want="$L:$D1 rollout - http://$L:$D1/metrics"
t_is "$(wait_group "$F" "$want")" "$want" "a recreated file is applied"

# A file that did not exist at start.
printf '[{"targets":["%s:%s"],"labels":{"zone":"late"}}]\n' "$L" "$D2" \
    > "$LATE"
want="$L:$D2 rollout late http://$L:$D2/metrics"
t_is "$(wait_group "$LATE" "$want")" "$want" \
    "a file created after start is picked up"
t_is "$(group "$F")" "$L:$D1 rollout - http://$L:$D1/metrics" \
    "the other file's group is untouched"

# An empty list empties the group.
printf '[]\n' > "$LATE"
t_is "$(wait_group "$LATE" "")" "" "an empty list removes the file's targets"

# A directory that did not exist at start is watched once it appears
# (retried every 5 s).
mkdir -p "$(dirname "$NODIR")"
printf '[{"targets":["%s:%s"]}]\n' "$L" "$WWW" > "$NODIR"
t_wait_until 60 "the late directory's file is read" group_set "$NODIR"
t_is "$(group "$NODIR")" "$L:$WWW rollout - http://$L:$WWW/metrics" \
    "a directory created after start is watched"
printf '[]\n' > "$NODIR.tmp"
mv "$NODIR.tmp" "$NODIR"
t_is "$(wait_group "$NODIR" "")" "" "and then its changes apply"

# The directory removed: its file's targets go; recreated: they come back.
printf '[{"targets":["%s:%s"]}]\n' "$L" "$D2" > "$NODIR"
want="$L:$D2 rollout - http://$L:$D2/metrics"
t_is "$(wait_group "$NODIR" "$want")" "$want" "the file is written again"
rm -rf "$(dirname "$NODIR")"
t_is "$(wait_group "$NODIR" "")" "" \
    "removing the directory removes the file's targets"
mkdir -p "$(dirname "$NODIR")"
printf '[{"targets":["%s:%s"]}]\n' "$L" "$D1" > "$NODIR"
t_wait_until 60 "the recreated directory's file is read" group_set "$NODIR"
t_is "$(group "$NODIR")" "$L:$D1 rollout - http://$L:$D1/metrics" \
    "a recreated directory is watched again"

# The API cannot write file_sd groups.
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE \
    "$RW_URL/api/v1/targets/$enc")
t_is "$code" 403 "DELETE of a file_sd group through the API: 403"

# SIGHUP re-reads the files.
NHUP=$(grep -c 'SIGHUP' "$T_TMP/rwbridge.log")
kill -HUP "$RW_PID"
t_wait_until 60 "the SIGHUP is logged" logged_more 'SIGHUP' "$NHUP"
t_ok $? "SIGHUP is handled (logged)"
t_ok "$(t_alive "$RW_PID"; echo $?)" "rwbridge survives SIGHUP"
t_is "$(group "$F")" "$L:$D1 rollout - http://$L:$D1/metrics" \
    "targets unchanged after SIGHUP"

t_stop_rwbridge
t_no_sanitizer_report
t_done
