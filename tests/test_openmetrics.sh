#!/bin/sh
# Scraping OpenMetrics as Prometheus does, against Debian's real Prometheus
# as the remote-write receiver. A loopback server records each scrape's
# Accept header and answers with OpenMetrics or the text format by it:
# - by default rwbridge asks for OpenMetrics first (Prometheus's default
#   scrape_protocols), parses the answer by its Content-Type, and forwards
#   an OpenMetrics page's samples, _created lines included (as Prometheus
#   does unless created-timestamp ingestion is on), with float-second
#   timestamps turned into milliseconds;
# - "scrape_protocols": ["PrometheusText0.0.4"] asks for the text format
#   only, and gets it;
# - a page with invalid UTF-8 in a label value, and an OpenMetrics page
#   without "# EOF", fail their scrape (up 0, the reason in lastError).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

mkdir -p "$T_TMP/s2" "$T_TMP/s3"
cat > "$T_TMP/server.py" <<'EOF'
import http.server, sys, time
port, logdir = int(sys.argv[1]), sys.argv[2]
# A sample timestamp in float seconds, recent enough for Prometheus.
TS = '%d.123' % (int(time.time()) - 60)
with open(logdir + '/ts', 'w') as f:
    f.write(TS)
OM = (b'# TYPE req counter\n# HELP req Requests.\n'
      b'req_total{code="200"} 7 # {trace_id="x1"} 1 1700000000.5\n'
      b'req_created{code="200"} 1700000000.25\n'
      b'# TYPE lat_seconds histogram\n# UNIT lat_seconds seconds\n'
      b'lat_seconds_bucket{le="0.5"} 1\n'
      b'lat_seconds_bucket{le="+Inf"} 3\n'
      b'lat_seconds_count 3\nlat_seconds_sum 2.5\n'
      b'# TYPE st stateset\nst{st="on"} 1\nst{st="off"} 0\n'
      b'# TYPE bi info\nbi_info{version="1.2"} 1\n'
      b'# TYPE ts gauge\nts 5 ' + TS.encode() + b'\n# EOF\n')
TEXT = b'# TYPE req_total counter\nreq_total{code="200"} 9\n'
pages = {
    '/metrics': None,
    '/badutf8': (b'text/plain; version=0.0.4',
                 b'ok 1\nbad{v="\xff"} 1\n'),
    '/noeof': (b'application/openmetrics-text; version=1.0.0',
               b'# TYPE g gauge\ng 1\n'),
}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path not in pages:
            self.send_error(404)
            return
        accept = self.headers.get('Accept', '')
        with open('%s/accept%s' % (logdir, self.path.replace('/', '-')),
                  'w') as f:
            f.write(accept)
        ct, body = pages[self.path] or (
            (b'application/openmetrics-text; version=1.0.0; '
             b'charset=utf-8', OM)
            if accept.startswith('application/openmetrics-text')
            else (b'text/plain; version=0.0.4; charset=utf-8', TEXT))
        self.send_response(200)
        self.send_header('Content-Type', ct.decode())
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()
EOF
# Three servers, so each target is its own instance.
t_spawn 1 "metrics server" "$T_TMP/server.log" \
    python3 "$T_TMP/server.py" @PORT@ "$T_TMP"
SRV=$T_PORT
t_spawn 1 "metrics server" "$T_TMP/server2.log" \
    python3 "$T_TMP/server.py" @PORT@ "$T_TMP/s2"
SRV2=$T_PORT
t_spawn 1 "metrics server" "$T_TMP/server3.log" \
    python3 "$T_TMP/server.py" @PORT@ "$T_TMP/s3"
SRV3=$T_PORT
L=127.0.0.1

t_start_prometheus
t_start_rwbridge --scrape-interval 1s --scrape-timeout 900ms \
    --remote-write "$PROM_URL/api/v1/write" \
    --target "http://$L:$SRV/metrics" --target "http://$L:$SRV2/badutf8" \
    --target "http://$L:$SRV3/noeof"

