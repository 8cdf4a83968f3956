#!/bin/sh
# docker/Dockerfile, really built and run without a Docker engine: a
# debootstrap base imported as debian:bookworm-slim (tests/base_image.sh,
# cached outside the checkout), `buildah bud --isolation chroot`, then, in
# the built image with `buildah run --isolation chroot`: the image's user
# is not root, the binaries run, check-config accepts the shipped config,
# only runtime libraries are installed (no compiler, no -dev package, no
# library the binaries do not link), and the ENTRYPOINT with the shipped CMD
# serves /-/healthy and /metrics, sends to a real Prometheus at the address
# the compose stack names (prometheus:9090, here on loopback), passes the
# HEALTHCHECK's own command and stops cleanly on the image's STOPSIGNAL.
#
# The build needs the Debian mirror; the daemon part then runs in a network
# namespace of its own (the script re-executes itself under unshare --net),
# where the shipped config's fixed port 9108, and 9090 / 9091 for
# Prometheus and the Pushgateway, are free whatever else runs here.
# Without root, buildah, podman or debootstrap it prints a TAP SKIP line.
. "${top_srcdir:-$(dirname "$0")/..}/tests/base_image.sh"

why=$(bi_unavailable)
if [ -n "$why" ]; then
	echo "1..0 # SKIP image not built: $why"
	exit 0
fi

. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
S=$top_srcdir
IMG=${RWB_IMG:-localhost/rwbridge:test-$$}
CTR=${RWB_CTR:-}

# The FROM lines name the base (checked below: all the same Debian image).
froms=$(bi_dockerfile_from)
base=docker.io/library/$froms

# Remove this run's container and every image but the base and the build
# steps that depend only on scripts/install-deps (those before a stage
# copies the sources or another stage): they are the layer cache of the
# next run. Children go before their parents, hence the passes; an image
# a container still uses (another test's) stays, and so do the untagged
# parents (--no-prune) the cache is made of.
img_cleanup() {
	local keep ids id k pass=0 left
	[ -z "$CTR" ] || bi_buildah rm "$CTR" >/dev/null 2>&1
	keep=$(bi_buildah inspect --type image --format '{{.FromImageID}}' \
	    "$base" 2>/dev/null)
	[ -f "$T_TMP/bud.log" ] && keep="$keep $(awk '
	/^\[[0-9]+\/[0-9]+\] STEP 1\// { src = 0 }
	/^\[[0-9]+\/[0-9]+\] STEP [0-9]+\/[0-9]+: COPY (--from=|\. )/ { src = 1 }
	/^--> [0-9a-f]+$/ && !src { print $2 }' "$T_TMP/bud.log")"
	while [ $pass -lt 10 ]; do
		pass=$((pass + 1))
		left=0
		ids=$(bi_podman images -a -q --no-trunc | sed 's/^sha256://')
		for id in $ids; do
			for k in $keep; do
				case $id in "$k"*) continue 2 ;; esac
			done
			bi_podman rmi --no-prune "$id" >/dev/null 2>&1 || left=1
		done
		[ $left -eq 1 ] || break
	done
	t_cleanup
}
trap img_cleanup EXIT

# Run a command in the working container, as the image's user.
run() {
	bi_buildah run --isolation chroot --network host "$CTR" -- "$@"
}

# Print a field of the image's Docker config.
cfg() {
	jq -r ".Docker.config.$1" "$T_TMP/image.json"
}

# Succeed when the Pushgateway holds a group of job "rwbridge".
pgw_has_group() {
	curl -fsS "$PGW_URL/metrics" >"$T_TMP/pgw.txt" 2>/dev/null &&
	    grep -q 'job="rwbridge"' "$T_TMP/pgw.txt"
}

