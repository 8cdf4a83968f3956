#!/bin/sh
# Remote-write protocol against a scripted receiver: a 500 is retried with
# the same body, a 400 is dropped and not retried, a 429 with Retry-After: 2
# is retried no sooner than 2 s later; every request carries the headers the
# remote-write spec requires.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

# The stub listens before t_spawn returns; its script is used up only by
# POSTs.
t_spawn 1 "rw_stub" "$T_TMP/stub.log" python3 "$top_srcdir/tests/rw_stub.py" \
    --port @PORT@ --script 500,204,400,429:2 --then 204 \
    --log "$T_TMP/stub.jsonl"
STUB_PORT=$T_PORT
: > "$T_TMP/stub.jsonl"

mkdir -p "$T_TMP/www"
printf '# TYPE g gauge\ng{a="1"} 1\n' > "$T_TMP/www/metrics"
t_serve_dir "$T_TMP/www"; WWW=$SERVE_PORT
cat > "$T_TMP/rwbridge.json" <<JSON
{
  "global": {"scrape_interval": "1s", "scrape_timeout": "500ms",
             "self_scrape": false},
  "targets": ["127.0.0.1:$WWW"],
  "remote_write": [{
    "url": "http://127.0.0.1:$STUB_PORT/api/v1/write",
    "name": "stub",
    "batch_send_deadline": "100ms",
    "min_backoff": "50ms",
    "max_backoff": "500ms"
  }]
}
JSON
t_start_rwbridge --config "$T_TMP/rwbridge.json"

# Succeed when the stub has logged at least N requests.
requests_seen() {
	[ "$(wc -l < "$T_TMP/stub.jsonl")" -ge "$1" ]
}

# Wait for six requests to have arrived.
t_wait_until 120 "six requests reach the stub" requests_seen 6
L="$T_TMP/stub.jsonl"
line() { sed -n "${1}p" "$L"; }
field() { line "$1" | jq -r ".$2"; }

t_ok "$([ "$(wc -l < "$L")" -ge 5 ]; echo $?)" "at least five requests arrived"
t_is "$(field 1 status)" 500 "first request answered 500"
t_is "$(field 2 sha1)" "$(field 1 sha1)" "500 is retried with the same body"
t_is "$(field 3 status)" 400 "third request answered 400"
t_ok "$([ "$(field 4 sha1)" != "$(field 3 sha1)" ]; echo $?)" \
    "400 is dropped: the next request carries another batch"
t_is "$(field 4 status)" 429 "fourth request answered 429 Retry-After: 2"
t_is "$(field 5 sha1)" "$(field 4 sha1)" "429 is retried with the same body"
gap=$(jq -s '.[4].t - .[3].t' "$L")
t_ok "$(python3 -c "import sys; sys.exit(0 if $gap >= 2.0 else 1)"; echo $?)" \
    "429 retry waited Retry-After (waited ${gap}s)"
t_is "$(field 1 encoding)" snappy "Content-Encoding: snappy"
t_is "$(field 1 type)" application/x-protobuf \
    "Content-Type: application/x-protobuf"
t_is "$(field 1 version)" 0.1.0 "X-Prometheus-Remote-Write-Version: 0.1.0"
t_ok "$(field 1 agent | grep -q '^rwbridge/'; echo $?)" \
    "User-Agent: rwbridge/<version>"

curl -fsS "$RW_URL/metrics" > "$T_TMP/self.prom"
t_ok "$(grep -Eq '^rwbridge_remote_write_samples_dropped_total\{reason="http_4xx",remote="stub"\} [1-9]' \
    "$T_TMP/self.prom"; echo $?)" "4xx drop is counted"
t_ok "$(grep -Eq '^rwbridge_remote_write_samples_retried_total\{remote="stub"\} [1-9]' \
    "$T_TMP/self.prom"; echo $?)" "retries are counted"
t_ok "$(grep -q 'remote write rejected, batch dropped.*stub says 400' \
    "$T_TMP/rwbridge.log"; echo $?)" "receiver's 400 message is logged"
t_done
