#!/bin/sh
# Targets over HTTPS and with auth: a test CA, server and client
# certificates made here with openssl, loopback HTTPS servers that want a
# client certificate, basic auth or a bearer token, and one config group
# per case. The right CA and credentials scrape; a wrong CA, a missing
# client certificate, a wrong password or token fail with the reason in
# lastError; tls_config.server_name verifies a name the address does not
# carry. Secrets appear in no log, no /metrics, no /api/v1/targets.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

command -v openssl >/dev/null || t_bail "openssl not installed"
D="$T_TMP/pki"
mkdir -p "$D"
cd "$D" || t_bail "no $D"
ossl() {
	openssl "$@" >>"$T_TMP/openssl.log" 2>&1 ||
	    t_bail "openssl $1 failed (see openssl.log)"
}
# Two CAs: the one that signs everything, and one that signs nothing.
for ca in ca wrong; do
	ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=test $ca" \
	    -keyout "$ca.key" -out "$ca.pem"
done
# cert NAME SAN: a key and a certificate signed by ca.
cert() {
	ossl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" \
	    -out "$1.csr"
	printf 'subjectAltName=%s\n' "$2" > "$1.ext"
	ossl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key \
	    -CAcreateserial -days 2 -extfile "$1.ext" -out "$1.pem"
}
cert server "IP:127.0.0.1"
cert named "DNS:metrics.test"
cert client "DNS:rwbridge"
printf 's3cret-pw\n' > password
printf 'wrong-pw\n' > badpassword
printf 'tok-42\n' > token
printf 'tok-41\n' > badtoken
cd - >/dev/null || exit 1

SRV="$top_srcdir/tests/tls_server.py"
t_spawn 1 "mtls server" "$T_TMP/mtls.log" python3 "$SRV" @PORT@ mtls "$D"
MTLS=$T_PORT
t_spawn 1 "named server" "$T_TMP/named.log" python3 "$SRV" @PORT@ named "$D"
NAMED=$T_PORT
t_spawn 1 "basic server" "$T_TMP/basic.log" python3 "$SRV" @PORT@ basic "$D"
BASIC=$T_PORT
t_spawn 1 "bearer server" "$T_TMP/bearer.log" python3 "$SRV" @PORT@ bearer "$D"
BEARER=$T_PORT
t_start_sink

L=127.0.0.1
client="\"cert_file\": \"$D/client.pem\", \"key_file\": \"$D/client.key\""
cat > "$T_TMP/rwbridge.json" <<EOF
{"global": {"scrape_interval": "1s", "scrape_timeout": "900ms",
            "self_scrape": false},
 "derive": {"enabled": false},
 "remote_write": ["http://$L:$SINK/api/v1/write"],
 "targets": [
  {"job": "mtls_ok", "targets": ["$L:$MTLS"], "scheme": "https",
   "tls_config": {"ca_file": "$D/ca.pem", $client}},
  {"job": "wrong_ca", "targets": ["$L:$MTLS"], "scheme": "https",
   "params": {"case": ["wrong_ca"]},
   "tls_config": {"ca_file": "$D/wrong.pem", $client}},
  {"job": "no_client_cert", "targets": ["$L:$MTLS"], "scheme": "https",
   "params": {"case": ["no_client_cert"]},
   "tls_config": {"ca_file": "$D/ca.pem"}},
  {"job": "insecure", "targets": ["$L:$MTLS"], "scheme": "https",
   "params": {"case": ["insecure"]},
   "tls_config": {"insecure_skip_verify": true, $client}},
  {"job": "server_name", "targets": ["$L:$NAMED"], "scheme": "https",
   "tls_config": {"ca_file": "$D/ca.pem", "server_name": "metrics.test"}},
  {"job": "name_mismatch", "targets": ["$L:$NAMED"], "scheme": "https",
   "params": {"case": ["name_mismatch"]},
   "tls_config": {"ca_file": "$D/ca.pem"}},
  {"job": "basic_ok", "targets": ["$L:$BASIC"],
   "basic_auth": {"username": "scraper", "password_file": "$D/password"}},
  {"job": "basic_bad", "targets": ["$L:$BASIC"],
   "params": {"case": ["basic_bad"]},
   "basic_auth": {"username": "scraper",
                  "password_file": "$D/badpassword"}},
  {"job": "bearer_ok", "targets": ["$L:$BEARER"],
   "authorization": {"credentials_file": "$D/token"}},
  {"job": "bearer_file_ok", "targets": ["$L:$BEARER"],
   "params": {"case": ["bearer_file_ok"]},
   "bearer_token_file": "$D/token"},
  {"job": "bearer_bad", "targets": ["$L:$BEARER"],
   "params": {"case": ["bearer_bad"]},
   "authorization": {"type": "Bearer", "credentials_file": "$D/badtoken"}}
 ]}
