# SPDX-License-Identifier: LGPL-2.1-or-later
"""The system tests' stdlib client for the API socket: one request per connection, as
Podman's CLI makes its side requests (resize, inspect) while a stream runs."""
import http.client
import json
import socket


class Unix(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("d", timeout=30)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.unix_path)


def call(path, method, url, body=None):
    """(status, body bytes) of METHOD /v4.3.1/libpod{url}, body sent as JSON."""
    c = Unix(path)
    c.request(method, "/v4.3.1/libpod" + url, body=json.dumps(body) if body is not None else None)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def caller(path):
    """call() bound to one socket."""
    return lambda method, url, body=None: call(path, method, url, body)
