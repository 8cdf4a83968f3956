#!/bin/sh
# The daemon's modules form a one-way graph: no #include cycle among src/,
# and no module below rwbridge.c includes rwbridge.h (scripts/include-graph).
top_srcdir=${top_srcdir:-$(dirname "$0")/..}
echo "1..1"
if out=$("$top_srcdir/scripts/include-graph" -q 2>&1); then
	echo "ok 1 - include graph: $out"
else
	echo "not ok 1 - include graph"
	echo "$out" | sed 's/^/# /'
	exit 1
fi
