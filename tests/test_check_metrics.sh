#!/bin/sh
# check-metrics against Debian's promtool: for every page of a table of
# malformed (and a few well-formed) text-format pages, `rwbridge
# check-metrics -` and `promtool check metrics` (which reads stdin) must give
# the same verdict. promtool exits 1 when the page does not parse, 3 when it
# parses but has lint problems (no HELP, counter without _total, ...) and 0
# when it is clean; rwbridge does no linting, so the verdict compared is
# "rejected" (exit 1) against "accepted" (exit 0 or 3). Then the OpenMetrics
# side (promtool 2.42 has no OpenMetrics check, so the verdicts are ours),
# --format and the usage errors.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

command -v promtool >/dev/null || t_bail "promtool not installed"

# The verdict of rwbridge and of promtool on the page in file $1.
rw_verdict() {
	"$RWBRIDGE" check-metrics - < "$1" > "$T_TMP/rw.out" 2>&1
	case $? in
	0) echo accepted ;;
	1) echo rejected ;;
	*) echo "exit $?" ;;
	esac
}
pt_verdict() {
	promtool check metrics < "$1" > "$T_TMP/pt.out" 2>&1
	case $? in
	0|3) echo accepted ;;
	1) echo rejected ;;
	*) echo "exit $?" ;;
	esac
}

