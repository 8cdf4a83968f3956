#!/bin/sh
# Prometheus is the reference for the scrape contract: the same page is
# scraped by Debian's Prometheus in agent mode and by rwbridge, with the
# same metric_relabel_configs, limits, honor_labels/honor_timestamps,
# external_labels and write_relabel_configs, one job per case; each remote-
# writes into its own real Prometheus receiver, and for every job the set
# of series (name, labels) and their values must be the same on both.
# scrape_duration_seconds is left out (its value is a measurement).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

command -v prometheus >/dev/null || t_bail "prometheus not installed"

# The page: engine series, the usual noise, labels that clash with the
# target's, values to case-map, addresses to take apart, a timestamp. It
# is written once now, to size the limits, and again after Prometheus's
# agent has started, with the timestamp of then (the agent refuses
# samples older than its start).
write_page() {
NOW_MS=$(date +%s%3N)
mkdir -p "$T_TMP/www"
cat > "$T_TMP/www/page.new" <<EOF
# HELP vllm:num_requests_running Number of requests running.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="Qwen/Qwen3-8B"} 3
vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen3-8B"} 1
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="0.5",model_name="Qwen/Qwen3-8B"} 2
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="Qwen/Qwen3-8B"} 5
vllm:e2e_request_latency_seconds_sum{model_name="Qwen/Qwen3-8B"} 7.5
vllm:e2e_request_latency_seconds_count{model_name="Qwen/Qwen3-8B"} 5
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 123
python_gc_objects_collected_total{generation="1"} 45
http_requests_total{handler="/metrics",method="GET",code="200"} 10
process_cpu_seconds_total 1.25
sglang:token_usage{tp_rank="0",Model="MiXeD Case \u00c9t\u00e9"} 0.5
node_info{host="10.1.2.3:9000",zone="eu-west-1a",empty=""} 1
app_events{job="scraped",instance="other:1",kind="a;b"} 4
path_metric{path="/a/b/c",val="x y"} 2
ts_metric 42 $NOW_MS
EOF
# \u escapes above are for the reader; write the UTF-8 bytes.
python3 - "$T_TMP/www/page.new" <<'PY'
import sys
p = sys.argv[1]
s = open(p, encoding='utf-8').read()
open(p, 'w', encoding='utf-8').write(s.replace('\\u00c9', '\u00c9').replace('\\u00e9', '\u00e9'))
PY
mv "$T_TMP/www/page.new" "$T_TMP/www/metrics.txt"
# The same page at /metrics on a second server, for the file_sd groups.
mkdir -p "$T_TMP/www2"
cp "$T_TMP/www/metrics.txt" "$T_TMP/www2/page.new"
mv "$T_TMP/www2/page.new" "$T_TMP/www2/metrics"
}
write_page
# A page that stops with a parse error midway: the scrape fails, and its
# scrape_series_added counts the new series before the bad line.
printf '# TYPE ok_one gauge\nok_one{a="1"} 1\nok_one{a="2"} 2\nbad_line{a="1" 3\nok_two 4\n' \
    > "$T_TMP/www/broken.txt"
PAGE_BYTES=$(wc -c < "$T_TMP/www/metrics.txt")
t_serve_dir "$T_TMP/www"
ADDR="127.0.0.1:$SERVE_PORT"
t_serve_dir "$T_TMP/www2"
ADDR2="127.0.0.1:$SERVE_PORT"

# Two receivers: A for Prometheus's agent, B for rwbridge.
t_start_prometheus
PROM_A=$PROM_URL
unset PROM_PORT
PROM_DATA="$T_TMP/prom-b"
t_start_prometheus
PROM_B=$PROM_URL