# Second part, in a network namespace of its own: the daemon as shipped.
run_phase() {
	ip link set lo up
	t_ok $? "loopback up in the test's network namespace"

	PROM_PORT=9090 t_start_prometheus
	t_spawn 1@9091 pushgateway "$T_TMP/pushgateway.log" \
	    prometheus-pushgateway --web.listen-address=127.0.0.1:@PORT@ \
	    --persistence.file=
	PGW_URL=http://127.0.0.1:9091
	set -- $(jq -r '(.Docker.config.Entrypoint // []) + (.Docker.config.Cmd // [])
	    | .[]' "$T_TMP/image.json")
	echo "# running the image: $*"
	BI_EXEC=exec bi_buildah run --isolation chroot --network host "$CTR" -- \
	    "$@" >"$T_TMP/rwbridge.log" 2>&1 &
	RUN_PID=$!
	t_track $RUN_PID
	RW=http://127.0.0.1:9108
	t_wait_http "$RW/-/healthy" 120
	t_ok $? "the image's daemon answers $RW/-/healthy"
	# The daemon itself: the process listening on 9108.
	dpid=$(ss -Hltnp 'sport = :9108' |
	    sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1)
	[ -n "$dpid" ] || t_bail "nothing listens on 9108 (see rwbridge.log)"
	t_track "$dpid"
	duid=$(awk '/^Uid:/ { print $2 }' "/proc/$dpid/status" 2>/dev/null)
	t_is "$duid" "$uid" "the daemon (pid $dpid) runs as uid $uid"
	curl -fsS "$RW/metrics" >"$T_TMP/metrics.txt"
	n=$(grep -c '^rwbridge_' "$T_TMP/metrics.txt")
	t_ok "$([ "$n" -gt 0 ]; echo $?)" "$RW/metrics serves rwbridge_* ($n)"

	hc=$(jq -r '.Docker.config.Healthcheck.Test[1:] | .[]' \
	    "$T_TMP/image.json")
	if [ "$hc_kind" = CMD-SHELL ]; then
		run /bin/sh -c "$hc" >"$T_TMP/hc.log" 2>&1
	else
		run $hc >"$T_TMP/hc.log" 2>&1
	fi
	rc=$?
	[ $rc -eq 0 ] || sed 's/^/# /' "$T_TMP/hc.log"
	t_ok $rc "the HEALTHCHECK command succeeds in the image: $hc"

	# Its own samples (self_scrape) reach Prometheus at prometheus:9090 and
	# the Pushgateway at pushgateway:9091, as in compose.
	t_wait_value 'up{job="rwbridge"}' 1 120
	t_ok $? "samples from the image arrive in Prometheus (up{job=rwbridge} 1)"
	t_wait_until 60 "the Pushgateway holds rwbridge's group" pgw_has_group
	t_ok $? "the image's daemon pushes to pushgateway:9091"

	# STOPSIGNAL: the daemon flushes and exits 0; buildah run returns its
	# status.
	kill -s "${stopsig#SIG}" "$dpid"
	t_wait_until 60 "the image's daemon exits on $stopsig" t_gone "$dpid"
	t_ok $? "$stopsig ends the daemon"
	wait "$RUN_PID"
	t_is "$?" 0 "the image's entrypoint exits 0 on $stopsig"
	t_untrack "$RUN_PID"
	t_untrack "$dpid"
	t_ok "$(grep -q 'rwbridge stopped' "$T_TMP/rwbridge.log"; echo $?)" \
	    "the daemon logs 'rwbridge stopped'"
	t_ok "$(grep 'remote write totals' "$T_TMP/rwbridge.log" |
	    grep -q ' pending=0'; echo $?)" "nothing left unsent at exit (pending=0)"
}

if [ -n "${RWB_NETNS:-}" ]; then
	rmdir "$T_TMP"
	T_TMP=$RWB_TMP T_N=$RWB_N T_FAILED=$RWB_FAILED uid=$RWB_UID
	hc_kind=$(cfg 'Healthcheck.Test[0]')
	stopsig=$(cfg StopSignal)
	run_phase
	t_done
fi

# One image test at a time on a machine: they share the layer cache, which
# each prunes at exit. The lock is held through both parts.
exec 8>"$RWBRIDGE_TEST_CACHE/image.lock"
flock 8

