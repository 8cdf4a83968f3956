# The Debian base image for the tests that build rwbridge's image
# (test_image.sh) and install its Debian package (test_deb.sh) without a
# container runtime: `debootstrap --variant=minbase` from the mirror apt
# already uses, `podman import` under the name docker/Dockerfile's FROM
# lines use, then buildah with --isolation chroot (no cgroups, no OCI
# runtime). Source it after tests/lib.sh.
#
# The image and buildah's layer cache live in their own container storage
# outside the checkout, $RWBRIDGE_TEST_CACHE (default
# /var/cache/rwbridge-test for root, else $XDG_CACHE_HOME/rwbridge-test), so
# only the first run on a machine pays for debootstrap and the image's
# dependency layers. A lock serialises tests that need the base at once.

if [ "$(id -u)" -eq 0 ]; then
	: "${RWBRIDGE_TEST_CACHE:=/var/cache/rwbridge-test}"
	BI_RUNROOT=/run/rwbridge-test/containers
else
	: "${RWBRIDGE_TEST_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/rwbridge-test}"
	BI_RUNROOT=${XDG_RUNTIME_DIR:-$RWBRIDGE_TEST_CACHE}/rwbridge-test
fi
BI_STORAGE=$RWBRIDGE_TEST_CACHE/containers
BI_LOCK=$RWBRIDGE_TEST_CACHE/lock
# Bump when bi_ensure_base makes the base differently: cached bases made by
# another recipe are made again.
BI_RECIPE=base-1

# buildah on the test's own container storage. With BI_EXEC=exec in a
# background subshell, $! is buildah's own pid.
bi_buildah() {
	${BI_EXEC:-} buildah --root "$BI_STORAGE" --runroot "$BI_RUNROOT" \
	    --storage-driver "${BI_DRIVER:-overlay}" "$@"
}

# podman on the same storage (import and image listing only: podman's
# container runtime is never used).
bi_podman() {
	podman --root "$BI_STORAGE" --runroot "$BI_RUNROOT" \
	    --storage-driver "${BI_DRIVER:-overlay}" --events-backend none \
	    --cgroup-manager cgroupfs "$@"
}

# Print why the base image cannot be made here, or nothing when it can.
bi_unavailable() {
	for _tool in buildah podman debootstrap flock; do
		command -v "$_tool" >/dev/null 2>&1 ||
		    { echo "$_tool is not installed (scripts/install-deps)"; return; }
	done
	[ "$(id -u)" -eq 0 ] ||
	    { echo "debootstrap and buildah --isolation chroot need root"; return; }
	mkdir -p "$BI_STORAGE" "$BI_RUNROOT" 2>/dev/null ||
	    { echo "cannot create $BI_STORAGE"; return; }
	# overlay where the kernel and file system allow it, else vfs.
	if [ -z "${BI_DRIVER:-}" ] && ! bi_buildah images >/dev/null 2>&1; then
		BI_DRIVER=vfs
	fi
	_err=$(bi_buildah images 2>&1 >/dev/null) ||
	    { echo "buildah cannot open its storage: $_err"; return; }
}

# Print the images docker/Dockerfile's FROM lines name (one when all stages
# start from the same base, as they should).
bi_dockerfile_from() {
	sed -n 's/^FROM[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' \
	    "$top_srcdir/docker/Dockerfile" | sort -u
}

# Print the Debian mirror apt uses (deb822 .sources or one-line lists).
bi_mirror() {
	{
		sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources \
		    2>/dev/null
		sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}\([^[:space:]]*\).*/\2/p' \
		    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
	} | tr ' ' '\n' | grep -E '/debian/?$' | head -n 1
}