# The cases, and both configs made from them (Prometheus reads JSON as
# YAML, so the rules are written once).
python3 - "$T_TMP" "$ADDR" "$PROM_A" "$PROM_B" "$PAGE_BYTES" "$ADDR2" <<'PY'
import json, sys
tmp, addr, prom_a, prom_b, page_bytes, addr2 = sys.argv[1:7]
page_bytes = int(page_bytes)
R = lambda **k: k
cases = [
 ("drop the noise families", [R(source_labels=["__name__"], regex="python_gc_.*|http_.*|process_.*", action="drop")]),
 ("keep by name", [R(source_labels=["__name__"], regex="vllm:.*", action="keep")]),
 ("keep is anchored: a prefix keeps nothing", [R(source_labels=["__name__"], regex="vllm", action="keep")]),
 ("replace with a group", [R(source_labels=["__name__"], regex="vllm:(.*)", target_label="vllm_metric", replacement="$1")]),
 ("replace: two sources, separator |", [R(source_labels=["model_name", "engine"], separator="|", target_label="me")]),
 ("replace: default ; separator and regex groups", [R(source_labels=["model_name", "engine"], regex="(.*)/(.*);(.*)", target_label="org_engine", replacement="${1}-$3")]),
 ("replace: ${1}_suffix", [R(source_labels=["generation"], regex="(.+)", target_label="gen", replacement="${1}_suffix")]),
 ("replace: $1x is the group named 1x, so zone is removed", [R(source_labels=["zone"], target_label="zone", replacement="$1x")]),
 ("replace: empty regex matches an absent label", [R(source_labels=["nope"], regex="", target_label="absent", replacement="yes")]),
 ("replace: no match, no change", [R(source_labels=["zone"], regex="us-.*", target_label="region", replacement="us")]),
 ("replace: named groups", [R(source_labels=["host"], regex="(?P<ip>[^:]+):(?P<port>\\d+)", target_label="ip", replacement="$ip")]),
 ("replace: target label template", [R(source_labels=["generation"], target_label="gen_${1}", replacement="g")]),
 ("replace: $$ is a dollar", [R(target_label="cost", replacement="5$$")]),
 ("replace: rename the metric", [R(source_labels=["__name__"], regex="python_gc_(.*)", target_label="__name__", replacement="gc_$1")]),
 ("replace: empty replacement removes a label", [R(source_labels=["kind"], regex="a;.*", target_label="kind", replacement="")]),
 ("replace: digits and dots reversed", [R(source_labels=["host"], regex="(\\d+)\\.(\\d+)\\.\\d+\\.\\d+:\\d+", target_label="rev", replacement="$2.$1")]),
 ("keepequal after a copy", [R(source_labels=["model_name"], target_label="copy"), R(source_labels=["copy"], target_label="model_name", action="keepequal")]),
 ("dropequal", [R(source_labels=["generation"], target_label="g2", replacement="0"), R(source_labels=["generation"], target_label="g2", action="dropequal")]),
 ("hashmod of the name", [R(source_labels=["__name__"], modulus=8, target_label="shard", action="hashmod")]),
 ("hashmod of two labels, then keep a shard range", [R(source_labels=["__name__", "model_name"], separator="@", modulus=4, target_label="shard", action="hashmod"), R(source_labels=["shard"], regex="[01]", action="keep")]),
 ("labelmap with ${1}", [R(regex="(model_name|engine)", replacement="copy_${1}", action="labelmap")]),
 ("labelmap of __name__", [R(regex="__(name)__", replacement="${1}_label", action="labelmap")]),
 ("labeldrop", [R(regex="model_name|engine|le", action="labeldrop")]),
 ("labelkeep", [R(regex="__name__|job|instance|le|generation", action="labelkeep")]),
 ("lowercase", [R(source_labels=["Model"], target_label="model_lc", action="lowercase")]),
 ("uppercase", [R(source_labels=["kind", "Model"], target_label="KIND", action="uppercase")]),
 ("drop by two labels and a separator", [R(source_labels=["__name__", "generation"], separator="@", regex="python_gc_objects_collected_total@1", action="drop")]),
 ("(?i) and alternation", [R(source_labels=["Model"], regex="(?i)mixed.*|none", action="keep")]),
 ("character classes and \\s", [R(source_labels=["val"], regex="[a-z]\\s[a-z]", target_label="spaced", replacement="yes")]),
 ("drop the series a label value names", [R(source_labels=["path"], regex="/a/.*", action="drop")]),
]
jobs = []
for i, (desc, rules) in enumerate(cases):
    jobs.append(dict(name="case%02d" % i, desc=desc, mrc=rules))
# The other keys of the contract, each a job of its own, at the exact
# boundary of each limit as the page sets it.
import re
noise = re.compile("python_gc_.*|http_.*|process_.*")
nsamples = nkept = maxlabels = maxname = 0
maxvalue = len(addr)
for line in open(tmp + "/www/metrics.txt", encoding="utf-8"):
    if line.startswith("#") or not line.strip():
        continue
    m = re.match(r'([^{ ]+)(?:\{(.*)\})? ', line)
    name, labels = m.group(1), dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
    labels = {k: v for k, v in labels.items() if v != ""}
    nsamples += 1
    nkept += 0 if noise.fullmatch(name) else 1
    maxlabels = max(maxlabels, len(labels) + 3)
    names = [("exported_" + k if k in ("job", "instance") else k) for k in labels]
    maxname = max([maxname, 8] + [len(k) for k in names])
    maxvalue = max([maxvalue, len(name.encode())] + [len(v.encode()) for v in labels.values()])
