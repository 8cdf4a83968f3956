#!/bin/sh
# Deployment files, checked without Docker: docker/ (Dockerfile, compose,
# Prometheus and rwbridge configs), grafana/ (provisioning, dashboards),
# contrib/rwbridge.service.in and docs/rwbridge.1. Uses promtool, python3 with
# PyYAML, systemd-analyze and groff when they are installed (a check that
# needs a missing tool says so and is skipped); every dashboard expression
# is parsed by a real Prometheus started on loopback.
#
# Then the compose stack's configs, live: the commands, files and secrets
# docker/docker-compose.yml gives prometheus, pushgateway, rwbridge,
# rwbridge-sim and register-sim are run on the host with Debian's
# Prometheus and Pushgateway and the built rwbridge, with only the service
# host names rewritten to loopback (and container paths to the files and
# volumes they mount); data must arrive as docker/README.md promises. The
# compose ports (9090, 9091, 9108, 18000-18007) are fixed, so the test runs
# in a network namespace of its own (it re-executes itself under
# `unshare --net`, or `unshare --net --map-root-user` when not root).
if [ -z "${RWB_NETNS:-}" ]; then
	for o in --net "--net --map-root-user"; do
		unshare $o true 2>/dev/null || continue
		RWB_NETNS=1 exec unshare $o -- sh "$0" "$@"
	done
	RWB_NETNS=none
fi
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
if [ "$RWB_NETNS" = 1 ]; then
	ip link set lo up
	t_ok $? "loopback up in the test's network namespace"
fi