t_is "$froms" "debian:bookworm-slim" "every FROM is debian:bookworm-slim"
suite=${froms#debian:}
suite=${suite%-slim}

r=$(bi_ensure_base "$base" "$suite" "$T_TMP/base.txt")
rc=$?
[ $rc -eq 0 ] || tail -n 20 "$T_TMP/base.txt" | sed 's/^/# /'
t_ok $rc "base image $froms (debootstrap --variant=minbase $suite): $r"
[ $rc -eq 0 ] || t_bail "no base image"

# --- build ----------------------------------------------------------------
t0=$(date +%s)
bi_buildah bud --isolation chroot --network host --layers --pull=never \
    --format docker -f "$S/docker/Dockerfile" -t "$IMG" "$S" \
    >"$T_TMP/bud.log" 2>&1
rc=$?
echo "# buildah bud took $(( $(date +%s) - t0 )) s" \
    "($(grep -c 'Using cache' "$T_TMP/bud.log") steps from the cache)"
t_ok $rc "buildah bud -f docker/Dockerfile (with its --version, check-config)"
[ $rc -eq 0 ] || t_bail "the image did not build"

size=$(bi_podman image inspect --format '{{.Size}}' "$IMG")
bsize=$(bi_podman image inspect --format '{{.Size}}' "$base")
echo "# image size $((size / 1000000)) MB (base $froms" \
    "$((bsize / 1000000)) MB)"
bi_buildah inspect --type image "$IMG" >"$T_TMP/image.json"
user=$(cfg User)
t_ok "$(case ${user%%:*} in ''|root|0) echo 1 ;; *) echo 0 ;; esac)" \
    "image USER is not root ($user)"
hc_kind=$(cfg 'Healthcheck.Test[0]')
t_ok "$(case $hc_kind in CMD|CMD-SHELL) echo 0 ;; *) echo 1 ;; esac)" \
    "image has a HEALTHCHECK ($hc_kind)"
stopsig=$(cfg StopSignal)
t_is "$stopsig" SIGTERM "image STOPSIGNAL"
conf=$(jq -r '.Docker.config.Cmd | index("--config") as $i |
    if $i == null then "" else .[$i + 1] end' "$T_TMP/image.json")
t_is "$conf" /etc/rwbridge/rwbridge.json "image CMD names the shipped config"

# --- inside the image -----------------------------------------------------
# The compose stack's host names point at loopback in the namespace.
CTR=$(bi_buildah from --pull=never --add-host prometheus:127.0.0.1 \
    --add-host pushgateway:127.0.0.1 --name "rwbridge-test-$$" "$IMG" \
    2>"$T_TMP/from.log")
t_ok $? "buildah from the image"
[ -n "$CTR" ] || t_bail "no working container ($(cat "$T_TMP/from.log"))"

uid=$(run id -u 2>"$T_TMP/id.err")
[ -n "$uid" ] || sed 's/^/# /' "$T_TMP/id.err"
t_ok "$([ -n "$uid" ] && [ "$uid" != 0 ]; echo $?)" \
    "commands run as the image's user, uid $uid, not root"
uname=$(run id -un 2>"$T_TMP/id.err")
[ -n "$uname" ] || sed 's/^/# /' "$T_TMP/id.err"
t_is "$uname" "${user%%:*}" "that uid is the image's user"
ver=$(sed -n 's/^AC_INIT(\[[^]]*\], \[\([^]]*\)\].*/\1/p' "$S/configure.ac")
t_is "$(run rwbridge --version 2>&1)" "rwbridge $ver" "rwbridge --version"
t_is "$(run rwbridge-sim --version 2>&1)" "rwbridge-sim $ver" \
    "rwbridge-sim --version"
run rwbridge check-config "$conf" >"$T_TMP/cc.log" 2>&1
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$T_TMP/cc.log"
t_ok $rc "rwbridge check-config $conf (as uid $uid)"

# Only runtime libraries: no compiler or build tool, no -dev package, and
# every package install-deps --runtime names is one the binaries link (by
# ldd, transitively) or ca-certificates.
tools=$(run sh -c 'for t in cc gcc g++ c++ cpp clang ld as make autoconf \
    automake libtool pkg-config pkgconf protoc-c; do
	command -v "$t"; done; true')
t_is "$(echo $tools)" "" "no compiler or build tool in the image"
devs=$(run dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' |
    sed -n 's/^ii *//p' |
    grep -E -- '-dev$|^(gcc|g\+\+|cpp)(-[0-9]+)?$|^binutils|^build-essential$')
t_is "$(echo $devs)" "" "no -dev, gcc or binutils package in the image"
run sh -c 'ldd /usr/local/bin/rwbridge /usr/local/bin/rwbridge-sim' \
    >"$T_TMP/ldd.txt" 2>&1
t_ok "$(grep -q 'not found' "$T_TMP/ldd.txt"; [ $? -ne 0 ]; echo $?)" \
    "every library the binaries link is in the image"
libs=$(awk '$2 == "=>" && $3 ~ /^\// { print $3 }' "$T_TMP/ldd.txt" | sort -u)
linked=$(run sh -c 'for f; do
	r=$(readlink -f "$f")
	for p in "$f" "$r" "/usr$f" "/usr$r" "${f#/usr}" "${r#/usr}"; do
		dpkg -S "$p" 2>/dev/null && break
	done
done' sh $libs | cut -d: -f1 | sort -u)
echo "# the binaries link:" $linked
rt=$(sed -n '/^RUNTIME_PKGS="/,/"/p' "$S/scripts/install-deps" |
    sed 's/^RUNTIME_PKGS="//; s/["\\]//g')
extra=""
for p in $rt; do
	[ "$p" = ca-certificates ] && continue
	printf '%s\n' $linked | grep -qx "$p" || extra="$extra $p"
done
t_is "$extra" "" "install-deps --runtime installs only linked libraries"
pbc=$(printf '%s\n' $linked | grep -c '^libprotobuf-c')
ipbc=$(run dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' \
    'libprotobuf-c*' 2>/dev/null | grep -c '^ii')
t_is "$ipbc" "$pbc" "libprotobuf-c installed only if linked (linked: $pbc)"

# --- hand over to a network namespace of our own -------------------------
err=$(unshare --net true 2>&1)
rc=$?
t_ok $rc "unshare --net works${err:+: $err}"
[ $rc -eq 0 ] || t_done
trap - EXIT
RWB_NETNS=1 RWB_TMP=$T_TMP RWB_N=$T_N RWB_FAILED=$T_FAILED RWB_IMG=$IMG \
    RWB_CTR=$CTR RWB_UID=$uid exec unshare --net -- sh "$0"