drop = [R(source_labels=["__name__"], regex=noise.pattern, action="drop")]
extra = [
 ("honor_labels false: clashes become exported_*", dict(honor_labels=False)),
 ("honor_labels true: the page's labels win", dict(honor_labels=True)),
 ("honor_timestamps false", dict(honor_timestamps=False)),
 ("sample_limit = the samples left: passes", dict(sample_limit=nkept, mrc=drop)),
 ("sample_limit one less: the scrape fails", dict(sample_limit=nkept - 1, mrc=drop)),
 ("sample_limit = all samples: passes", dict(sample_limit=nsamples)),
 ("sample_limit one less without relabeling: fails", dict(sample_limit=nsamples - 1)),
 ("label_limit = the largest set: passes", dict(label_limit=maxlabels)),
 ("label_limit one less: fails", dict(label_limit=maxlabels - 1)),
 ("label_name_length_limit = the longest: passes", dict(label_name_length_limit=maxname)),
 ("label_name_length_limit one less: fails", dict(label_name_length_limit=maxname - 1)),
 ("label_value_length_limit = the longest: passes", dict(label_value_length_limit=maxvalue)),
 ("label_value_length_limit one less: fails", dict(label_value_length_limit=maxvalue - 1)),
 ("body_size_limit one byte over the page: passes", dict(body_size_limit=page_bytes + 1)),
 ("body_size_limit = the page: fails (Prometheus reads up to the limit)", dict(body_size_limit=page_bytes)),
]
for i, (desc, k) in enumerate(extra):
    j = dict(name="limit%02d" % i, desc=desc, mrc=k.pop("mrc", None))
    j.update(k)
    jobs.append(j)
jobs.append(dict(name="parse00", desc="a parse error midway: the scrape "
                 "fails", mrc=None, path="/broken.txt"))
# Target relabeling: what the rules see of a target, and a dropped one.
targets = [
 ("relabel_configs: a label from a URL param", [R(source_labels=["__param_case"], target_label="case_param")]),
 ("relabel_configs: interval and timeout seen", [R(source_labels=["__scrape_interval__", "__scrape_timeout__"], target_label="iv")]),
 ("relabel_configs: address, path and scheme seen", [R(source_labels=["__scheme__", "__address__", "__metrics_path__"], separator="|", regex="http\\|127\\.0\\.0\\.1:(\\d+)\\|(.*)", target_label="where", replacement="$2@$1")]),
 ("relabel_configs: a new instance and job, so no series under this name", [R(target_label="instance", replacement="server-1"), R(source_labels=["job"], target_label="job", replacement="renamed_$1")]),
 ("relabel_configs: the target is dropped, so no series under this name", [R(source_labels=["__address__"], regex="nothing", action="keep")]),
]
for i, (desc, rules) in enumerate(targets):
    jobs.append(dict(name="target%02d" % i, desc=desc, mrc=None, rc=rules))
# file_sd groups: the settings of the object that lists the file.
fsd = [
 ("file_sd: relabel_configs see the file's labels, metric rules apply", dict(rc=[R(source_labels=["team"], target_label="owner"), R(regex="team", action="labeldrop")], mrc=drop)),
 ("file_sd: honor_labels and a sample_limit at its boundary", dict(honor_labels=True, sample_limit=nsamples)),
 ("file_sd: the target is dropped, so no series under this name", dict(rc=[R(source_labels=["team"], regex="nobody", action="keep")])),
]
for i, (desc, k) in enumerate(fsd):
    name = "fsd%02d" % i
    json.dump([{"targets": [addr2], "labels": {"team": "infra"}}],
              open("%s/%s.json" % (tmp, name), "w"))
    j = dict(name=name, desc=desc, mrc=k.pop("mrc", None), fsd=True)
    j.update(k)
    jobs.append(j)

ext = {"cluster": "c1", "zone": "from-external"}
wrc = [R(source_labels=["__name__"], regex="path_metric", action="drop")]

def contract(j, g, body_size):
    """The same keys, by the same names, in both configs."""
    if j["mrc"]:
        g["metric_relabel_configs"] = j["mrc"]
    if j.get("rc"):
        g["relabel_configs"] = j["rc"]
    for k in ("honor_labels", "honor_timestamps", "sample_limit",
              "label_limit", "label_name_length_limit",
              "label_value_length_limit"):
        if k in j:
            g[k] = j[k]
    if "body_size_limit" in j:
        g["body_size_limit"] = body_size(j["body_size_limit"])
    return g