# name<TAB>page as a printf format; the expected verdict is promtool's.
cat > "$T_TMP/cases" <<'EOF'
typed gauge	# TYPE a gauge\na 1\n
TYPE after the samples	a 1\n# TYPE a gauge\n
HELP after the samples	a 1\n# HELP a x\n
HELP twice around a sample	# HELP a x\na 1\n# HELP a y\n
HELP twice	# HELP a x\n# HELP a y\na 1\n
TYPE twice	# TYPE a gauge\n# TYPE a gauge\na 1\n
HELP twice around TYPE	# HELP a x\n# TYPE a gauge\n# HELP a y\n
HELP twice after a sample	a 1\n# HELP a x\n# HELP a x\n
TYPE again after another family	# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\na 2\n
TYPE again after another sample	# TYPE a gauge\nb 1\n# TYPE a gauge\n
samples of a family apart	# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n
untyped samples apart	a 1\nb 1\na 2\n
HELP of h_sum is HELP of histogram h	# TYPE h histogram\n# HELP h_sum x\n# HELP h y\n
TYPE of h_sum is TYPE of histogram h	# TYPE h histogram\n# TYPE h_sum gauge\n
TYPE of s_count after summary s	# TYPE s summary\n# TYPE s_count gauge\n
gauge a_sum before summary a	# TYPE a_sum gauge\n# TYPE a summary\na_sum 1\n
HELP of s_count is HELP of summary s	# TYPE s summary\n# TYPE h histogram\nh_sum 1\ns_sum 1\ns_count 2\n# HELP s_count x\n# HELP s y\n
le not a float	# TYPE h histogram\nh_bucket{le="x"} 1\n
le empty	# TYPE h histogram\nh_bucket{le=""} 1\n
le hex	# TYPE h histogram\nh_bucket{le="0x1p3"} 1\n
le with underscore	# TYPE h histogram\nh_bucket{le="1_0"} 1\n
le with a space	# TYPE h histogram\nh_bucket{le=" 1"} 1\n
le +nan	# TYPE h histogram\nh_bucket{le="+nan"} 1\n
le +inf	# TYPE h histogram\nh_bucket{le="+inf"} 1\n
le infinity	# TYPE h histogram\nh_bucket{le="infinity"} 1\n
le NaN	# TYPE h histogram\nh_bucket{le="NaN"} 1\n
le 1e-3	# TYPE h histogram\nh_bucket{le="1e-3"} 1\n
le on _count	# TYPE h histogram\nh_count{le="x"} 1\n
le on the bare name	# TYPE h histogram\nh{le="x"} 1\n
le of an untyped family	# TYPE h untyped\nh{le="x"} 1\n
le of a histogram before its TYPE	h_bucket{le="x"} 1\n
buckets out of order	# TYPE h histogram\nh_bucket{le="2"} 1\nh_bucket{le="1"} 1\n
buckets around _sum	# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_bucket{le="2"} 1\n
quantile not a float	# TYPE s summary\ns{quantile="x"} 1\n
quantile empty	# TYPE s summary\ns{quantile=""} 1\n
quantile above 1	# TYPE s summary\ns{quantile="2"} 1\n
quantile on _sum	# TYPE s summary\ns_sum{quantile="x"} 1\n
quantile of a gauge	# TYPE s gauge\ns{quantile="x"} 1\n
invalid UTF-8 byte	a{l="\377"} 1\n
overlong UTF-8	a{l="\300\257"} 1\n
UTF-16 surrogate	a{l="\355\240\200"} 1\n
past U+10FFFF	a{l="\364\220\200\200"} 1\n
truncated UTF-8	a{l="x\342\230"} 1\n
UTF-8 in the second label	a{k="ok",l="\377"} 1\n
valid UTF-8	a{l="caf\303\251 \342\230\203"} 1\n
invalid UTF-8 in HELP	# HELP a \377\na 1\n
duplicate label	a{l="1",l="2"} 1\n
empty label set term	a{,} 1\n
missing comma	a{l="1" m="2"} 1\n
trailing comma	a{l="1",} 1\n
empty braces	a{} 1\n
spaces in braces	a{ l = "1" } 1\n
space before the brace	a {l="1"} 1\n
value glued to the brace	a{l="1"}1\n
unknown escape in a label	a{l="x\\\\z"} 1\n
unknown escape in HELP	# HELP a x\\\\z\n
escapes in a label	a{l="x\\\\\\\\ \\\\n \\\\""} 1\n
__name__ label	a{__name__="b"} 1\n
unknown type	# TYPE a foo\n
bare HELP	# HELP\na 1\n
bare TYPE	# TYPE \na 1\n
hex value	a 0x10\n
+nan value	a +nan\n
value overflows	a 1e400\n
value underflows	a 1e-400\n
largest timestamp	a 1 9223372036854775807\n
timestamp past int64	a 1 9223372036854775808\n
float timestamp	a 1 1.5\n
trailing space	a 1 \n
trailing space after a timestamp	a 1 5 \n
trailing tab	a 1\t\n
carriage return	a 1\r\n
blank line of spaces	   \na 1\n
leading spaces	  a 1\n
TYPE with a trailing space	# TYPE a gauge \na 1\n
HELP with a trailing space	# HELP a x \na 1\n
no final newline	a 1
no final newline after a comment	a 1\n# c
no final newline after TYPE	# TYPE a gauge
empty page	
tab separators	a\t1\n
plain comments and blank lines	\n\n#\n# x\na 1\n
duplicate sample	a 1\na 1\n
counter without _total	# TYPE a counter\na 1\n
EOF

while IFS='	' read -r name page; do
	printf "$page" > "$T_TMP/page"
	want=$(pt_verdict "$T_TMP/page")
	got=$(rw_verdict "$T_TMP/page")
	t_is "$got" "$want" "$name: rwbridge check-metrics as promtool"
done < "$T_TMP/cases"

# The real captures, as captured (one lacks the final newline, which
# promtool refuses) and with a final newline (both accept them).
for f in "$FIXTURES"/exposition/*.prom; do
	t_is "$(rw_verdict "$f")" "$(pt_verdict "$f")" \
	    "$(basename "$f"): rwbridge check-metrics as promtool"
	{ cat "$f"; [ -z "$(tail -c 1 "$f")" ] || echo; } > "$T_TMP/nl.prom"
	t_is "$(rw_verdict "$T_TMP/nl.prom")/$(pt_verdict "$T_TMP/nl.prom")" \
	    accepted/accepted "$(basename "$f") with a final newline: accepted"
done

# The Python client (prometheus_client, which vLLM and SGLang use) in both
# formats: its OpenMetrics page passes, and its text page passes here and
# in promtool. Debian's python3 (a python3 earlier in PATH may not see it).
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
cat > "$T_TMP/gen.py" <<'EOF'
import sys
from prometheus_client import (CollectorRegistry, Counter, Enum, Gauge,
                               Histogram, Info, Summary, exposition)
from prometheus_client.openmetrics import exposition as om
r = CollectorRegistry()
c = Counter('vllm:prompt_tokens', 'Prompt tokens.', ['model_name', 'engine'],
            registry=r)
c.labels('ds', '0').inc(5)
c.labels('ds', '1').inc(7)
Gauge('vllm:num_requests_running', 'Running.', registry=r).set(3)
h = Histogram('vllm:e2e_request_latency', 'Latency.', ['model_name'],
              buckets=[0.1, 1, 10], unit='seconds', registry=r)
for v in (0.05, 0.5, 5, 50):
    h.labels('ds').observe(v)
Summary('rpc_seconds', 'RPC.', registry=r).observe(1.5)
Info('build', 'Build.', registry=r).info({'version': '1.2',
                                          'name': 'caf\u00e9'})
Enum('state', 'State.', states=['a', 'b'], registry=r).state('b')
Counter('odd', 'x "q" \\ y', ['l'], registry=r).labels('a\\b"c\nd').inc()
gen = om.generate_latest if sys.argv[1] == 'om' else exposition.generate_latest
sys.stdout.write(gen(r).decode())
EOF
"$PY" "$T_TMP/gen.py" om > "$T_TMP/client.om" ||
    t_bail "python3-prometheus-client is not installed"
"$PY" "$T_TMP/gen.py" text > "$T_TMP/client.prom"
"$RWBRIDGE" check-metrics "$T_TMP/client.om" > "$T_TMP/out" 2>&1
t_is "$?:$(cat "$T_TMP/out")" \
    "0:$T_TMP/client.om: OpenMetrics, 20 samples, 7 families, 7 with HELP" \
    "the Python client's OpenMetrics page passes"
t_is "$(rw_verdict "$T_TMP/client.prom")/$(pt_verdict "$T_TMP/client.prom")" \
    accepted/accepted "the Python client's text page passes, as in promtool"

# An error names the file, line and column.
printf '# TYPE h histogram\nh_bucket{le="x"} 1\n' > "$T_TMP/le.prom"
"$RWBRIDGE" check-metrics "$T_TMP/le.prom" > /dev/null 2> "$T_TMP/err"
t_is "$(cat "$T_TMP/err")" \
    "$T_TMP/le.prom:2:14: expected a float as le label value of histogram \"h\"" \
    "le error names file:line:col"

# OpenMetrics: detected from "# EOF", or forced with --format.
printf '# TYPE a counter\n# UNIT a \na_total 1 # {t="x"} 1\n# EOF\n' \
    > "$T_TMP/om.prom"
"$RWBRIDGE" check-metrics "$T_TMP/om.prom" > "$T_TMP/out" 2>&1
t_is "$?:$(cat "$T_TMP/out")" \
    "0:$T_TMP/om.prom: OpenMetrics, 1 samples, 1 families, 0 with HELP" \
    "OpenMetrics detected from # EOF"
"$RWBRIDGE" check-metrics --format text "$T_TMP/om.prom" > /dev/null 2>&1
t_is "$?" 1 "--format text refuses OpenMetrics (an exemplar)"
printf '# TYPE a gauge\na 1\n' > "$T_TMP/noeof.prom"
"$RWBRIDGE" check-metrics --format openmetrics "$T_TMP/noeof.prom" \
    > /dev/null 2> "$T_TMP/err"
t_is "$?:$(cat "$T_TMP/err")" "1:$T_TMP/noeof.prom:3:1: missing # EOF" \
    "--format openmetrics requires # EOF"
printf '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\n# EOF\n' \
    | "$RWBRIDGE" check-metrics --format=openmetrics - > /dev/null \
    2> "$T_TMP/err"
t_is "$?:$(cat "$T_TMP/err")" \
    "1:(stdin):3:1: bucket values of h go down" \
    "OpenMetrics histogram rules, from stdin"

# Usage errors exit 2.
"$RWBRIDGE" check-metrics --format yaml "$T_TMP/om.prom" > /dev/null 2>&1
t_is "$?" 2 "unknown --format is a usage error"
"$RWBRIDGE" check-metrics > /dev/null 2>&1
t_is "$?" 2 "no file is a usage error"
"$RWBRIDGE" check-metrics a b > /dev/null 2>&1
t_is "$?" 2 "two files is a usage error"

t_done
