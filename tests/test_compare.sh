#!/bin/sh
# bench/compare in a tiny configuration, so it never rots: both Prometheus
# in agent mode and rwbridge deliver the tiny fleet's samples and the table
# has every row. The README's figures come from the full run.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

python3 "$top_srcdir/bench/compare" --rwbridge "$RWBRIDGE" \
    --sim "$RWBRIDGE_SIM" --targets 2 --series 20 --interval 1s \
    --warmup 4 --window 6 > "$T_TMP/out" 2> "$T_TMP/err"
t_is "$?" 0 "bench/compare runs to the end"
sed 's/^/# /' "$T_TMP/out"
for row in "samples/s delivered" "CPU s per 1M samples" \
    "peak RSS (VmHWM) MiB" "RSS bytes per series"; do
	t_ok "$(grep -q "^$row " "$T_TMP/out"; echo $?)" "the table has \"$row\""
done
# Both deliver: the delivered row has two positive numbers.
t_ok "$(awk '/^samples\/s delivered/ { exit !($3 > 0 && $4 > 0) }' \
    "$T_TMP/out"; echo $?)" "agent and rwbridge both delivered samples"
t_ok "$(grep -q 'prometheus --enable-feature=agent\|agent' "$T_TMP/out"
    echo $?)" "the agent column is there"
t_done
