#!/bin/sh
# The /targets status page in a real browser (Debian's headless Chromium):
# a running rwbridge with a healthy target (rwbridge-sim), a down one (a
# refusing port), a failing remote-write endpoint (another refusing port),
# a group pushed with a ttl and a target label "<script>alert(1)</script>".
# The page is loaded as a person would, its DOM read back (--dump-dom) and
# checked for what they look for; the health and job filters are followed;
# the label shows as text and no script element is injected. A screenshot
# is kept in tests/artefacts/statuspage.png of the build directory.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] ||
    t_bail "chromium not installed (scripts/install-deps installs it)"
ART="$top_builddir/tests/artefacts"
mkdir -p "$ART"
L=127.0.0.1
EVIL='<script>alert(1)</script>'

t_start_sim 1
t_dead_port 2
DOWN=${DEAD_PORTS%% *}
RWDEAD=${DEAD_PORTS##* }
t_start_rwbridge --scrape-interval 1s --scrape-timeout 500ms \
    --remote-write "http://$L:$RWDEAD/api/v1/write"

# put GROUP BODY: register a group through the API; prints the status.
put() {
	curl -s -o "$T_TMP/put.out" -w '%{http_code}' -X PUT \
	    --data-binary "$2" "$RW_URL/api/v1/targets/$1"
}

t_is "$(put rollout "{\"targets\":[\"$L:$SIM_PORT\",\"$L:$DOWN\"],
    \"job\":\"vllm\",\"labels\":{\"pool\":\"rollout-a\"}}")" 200 \
    "register a healthy and a down target"
t_is "$(put hostile "{\"targets\":[\"$L:$SIM_PORT\"],\"job\":\"sglang\",
    \"labels\":{\"note\":$(printf '%s' "$EVIL" | jq -R .)}}")" 200 \
    "register a target labelled $EVIL"
t_is "$(printf 'batch_done 1\n' | curl -s -o /dev/null -w '%{http_code}' \
    -X PUT --data-binary @- "$RW_URL/metrics/job/batch/instance/w1?ttl=5m")" \
    200 "push a group with ttl=5m"

# Succeed when the served page (fetched plainly) matches every pattern.
page_has() {
	curl -fsS --max-time 5 "$RW_URL/targets" > "$T_TMP/plain.html" \
	    2>/dev/null || return 1
	for _p in "$@"; do
		grep -q -- "$_p" "$T_TMP/plain.html" || return 1
	done
}

# The state a person would look at: both targets scraped, the endpoint
# retried. Waited for on the plain page, then read in the browser.
t_ok "$(t_wait_until 120 "both targets scraped, the endpoint retried" \
    page_has 'class="health up">up</td><td><a href="/targets?job=vllm"' \
    'class="health down">down</td>' 'class="health failing">failing' \
    'up</td><td><a href="/targets?job=sglang"'; echo $?)" \
    "the targets are scraped and the endpoint fails"

# browse URL OUT [EXTRA...]: load URL in headless Chromium; OUT gets the
# DOM it built (with --dump-dom) or is the screenshot (--screenshot).
browse() {
	_url=$1
	_out=$2
	shift 2
	_prof=$(mktemp -d "$T_TMP/chromium.XXXXXX")
	timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync \
	    --user-data-dir="$_prof" "$@" "$_url" > "$_out" \
	    2>>"$T_TMP/chromium.log"
}

# The rows of the targets table in a DOM, one per line.
rows() {
	tr -d '\n' < "$1" | sed 's|<tr>|\n<tr>|g; s|</tbody>|\n|g' |
	    grep '^<tr><td class="health'
}

browse "$RW_URL/targets" "$T_TMP/all.html" --dump-dom
t_ok "$(grep -q '<title>rwbridge targets</title>' "$T_TMP/all.html"
    echo $?)" "Chromium loads /targets"
rows "$T_TMP/all.html" > "$T_TMP/rows"
# Ours, and rwbridge's own (group "self").
t_is "$(wc -l < "$T_TMP/rows" | tr -d ' ')" 4 "four target rows"