EOF
"$RWBRIDGE" check-config "$T_TMP/rwbridge.json" >"$T_TMP/check.log" 2>&1
t_is $? 0 "check-config accepts the TLS and auth keys"
t_start_rwbridge --config "$T_TMP/rwbridge.json"

targets() {
	curl -fsS "$RW_URL/api/v1/targets"
}
all_scraped() {
	[ "$(targets | jq '[.data.activeTargets[] | select(.lastScrape ==
	    null)] | length')" = 0 ]
}
t_wait_until 120 "every target scraped once" all_scraped ||
    t_bail "not every target was scraped (see rwbridge.log)"
# A target's health and lastError by job.
field() {
	targets | jq -r --arg j "$1" --arg f "$2" \
	    '.data.activeTargets[] | select(.labels.job == $j) | .[$f]'
}
for j in mtls_ok insecure server_name basic_ok bearer_ok bearer_file_ok; do
	t_is "$(field $j health)" up "$j: scraped"
done
expect_down() {
	local h e
	h=$(field "$1" health)
	e=$(field "$1" lastError)
	case $e in
	*$2*)	t_is "$h" down "$1: down, lastError \"$e\"" ;;
	*)	t_ok 1 "$1: lastError \"$e\" does not say \"$2\"" ;;
	esac
}
expect_down wrong_ca "certificate"
expect_down no_client_cert "SSL"
expect_down name_mismatch "certificate"
expect_down basic_bad "401 Unauthorized"
expect_down bearer_bad "401 Unauthorized"

# Secrets stay secret.
leak=$(cat "$T_TMP/rwbridge.log" "$T_TMP/check.log"; targets;
    curl -fsS "$RW_URL/metrics")
for s in s3cret-pw tok-42 wrong-pw tok-41; do
	case $leak in
	*"$s"*)	t_ok 1 "secret $s appears in a log, /metrics or the API" ;;
	*)	t_ok 0 "secret $s appears nowhere" ;;
	esac
done

# Bad input: check-config names the JSON path and changes nothing.
printf '{"targets": [{"targets": ["a:1"], "scheme": "ftp"}]}\n' \
    > "$T_TMP/bad1.json"
printf '{"targets": [{"targets": ["a:1"], "bearer_token_file": "%s",
 "basic_auth": {"username": "u", "password": "p"}}]}\n' "$D/token" \
    > "$T_TMP/bad2.json"
out=$("$RWBRIDGE" check-config "$T_TMP/bad1.json" 2>&1)
case $out in
*'$.targets[0].scheme: want "http" or "https"'*)
	t_ok 0 "check-config: a bad scheme, with its path" ;;
*)	t_ok 1 "check-config: a bad scheme, with its path ($out)" ;;
esac
out=$("$RWBRIDGE" check-config "$T_TMP/bad2.json" 2>&1)
case $out in
*'$.targets[0]: at most one of basic_auth, authorization and'*)
	t_ok 0 "check-config: two kinds of auth, with the path" ;;
*)	t_ok 1 "check-config: two kinds of auth, with the path ($out)" ;;
esac

t_stop_rwbridge
t_no_sanitizer_report
t_done
