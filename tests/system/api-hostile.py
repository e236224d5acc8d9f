# SPDX-License-Identifier: LGPL-2.1-or-later
"""Clients that hold what they open, against an `nsprov serve` (test-api-limits.sh):

  api-hostile.py SOCK slowloris TIMEOUT_S       a head trickled a byte at a time: answered
                                                408 and closed within TIMEOUT_S (+1 s)
  api-hostile.py SOCK idle TIMEOUT_S            an idle keep-alive connection: closed
                                                within TIMEOUT_S (+1 s), silently
  api-hostile.py SOCK cap N                     N connections held in the middle of a head:
                                                the next gets a 503; once one closes, _ping
                                                answers again
  api-hostile.py SOCK evict N                   N idle connections held open: a new
                                                client is served, the oldest idle one closed
  api-hostile.py SOCK load PID CAP [RSS_MIB]    at once: 1000 idle connections, 200
                                                slowloris clients, 2 trailer floods; for 5 s
                                                a fresh client's _ping: p99 under 100 ms,
                                                RSS under RSS_MIB (64), threads within the cap;
                                                all gone once the clients are
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
    for s in held:
        s.sendall(b"GET /_ping HTTP/1.1\r\n")  # a head begun, not idle
    time.sleep(0.3)
    extra = connect()
    st = status_of(extra)
    if st != 503:
        fail(f"connection {n + 1} answered {st}, not 503")
    held.pop().close()
    time.sleep(0.3)
    if ping() != 200:
        fail("no _ping after a connection closed")
elif what == "evict":
    n = int(sys.argv[3])
    held = [connect() for _ in range(n)]
    time.sleep(0.3)
    if ping() != 200:
        fail("a new client was not served while idle connections filled the cap")
    held[0].settimeout(2)
    if held[0].recv(10) != b"":
        fail("the oldest idle connection was not closed")
elif what == "load":
    import resource, threading
    pid, cap = int(sys.argv[3]), int(sys.argv[4])
    rss_limit = float(sys.argv[5]) if len(sys.argv) > 5 else 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    def threads():
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("Threads:"):
                return int(line.split()[1])
    base_threads = threads()
    stop = threading.Event()
    held = []

    def slowloris():
        conns = []
        for _ in range(200):
            try:
                c = connect()
                c.sendall(b"GET /_ping HTTP/1.1\r\nX-Slow: ")
                conns.append(c)
            except OSError:
                pass
        while not stop.is_set():
            for c in conns:
                try:
                    c.send(b"a")
                except OSError:
                    pass
            stop.wait(1)
        for c in conns:
            c.close()

    def trailers():
        while not stop.is_set():
            try:
                c = connect()
                c.sendall(b"POST /v4.0.0/libpod/containers/create HTTP/1.1\r\nHost: d\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n")
                for _ in range(5000):
                    c.sendall(b"X-T: " + b"t" * 1000 + b"\r\n")
            except OSError:
                pass
            finally:
                c.close()

    for _ in range(1000):
        try:
            held.append(connect())
        except OSError:
            break
    workers = [threading.Thread(target=slowloris)] + [threading.Thread(target=trailers) for _ in range(2)]
    for w in workers:
        w.start()
    time.sleep(0.5)
    lat, worst_rss, worst_threads = [], 0, 0
    t_end = time.monotonic() + 5
    while time.monotonic() < t_end:
        t0 = time.monotonic()
        st = ping()
        lat.append((time.monotonic() - t0) * 1000 if st == 200 else 1e9)
        worst_rss = max(worst_rss, rss_mib(pid))
        worst_threads = max(worst_threads, threads())
        time.sleep(0.02)
    stop.set()
    for w in workers:
        w.join()
    for c in held:
        c.close()
    time.sleep(1.5)
    lat.sort()
    p99 = lat[int(len(lat) * 0.99) - 1]
    print(f"# {len(lat)} pings: p50 {lat[len(lat) // 2]:.1f} ms, p99 {p99:.1f} ms; RSS max {worst_rss:.1f} MiB; "
          f"threads max {worst_threads} (cap {cap}), after {threads()} (before {base_threads})")
    if p99 > 100:
        fail(f"_ping p99 {p99:.1f} ms under load")
    if worst_rss > rss_limit:
        fail(f"RSS {worst_rss:.1f} MiB under load (limit {rss_limit:.0f})")
    if worst_threads > cap + 16:
        fail(f"{worst_threads} threads, cap {cap}")
    if threads() > base_threads + 2:
        fail(f"{threads()} threads left after the clients went (before: {base_threads})")
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
