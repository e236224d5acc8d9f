# SPDX-License-Identifier: LGPL-2.1-or-later
"""What an unprivileged container tries to get out with (test-escape.sh), run inside one:
a line "NAME refused" or "NAME ALLOWED: detail" for each probe. Run with --cap-add MKNOD
and a :ro bind of a dir that has a tmpfs under it at /mnt; argv[1] is a value only the
caller's environment has (PID 1 must not show it)."""
import ctypes, errno, os, signal, socket, sys, time

libc = ctypes.CDLL(None, use_errno=True)


def sc(nr, *args):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    return 0 if r >= 0 else ctypes.get_errno()


def report(name, err, detail=""):
    print(f"{name} refused" if err else f"{name} ALLOWED{': ' + detail if detail else ''}")
    sys.stdout.flush()


# x86_64 numbers
report("mount", libc.mount(b"none", b"/mnt", b"tmpfs", 0, None) and ctypes.get_errno())
report("unshare", sc(272, 0x40000000 | 0x00020000))           # CLONE_NEWNET | CLONE_NEWNS
report("io_uring_setup", sc(425, 1, ctypes.addressof(ctypes.create_string_buffer(120))))
try:
    socket.socket(40, socket.SOCK_STREAM).close()
    report("vsock", 0)
except OSError as e:
    report("vsock", e.errno)
report("keyctl", sc(250, 1, 0))                               # KEYCTL_JOIN_SESSION_KEYRING
report("bpf", sc(321, 0, 0, 0))                               # BPF_MAP_CREATE, no attr
report("perf_event_open", sc(298, ctypes.addressof(ctypes.create_string_buffer(128)), 0, -1, -1, 0))
report("ptrace-pid1", sc(101, 16, 1, 0, 0))                   # PTRACE_ATTACH
try:
    env = open("/proc/1/environ", "rb").read()
    report("pid1-environ", sys.argv[1].encode() not in env, "the caller's environment")
except OSError as e:
    report("pid1-environ", e.errno)
try:
    data = open("/etc/shadow", "rb").read()
    report("shadow", not data, f"{len(data)} bytes")
except OSError as e:
    report("shadow", e.errno)
for path, name in (("/mnt/top", "ro-bind"), ("/mnt/sub/x", "ro-bind-submount")):
    try:
        open(path, "w").close()
        report(name, 0)
    except OSError as e:
        report(name, e.errno)
try:
    os.mknod("/dev/probe-lc", 0o20600, os.makedev(10, 237))   # loop-control
    fd = os.open("/dev/probe-lc", os.O_RDONLY)
    os.close(fd)
    report("host-device", 0, "loop-control opened")
except OSError as e:
    report("host-device", e.errno)
# a fork bomb, bounded: up to 3000 children that sleep, all killed after
kids = []
try:
    for _ in range(3000):
        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        kids.append(pid)
    report("fork-bomb", 0, "3000 processes")
except OSError as e:
    report("fork-bomb", e.errno, f"stopped at {len(kids)}")
for pid in kids:
    os.kill(pid, signal.SIGKILL)
for pid in kids:
    os.waitpid(pid, 0)
