#!/bin/sh
# A cluster of rwbridges (global.cluster) over one simulated fleet of 30
# servers, given through all three sources at once (10 in the config
# file's targets, 10 in a file_sd file, 10 registered through the API by
# contrib/verl_rwbridge.py at every member), remote-writing to the real
# Prometheus with an external label per run and per member:
# - replication_factor 1, three members: each target is scraped by exactly
#   one member, in every member's /api/v1/targets (the others list it as
#   skipped, naming the owner) and in Prometheus (one series of up per
#   target); every member scrapes itself; a single bridge beside them on
#   the same fleet delivers, target by target, the same series with the
#   same values (the pages are static);
# - four members: at most 40 % of the targets change owner;
# - replication_factor 2: each target is scraped by exactly two members;
# - bad input: member_num >= members_count, replication_factor >
#   members_count, a count that differs between the file and the flag, in
#   check-config and at start.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

N=30
L=127.0.0.1
VERL="$top_srcdir/contrib/verl_rwbridge.py"

# --- Bad input, from check-config and at start.
bad() {
	printf '%s\n' "$2" > "$T_TMP/bad.json"
	"$RWBRIDGE" check-config "$T_TMP/bad.json" > "$T_TMP/bad.out" 2>&1
	t_is "$?" 1 "check-config fails: $1"
	t_ok "$(grep -qF "$3" "$T_TMP/bad.out"; echo $?)" \
	    "check-config says '$3' ($(head -n 1 "$T_TMP/bad.out"))"
	"$RWBRIDGE" --config "$T_TMP/bad.json" --listen 127.0.0.1:1 \
	    > "$T_TMP/bad.out" 2>&1
	t_is "$?" 1 "start fails: $1"
	t_ok "$(grep -qF "$3" "$T_TMP/bad.out"; echo $?)" \
	    "start says '$3' ($(head -n 1 "$T_TMP/bad.out"))"
}
bad "member_num >= members_count" \
    '{"global": {"cluster": {"members_count": 3, "member_num": 3}}}' \
    'member_num 3: must be below members_count 3'
bad "replication_factor > members_count" \
    '{"global": {"cluster": {"members_count": 2, "replication_factor": 3}}}' \
    'replication_factor 3: must be 1 to members_count 2'
bad "an unknown key" \
    '{"global": {"cluster": {"members": 2}}}' '$.global.cluster'
bad "members_count 0" \
    '{"global": {"cluster": {"members_count": 0}}}' \
    '$.global.cluster.members_count'

printf '%s\n' '{"global": {"cluster": {"members_count": 3}}}' \
    > "$T_TMP/three.json"
"$RWBRIDGE" --config "$T_TMP/three.json" --cluster-members-count 4 \
    --listen 127.0.0.1:1 > "$T_TMP/bad.out" 2>&1
t_is "$?" 2 "start fails: the flag's member count differs from the file's"
t_ok "$(grep -qF -- '--cluster-members-count 4 differs from members_count 3' \
    "$T_TMP/bad.out"; echo $?)" \
    "the error names both counts ($(head -n 1 "$T_TMP/bad.out"))"
"$RWBRIDGE" --cluster-members-count 3 --cluster-member-num 3 \
    --listen 127.0.0.1:1 > "$T_TMP/bad.out" 2>&1
t_is "$?" 1 "start fails: --cluster-member-num 3 of 3"
t_ok "$(grep -qF 'member_num 3: must be below members_count 3' \
    "$T_TMP/bad.out"; echo $?)" "flags: $(head -n 1 "$T_TMP/bad.out")"
"$RWBRIDGE" --cluster-members-count x --listen 127.0.0.1:1 \
    > "$T_TMP/bad.out" 2>&1
t_is "$?" 2 "start fails: --cluster-members-count x"

# --- The recording rules that rebuild the fleet series cluster-wide.
promtool check rules "$top_srcdir/contrib/rollout-cluster.rules.yml" \
    > "$T_TMP/promtool.out" 2>&1
t_is "$?" 0 "promtool check rules contrib/rollout-cluster.rules.yml ($(grep -o \
    'SUCCESS.*' "$T_TMP/promtool.out"))"

# --- The fleet, the receiver, and the three sources of targets.
t_start_sim $N --static
t_start_prometheus
urls() {	# the targets from $1 to $2 as a JSON list
	python3 -c 'import json, sys
b, lo, hi = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(json.dumps(["127.0.0.1:%d" % (b + i) for i in range(lo, hi)]))' \
	    "$SIM_PORT" "$1" "$2"
}
printf '[{"targets": %s}]\n' "$(urls 10 20)" > "$T_TMP/fsd.json"
API_ADDRS=$(urls 20 30 | jq -r '.[]')