def group_prom(j):
    if j.get("fsd"):
        return contract(j, {"job_name": j["name"], "scrape_interval": "2s",
            "scrape_timeout": "1500ms", "file_sd_configs": [{"files":
            ["%s/%s.json" % (tmp, j["name"])]}]}, lambda n: "%dB" % n)
    return contract(j, {"job_name": j["name"], "scrape_interval": "2s",
        "scrape_timeout": "1500ms",
        "metrics_path": j.get("path", "/metrics.txt"),
        "params": {"case": [j["name"]]},
        "static_configs": [{"targets": [addr]}]}, lambda n: "%dB" % n)

def fsd_rw(j):
    return contract(j, {"files": ["%s/%s.json" % (tmp, j["name"])],
        "job": j["name"], "interval": "2s", "timeout": "1500ms"},
        lambda n: n)

def group_rw(j):
    # One URL per job (the server ignores the query), as rwbridge keeps
    # one target per URL.
    return contract(j, {"targets": ["http://%s%s?case=%s" %
        (addr, j.get("path", "/metrics.txt"), j["name"])], "job": j["name"], "interval": "2s",
        "timeout": "1500ms"}, lambda n: n)

prom = {"global": {"scrape_interval": "2s", "scrape_timeout": "1500ms",
                   "external_labels": ext},
        "scrape_configs": [group_prom(j) for j in jobs],
        "remote_write": [{"url": prom_a + "/api/v1/write",
                          "write_relabel_configs": wrc,
                          "queue_config": {"batch_send_deadline": "1s"}}]}
rw = {"global": {"scrape_interval": "2s", "scrape_timeout": "1500ms",
                 "external_labels": ext, "self_scrape": False},
      "derive": {"enabled": False},
      "targets": [group_rw(j) for j in jobs if not j.get("fsd")],
      "file_sd": [fsd_rw(j) for j in jobs if j.get("fsd")],
      "remote_write": [{"url": prom_b + "/api/v1/write",
                        "write_relabel_configs": wrc,
                        "batch_send_deadline": "1s"}]}
json.dump(prom, open(tmp + "/agent.yml", "w"), indent=1)
json.dump(rw, open(tmp + "/rwbridge.json", "w"), indent=1)
with open(tmp + "/jobs", "w") as f:
    for j in jobs:
        f.write("%s\t%s\n" % (j["name"], j["desc"]))
with open(tmp + "/njobs", "w") as f:
    f.write("%d\n" % (len(jobs) - 2))	# two targets are dropped
PY
NJOBS=$(cat "$T_TMP/njobs")

promtool check config "$T_TMP/agent.yml" --agent >"$T_TMP/promtool.log" 2>&1
t_is $? 0 "promtool accepts the agent config"
"$RWBRIDGE" check-config "$T_TMP/rwbridge.json" >"$T_TMP/check.log" 2>&1
t_is $? 0 "rwbridge check-config accepts the same rules"

t_spawn 1 prometheus-agent "$T_TMP/agent.log" prometheus \
    --enable-feature=agent --config.file="$T_TMP/agent.yml" \
    --storage.agent.path="$T_TMP/agent-data" \
    --web.listen-address="127.0.0.1:@PORT@"
t_start_rwbridge --config "$T_TMP/rwbridge.json"
write_page

# Both receivers have seen three scrapes of every job (a first scrape
# adds series, later ones do not: scrape_series_added must match too).
scraped3() {
	[ "$(curl -fsS --get "$1/api/v1/query" --data-urlencode \
	    'query=count(count_over_time(up[5m]) >= 3)' |
	    jq -r '.data.result[0].value[1] // 0')" = "$NJOBS" ]
}
t_wait_until 180 "receiver A has 3 scrapes of $NJOBS jobs" scraped3 "$PROM_A" ||
    t_bail "Prometheus agent's data did not arrive (see agent.log)"
t_wait_until 180 "receiver B has 3 scrapes of $NJOBS jobs" scraped3 "$PROM_B" ||
    t_bail "rwbridge's data did not arrive (see rwbridge.log)"

