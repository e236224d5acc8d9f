# SPDX-License-Identifier: LGPL-2.1-or-later
"""A registry in front of a real one (Debian's docker-registry), for what the real one
cannot be made to do on loopback without TLS and a token service:

  fake-registry.py UPSTREAM PORTFILE LOG MODE

listens on 127.0.0.1 (a free port, written to PORTFILE), forwards GETs to UPSTREAM
("http://127.0.0.1:5000") and, as MODE says:

  token     every /v2/ request needs "Authorization: Bearer good-token", else a 401 with a
            Bearer challenge whose realm is /token here; /token hands out that token to
            basic auth lnst:secret (a 401 otherwise)
  garbage   manifests are 200 with a body that is not JSON
  corrupt   layers (blobs over 1 KiB) arrive with one byte changed (the digest no longer
            matches)
  cut       layers stop halfway, the connection closed
  slow      layers come 4 KiB every 50 ms (a pull to be killed midway)

Each request's method, path and whether it carried a token is appended to LOG.
"""
import base64, http.server, sys, time, urllib.error, urllib.request

upstream, portfile, logfile, mode = sys.argv[1:5]
TOKEN = "good-token"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def note(self, what):
        with open(logfile, "a") as f:
            f.write(f"{self.command} {self.path} {what}\n")

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if mode == "token" and self.path.startswith("/token"):
            want = "Basic " + base64.b64encode(b"lnst:secret").decode()
            if self.headers.get("Authorization") != want:
                self.note("token-refused")
                return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad login"}]}')
            self.note("token-issued")
            return self.reply(200, b'{"token":"%s"}' % TOKEN.encode(), [("Content-Type", "application/json")])
        if mode == "token" and self.headers.get("Authorization") != "Bearer " + TOKEN:
            self.note("401")
            realm = f"http://127.0.0.1:{self.server.server_port}/token"
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                              [("WWW-Authenticate", f'Bearer realm="{realm}",service="fake-registry"'),
                               ("Content-Type", "application/json")])
        self.note("ok")
        req = urllib.request.Request(upstream + self.path, headers={
            k: v for k, v in self.headers.items() if k.lower() in ("accept",)})
        try:
            with urllib.request.urlopen(req) as r:
                status, body, headers = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, body, headers = e.code, e.read(), e.headers
        keep = [(k, v) for k, v in headers.items() if k.lower() in ("content-type", "docker-content-digest")]
        blob = "/blobs/" in self.path and status == 200 and len(body) > 1024
        if mode == "garbage" and "/manifests/" in self.path and status == 200:
            return self.reply(200, b"<html>this is not a manifest</html>", [("Content-Type", "application/json")])
        if mode == "corrupt" and blob and body:
            body = body[:-1] + bytes([body[-1] ^ 0xFF])
        if mode == "cut" and blob:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "slow" and blob:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(0, len(body), 4096):
                self.wfile.write(body[i:i + 4096])
                self.wfile.flush()
                time.sleep(0.05)
            return
        self.reply(status, body, keep)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_port))
import os
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
