#!/usr/bin/env python3
"""Serve N copies of an exposition page on one port, /s/<i>/metrics, for
tests/test_cluster_merge.sh. Every counter, histogram and summary sample
(names ending _total, _bucket, _count, _sum) of server i is the page's value
times (1 + gen * w_i), w_i = (i % 7 + 1) / 4, for the servers with
i % 3 != 0; the others (the idle third) never grow. A POST to /gen sets
gen, so each server's histograms grow by its own multiple of the page's
shape and the pages stay fixed between two POSTs (every bridge sees the
same increase in a window). Servers with i % 5 == 1 have a slow tail: 20 %
of their e2e requests between 20 and 30 s. Server i's prefix cache hits
are (i % 4) / 4 of its queries.

Load: running and waiting requests are the page's on busy servers and 0 on
idle ones; a POST to /load with "idle" (every server idle), "busy" (every
server as the page says) or "partial" (the idle third idle, the rest
busy) sets which (--load, default busy). Other gauges are as in the page.
"""
import argparse
import http.server
import re
import socketserver
import threading

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)(.*)$')
LE = re.compile(r'le="([^"]*)"')
LOAD = ("vllm:num_requests_running", "vllm:num_requests_waiting")
LOADS = ("idle", "busy", "partial")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--servers", type=int, required=True)
    ap.add_argument("--page", required=True)
    ap.add_argument("--load", choices=LOADS, default="busy")
    args = ap.parse_args()
    lines = open(args.page, encoding="utf-8").read().splitlines()
    queries = [float(SAMPLE.match(l).group(3)) for l in lines
               if l.startswith("vllm:prefix_cache_queries_total")]
    state = {"gen": 0, "load": args.load}
    cache = {}
    lock = threading.Lock()

    def value(i, name, labels, v):
        """Server i's value of a counter or histogram sample."""
        if name == "vllm:prefix_cache_hits_total" and queries:
            v = queries[0] * (i % 4) / 4.0
        if name == "vllm:e2e_request_latency_seconds_bucket" and \
                i % 5 == 1:
            m = LE.search(labels)
            if m and float(m.group(1)) < 30:
                v *= 0.8
        return v

    def render(i, gen, load):
        w = 1 + gen * ((i % 7) + 1) / 4.0 if i % 3 else 1
        idle = load == "idle" or (load == "partial" and i % 3 == 0)
        out = []
        for line in lines:
            m = SAMPLE.match(line)
            if not m or line.startswith("#"):
                out.append(line)
                continue
            name, labels = m.group(1), m.group(2) or ""
            if name in LOAD and idle:
                out.append("%s%s 0%s" % (name, labels, m.group(4)))
            elif name.endswith(("_total", "_bucket", "_count", "_sum")):
                try:
                    v = value(i, name, labels, float(m.group(3))) * w
                except ValueError:
                    out.append(line)
                    continue
                out.append("%s%s %r%s" % (name, labels, v, m.group(4)))
            else:
                out.append(line)
        return ("\n".join(out) + "\n").encode("utf-8")

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, code):
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode().strip() if n else ""
            with lock:
                if self.path == "/gen":
                    state["gen"] = int(body or state["gen"] + 1)
                elif self.path == "/load" and body in LOADS:
                    state["load"] = body
                else:
                    self.reply(400)
                    return
            self.reply(204)

        def do_GET(self):
            m = re.match(r'^/s/(\d+)/metrics$', self.path)
            if not m or int(m.group(1)) >= args.servers:
                self.reply(404)
                return
            i = int(m.group(1))
            with lock:
                key = (i, state["gen"], state["load"])
                if key not in cache:
                    cache[key] = render(*key)
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
