#!/usr/bin/env python3
"""Attacks on rwbridge's listener for test_hostile.sh, on loopback.

Each mode prints one line of key=value results for the shell to check:
  bodies PORT PID N MIB   N connections, no token, each a Content-Length of
                          MIB MiB sent in full: statuses, peak RSS (kB)
  headers PORT PID MB     one request whose head grows to MB megabytes:
                          bytes sent before the cut, peak RSS
  loris PORT WHERE GAP [TOKEN]
                          one byte every GAP s in the head or the body:
                          closed=1 when rwbridge closed it (bounded: 120 s)
  idle PORT N             hold N idle connections until told to stop
                          (SIGTERM), printing how many were accepted
Every mode also asks /-/healthy on a fresh connection while the attack
runs and prints healthy_ok (answers 200) and healthy_tries.
"""
import signal
import socket
import sys
import threading
import time

HOST = "127.0.0.1"


def rss_kb(pid):
    """The resident set of pid, in kB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Watch(threading.Thread):
    """Sample RSS and ask /-/healthy until stopped."""

    def __init__(self, port, pid):
        super().__init__(daemon=True)
        self.port, self.pid = port, pid
        self.peak, self.ok, self.tries = 0, 0, 0
        self.done = threading.Event()

    def healthy(self):
        self.tries += 1
        try:
            s = socket.create_connection((HOST, self.port), timeout=30)
            s.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            data = b""
            while True:
                b = s.recv(4096)
                if not b:
                    break
                data += b
            s.close()
            if data.startswith(b"HTTP/1.1 200"):
                self.ok += 1
        except OSError:
            pass

    def run(self):
        while not self.done.is_set():
            if self.pid:
                self.peak = max(self.peak, rss_kb(self.pid))
            self.healthy()
            self.done.wait(0.2)

    def stop(self):
        self.done.set()
        self.join()
        if self.pid:
            self.peak = max(self.peak, rss_kb(self.pid))
        return "healthy_ok=%d healthy_tries=%d peak_rss_kb=%d" % (
            self.ok, self.tries, self.peak)


def status_of(s):
    """Read a status line; 0 if the connection ended first."""
    data = b""
    try:
        while b"\r\n" not in data:
            b = s.recv(4096)
            if not b:
                break
            data += b
    except OSError:
        pass
    try:
        return int(data.split(b" ")[1])
    except (IndexError, ValueError):
        return 0


def one_body(port, mib, out, i):
    """Send a head promising mib MiB, then the body; note the status."""
    s = socket.create_connection((HOST, port), timeout=60)
    n = mib << 20
    s.sendall(b"PUT /metrics/job/attack HTTP/1.1\r\nHost: x\r\n"
              b"Content-Length: %d\r\n\r\n" % n)
    chunk = b"a 1\n" * 16384
    sent = 0
    try:
        while sent < n:
            s.sendall(chunk[:min(len(chunk), n - sent)])
            sent += min(len(chunk), n - sent)
    except OSError:
        pass
    out[i] = status_of(s)
    s.close()


def bodies(port, pid, n, mib):
    w = Watch(port, pid)
    w.start()
    out = [None] * n
    ts = [threading.Thread(target=one_body, args=(port, mib, out, i))
          for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    codes = {}
    for c in out:
        codes[c] = codes.get(c, 0) + 1
    print("statuses=%s %s" % (",".join("%s:%d" % kv for kv in
          sorted(codes.items(), key=str)), w.stop()))


def headers(port, pid, mb):
    w = Watch(port, pid)
    w.start()
    s = socket.create_connection((HOST, port), timeout=60)
    line = b"X-Pad: " + b"p" * 4000 + b"\r\n"
    sent, cut = 0, 0
    try:
        s.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n")
        while sent < mb * 1000000:
            s.sendall(line)
            sent += len(line)
    except OSError:
        cut = 1
    code = status_of(s)
    s.close()
    print("cut=%d sent=%d status=%d %s" % (cut, sent, code, w.stop()))


def loris(port, where, gap, token):
    w = Watch(port, 0)
    w.start()
    s = socket.create_connection((HOST, port), timeout=120)
    if where == "body":
        s.sendall(b"PUT /metrics/job/loris HTTP/1.1\r\nHost: x\r\n"
                  b"Authorization: Bearer %s\r\n"
                  b"Content-Length: 100000\r\n\r\n" % token.encode())
    else:
        s.sendall(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n")
    end = time.time() + 120
    closed = 0
    s.settimeout(gap)
    while time.time() < end:
        try:
            s.sendall(b"X" if where == "body" else b"X-A: b\r\n"[:1])
        except OSError:
            closed = 1
            break
        try:
            if s.recv(4096) == b"":
                closed = 1
                break
        except socket.timeout:
            pass
        except OSError:
            closed = 1
            break
    print("closed=%d %s" % (closed, w.stop()))


def idle(port, n):
    socks = []
    for _ in range(n):
        try:
            socks.append(socket.create_connection((HOST, port), timeout=5))
        except OSError:
            break
    print("opened=%d" % len(socks), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    stop.wait(300)


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "bodies":
        bodies(port, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif mode == "headers":
        headers(port, int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "loris":
        loris(port, sys.argv[3], float(sys.argv[4]),
              sys.argv[5] if len(sys.argv) > 5 else "")
    elif mode == "idle":
        idle(port, int(sys.argv[3]))


if __name__ == "__main__":
    main()
