#!/bin/sh
# Fuzzing in CI: every libFuzzer harness (fuzz/: the exposition parser in
# text and OpenMetrics, ingest with the series cache over consecutive pages,
# pushed bodies with the rule that an accepted push re-parses and encodes,
# the config file, target specs) is built by clang with ASan and UBSan in a
# build directory of its own (not this gcc one) and run for
# RWBRIDGE_FUZZ_SECONDS (default 20) each, seeded from the fixtures and the
# corpus earlier runs grew. Any finding fails the test and is printed. The
# test is skipped, saying so, only when clang cannot build a libFuzzer
# program (scripts/install-deps installs clang and libclang-rt-dev).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

SECS=${RWBRIDGE_FUZZ_SECONDS:-20}
OUT=$T_TMP/fuzz.out
rc=0
FUZZ_SECONDS=$SECS FUZZ_BUILD_DIR="$top_builddir/fuzz-build" \
    FIXTURES="$FIXTURES" sh "$top_srcdir/fuzz/run" >"$OUT" 2>&1 || rc=$?
if [ "$rc" -eq 77 ]; then
	echo "1..0 # SKIP $(head -n 1 "$OUT")"
	exit 0
fi
sed 's/^/# /' "$OUT"
for h in exposition ingest push config tspec; do
	grep -q "^fuzz: $h: [0-9][0-9]* runs in $SECS s, .*no finding$" "$OUT"
	t_ok $? "fuzz_$h: $SECS s under ASan and UBSan, no finding"
done
t_is "$rc" 0 "fuzz/run exits 0"
t_done