S=$top_srcdir
have() { command -v "$1" >/dev/null 2>&1; }
# A check whose tool is missing fails: scripts/install-deps installs them.
t_skip() {
	T_N=$((T_N + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_N - $1 (missing: $2; run scripts/install-deps)"
}

# --- docker/prometheus.yml --------------------------------------------------
if have promtool; then
	promtool check config "$S/docker/prometheus.yml" >"$T_TMP/promtool.log" 2>&1
	t_ok $? "promtool check config docker/prometheus.yml"
else
	t_skip "promtool check config docker/prometheus.yml" "no promtool"
fi

# --- compose, Prometheus config, Dockerfile, Grafana provisioning,
# --- dashboards: python3 prints "0|1<TAB>description" lines.
if python3 -c 'import yaml' 2>/dev/null; then
	python3 - "$S" >"$T_TMP/static.out" 2>"$T_TMP/static.err" <<'PY'
import json, os, re, sys
import yaml

top = sys.argv[1]
D = os.path.join(top, "docker")
out = []


def check(ok, desc):
    out.append((0 if ok else 1, desc))


def load_yaml(path, desc):
    try:
        with open(path) as f:
            v = yaml.safe_load(f)
        check(isinstance(v, dict), desc)
        return v if isinstance(v, dict) else {}
    except Exception as e:
        check(False, "%s: %s" % (desc, str(e).replace("\n", " ")))
        return {}


def env_default(s):
    """Resolve ${VAR:-default} / ${VAR-default} / ${VAR} as compose would
    with VAR unset."""
    return re.sub(r"\$\{\w+(?::?-([^}]*))?\}", lambda m: m.group(1) or "",
                  str(s))


# docker-compose.yml ---------------------------------------------------------
c = load_yaml(os.path.join(D, "docker-compose.yml"),
              "docker/docker-compose.yml parses as YAML")
check("version" not in c, "compose file has no obsolete version: key")
svcs = c.get("services") or {}
for name in ("prometheus", "grafana", "pushgateway", "rwbridge", "rwbridge-sim"):
    check(name in svcs, "compose service %s exists" % name)
sim = svcs.get("rwbridge-sim") or {}
check("demo" in (sim.get("profiles") or []), "rwbridge-sim is in profile demo")
check(sim.get("entrypoint") in (["rwbridge-sim"], "rwbridge-sim"),
      "rwbridge-sim runs the rwbridge-sim entrypoint")
simcmd = " ".join(map(str, sim.get("command") or []))
check(all(a in simcmd for a in ("--servers 8", "--base-port 18000",
                                "--flavour mixed", "--seed 1")),
      "rwbridge-sim: --servers 8 --base-port 18000 --flavour mixed --seed 1")
# The simulator listens on 127.0.0.1 only: it must share rwbridge's network
# namespace, or rwbridge could not scrape it.
check(sim.get("network_mode") == "service:rwbridge",
      "rwbridge-sim shares rwbridge's network namespace")
reg = svcs.get("register-sim") or {}
regcmd = [str(a) for a in reg.get("command") or []]
check("demo" in (reg.get("profiles") or []) and regcmd[:3] == ["targets", "set", "demo"]
      and all("127.0.0.1:%d" % p in regcmd for p in range(18000, 18008)),
      "register-sim (demo profile) registers the 8 simulated servers")

pcmd = " ".join(map(str, (svcs.get("prometheus") or {}).get("command") or []))
for flag in ("--config.file=/etc/prometheus/prometheus.yml",
             "--web.enable-remote-write-receiver",
             "--storage.tsdb.path=/prometheus"):
    check(flag in pcmd, "prometheus command has %s" % flag)

rcmd = [str(a) for a in (svcs.get("rwbridge") or {}).get("command") or []]
rj = " ".join(rcmd)
check("--listen 0.0.0.0:9108" in rj or "--listen=0.0.0.0:9108" in rj,
      "rwbridge listens on 0.0.0.0:9108")
check("--api-token-file" in rj,
      "rwbridge has --api-token-file (writes need a token off loopback)")

want_ports = {"prometheus": 9090, "grafana": 3000, "pushgateway": 9091,
              "rwbridge": 9108}
for name, port in want_ports.items():
    ports = []
    for p in (svcs.get(name) or {}).get("ports") or []:
        if isinstance(p, dict):
            ports.append(int(p.get("target", 0)))
        else:
            ports.append(int(env_default(p).split(":")[-1].split("/")[0]))
    check(port in ports, "compose %s publishes port %d" % (name, port))

declared = set((c.get("volumes") or {}).keys())
used = set()
missing_paths = []
for name, s in svcs.items():
    for v in s.get("volumes") or []:
        src = v.get("source") if isinstance(v, dict) else \
            env_default(v).split(":")[0]
        if not src:
            continue
        if src.startswith(("./", "../", "/", "~")):
            if not src.startswith(("/", "~")) and \
                    not os.path.exists(os.path.join(D, src)):
                missing_paths.append("%s: %s" % (name, src))
        else:
            used.add(src)
    b = s.get("build")
    if b is not None:
        ctx = b if isinstance(b, str) else b.get("context", ".")
        ctxp = os.path.normpath(os.path.join(D, env_default(ctx)))
        if not os.path.isdir(ctxp):
            missing_paths.append("%s: build context %s" % (name, ctx))
        df = "Dockerfile" if isinstance(b, str) else b.get("dockerfile", "Dockerfile")
        if not os.path.isfile(os.path.join(ctxp, df)):
            missing_paths.append("%s: dockerfile %s" % (name, df))
    ef = s.get("env_file") or []
    for e in [ef] if isinstance(ef, str) else ef:
        p = e.get("path") if isinstance(e, dict) else e
        if not os.path.exists(os.path.join(D, env_default(p))):
            missing_paths.append("%s: env_file %s" % (name, p))
for name, sec in (c.get("secrets") or {}).items():
    if "file" in sec and not os.path.isfile(os.path.join(D, env_default(sec["file"]))):
        missing_paths.append("secret %s: %s" % (name, sec["file"]))
check(not missing_paths, "every relative host path, build context, dockerfile, "
      "env_file and secret file exists%s" % (
          (": missing " + ", ".join(missing_paths)) if missing_paths else ""))
check(used <= declared and {"prometheus-data", "rwbridge-state"} <= used,
      "named volumes used are declared (used %s, declared %s)" % (
          sorted(used), sorted(declared)))
rvols = [env_default(v) if isinstance(v, str) else "%s:%s" % (v.get("source"), v.get("target"))
         for v in (svcs.get("rwbridge") or {}).get("volumes") or []]
check("rwbridge-state:/var/lib/rwbridge" in rvols and
      any(v.startswith("./rwbridge.json:/etc/rwbridge/rwbridge.json") for v in rvols),
      "rwbridge mounts rwbridge.json and the rwbridge-state volume")

for name, s in svcs.items():
    oneshot = str(s.get("restart", "")) == "no"
    if oneshot:
        continue
    hc = s.get("healthcheck") or {}
    check(bool(hc.get("test")) and not hc.get("disable"),
          "compose service %s has a healthcheck" % name)
    check(s.get("restart") == "unless-stopped",
          "compose service %s restarts unless-stopped" % name)

# grafana mounts and provisioning
g = svcs.get("grafana") or {}
gv = [env_default(v) for v in g.get("volumes") or [] if isinstance(v, str)]
dash_mount = [v.split(":")[1] for v in gv if v.split(":")[0] == "../grafana/dashboards"]
check(any(v.startswith("../grafana/provisioning:/etc/grafana/provisioning") for v in gv)
      and dash_mount, "grafana mounts ../grafana/provisioning and ../grafana/dashboards")
G = os.path.join(top, "grafana", "provisioning")
dp = load_yaml(os.path.join(G, "dashboards", "rwbridge.yml"),
               "grafana dashboard provisioning parses")
paths = [((p.get("options") or {}).get("path")) for p in dp.get("providers") or []]
check(bool(paths) and dash_mount and all(p == dash_mount[0] for p in paths),
      "dashboard provider path %s is where compose mounts the dashboards" % paths)
ds = load_yaml(os.path.join(G, "datasources", "prometheus.yml"),
               "grafana datasource provisioning parses")
dsl = ds.get("datasources") or []
check(any(d.get("type") == "prometheus" and d.get("name") == "Prometheus" and
          d.get("url") == "http://prometheus:9090" for d in dsl),
      "datasource Prometheus points at http://prometheus:9090")

# prometheus.yml: no scrape job but Prometheus itself
pc = load_yaml(os.path.join(D, "prometheus.yml"), "docker/prometheus.yml parses")
jobs = [j.get("job_name") for j in pc.get("scrape_configs") or []]
check(set(jobs) <= {"prometheus"},
      "prometheus.yml scrapes nothing but Prometheus itself (jobs %s)" % jobs)
check("scrape_interval" in (pc.get("global") or {}),
      "prometheus.yml sets a global scrape_interval")

# rwbridge.json: where compose expects things
try:
    rw = json.load(open(os.path.join(D, "rwbridge.json")))
except Exception as e:
    rw = {}
    check(False, "docker/rwbridge.json is JSON: %s" % e)
gl = rw.get("global") or {}
check(gl.get("state_dir") == "/var/lib/rwbridge",
      "rwbridge.json state_dir is /var/lib/rwbridge (the volume)")
check(any((r if isinstance(r, str) else r.get("url")) ==
          "http://prometheus:9090/api/v1/write" for r in rw.get("remote_write") or []),
      "rwbridge.json remote-writes to http://prometheus:9090/api/v1/write")

# Dockerfile
try:
    df = open(os.path.join(D, "Dockerfile")).read()
except OSError as e:
    df = ""
    check(False, "docker/Dockerfile readable: %s" % e)
lines = re.sub(r"\\\n", " ", df).splitlines()
instr = [l.strip() for l in lines if l.strip() and not l.strip().startswith("#")]
froms = [l for l in instr if l.upper().startswith("FROM ")]
check(len(froms) >= 2 and re.search(r"(?i)\bAS\s+build\b", froms[0])
      and all("debian:bookworm" in f for f in froms),
      "Dockerfile: FROM debian:bookworm... AS build, then a runtime FROM")
build_part = df.split(froms[1])[0] if len(froms) >= 2 else df
check(re.search(r"scripts/install-deps --build", build_part) is not None and
      "scripts/build" in build_part and "install" in build_part,
      "Dockerfile build stage runs scripts/install-deps --build, scripts/build, make install")
check(re.search(r"install-deps --runtime", df) is not None,
      "Dockerfile runtime stage runs install-deps --runtime")
users = [l.split()[1] for l in instr if l.upper().startswith("USER ")]
check(bool(users) and users[-1].split(":")[0] not in ("root", "0"),
      "Dockerfile runs as a non-root USER (%s)" % (users[-1] if users else "none"))
check(any(re.match(r"(?i)EXPOSE\s+.*\b9108\b", l) for l in instr), "Dockerfile EXPOSE 9108")
check(any(re.match(r"(?i)HEALTHCHECK\b.*/-/healthy", l) for l in instr),
      "Dockerfile HEALTHCHECK on /-/healthy")
check(any(re.match(r"(?i)VOLUME\s+.*/var/lib/rwbridge", l) for l in instr),
      "Dockerfile VOLUME /var/lib/rwbridge")
check(any(re.match(r'(?i)ENTRYPOINT\s+\["rwbridge"\]', l) for l in instr),
      'Dockerfile ENTRYPOINT ["rwbridge"]')
srcs = []
for l in instr:
    m = re.match(r"(?i)COPY\s+(.*)", l)
    if m and "--from=" not in m.group(1):
        args = [a for a in m.group(1).split() if not a.startswith("--")]
        srcs += args[:-1]
bad = [s for s in srcs if not os.path.exists(os.path.join(top, s))]
check(not bad, "every COPY source exists in the build context%s" % (
    (": missing " + ", ".join(bad)) if bad else ""))

# dashboards
DD = os.path.join(top, "grafana", "dashboards")
uids = {}
for fn in sorted(os.listdir(DD)):
    if not fn.endswith(".json"):
        continue
    try:
        d = json.load(open(os.path.join(DD, fn)))
    except Exception as e:
        check(False, "%s is valid JSON: %s" % (fn, e))
        continue
    check(isinstance(d.get("panels"), list) and d.get("title") and d.get("uid")
          and isinstance(d.get("schemaVersion"), int),
          "%s has title, uid, schemaVersion and panels" % fn)
    uids.setdefault(d.get("uid"), []).append(fn)
    ids, n_exprs = [], 0

    def walk(ps):
        for p in ps or []:
            yield p
            yield from walk(p.get("panels"))
    for p in walk(d.get("panels")):
        ids.append(p.get("id"))
        n_exprs += sum(1 for t in p.get("targets") or [] if t.get("expr"))
    dup = sorted({i for i in ids if ids.count(i) > 1}, key=str)
    check(None not in ids and not dup,
          "%s: %d panel ids, unique (nested rows included)%s" % (
              fn, len(ids), (": duplicate %s" % dup) if dup else ""))
    check(n_exprs > 0, "%s has PromQL targets (%d)" % (fn, n_exprs))
    tv = (d.get("templating") or {}).get("list") or []
    check(any(v.get("name") == "datasource" and v.get("type") == "datasource"
              and v.get("query") == "prometheus" for v in tv),
          "%s has a datasource variable of type datasource" % fn)
    bad = []

    def walk_ds(o, path):
        if isinstance(o, dict):
            for k, v in o.items():
                if k == "datasource":
                    if isinstance(v, dict):
                        if v.get("uid") != "${datasource}":
                            bad.append(path + ".datasource")
                    elif v not in (None, "${datasource}", "$datasource"):
                        bad.append(path + ".datasource")
                else:
                    walk_ds(v, path + "." + k)
        elif isinstance(o, list):
            for i, v in enumerate(o):
                walk_ds(v, "%s[%d]" % (path, i))
    walk_ds({k: v for k, v in d.items() if k != "templating"}, "$")
    for v in tv:
        if v.get("type") != "datasource":
            walk_ds(v, "$.templating")
    check(not bad, "%s: every datasource is ${datasource}%s" % (
        fn, (": " + ", ".join(bad[:5])) if bad else ""))
check(all(len(v) == 1 for v in uids.values()),
      "dashboard uids are unique: %s" % sorted(uids))
check(uids.get("rwbridge-rollout-fleet") == ["rollout-fleet.json"],
      "rollout-fleet.json has uid rwbridge-rollout-fleet")

for st, desc in out:
    print("%d\t%s" % (st, desc))
PY
	[ -s "$T_TMP/static.err" ] && sed 's/^/# /' "$T_TMP/static.err"
	tab=$(printf '\t')
	while IFS="$tab" read -r st desc; do
		t_ok "$st" "$desc"
	done <"$T_TMP/static.out"
	[ -s "$T_TMP/static.out" ]
	t_ok $? "static checks ran"
else
	t_skip "compose, Dockerfile, provisioning and dashboard checks" \
	    "python3 with PyYAML missing"
fi

# Belt and braces for the datasource rule: no literal uid besides the
# dashboards' own uid and "${datasource}".
n=$(grep -ho '"uid": *"[^"]*"' "$S"/grafana/dashboards/*.json |
    grep -v '"${datasource}"' | sort -u | wc -l)
t_is "$n" "$(ls "$S"/grafana/dashboards/*.json | wc -l)" \
    "grep: dashboards hold no uid but their own and \${datasource}"

# --- every dashboard expression: variables resolve, Prometheus parses it ---
python3 "$S/tests/dashboard_queries.py" "$S"/grafana/dashboards/*.json \
    --dry-run >"$T_TMP/dq-dry.log" 2>&1
t_ok $? "dashboard_queries.py --dry-run: every variable resolves"
if have prometheus; then
	t_start_prometheus
	python3 "$S/tests/dashboard_queries.py" "$S"/grafana/dashboards/*.json \
	    --prom "$PROM_URL" --parse-only >"$T_TMP/dq.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] || grep '^not ok' "$T_TMP/dq.log" | sed 's/^/# /'
	t_ok $rc "Prometheus parses every dashboard expression ($(grep -c '^ok' "$T_TMP/dq.log") ok)"
else
	t_skip "Prometheus parses every dashboard expression" "no prometheus"
fi

# --- docker/rwbridge.json ---------------------------------------------------
if [ -x "$RWBRIDGE" ]; then
	"$RWBRIDGE" check-config "$S/docker/rwbridge.json" >"$T_TMP/cc.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] || sed 's/^/# /' "$T_TMP/cc.log"
	t_ok $rc "rwbridge check-config docker/rwbridge.json"
	# The token compose mounts is a valid secret for the same config.
	sed 's|"log_level"|"api_token_file": "api-token.example", "log_level"|' \
	    "$S/docker/rwbridge.json" >"$T_TMP/rw-token.json"
	cp "$S/docker/api-token.example" "$T_TMP/api-token.example"
	"$RWBRIDGE" check-config "$T_TMP/rw-token.json" >"$T_TMP/cc2.log" 2>&1
	t_ok $? "rwbridge accepts docker/api-token.example as its token file"
else
	t_skip "rwbridge check-config docker/rwbridge.json" "$RWBRIDGE not built"
fi

# --- contrib/rwbridge.service.in --------------------------------------------
U="$S/contrib/rwbridge.service.in"
miss=""
for k in '^Type=simple$' '^User=rwbridge$' \
    '^ExecStart=@bindir@/rwbridge --config /etc/rwbridge/rwbridge.json$' \
    '^StateDirectory=rwbridge$' '^NoNewPrivileges=yes$' \
    '^ProtectSystem=strict$' '^ReadWritePaths=/var/lib/rwbridge$' \
    '^Restart=on-failure$' '^WantedBy=multi-user.target$'; do
	grep -q "$k" "$U" || miss="$miss $k"
done
t_is "$miss" "" "rwbridge.service.in has the required keys (grep)"
# make writes the unit with the configured bindir.
B="$top_builddir/contrib/rwbridge.service"
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
t_is "$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$B" 2>/dev/null)" \
    "$prefix/bin/rwbridge" "make writes contrib/rwbridge.service (bindir)"
if have systemd-analyze; then
	# verify wants ExecStart to exist: point it at the built binary (or
	# any executable) in a copy.
	exe="$RWBRIDGE"
	[ -x "$exe" ] || exe=$(command -v true)
	mkdir -p "$T_TMP/unit"
	sed "s|^ExecStart=@bindir@/rwbridge|ExecStart=$exe|" "$U" \
	    >"$T_TMP/unit/rwbridge.service"
	systemd-analyze verify --man=no "$T_TMP/unit/rwbridge.service" \
	    >"$T_TMP/verify.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ ! -s "$T_TMP/verify.log" ] || {
		sed 's/^/# /' "$T_TMP/verify.log"
		rc=1
	}
	t_ok $rc "systemd-analyze verify contrib/rwbridge.service.in"
else
	t_skip "systemd-analyze verify contrib/rwbridge.service.in" \
	    "no systemd-analyze (keys checked with grep above)"
fi

# --- docs/rwbridge.1 ---------------------------------------------------------
M="$S/docs/rwbridge.1"
if have groff; then
	groff -man -ww -z "$M" >"$T_TMP/groff.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ ! -s "$T_TMP/groff.log" ] || {
		sed 's/^/# /' "$T_TMP/groff.log"
		rc=1
	}
	t_ok $rc "groff -man -ww renders docs/rwbridge.1 without warnings"
else
	t_skip "groff -man -ww renders docs/rwbridge.1" "no groff (groff-base)"
fi
# Every flag and subcommand of the usage text in src/main.c is documented.
flags=$(sed -n '/usage_text\[\] =/,/^;/p' "$S/src/main.c" |
    grep -o -- '--[a-z][a-z-]*' | sort -u)
plain=$(sed 's/\\-/-/g' "$M")
miss=""
for f in $flags check-config check-metrics targets SIGTERM SIGHUP /-/healthy \
    /api/v1/targets; do
	printf '%s\n' "$plain" | grep -q -- "$f" || miss="$miss $f"
done
t_is "$miss" "" "man page documents every flag of main.c's usage text ($(echo $flags | wc -w) flags)"
for sec in NAME SYNOPSIS DESCRIPTION CONFIGURATION "HTTP ENDPOINTS" SIGNALS \
    FILES "EXIT STATUS" "SEE ALSO"; do
	grep -q "^\.SH \"*$sec\"*\$" "$M"
	t_ok $? "man page has section $sec"
done

# --- the compose stack's configs, live ---------------------------------------
# python3 reads docker-compose.yml and writes, per service, its command
# (one argument a line, the binary first) with container paths mapped to
# the host files and volumes it mounts and service host names in URLs
# rewritten to 127.0.0.1, rewritten copies of the files it mounts, and the
# ports it listens on (N@BASE).
live_prepare() {
	python3 - "$S/docker" "$T_TMP/live" "$RWBRIDGE" "$RWBRIDGE_SIM" <<'PY'
import os, re, sys
import yaml

D, out, rwbridge, sim = sys.argv[1:5]
os.makedirs(out, exist_ok=True)
c = yaml.safe_load(open(os.path.join(D, "docker-compose.yml")))
svcs = c["services"]
hosts = "|".join(map(re.escape, svcs))
secrets = {}
# Debian's packages for the upstream images (Debian's Pushgateway persists
# to /var/lib/prometheus by default, the image keeps metrics in memory),
# the built binaries for ours.
binary = {"prom/prometheus": ["prometheus"],
          "prom/pushgateway": ["prometheus-pushgateway",
                               "--persistence.file="],
          "rwbridge": [rwbridge], "rwbridge-sim": [sim]}


def env_default(v):
    return re.sub(r"\$\{\w+(?::?-([^}]*))?\}", lambda m: m.group(1) or "",
                  str(v))


for n, sec in (c.get("secrets") or {}).items():
    secrets[n] = os.path.join(D, env_default(sec["file"]))


def hostnames(text):
    return re.sub(r"(?<=//)(%s)(?=[:/])" % hosts, "127.0.0.1", text)


for name in ("prometheus", "pushgateway", "rwbridge", "rwbridge-sim",
             "register-sim"):
    s = svcs[name]
    mounts = {}
    for v in s.get("volumes") or []:
        src, dst = env_default(v).split(":")[:2]
        if src.startswith("."):
            src = os.path.join(D, src)
            if os.path.isfile(src):
                copy = os.path.join(out, name + "-" + os.path.basename(dst))
                mounts[dst] = copy
                continue
        else:
            src = os.path.join(out, "volume-" + src)
            os.makedirs(src, exist_ok=True)
        mounts[dst] = src
    for sec in s.get("secrets") or []:
        mounts["/run/secrets/" + sec] = secrets[sec]

    def host_path(text):
        for dst in sorted(mounts, key=len, reverse=True):
            text = re.sub(r"(?<![\w/])%s(?![\w.-])" % re.escape(dst),
                          mounts[dst], text)
        return hostnames(text)

    # Mounted files, rewritten (they name hosts and container paths too).
    for v in s.get("volumes") or []:
        src, dst = env_default(v).split(":")[:2]
        if src.startswith(".") and os.path.isfile(os.path.join(D, src)):
            with open(os.path.join(D, src)) as f:
                text = f.read()
            with open(mounts[dst], "w") as f:
                f.write(host_path(text))
    image = s.get("image", "")
    if "build" in s:
        entry = s.get("entrypoint") or ["rwbridge"]
        entry = entry if isinstance(entry, list) else [entry]
        entry = binary.get(entry[0], entry[:1]) + entry[1:]
    else:
        entry = binary[image.split(":")[0]]
    args = entry + [host_path(env_default(a)) for a in s.get("command") or []]
    assert all(a and not re.search(r"\s", a) for a in args), args
    with open(os.path.join(out, name + ".argv"), "w") as f:
        f.write("\n".join(args) + "\n")
    ports = [int(env_default(p).split(":")[-1]) for p in s.get("ports") or []]
    if name == "rwbridge-sim":
        spec = "%s@%s" % (args[args.index("--servers") + 1],
                          args[args.index("--base-port") + 1])
    else:
        spec = "1@%d" % ports[0] if ports else ""
    with open(os.path.join(out, name + ".ports"), "w") as f:
        f.write(spec + "\n")
PY
}

# Start compose service $1 as compose would (its ports, its log).
live_start() {
	local _svc=$1 _ports
	_ports=$(cat "$T_TMP/live/$_svc.ports")
	set -f
	set -- $(cat "$T_TMP/live/$_svc.argv")
	set +f
	echo "# $_svc: $*"
	t_spawn "$_ports" "$_svc" "$T_TMP/$_svc.log" "$@"
}

# Print how many groups of job $1 the Pushgateway holds.
live_pgw_groups() {
	curl -fsS http://127.0.0.1:9091/api/v1/metrics 2>/dev/null |
	    jq --arg job "$1" '[.data[].labels | select(.job == $job)] | length'
}

# Succeed when the Pushgateway holds N (= $2) groups of job $1.
live_pgw_has() {
	[ "$(live_pgw_groups "$1")" = "$2" ]
}

if [ "$RWB_NETNS" = none ]; then
	t_skip "the compose stack's configs, live" \
	    "a network namespace (unshare --net) for the compose ports"
elif ! have prometheus || ! have prometheus-pushgateway ||
    ! python3 -c 'import yaml' 2>/dev/null || [ ! -x "$RWBRIDGE" ]; then
	t_skip "the compose stack's configs, live" \
	    "prometheus, prometheus-pushgateway, python3-yaml or the build"
else
	live_prepare 2>"$T_TMP/live.err"
	rc=$?
	[ $rc -eq 0 ] || sed 's/^/# /' "$T_TMP/live.err"
	t_ok $rc "the compose services' commands, files and secrets mapped"
	[ $rc -eq 0 ] || t_bail "cannot map the compose file"
	for f in rwbridge.json prometheus.yml; do
		svc=${f%%.*}
		echo "# docker/$f as run (only host names and paths differ):"
		diff "$S/docker/$f" "$T_TMP/live/$svc-$f" | grep '^[<>]' |
		    sed 's/^/#   /'
	done
	PROM_URL=http://127.0.0.1:9090
	live_start prometheus
	t_wait_http "$PROM_URL/-/ready" 120
	t_ok $? "prometheus with docker/prometheus.yml is ready on :9090"
	live_start pushgateway
	t_wait_http http://127.0.0.1:9091/-/ready 120
	t_ok $? "pushgateway is ready on :9091"
	live_start rwbridge
	RW_PID=$T_LPID
	t_wait_http http://127.0.0.1:9108/-/healthy 120
	t_ok $? "rwbridge (docker/rwbridge.json, the compose token) healthy on :9108"
	live_start rwbridge-sim
	set -f
	set -- $(cat "$T_TMP/live/register-sim.argv")
	set +f
	"$@" >"$T_TMP/register-sim.out" 2>&1
	rc=$?
	[ $rc -eq 0 ] || sed 's/^/# /' "$T_TMP/register-sim.out"
	t_ok $rc "register-sim registers the simulator as group demo"

	# What docker/README.md promises.
	t_wait_value 'up{job="prometheus"}' 1 120
	t_ok $? "Prometheus scrapes itself (prometheus.yml's only job)"
	t_wait_value 'count(up{job="rollout"} == 1)' 8 120
	t_ok $? "the 8 simulated servers arrive by remote write, up 1"
	t_wait_value 'up{job="rwbridge"}' 1 120
	t_ok $? "rwbridge's own metrics arrive (self_scrape, job rwbridge)"
	t_wait_value 'rollout:servers:count{job="rollout"}' 8 120
	t_ok $? "derived fleet series arrive (rollout:servers:count 8)"
	t_wait_until 120 "a 1m fleet e2e p50 arrives" sh -c \
	    "curl -fsS --get '$PROM_URL/api/v1/query' --data-urlencode \
	    'query=rollout:e2e_latency_seconds:p50{window=\"1m\"}' |
	    jq -e '.data.result | length > 0' >/dev/null"
	t_ok $? "derived latency quantiles arrive (e2e p50, window 1m)"
	t_wait_until 120 "the Pushgateway holds 8 groups of job rollout" \
	    live_pgw_has rollout 8
	rc=$?
	t_ok $rc "the Pushgateway holds one group per simulated server"
	[ $rc -eq 0 ] || curl -fsS http://127.0.0.1:9091/api/v1/metrics |
	    jq -c '.data[].labels' | sed 's/^/# /'
	n=$(grep -c 'level=error' "$T_TMP/rwbridge.log")
	t_is "$n" 0 "rwbridge logged no error"
	t_stop_rwbridge "$RW_PID" "rwbridge (compose command) exits 0 on SIGTERM"
	t_ok "$(grep 'remote write totals' "$T_TMP/rwbridge.log" |
	    grep -q ' pending=0'; echo $?)" "nothing left unsent at exit"
	t_no_sanitizer_report
fi

t_done