UP_ROW=$(grep "$L:$SIM_PORT<br>" "$T_TMP/rows" | grep 'job=vllm')
t_ok "$(printf '%s' "$UP_ROW" | grep -q 'class="health up">up</td>'
    echo $?)" "the healthy target shows up"
t_ok "$(printf '%s' "$UP_ROW" | grep -q "http://$L:$SIM_PORT/metrics"
    echo $?)" "its scrape URL is shown"
t_ok "$(printf '%s' "$UP_ROW" | grep -q 'pool="rollout-a"'; echo $?)" \
    "its labels are shown"
t_ok "$(printf '%s' "$UP_ROW" | grep -Eq '>rollout<'; echo $?)" \
    "its group is shown"
NUM='<td class="num">'
t_ok "$(printf '%s' "$UP_ROW" | grep -Eq \
    "$NUM[0-9a-z]+ ago</td>$NUM[0-9.]+s</td>$NUM[1-9][0-9]*</td>"
    echo $?)" "its last scrape, duration and samples are shown"
t_ok "$(printf '%s' "$UP_ROW" | grep -q '<td class="err"></td>'; echo $?)" \
    "it has no error"

DOWN_ROW=$(grep "$L:$DOWN<br>" "$T_TMP/rows")
t_ok "$(printf '%s' "$DOWN_ROW" | grep -q 'class="health down">down</td>'
    echo $?)" "the refusing target shows down"
t_ok "$(printf '%s' "$DOWN_ROW" |
    grep -Eq '<td class="err">[^<]*(connect|refused)[^<]*</td>'; echo $?)" \
    "with its error ($(printf '%s' "$DOWN_ROW" |
    sed -n 's|.*<td class="err">\([^<]*\)</td>.*|\1|p'))"

EP_ROW=$(tr -d '\n' < "$T_TMP/all.html" | sed 's|<tr>|\n<tr>|g' |
    grep "<tr><td>http://$L:$RWDEAD/api/v1/write")
t_ok "$(printf '%s' "$EP_ROW" | grep -q 'class="health failing">failing'
    echo $?)" "the refusing endpoint shows failing"
RETRIED=$(printf '%s' "$EP_ROW" | sed 's|</td>|\n|g' | sed -n '7s|.*>||p')
t_ok "$([ "${RETRIED:-0}" -gt 0 ]; echo $?)" \
    "its retries are counted ($RETRIED)"
t_ok "$(printf '%s' "$EP_ROW" |
    grep -Eq '>[1-9][0-9.]* (B|KiB|MiB)</td>'; echo $?)" \
    "its queue holds bytes"
t_ok "$(printf '%s' "$EP_ROW" |
    grep -Eq '<td class="err">[^<]*connect[^<]*</td>'; echo $?)" \
    "its last error is shown"

PUSH_ROW=$(tr -d '\n' < "$T_TMP/all.html" | sed 's|<tr>|\n<tr>|g' |
    grep 'job="batch"')
t_ok "$(printf '%s' "$PUSH_ROW" | grep -q 'instance="w1"'; echo $?)" \
    "the pushed group and its grouping labels are shown"
t_ok "$(printf '%s' "$PUSH_ROW" | grep -q '<td class="num">5m</td>'
    echo $?)" "with its TTL"

# The hostile label: text on the page, no element.
t_ok "$(grep -qF 'note="&lt;script&gt;alert(1)&lt;/script&gt;"' \
    "$T_TMP/all.html"; echo $?)" "the $EVIL label renders as text"
t_is "$(grep -ci '<script' "$T_TMP/all.html")" 0 \
    "no script element in the DOM"

# The filters, as the page's own links and form give them.
t_ok "$(grep -q 'href="/targets?health=down"' "$T_TMP/all.html"; echo $?)" \
    "the page links its health filter"
