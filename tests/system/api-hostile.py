# SPDX-License-Identifier: LGPL-2.1-or-later
"""Clients that hold what they open, against an `nsprov serve` (test-api-limits.sh):

  api-hostile.py SOCK slowloris TIMEOUT_S       a head trickled a byte at a time: answered
                                                408 and closed within TIMEOUT_S (+1 s)
  api-hostile.py SOCK idle TIMEOUT_S            an idle keep-alive connection: closed
                                                within TIMEOUT_S (+1 s), silently
  api-hostile.py SOCK cap N                     N connections held open: the next gets a
                                                503; once one closes, _ping answers again
  api-hostile.py SOCK trailers PID              a chunked body whose trailers go on
                                                without end: 413; the server's RSS stays
                                                under 64 MiB
  api-hostile.py SOCK chunks PID                10 MiB of chunk framing around a small
                                                body (1-byte chunks, long extensions):
                                                400/413 or an answer, RSS under 64 MiB
  api-hostile.py SOCK emfile PID N              N connections where the server has fewer
                                                fds: no spin (under 0.5 s of CPU in 3 s),
                                                and _ping answers once they close
"""
import socket, sys, time

sock_path, what = sys.argv[1], sys.argv[2]


def connect():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    return s


def status_of(s, timeout=10):
    s.settimeout(timeout)
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else None


def ping():
    s = connect()
    s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
    return status_of(s)


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0


def cpu_s(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / 100


def fail(msg):
    sys.exit(f"api-hostile {what}: {msg}")


if what == "slowloris":
    limit = float(sys.argv[3])
    s = connect()
    t0 = time.monotonic()
    head = b"GET /_ping HTTP/1.1\r\nHost: d\r\nX-Slow: " + b"a" * 1000
    s.settimeout(0.2)
    got = b""
    for b in head:
        try:
            s.send(bytes([b]))
        except OSError:
            break
        try:
            got = s.recv(4096)
            break  # an answer, or the connection closed
        except socket.timeout:
            pass
        if time.monotonic() - t0 > limit + 5:
            fail("still reading a head after %.1f s" % (time.monotonic() - t0))
    took = time.monotonic() - t0
    if not got.startswith(b"HTTP/1.1 408"):
        fail(f"answered {got[:40]!r} after {took:.1f} s")
    if took > limit + 1:
        fail(f"408 after {took:.1f} s, limit {limit}")
elif what == "idle":
    limit = float(sys.argv[3])
    s = connect()
    s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
    s.settimeout(10)
    s.recv(4096)
    t0 = time.monotonic()
    rest = s.recv(4096)
    took = time.monotonic() - t0
    if rest or took > limit + 1:
        fail(f"closed after {took:.1f} s with {rest[:40]!r}")
elif what == "cap":
    n = int(sys.argv[3])
    held = [connect() for _ in range(n)]
    time.sleep(0.3)
    extra = connect()
    st = status_of(extra)
    if st != 503:
        fail(f"connection {n + 1} answered {st}, not 503")
    held.pop().close()
    time.sleep(0.3)
    if ping() != 200:
        fail("no _ping after a connection closed")
elif what == "trailers":
    pid = int(sys.argv[3])
    s = connect()
    s.sendall(b"POST /v4.0.0/libpod/containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n"
              b"Content-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n")
    st = None
    try:
        for _ in range(20000):
            s.sendall(b"X-T: " + b"t" * 8000 + b"\r\n")
    except OSError:
        pass
    st = status_of(s)
    if st != 413:
        fail(f"endless trailers answered {st}")
    if rss_mib(pid) > 64:
        fail(f"RSS {rss_mib(pid):.0f} MiB")
elif what == "chunks":
    pid = int(sys.argv[3])
    s = connect()
    s.sendall(b"POST /v4.0.0/libpod/containers/create HTTP/1.1\r\nHost: d\r\nTransfer-Encoding: chunked\r\n"
              b"Content-Type: application/json\r\n\r\n")
    frame = b"1;" + b"e" * 1000 + b"\r\n \r\n"
    try:
        for _ in range(10 * 1024):
            s.sendall(frame)
        s.sendall(b"2\r\n{}\r\n0\r\n\r\n")
    except OSError:
        pass
    st = status_of(s, 30)
    if st is None:
        fail("no answer")
    if rss_mib(pid) > 64:
        fail(f"RSS {rss_mib(pid):.0f} MiB")
elif what == "emfile":
    pid, n = int(sys.argv[3]), int(sys.argv[4])
    held = []
    for _ in range(n):
        try:
            held.append(connect())
        except OSError:
            break
    time.sleep(0.5)
    c0 = cpu_s(pid)
    time.sleep(3)
    spent = cpu_s(pid) - c0
    for s in held:
        s.close()
    time.sleep(0.5)
    if spent > 0.5:
        fail(f"the server spent {spent:.2f} s of CPU in 3 s while out of fds")
    if ping() != 200:
        fail("no _ping after the connections closed")
else:
    fail("unknown")