# Make sure image $1 (a debootstrap --variant=minbase root of suite $2)
# exists in the test storage; build and import it when it does not. Logs go
# to $3. Prints what it did ("cached" or "built in N s").
bi_ensure_base() {
	_img=$1 _suite=$2 _log=$3
	mkdir -p "$RWBRIDGE_TEST_CACHE"
	(
		flock 9
		_stamp="$RWBRIDGE_TEST_CACHE/base.stamp"
		_want="$BI_RECIPE $_img $_suite"
		_id=$(bi_buildah inspect --type image --format '{{.FromImageID}}' \
		    "$_img" 2>/dev/null)
		if [ -n "$_id" ] && [ "$(cat "$_stamp" 2>/dev/null)" = "$_want $_id" ]; then
			echo cached
			exit 0
		fi
		# Made by an older recipe (or by someone else): make it again.
		# Only the name moves: a container of another test may still
		# use the old one.
		[ -z "$_id" ] || bi_podman untag "$_img" >>"$_log" 2>&1
		_t0=$(date +%s)
		_mirror=$(bi_mirror)
		[ -n "$_mirror" ] || { echo "no Debian mirror in apt sources" >>"$_log"; exit 1; }
		_root=$(mktemp -d "$RWBRIDGE_TEST_CACHE/debootstrap.XXXXXX")
		trap 'rm -rf "$_root"' EXIT
		echo "debootstrap --variant=minbase $_suite $_root $_mirror" >>"$_log"
		debootstrap --variant=minbase "$_suite" "$_root" "$_mirror" \
		    >>"$_log" 2>&1 || exit 1
		# As Debian's own images: the release and its updates, and no
		# package lists or downloaded packages kept.
		_sec=$(printf '%s' "$_mirror" | sed 's|/debian/*$|/debian-security|')
		{
			echo "deb $_mirror $_suite main"
			echo "deb $_mirror $_suite-updates main"
			grep -rqs 'debian-security' /etc/apt/sources.list* &&
			    echo "deb $_sec $_suite-security main"
		} >"$_root/etc/apt/sources.list"
		# Slim as debian:*-slim is (debuerreotype's list): no
		# documentation, manuals or translations, now or later.
		cat >"$_root/etc/dpkg/dpkg.cfg.d/docker" <<-EOF
		path-exclude /usr/share/doc/*
		path-include /usr/share/doc/*/copyright
		path-exclude /usr/share/groff/*
		path-exclude /usr/share/info/*
		path-exclude /usr/share/linda/*
		path-exclude /usr/share/lintian/overrides/*
		path-exclude /usr/share/locale/*
		path-exclude /usr/share/man/*
		EOF
		find "$_root/usr/share/doc" -mindepth 1 -not -type d \
		    -not -name copyright -delete
		rm -rf "$_root"/usr/share/groff/* "$_root"/usr/share/info/* \
		    "$_root"/usr/share/linda/* "$_root"/usr/share/locale/* \
		    "$_root"/usr/share/lintian/overrides/* "$_root"/usr/share/man/*
		# ...and apt deletes what it downloaded once installed.
		cat >"$_root/etc/apt/apt.conf.d/docker-clean" <<-'EOF'
		DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
		Dir::Cache::pkgcache "";
		Dir::Cache::srcpkgcache "";
		EOF
		echo 'Acquire::Languages "none";' \
		    >"$_root/etc/apt/apt.conf.d/docker-no-languages"
		chroot "$_root" apt-get clean >>"$_log" 2>&1
		rm -rf "$_root"/var/lib/apt/lists/* "$_root"/var/cache/apt/*.bin \
		    "$_root"/var/log/*.log "$_root"/var/cache/ldconfig/aux-cache
		tar -C "$_root" --numeric-owner -cf - . |
		    bi_podman import - "$_img" >>"$_log" 2>&1 || exit 1
		_id=$(bi_buildah inspect --type image --format '{{.FromImageID}}' \
		    "$_img") || exit 1
		echo "$_want $_id" >"$_stamp"
		echo "built in $(( $(date +%s) - _t0 )) s"
	) 9>"$BI_LOCK"
}
