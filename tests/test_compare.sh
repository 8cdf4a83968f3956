#!/bin/sh
# bench/compare in a tiny configuration, so it never rots: Prometheus in
# agent mode, vmagent (when it can be found: a SKIP line says so when not),
# rwbridge, two rwbridges as one cluster (--members 2) and both floors
# (bench/floor on libcurl and on plain sockets) deliver the tiny fleet's
# samples, and the table has every row and column; rwbridge runs with its
# shipped max_samples_per_send (no --batch).
# The README's figures come from the full runs; nothing here is timed.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

FLOOR="$top_builddir/bench/floor"
VMAGENT=$(command -v vmagent 2>/dev/null)
[ -n "$VMAGENT" ] || VMAGENT=/opt/victoria-metrics/usr/bin/vmagent
cols=agent,rwbridge,floor,floor-plain
[ -x "$VMAGENT" ] && cols=agent,vmagent,rwbridge,floor,floor-plain

python3 "$top_srcdir/bench/compare" --rwbridge "$RWBRIDGE" \
    --sim "$RWBRIDGE_SIM" --floor "$FLOOR" --vmagent "$VMAGENT" \
    --only "$cols" --members 2 --targets 2 --series 20 --interval 1s \
    --warmup 4 --window 6 --markdown > "$T_TMP/out" 2> "$T_TMP/err"
t_is "$?" 0 "bench/compare runs to the end"
sed 's/^/# /' "$T_TMP/out"
[ -s "$T_TMP/out" ] || sed 's/^/# /' "$T_TMP/err"
for row in "samples/s delivered" "CPU s per 1M samples" \
    "peak RSS (VmHWM) MiB" "RSS bytes per series" "requests/s (own counter)" \
    "load average, window start" \
    "fleet samples/s (those / interval)"; do
	t_ok "$(grep -q "^| $row |" "$T_TMP/out"; echo $?)" \
	    "the table has \"$row\""
done
t_ok "$(grep -q '^fleet: 2 targets; each page .* bytes per sample), .*% histogram' \
    "$T_TMP/out"; echo $?)" "the fleet is described"

# The delivered samples/s of the column titled $1, from the Markdown table.
delivered() {
	awk -F' *[|] *' -v col="$1" '
	    /^[|]  [|]/ { for (i = 2; i < NF; i++) if ($i == col) c = i }
	    /^[|] samples\/s delivered [|]/ && c { print $c; exit }' \
	    "$T_TMP/out"
}
for col in "prometheus agent" "rwbridge" "2 members" "floor (libcurl)" \
    "floor (sockets)"; do
	v=$(delivered "$col")
	t_ok "$(awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }'; echo $?)" \
	    "$col delivered samples (got '$v')"
done
BATCH=$(sed -n 's/^#define[[:space:]]*CONFIG_DEFAULT_BATCH[[:space:]]*//p' \
    "$top_srcdir/src/config.h")
t_ok "$(grep -q "^max_samples_per_send: rwbridge $BATCH (shipped default), agent 2000 " \
    "$T_TMP/out"; echo $?)" \
    "rwbridge runs with its shipped max_samples_per_send ($BATCH)"
t_ok "$(grep -q '^members: 2 rwbridges, .* [0-9]* series, .* against one rwbridge.s [0-9]* series' \
    "$T_TMP/out"; echo $?)" "the members' fleet series are counted"
t_ok "$(grep -q '^members / rwbridge: CPU s per 1M delivered samples [0-9.]* / [0-9.]* ' \
    "$T_TMP/out"; echo $?)" "the members' CPU is compared with one rwbridge's"
t_ok "$(grep -q '^|  |.* | 2 members / rwbridge |' "$T_TMP/out"; echo $?)" \
    "the 2 members / rwbridge ratio column is there"
if [ -x "$VMAGENT" ]; then
	v=$(delivered vmagent)
	t_ok "$(awk -v v="$v" 'BEGIN { exit !(v + 0 > 0) }'; echo $?)" \
	    "vmagent delivered samples (got '$v')"
	t_ok "$(grep -q '^vmagent: own -remoteWrite.tmpDataPath, other flags default: .*remoteWrite.queues=' \
	    "$T_TMP/out"; echo $?)" "vmagent's settings are printed"
	t_ok "$(grep -q '^| peak RSS (VmHWM) MiB |.*| [0-9.]*x | [0-9.]*x |' \
	    "$T_TMP/out"; echo $?)" "the ratio columns are there"
else
	T_N=$((T_N + 1))
	echo "ok $T_N # SKIP vmagent not found ($VMAGENT; scripts/install-deps unpacks it)"
fi
t_done
