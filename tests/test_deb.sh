#!/bin/sh
# The Debian package (debian/): built from a copy of the tree with
# `dpkg-buildpackage -us -uc -b` (debhelper, dh_autoreconf, the unit tests
# run by dh_auto_test), lintian-clean (no error, no warning), with the
# files it promises and a unit `systemd-analyze security` rates OK; then
# installed with `dpkg -i` into a throwaway root (a buildah container from
# the debootstrap base of tests/base_image.sh, the dependencies from the
# mirror), where rwbridge runs, the system user exists and the service is
# enabled, and `dpkg --purge` leaves nothing behind.
# The install part prints a TAP SKIP line when buildah cannot run here.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/base_image.sh"
S=$top_srcdir
CTR=""

# Remove the throwaway root, then what lib.sh started.
deb_cleanup() {
	[ -z "$CTR" ] || bi_buildah rm "$CTR" >/dev/null 2>&1
	t_cleanup
}
trap deb_cleanup EXIT

for tool in dpkg-buildpackage dh lintian; do
	command -v "$tool" >/dev/null 2>&1 ||
	    t_bail "$tool is not installed (scripts/install-deps)"
done

# --- build ----------------------------------------------------------------
ver=$(cd "$S" && dpkg-parsechangelog -S Version)
acver=$(sed -n 's/^AC_INIT(\[[^]]*\], \[\([^]]*\)\].*/\1/p' "$S/configure.ac")
t_is "$ver" "$acver" "debian/changelog's version is configure.ac's"
arch=$(dpkg --print-architecture)
# The tree as it is (uncommitted changes included), without build output.
src=$T_TMP/rwbridge-$ver
mkdir -p "$src"
(cd "$S" && tar -cf - --exclude=.git --exclude='./build' \
    --exclude='./build-[!a]*' --exclude=autom4te.cache --exclude='*.o' \
    --exclude='*.a' --exclude='*.log' --exclude='*.trs' \
    --exclude='./debian/rwbridge' --exclude='./debian/.debhelper' \
    --exclude='./debian/tmp' --exclude='./debian/files' \
    --exclude='./debian/*.substvars' --exclude='./debian/*debhelper*' \
    --exclude='./configure' --exclude=Makefile.in --exclude=config.status \
    --exclude=Makefile .) | tar -C "$src" -xf -
t0=$(date +%s)
# Not in this make's environment: its MAKEFLAGS would hand a TESTS= given
# to `make check` down to the package's own `make check` (and so run this
# very test inside the package build).
(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u GNUMAKEFLAGS -u MAKELEVEL \
    -u MAKEOVERRIDES -u TESTS -u top_srcdir -u top_builddir -u FIXTURES \
    dpkg-buildpackage -us -uc -b -j2) >"$T_TMP/build.log" 2>&1
rc=$?
echo "# dpkg-buildpackage took $(( $(date +%s) - t0 )) s"
t_ok $rc "dpkg-buildpackage -us -uc -b"
deb=$T_TMP/rwbridge_${ver}_$arch.deb
[ $rc -eq 0 ] && [ -f "$deb" ] || t_bail "no $(basename "$deb")"
t_ok "$(grep -q 'dh_autoreconf' "$T_TMP/build.log"; echo $?)" \
    "dh_autoreconf ran (autoreconf -fi, as scripts/build)"
ran=$(sed -n 's/^PASS: \(tests\/[^ ]*\) .*/\1/p' "$T_TMP/build.log" | sort -u)
t_is "$(echo $ran | grep -c '\.sh')" 0 \
    "dh_auto_test ran the unit tests only ($(echo $ran | wc -w) programs)"
t_ok "$([ -n "$ran" ] && ! grep -q '^# FAIL: *[1-9]' "$T_TMP/build.log"
    echo $?)" "the unit tests pass in the package build"
echo "# $(basename "$deb"): $(( $(stat -c %s "$deb") / 1024 )) KiB"

lintian --tag-display-limit 0 --display-level '>=warning' \
    "$T_TMP/rwbridge_${ver}_$arch.changes" >"$T_TMP/lintian.txt" 2>&1
tags=$(grep -E '^[EW]: ' "$T_TMP/lintian.txt")
[ -z "$tags" ] || printf '%s\n' "$tags" | sed 's/^/# /'
t_is "$(printf '%s' "$tags" | grep -c .)" 0 \
    "lintian: no error or warning ($(grep -c '^[EWIP]: ' \
    "$T_TMP/lintian.txt") tags at any level)"

# --- contents ---------------------------------------------------------------
x=$T_TMP/x
dpkg-deb -x "$deb" "$x"
miss=""
for f in usr/bin/rwbridge usr/bin/rwbridge-sim \
    usr/share/man/man1/rwbridge.1.gz usr/share/man/man1/rwbridge-sim.1.gz \
    lib/systemd/system/rwbridge.service etc/rwbridge/rwbridge.json \
    usr/share/doc/rwbridge/copyright; do
	[ -e "$x/$f" ] || miss="$miss $f"
