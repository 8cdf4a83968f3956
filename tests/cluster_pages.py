#!/usr/bin/env python3
"""Serve N copies of an exposition page on one port, /s/<i>/metrics, for
tests/test_cluster_merge.sh. Every counter, histogram and summary sample
(names ending _total, _bucket, _count, _sum) of server i is the page's value
times (1 + gen * w_i), w_i = (i % 7 + 1) / 4: a POST to /gen sets gen, so
each server's histograms grow by its own multiple of the page's shape and
the pages stay fixed between two POSTs (every bridge sees the same
increase in a window). Gauges are as in the page.
"""
import argparse
import http.server
import re
import socketserver
import threading

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)(.*)$')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--servers", type=int, required=True)
    ap.add_argument("--page", required=True)
    args = ap.parse_args()
    lines = open(args.page, encoding="utf-8").read().splitlines()
    state = {"gen": 0}
    cache = {}
    lock = threading.Lock()

    def render(i, gen):
        w = 1 + gen * ((i % 7) + 1) / 4.0
        out = []
        for line in lines:
            m = SAMPLE.match(line)
            if m and not line.startswith("#") and \
                    m.group(1).endswith(("_total", "_bucket", "_count",
                                         "_sum")):
                try:
                    v = float(m.group(3)) * w
                except ValueError:
                    out.append(line)
                    continue
                out.append("%s%s %r%s" % (m.group(1), m.group(2) or "", v,
                                          m.group(4)))
            else:
                out.append(line)
        return ("\n".join(out) + "\n").encode("utf-8")

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode() if n else ""
            with lock:
                state["gen"] = int(body.strip() or state["gen"] + 1)
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self):
            m = re.match(r'^/s/(\d+)/metrics$', self.path)
            if not m or int(m.group(1)) >= args.servers:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            i = int(m.group(1))
            with lock:
                gen = state["gen"]
                key = (i, gen)
                if key not in cache:
                    cache[key] = render(i, gen)
                body = cache[key]
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    S(("127.0.0.1", args.port), H).serve_forever()


if __name__ == "__main__":
    main()