browse "$RW_URL/targets?health=down" "$T_TMP/down.html" --dump-dom
rows "$T_TMP/down.html" > "$T_TMP/rows.down"
t_is "$(wc -l < "$T_TMP/rows.down" | tr -d ' ')" 1 "?health=down: one row"
t_ok "$(grep -q "$L:$DOWN<br>" "$T_TMP/rows.down"; echo $?)" \
    "?health=down: the down target"
t_ok "$(grep -q '1 of 4 targets shown' "$T_TMP/down.html"; echo $?)" \
    "?health=down: says 1 of 4 shown"
browse "$RW_URL/targets?job=sglang" "$T_TMP/job.html" --dump-dom
rows "$T_TMP/job.html" > "$T_TMP/rows.job"
t_is "$(wc -l < "$T_TMP/rows.job" | tr -d ' ')" 1 "?job=sglang: one row"
t_ok "$(grep -q 'job=sglang' "$T_TMP/rows.job"; echo $?)" \
    "?job=sglang: the sglang target"
t_ok "$(grep -q '<option value="sglang" selected="">' "$T_TMP/job.html"
    echo $?)" "?job=sglang: the job selector shows it"
browse "$RW_URL/targets?health=up&job=vllm" "$T_TMP/both.html" --dump-dom
rows "$T_TMP/both.html" > "$T_TMP/rows.both"
t_is "$(wc -l < "$T_TMP/rows.both" | tr -d ' ')" 1 \
    "?health=up&job=vllm: one row"

# The index links every page.
browse "$RW_URL/" "$T_TMP/index.html" --dump-dom
for _l in /targets /metrics /api/v1/targets; do
	t_ok "$(grep -q "<a href=\"$_l\">" "$T_TMP/index.html"; echo $?)" \
	    "/ links $_l"
done

# The headers: HTML, and no script allowed.
curl -s -D "$T_TMP/headers" -o /dev/null "$RW_URL/targets"
t_ok "$(grep -qi '^content-type: text/html' "$T_TMP/headers"; echo $?)" \
    "/targets is text/html"
t_ok "$(grep -qi "^content-security-policy: default-src 'none'" \
    "$T_TMP/headers"; echo $?)" "/targets forbids scripts (CSP)"

# The screenshot, kept.
rm -f "$ART/statuspage.png"
browse "$RW_URL/targets" /dev/null --screenshot="$ART/statuspage.png" \
    --window-size=1400,1000 --hide-scrollbars
t_ok "$(head -c 8 "$ART/statuspage.png" 2>/dev/null | od -An -c |
    grep -q 'P   N   G'; echo $?)" \
    "screenshot kept in tests/artefacts/statuspage.png"

# Bad requests: a write, a malformed query.
t_is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$RW_URL/targets")" \
    405 "POST /targets: 405"
t_is "$(curl -s -o /dev/null -w '%{http_code}' \
    "$RW_URL/targets?job=%zz&health=%")" 200 \
    "a malformed query is answered (no crash)"
t_is "$(curl -s -o /dev/null -w '%{http_code}' \
    "$RW_URL/targets?job=$(head -c 20000 /dev/zero | tr '\0' x)")" 200 \
    "a 20 kB job filter is answered"
t_stop_rwbridge
t_no_sanitizer_report

# With an API token, /targets asks for it as the API's GET does: the page
# shows the same registry.
printf 'page-token\n' > "$T_TMP/token"
RW_LOG="$T_TMP/rwbridge-token.log" t_start_rwbridge \
    --api-token-file "$T_TMP/token"
t_is "$(curl -s -o /dev/null -w '%{http_code}' "$RW_URL/targets")" 401 \
    "with a token configured, /targets without it: 401"
t_is "$(curl -s -o /dev/null -w '%{http_code}' \
    -H 'Authorization: Bearer page-token' "$RW_URL/targets")" 200 \
    "with the token: 200"
t_is "$(curl -s -o /dev/null -w '%{http_code}' "$RW_URL/")" 200 \
    "the index needs no token"
t_stop_rwbridge
t_no_sanitizer_report "no sanitizer report in the second run's log" \
    "$T_TMP/rwbridge-token.log"
t_done