I="instance=\"$L:$SRV\""
t_wait_value "req_total{$I}" 7 120
t_is "$(cat "$T_TMP/accept-metrics")" \
    "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2" \
    "default Accept: Prometheus's scrape_protocols, OpenMetrics first"
t_is "$(t_query_value "req_created{$I}")" 1700000000.25 \
    "_created forwarded as a sample, as Prometheus does by default"
t_is "$(t_query_value "lat_seconds_bucket{$I,le=\"+Inf\"}")/$(t_query_value \
    "lat_seconds_count{$I}")/$(t_query_value "lat_seconds_sum{$I}")" 3/3/2.5 \
    "histogram buckets, count and sum"
t_is "$(t_query_value "st{$I,st=\"on\"}")/$(t_query_value \
    "st{$I,st=\"off\"}")/$(t_query_value "bi_info{$I,version=\"1.2\"}")" \
    1/0/1 "stateset and info samples"
t_wait_value "ts{$I}" 5
t_is "$(t_query_value "timestamp(ts{$I})")" "$(cat "$T_TMP/ts")" \
    "float-second timestamp kept to the millisecond"
t_is "$(t_query_value "count({$I,__name__=~\"req_.*|lat_.*|st|bi_info|ts\"})")" 10 \
    "exactly the page's series (exemplars skipped)"

# The two broken pages fail their scrape, with the parser's reason.
target_error() {
	curl -fsS "$RW_URL/api/v1/targets" | jq -r --arg u "$1" \
	    '.data.activeTargets[] | select(.scrapeUrl == $u) | .lastError'
}
has_error() {
	[ -n "$(target_error "$1")" ]
}
t_wait_until 60 "the badutf8 target has an error" has_error \
    "http://$L:$SRV2/badutf8"
t_wait_until 60 "the noeof target has an error" has_error \
    "http://$L:$SRV3/noeof"
t_is "$(target_error "http://$L:$SRV2/badutf8")" \
    "line 2 col 8: invalid UTF-8 in label value" \
    "invalid UTF-8 in a label value fails the scrape"
t_is "$(t_query_value "bad")/$(t_query_value "ok")" none/none \
    "nothing of that page is forwarded"
t_is "$(target_error "http://$L:$SRV3/noeof")" "line 3 col 1: missing # EOF" \
    "an OpenMetrics page without # EOF fails the scrape"
t_stop_rwbridge

# scrape_protocols: the text format only.
printf '{"global": {"scrape_protocols": ["PrometheusText0.0.4"]}}\n' \
    > "$T_TMP/text.json"
rm -f "$T_TMP/accept-metrics"
RW_LOG=$T_TMP/rwbridge2.log t_start_rwbridge --config "$T_TMP/text.json" \
    --scrape-interval 1s --scrape-timeout 900ms \
    --remote-write "$PROM_URL/api/v1/write" \
    --target "http://$L:$SRV/metrics"
t_wait_value "req_total{$I}" 9 120
t_is "$(cat "$T_TMP/accept-metrics")" "text/plain;version=0.0.4;q=0.6,*/*;q=0.5" \
    "scrape_protocols sets the Accept header"
t_stop_rwbridge

# check-config refuses an unknown or unsupported protocol by JSON path.
printf '{"global": {"scrape_protocols": ["PrometheusProto"]}}\n' \
    > "$T_TMP/proto.json"
"$RWBRIDGE" check-config "$T_TMP/proto.json" > "$T_TMP/cc.out" 2>&1
t_is "$?:$(grep -c 'global.scrape_protocols\[0\]' "$T_TMP/cc.out")" 1:1 \
    "PrometheusProto refused at \$.global.scrape_protocols[0]"

t_no_sanitizer_report "no sanitizer report" "$T_TMP/rwbridge.log" \
    "$T_TMP/rwbridge2.log"
t_done