done
for f in "$S"/grafana/dashboards/*.json; do
	[ -f "$x/usr/share/rwbridge/grafana/dashboards/$(basename "$f")" ] ||
	    miss="$miss $(basename "$f")"
done
t_is "$miss" "" "the package holds the binaries, man pages, unit, config and dashboards"
t_is "$(dpkg-deb -f "$deb" Package Architecture | tr '\n' ' ')" \
    "Package: rwbridge Architecture: $arch " "package name and architecture"
conff=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)
t_is "$conff" /etc/rwbridge/rwbridge.json "the default config is a conffile"
"$x/usr/bin/rwbridge" check-config "$x/etc/rwbridge/rwbridge.json" \
    >"$T_TMP/cc.log" 2>&1
t_ok $? "the packaged rwbridge accepts the packaged default config"
U=$x/lib/systemd/system/rwbridge.service
t_is "$(sed -n 's/^ExecStart=//p' "$U")" \
    "/usr/bin/rwbridge --config /etc/rwbridge/rwbridge.json" \
    "the unit starts /usr/bin/rwbridge with /etc/rwbridge/rwbridge.json"
for k in User=rwbridge StateDirectory=rwbridge; do
	grep -qx "$k" "$U"
	t_ok $? "the unit has $k"
done
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|^ExecStart=/usr/bin/|ExecStart=$x/usr/bin/|" "$U" \
	    >"$T_TMP/rwbridge.service"
	systemd-analyze security --offline=yes --threshold=20 \
	    "$T_TMP/rwbridge.service" >"$T_TMP/security.txt" 2>&1
	rc=$?
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \(.*\)/\1/p' \
	    "$T_TMP/security.txt")
	[ $rc -eq 0 ] || grep '✗' "$T_TMP/security.txt" | sed 's/^/# /'
	t_ok $rc "systemd-analyze security rates the unit $score (2.0 at most)"
else
	t_ok 1 "systemd-analyze security (no systemd-analyze: scripts/install-deps)"
fi

# --- install, check, purge in a throwaway root -------------------------------
# Not beside test_image.sh: it removes images when it ends, and buildah
# may fail to list its storage meanwhile, which read as "buildah cannot
# run" and skipped this part. Its lock is held through both its parts.
if mkdir -p "$RWBRIDGE_TEST_CACHE" 2>/dev/null &&
    command -v flock >/dev/null 2>&1; then
	exec 8>"$RWBRIDGE_TEST_CACHE/image.lock"
	flock 8
fi
why=$(bi_unavailable)
if [ -n "$why" ]; then
	T_N=$((T_N + 1))
	echo "ok $T_N # SKIP dpkg -i in a throwaway root: $why"
	t_done
fi
froms=$(bi_dockerfile_from)
suite=${froms#debian:}
r=$(bi_ensure_base "docker.io/library/$froms" "${suite%-slim}" \
    "$T_TMP/base.txt")
rc=$?
[ $rc -eq 0 ] || tail -n 20 "$T_TMP/base.txt" | sed 's/^/# /'
t_ok $rc "throwaway root: the debootstrap base $froms ($r)"
[ $rc -eq 0 ] || t_bail "no base image"
CTR=$(bi_buildah from --pull=never --name "rwbridge-deb-$$" \
    "docker.io/library/$froms" 2>"$T_TMP/from.txt")
[ -n "$CTR" ] || t_bail "buildah from: $(cat "$T_TMP/from.txt")"
run() {
	bi_buildah run --isolation chroot --network host "$CTR" -- "$@"
}
bi_buildah copy "$CTR" "$deb" /tmp/rwbridge.deb >/dev/null
deps=$(dpkg-deb -f "$deb" Depends)
t0=$(date +%s)
run sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get satisfy -y -qq --no-install-recommends "$1"' sh "$deps" \
    >"$T_TMP/deps.txt" 2>&1
rc=$?
echo "# dependencies installed in $(( $(date +%s) - t0 )) s"
[ $rc -eq 0 ] || tail -n 20 "$T_TMP/deps.txt" | sed 's/^/# /'
t_ok $rc "apt-get satisfy the package's Depends from the mirror"
run dpkg -i /tmp/rwbridge.deb >"$T_TMP/install.txt" 2>&1
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$T_TMP/install.txt"
t_ok $rc "dpkg -i rwbridge_${ver}_$arch.deb"
t_is "$(run rwbridge --version 2>&1)" "rwbridge $ver" "rwbridge --version"
t_is "$(run rwbridge-sim --version 2>&1)" "rwbridge-sim $ver" \
    "rwbridge-sim --version"
pw=$(run getent passwd rwbridge)
uid=$(echo "$pw" | cut -d: -f3)
t_ok "$([ -n "$uid" ] && [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ]; echo $?)" \
    "the system user rwbridge exists (uid $uid)"
t_is "$(echo "$pw" | cut -d: -f6,7)" "/var/lib/rwbridge:/usr/sbin/nologin" \
    "its home is the state directory, without a login shell"
run runuser -u rwbridge -- rwbridge check-config /etc/rwbridge/rwbridge.json \
    >"$T_TMP/cc2.log" 2>&1
t_ok $? "as rwbridge: check-config /etc/rwbridge/rwbridge.json"
run test -L /etc/systemd/system/multi-user.target.wants/rwbridge.service
t_ok $? "the service is enabled (multi-user.target.wants)"
run dpkg -i /tmp/rwbridge.deb >"$T_TMP/reinstall.txt" 2>&1
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$T_TMP/reinstall.txt"
t_ok $rc "dpkg -i again (the upgrade path: the user exists already)"

run dpkg --purge rwbridge >"$T_TMP/purge.txt" 2>&1
rc=$?
[ $rc -eq 0 ] || sed 's/^/# /' "$T_TMP/purge.txt"
t_ok $rc "dpkg --purge rwbridge"
left=$(run sh -c 'for f in /usr/bin/rwbridge /usr/bin/rwbridge-sim \
    /etc/rwbridge /lib/systemd/system/rwbridge.service \
    /etc/systemd/system/multi-user.target.wants/rwbridge.service \
    /usr/share/rwbridge /var/lib/rwbridge; do
	[ -e "$f" ] || [ -L "$f" ] && echo "$f"; done; true')
t_is "$(echo $left)" "" "nothing of the package is left after the purge"
run dpkg -s rwbridge >/dev/null 2>&1
t_ok "$([ $? -ne 0 ]; echo $?)" "dpkg -s: rwbridge is not installed any more"

t_done