# Start the members of a run: RUN COUNT RF; config file holds the count,
# the member number comes from the flag. Sets PIDS_<run> and URLS_<run>.
start_run() {
	local run=$1 count=$2 rf=$3 m=0 pids="" us=""
	while [ $m -lt "$count" ]; do
		cat > "$T_TMP/$run-$m.json" <<-EOF
		{"global": {"scrape_interval": "2s",
		  "external_labels": {"run": "$run", "bridge": "m$m"},
		  "cluster": {"members_count": $count,
		    "replication_factor": $rf}},
		 "targets": $(urls 0 10),
		 "file_sd": ["$T_TMP/fsd.json"],
		 "remote_write": [{"url": "$PROM_URL/api/v1/write"}]}
		EOF
		RW_LOG="$T_TMP/rwbridge-$run-$m.log" t_start_rwbridge \
		    --config "$T_TMP/$run-$m.json" --cluster-member-num $m
		pids="$pids $RW_PID"
		us="$us${us:+,}$RW_URL"
		m=$((m + 1))
	done
	eval "PIDS_$run=\"$pids\"; URLS_$run=\"$us\""
	# shellcheck disable=SC2086
	python3 "$VERL" --url "$us" register verl $API_ADDRS \
	    > "$T_TMP/verl-$run.out" 2>&1
	t_is "$?" 0 "$run: verl_rwbridge registers at $count members ($(cat \
	    "$T_TMP/verl-$run.out"))"
}

# Each member's targets: "member group job url health" lines, then
# "skip member group url reason" lines.
targets_of() {
	local us=$1 m=0 u
	for u in $(echo "$us" | tr , ' '); do
		curl -fsS "$u/api/v1/targets" | jq -r --arg m $m '
		    (.data.activeTargets[] | [$m, .group, .labels.job,
		     .scrapeUrl, .health] | join(" ")),
		    (.data.skippedTargets[] | ["skip", $m, .group, .scrapeUrl,
		     .reason] | join(" "))'
		m=$((m + 1))
	done
}

# Succeed when every fleet target is up at RF members of the run and each
# member lists the others as skipped (and itself as active).
owned_ok() {
	targets_of "$1" > "$T_TMP/tg.txt" || return 1
	python3 - "$T_TMP/tg.txt" "$N" "$2" "$3" <<-'EOF'
	import collections, sys
	lines = [l.split(" ", 4) for l in open(sys.argv[1]).read().splitlines()]
	n, rf, count = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
	act = collections.defaultdict(list)
	skip = collections.defaultdict(list)
	selfs = 0
	for l in lines:
	    if l[0] == "skip":
	        skip[l[3]].append((l[1], l[4] if len(l) > 4 else ""))
	    elif l[1] == "self":
	        selfs += 1
	    elif l[4] == "up":
	        act[l[3]].append(l[0])
	    else:
	        sys.exit(1)
	ok = selfs == count and len(act) == n
	for u, ms in act.items():
	    ok = ok and len(ms) == rf and len(skip[u]) == count - rf
	    for m, reason in skip[u]:
	        want = "owned by member" + ("s " if rf > 1 else " ")
	        ok = ok and reason.startswith(want) and m not in ms
	        ok = ok and all((" %s" % o) in reason.split("(")[0] for o in ms)
	sys.exit(0 if ok else 1)
	EOF
}

# The owner (first member) of each target of a run, "url member" lines.
owners() {
	targets_of "$1" | awk '$1 != "skip" && $2 != "self" { print $4, $1 }' |
	    sort
}

# --- replication_factor 1 over three members, and one bridge beside.
start_run single 1 1
start_run rf1 3 1
t_ok "$(t_wait_until 180 "rf1: every target up at one member" \
    owned_ok "$URLS_rf1" 1 3; echo $?)" \
    "rf1: every target is scraped by exactly one member, listed as skipped (naming the owner) at the other two; each member scrapes itself"
t_ok "$(t_wait_until 180 "single: every target up" owned_ok \
    "$URLS_single" 1 1; echo $?)" "single: one bridge scrapes every target"
M0=$(echo "$URLS_rf1" | cut -d, -f1)
curl -fsS "$M0/metrics" > "$T_TMP/m0-metrics.txt"
NS=$(sed -n 's/^rwbridge_cluster_targets{state="skipped"} //p' \
    "$T_TMP/m0-metrics.txt")
NA=$(sed -n 's/^rwbridge_cluster_targets{state="scraped"} //p' \
    "$T_TMP/m0-metrics.txt")
t_is "$((NA + NS))" $((N + 1)) \
    "member 0's /metrics: scraped $NA + skipped $NS = $N targets + itself"

# In Prometheus: one up series per target and run (bridge label = owner).
t_ok "$(t_wait_value 'count(count by (instance) (up{job="rollout",run="rf1"}) == 1)' \
    $N 120; echo $?)" "rf1: Prometheus holds one up series per target"
t_ok "$(t_wait_value 'count(count by (instance) (up{job="rollout",run="rf1"}) > 1)' \
    none 60; echo $?)" "rf1: no target comes from two members"

