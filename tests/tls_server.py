"""A loopback metrics page for the TLS and auth tests.

tls_server.py PORT MODE DIR [PAGE]: serves PAGE (a file; default a
one-gauge page) on 127.0.0.1:PORT. MODE: tls (HTTPS with DIR/server.pem),
mtls (that, and a client certificate signed by DIR/ca.pem required),
named (HTTPS with DIR/named.pem), basic (plain HTTP wanting
scraper:s3cret-pw), bearer (plain HTTP wanting the token tok-42).
"""
import base64
import http.server
import socket
import ssl
import sys

port, mode, d = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if len(sys.argv) > 4:
    with open(sys.argv[4], "rb") as f:
        PAGE = f.read()
else:
    PAGE = b"# TYPE tls_probe gauge\ntls_probe 1\n"


class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        auth = self.headers.get("Authorization", "")
        want = None
        if mode == "basic":
            want = "Basic " + base64.b64encode(b"scraper:s3cret-pw").decode()
        elif mode == "bearer":
            want = "Bearer tok-42"
        if want is not None and auth != want:
            self.send_response(401)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *a):
        pass


ctx = None
if mode in ("tls", "mtls", "named"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    name = "named" if mode == "named" else "server"
    ctx.load_cert_chain(d + "/" + name + ".pem", d + "/" + name + ".key")
    if mode == "mtls":
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(d + "/ca.pem")


class Server(http.server.ThreadingHTTPServer):
    def get_request(self):
        sock, addr = self.socket.accept()
        if ctx is None:
            return sock, addr
        s = ctx.wrap_socket(sock, server_side=True,
                            do_handshake_on_connect=False)
        s.settimeout(10)
        try:
            s.do_handshake()
        except OSError:
            # The alert is sent. In TLS 1.3 the client has already sent
            # its request: closing with it unread would reset the
            # connection, and the reset can overtake the alert. Read to
            # the client's end first so the alert always arrives.
            try:
                s.shutdown(socket.SHUT_WR)
                while s.recv(65536):
                    pass
            except OSError:
                pass
            s.close()
            raise
        s.settimeout(None)
        return s, addr


Server(("127.0.0.1", port), H).serve_forever()
