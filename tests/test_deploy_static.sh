#!/bin/sh
# Deployment files, checked without Docker: docker/ (Dockerfile, compose,
# Prometheus and rwbridge configs), grafana/ (provisioning, dashboards),
# contrib/rwbridge.service and docs/rwbridge.1. Uses promtool, python3 with
# PyYAML, systemd-analyze and groff when they are installed (a check that
# needs a missing tool says so and is skipped); every dashboard expression
# is parsed by a real Prometheus started on loopback.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

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

# --- contrib/rwbridge.service -----------------------------------------------
U="$S/contrib/rwbridge.service"
miss=""
for k in '^Type=simple$' '^User=rwbridge$' \
    '^ExecStart=/usr/local/bin/rwbridge --config /etc/rwbridge/rwbridge.json$' \
    '^StateDirectory=rwbridge$' '^NoNewPrivileges=yes$' \
    '^ProtectSystem=strict$' '^ReadWritePaths=/var/lib/rwbridge$' \
    '^Restart=on-failure$' '^WantedBy=multi-user.target$'; do
	grep -q "$k" "$U" || miss="$miss $k"
done
t_is "$miss" "" "rwbridge.service has the required keys (grep)"
if have systemd-analyze; then
	# verify wants ExecStart to exist: point it at the built binary (or
	# any executable) in a copy.
	exe="$RWBRIDGE"
	[ -x "$exe" ] || exe=$(command -v true)
	mkdir -p "$T_TMP/unit"
	sed "s|^ExecStart=/usr/local/bin/rwbridge|ExecStart=$exe|" "$U" \
	    >"$T_TMP/unit/rwbridge.service"
	systemd-analyze verify --man=no "$T_TMP/unit/rwbridge.service" \
	    >"$T_TMP/verify.log" 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ ! -s "$T_TMP/verify.log" ] || {
		sed 's/^/# /' "$T_TMP/verify.log"
		rc=1
	}
	t_ok $rc "systemd-analyze verify contrib/rwbridge.service"
else
	t_skip "systemd-analyze verify contrib/rwbridge.service" \
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

t_done