# The same series, target by target, as one bridge: names, counts, values.
same_series() {
	local q='{job="rollout",run="RUN",instance!="",__name__!~"scrape_.*|up|rollout:.*"}'
	local a b
	a=$(echo "$q" | sed 's/RUN/rf1/')
	b=$(echo "$q" | sed 's/RUN/single/')
	t_value_is "count(count by (instance) ($a))" $N &&
	t_value_is "count(count by (instance) ($a) != count by (instance) ($b))" none &&
	t_value_is "count(count by (instance) ($b) != count by (instance) ($a))" none &&
	t_value_is "count(sum by (instance) ($a) != sum by (instance) ($b))" none &&
	a="label_replace($a, \"name\", \"\$1\", \"__name__\", \"(.+)\")"
	b="label_replace($b, \"name\", \"\$1\", \"__name__\", \"(.+)\")"
	t_value_is "count(count by (instance, name) ($a) != count by (instance, name) ($b))" none
}
t_ok "$(t_wait_until 180 "rf1's series equal single's" same_series; echo $?)" \
    "rf1 over three members delivers, per target, the series and values one bridge does ($(t_query_value 'count({run="rf1",instance!=""})') series)"

# Fleet series: each member's carries member="<member_num>"; summed over
# the members they give the single bridge's (the KV mean from its parts).
t_ok "$(t_wait_value 'count(count by (member) (rollout:servers:count{run="rf1"}))' \
    3 120; echo $?)" "rf1: three members' fleet series, told apart by member"
t_ok "$(t_wait_value 'sum(rollout:servers:count{job="rollout",run="rf1"}) - sum(rollout:servers:count{job="rollout",run="single"})' \
    0 120; echo $?)" \
    "rf1: sum without (member) of rollout:servers:count = one bridge's ($N)"
t_is "$(t_query_value 'count(rollout:servers:count{run="single",member!=""})')" \
    none "one bridge puts no member label"
KVQ='abs(sum(rollout:kv_cache_usage:ratio_sum{run="rf1"}) / sum(rollout:kv_cache_usage:ratio_count{run="rf1"}) - sum(rollout:kv_cache_usage:ratio_mean{run="single"})) < bool 1e-9'
t_ok "$(t_wait_value "$KVQ" 1 120; echo $?)" \
    "rf1: the KV mean from the members' sum and count parts = one bridge's"
KVM='max(rollout:kv_cache_usage:ratio_max{run="rf1"}) - max(rollout:kv_cache_usage:ratio_max{run="single"})'
t_is "$(t_query_value "$KVM")" 0 "rf1: the max of the members' KV max = one bridge's"

# --- Three members -> four: a target moves only to the new member (the
# ports, and so how many move, differ from run to run; test_shard checks the
# share on fixed addresses).
owners "$URLS_rf1" > "$T_TMP/own3.txt"
start_run m4 4 1
t_ok "$(t_wait_until 180 "m4: every target up at one member" \
    owned_ok "$URLS_m4" 1 4; echo $?)" \
    "four members: every target is scraped by exactly one member"
owners "$URLS_m4" > "$T_TMP/own4.txt"
MOVED=$(join "$T_TMP/own3.txt" "$T_TMP/own4.txt" | awk '$2 != $3' | wc -l)
ASTRAY=$(join "$T_TMP/own3.txt" "$T_TMP/own4.txt" |
    awk '$2 != $3 && $3 != 3' | wc -l)
t_ok "$(test "$(wc -l < "$T_TMP/own4.txt")" -eq $N &&
    test "$ASTRAY" -eq 0; echo $?)" \
    "members 3 -> 4 moves $MOVED of $N targets, each to the new member 3 ($ASTRAY elsewhere)"
for p in $PIDS_single $PIDS_rf1 $PIDS_m4; do
	t_stop_rwbridge "$p" "a member exits 0 on SIGTERM"
done

# --- replication_factor 2 over three members.
start_run rf2 3 2
t_ok "$(t_wait_until 180 "rf2: every target up at two members" \
    owned_ok "$URLS_rf2" 2 3; echo $?)" \
    "rf2: every target is scraped by exactly two members, skipped by the third"
t_ok "$(t_wait_value 'count(count by (instance) (up{job="rollout",run="rf2"}) == 2)' \
    $N 120; echo $?)" "rf2: Prometheus holds two up series per target"

# Removing the API group at every member removes its skipped entries too.
python3 "$VERL" --url "$URLS_rf2" unregister verl > "$T_TMP/verl-un.out" 2>&1
t_is "$?" 0 "verl_rwbridge unregisters at every member"
t_is "$(targets_of "$URLS_rf2" | grep -c ' verl ')" 0 \
    "no member lists the API group any more, scraped or skipped"
for p in $PIDS_rf2; do
	t_stop_rwbridge "$p" "a member exits 0 on SIGTERM"
done
t_no_sanitizer_report "no sanitizer report in any member's log" \
    "$T_TMP"/rwbridge-*.log
t_done
