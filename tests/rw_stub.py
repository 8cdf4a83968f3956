#!/usr/bin/env python3
"""A scripted remote-write receiver for protocol tests.

Answers each POST with the next status from --script (comma separated;
"429:2" adds "Retry-After: 2"; once the script is used up every request gets
--then), and appends one JSON line per request to --log: arrival time,
status sent, body SHA-1 and length, and the remote-write headers. It does not
decode the body: tests compare bodies by hash to see what was retried.
"""
import argparse
import hashlib
import http.server
import json
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--script", default="")
    ap.add_argument("--then", default="204")
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    script = [s for s in args.script.split(",") if s]
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n)
            with lock:
                step = script.pop(0) if script else args.then
            code, _, retry = step.partition(":")
            rec = {
                "t": time.time(),
                "status": int(code),
                "sha1": hashlib.sha1(body).hexdigest(),
                "len": len(body),
                "encoding": self.headers.get("Content-Encoding"),
                "type": self.headers.get("Content-Type"),
                "version": self.headers.get(
                    "X-Prometheus-Remote-Write-Version"),
                "agent": self.headers.get("User-Agent"),
            }
            with lock, open(args.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
            # A 204 has no body: bytes after it would corrupt the next
            # response on the kept-alive connection.
            msg = b"" if int(code) == 204 else b"stub says %d\n" % int(code)
            self.send_response(int(code))
            if retry:
                self.send_header("Retry-After", retry)
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.serve_forever()


if __name__ == "__main__":
    main()