# Compare, job by job: the latest sample of every series on both sides.
# A scrape that timed out on a loaded machine makes a side differ until its
# next good scrapes (stale markers, scrape_series_added), so the check
# waits until the two agree, and then reports every job as it found them.
cat > "$T_TMP/compare.py" <<'PY'
import json, sys, urllib.parse, urllib.request
a, b, jobsf = sys.argv[1:4]
q = '{__name__=~".+",__name__!="scrape_duration_seconds"}'
def get(base):
    u = base + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    res = json.load(urllib.request.urlopen(u, timeout=30))["data"]["result"]
    by = {}
    for r in res:
        m = r["metric"]
        by.setdefault(m.get("job", "(none)"), set()).add(
            (tuple(sorted(m.items())), r["value"][1]))
    return by
A, B = get(a), get(b)
desc = {}
for line in open(jobsf):
    job, d = line.rstrip("\n").split("\t", 1)
    desc[job] = d
# Every job of the config, and any other job value a page's own label
# brought (honor_labels true).
for job in list(desc) + sorted((set(A) | set(B)) - set(desc)):
    sa, sb = A.get(job, set()), B.get(job, set())
    what = "%s (%s)" % (job, desc.get(job, "a job from the page"))
    if sa == sb and (sa or "no series under this name" in what):
        print("PASS\t%s: %d series identical" % (what, len(sa)))
        continue
    print("FAIL\t%s: prometheus %d series, rwbridge %d" %
          (what, len(sa), len(sb)))
    for k, v in sorted(sa - sb)[:6]:
        print("#\tonly prometheus: %s = %s" % (dict(k), v))
    for k, v in sorted(sb - sa)[:6]:
        print("#\tonly rwbridge:   %s = %s" % (dict(k), v))
PY
compare_all() {
	python3 "$T_TMP/compare.py" "$PROM_A" "$PROM_B" "$T_TMP/jobs" \
	    > "$T_TMP/compare" 2>&1 && ! grep -q '^FAIL' "$T_TMP/compare"
}
t_wait_until 240 "both receivers hold the same series for every job" \
    compare_all
ncmp=$(grep -c '^PASS\|^FAIL' "$T_TMP/compare")
t_ok "$([ "$ncmp" -ge "$NJOBS" ]; echo $?)" \
    "both receivers queried, $ncmp jobs compared"
grep -v '^PASS\|^FAIL\|^#' "$T_TMP/compare" | sed 's/^/# /'
while IFS='	' read -r verdict what; do
	case $verdict in
	PASS)	t_ok 0 "$what" ;;
	FAIL)	t_ok 1 "$what" ;;
	*)	echo "$verdict $what" ;;
	esac
done < "$T_TMP/compare"

# The reason of a failed scrape is rwbridge's lastError, as Prometheus's.
reason() {
	curl -fsS "$RW_URL/api/v1/targets" | jq -r --arg j "$1" \
	    '[.. | objects | select(.labels?.job == $j) | .lastError][0]'
}
t_is "$(reason limit04)" "sample limit exceeded" \
    "sample_limit: the reason in lastError"
t_is "$(reason limit14)" "body size limit exceeded" \
    "body_size_limit: the reason in lastError"
t_is "$(curl -fsS "$RW_URL/api/v1/targets" | jq -r \
    '[.data.droppedTargets[].discoveredLabels | .job + ":" +
    (.team // "")] | sort | join(",")')" "fsd02:infra,target04:" \
    "the dropped targets are listed with their discovered labels"
# The first failing scrape of each failing job: its scrape_series_added
# (the largest: later failing scrapes add nothing) is Prometheus's.
first_added() {
	curl -fsS --get "$1/api/v1/query" --data-urlencode \
	    "query=max_over_time(scrape_series_added{job=\"$2\"}[1h])" |
	    jq -r '.data.result[0].value[1] // "none"'
}
for j in limit04 limit06 limit08 limit10 limit12 limit14 parse00; do
	want=$(first_added "$PROM_A" $j)
	t_is "$(first_added "$PROM_B" $j)" "$want" \
	    "$j: scrape_series_added of the first failing scrape, $want, as Prometheus's"
done
# write_relabel_configs' drops are counted per endpoint.
wr=$(curl -fsS "$RW_URL/metrics" | sed -n \
    's/^rwbridge_remote_write_samples_dropped_total{reason="write_relabel",remote="[^"]*"} //p')
t_ok "$([ "${wr:-0}" -gt 0 ]; echo $?)" \
    "write_relabel_configs' dropped samples on /metrics ($wr)"
case $(reason limit08) in
"line "*": label_limit exceeded (metric: "*", number of labels: "*)
	t_ok 0 "label_limit: the reason in lastError" ;;
*)	t_ok 1 "label_limit: the reason in lastError ($(reason limit08))" ;;
esac

t_stop_rwbridge
t_no_sanitizer_report
t_done
