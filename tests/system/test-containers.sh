#!/bin/bash
# The container runtime as a user drives it, as root, on the real kernel: isolation,
# privileges, init, exit codes, stop, exec, logs, --rm, gc after a killed monitor,
# races, bad input, and a soak. Everything lives in temp --root/--runroot dirs and is
# named with the test's prefix; the leak check at the end covers links, netns, mounts
# and processes (a leftover monitor carries the container name in its command line).
set -u
. "$(dirname "$0")/tap.sh"
begin_store_test
# For the checks written as `bash -c "…"`: the same nsp, and a check that dirs are empty.
NSP_DEF="$(declare -f nsp); tmp='$tmp'; empty() { [ -z \"\$(find \"\$@\" -mindepth 1 2>/dev/null)\" ]; };"
empty() { [ -z "$(find "$@" -mindepth 1 2>/dev/null)" ]; }

# A busybox tree, as a lab would debootstrap one.
mkdir -p "$tmp/bb/bin"
cp "$(command -v busybox)" "$tmp/bb/bin/busybox"
for c in sh ls cat echo sleep hostname id ps true; do ln -s busybox "$tmp/bb/bin/$c"; done
printf '#!/bin/sh\necho not executable\n' >"$tmp/bb/bin/noexec"; chmod 0644 "$tmp/bb/bin/noexec"

is() {  # is EXPECTED -- COMMAND...: stdout (trailing newline trimmed) must equal EXPECTED
        local want=$1; shift; [ "$1" = -- ] && shift
        local got; got=$("$@" 2>&1)
        [ "$got" = "$want" ] || { echo "got '$got', wanted '$want'"; return 1; }
}
rc_is() {  # rc_is CODE -- COMMAND...
        local want=$1; shift; [ "$1" = -- ] && shift
        local rc=0; "$@" >/dev/null 2>&1 || rc=$?
        [ "$rc" = "$want" ] || { echo "exit $rc, wanted $want"; return 1; }
}

ok "image add registers a busybox rootfs" -- nsp image add "$P-bb" --rootfs "$tmp/bb" --cmd /bin/sh
ok "image ls shows host and the new image" -- bash -c "$NSP_DEF nsp image ls | grep -q '^host ' && nsp image ls | grep -q '^$P-bb .*$tmp/bb'"
host_image() {
        nsp image add "$P-lnst" --rootfs host --cmd '["sh", "-c", "echo agent-here"]' --env AGENT=1 >/dev/null || return 1
        [ "$(nsp run --rm "$P-lnst")" = agent-here ] && [ "$(nsp run --rm "$P-lnst" sh -c 'echo $AGENT')" = 1 ]
}
ok "image add --rootfs host names the host's root with its own config" -- host_image
ok "image exists: 0 for an image, 1 for none" -- bash -c "$NSP_DEF nsp image exists '$P-bb' && nsp image exists host && { nsp image exists nope-$P; [ \$? = 1 ]; }"

# --- isolation ---
ok "PID 1 is the init; the command is PID 2" -- is 2 -- nsp run --rm host sh -c 'echo $$'
ok "--init=false makes the command PID 1" -- is 1 -- nsp run --rm --init=false host sh -c 'echo $$'
ok "the container sees only its own processes (all pids small)" -- is 1 -- nsp run --rm host sh -c 'ls /proc | grep "^[0-9]" | sort -n | head -1; ls /proc | grep -q "^[0-9]\{3,\}\$" && echo big-pid-seen'
ok "--hostname is the container's, and /etc/hostname says so" -- is "$P-h $P-h" -- nsp run --rm --hostname "$P-h" host sh -c 'echo $(hostname) $(cat /etc/hostname)'
ok "the host's hostname is untouched" -- is "$(hostname)" -- hostname
ok "own netns: only lo" -- is "lo" -- nsp run --rm host sh -c "ip -o link | awk '{print \$2}' | tr -d :"
ok "own netns: lo is up inside" -- nsp run --rm host sh -c 'ip -o link show lo | grep -q LOWER_UP'
ok "the host root is read-only" -- nsp run --rm host sh -c '! touch /usr/.nsprov-probe 2>/dev/null'
ok "/tmp and /etc are private and writable" -- nsp run --rm host sh -c "touch /tmp/x && echo 1.2.3.4 probe >> /etc/hosts"
ok "...and the host's /etc/hosts never saw it" -- bash -c "! grep -q '1.2.3.4 probe' /etc/hosts"
ok "a rootfs image runs, and stays pristine" -- bash -c "$NSP_DEF [ \"\$(nsp run --rm $P-bb sh -c 'echo hi > /made-here; cat /made-here')\" = hi ] && [ ! -e '$tmp/bb/made-here' ]"
ok "only fds 0, 1, 2 reach the command" -- is "0 1 2 3" -- nsp run --rm host sh -c 'ls /proc/self/fd | sort -n | tr "\n" " " | sed "s/ $//"'

# --- privileges ---
ok "privileged may create a network device in its netns" -- nsp run --rm --privileged host ip link add "$P-v0" type veth peer name "$P-v1"
ok "unprivileged may not" -- bash -c "$NSP_DEF ! nsp run --rm host ip link add '$P-v0' type veth peer name '$P-v1' 2>/dev/null"
keyctl_probe='import ctypes; l = ctypes.CDLL(None, use_errno=True); r = l.syscall(250, 0, 0, 0, 0, 0); print(ctypes.get_errno() if r < 0 else 0)'
ok "seccomp refuses keyctl in a default container (EPERM)" -- is 1 -- nsp run --rm host python3 -c "$keyctl_probe"
# the allow-list: each probe prints the errno a raw syscall got (0: it ran)
seccomp_probe='import ctypes, errno, socket
l = ctypes.CDLL(None, use_errno=True)
def sc(nr, *a):
    r = l.syscall(nr, *[ctypes.c_long(x) for x in a])
    return errno.errorcode.get(ctypes.get_errno(), "?") if r < 0 else "ok"
print("io_uring_setup", sc(425, 1, 0))
print("unknown-1000", sc(1000))
print("personality-query", sc(135, 0xffffffff))
print("personality-8", sc(135, 8))
print("personality-other", sc(135, 0x0400000))
print("chroot", sc(161, 0))
try:
    socket.socket(40, socket.SOCK_STREAM); print("vsock ok")
except OSError as e:
    print("vsock", errno.errorcode[e.errno])
for proto, name in ((9, "netlink-audit"), (0, "netlink-route")):
    try:
        socket.socket(16, socket.SOCK_RAW, proto).close(); print(name, "ok")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
print("unshare-net", sc(272, 0x40000000))'
seccomp_allowlist() {
        local out want
        out=$(nsp run --rm --network none host python3 -c "$seccomp_probe") || return 1
        # chroot: allowed (CAP_SYS_CHROOT is a default capability; EFAULT for the NULL path)
        want=$(printf '%s\n' "io_uring_setup ENOSYS" "unknown-1000 ENOSYS" "personality-query ok" \
                "personality-8 ok" "personality-other ENOSYS" "chroot EFAULT" "vsock EAFNOSUPPORT" "netlink-audit EINVAL" \
                "netlink-route ok" "unshare-net EPERM")
        [ "$out" = "$want" ] || { echo "unprivileged: $out"; return 1; }
        # a capability added opens what depends on it (CAP_SYS_ADMIN: unshare)
        out=$(nsp run --rm --network none --cap-add SYS_ADMIN host python3 -c "$seccomp_probe" | tail -1) || return 1
        [ "$out" = "unshare-net ok" ] || { echo "with SYS_ADMIN: $out"; return 1; }
        # and exec gets the same filter
        nsp run -d --name "$P-sc" --network none host sleep 60 >/dev/null || return 1
        out=$(nsp exec "$P-sc" python3 -c "$seccomp_probe" | head -1)
        nsp rm -f "$P-sc" >/dev/null
        [ "$out" = "io_uring_setup ENOSYS" ] || { echo "exec: $out"; return 1; }
}
ok "seccomp is an allow-list: io_uring, unknown syscalls ENOSYS, vsock refused, harmless personalities allowed, caps open their syscalls" -- seccomp_allowlist
seccomp_cache_checked() {
        # the compiled filter kept in the runroot is used only when its checksum holds and
        # only root may write it: a program that allows everything, put there with a bad
        # checksum, or with a good one in a file others may write, is never loaded
        nsp run --rm --network none host true || return 1
        local f; f=$(ls "$tmp"/run/seccomp-*.bpf 2>/dev/null | head -1)
        [ -n "$f" ] || { echo "no cached filter in $tmp/run"; return 1; }
        local allow_all='import struct, sys
prog = struct.pack("<HBBI", 0x06, 0, 0, 0x7fff0000)   # BPF_RET|BPF_K SECCOMP_RET_ALLOW
h = 1469598103934665603
for b in prog:
    h = ((h ^ b) * 1099511628211) % (1 << 64)
good = sys.argv[2] == "good"
open(sys.argv[1], "wb").write(prog + struct.pack("<Q", h if good else h ^ 1))'
        python3 -c "$allow_all" "$f" bad && chmod 0600 "$f" || return 1
        is 1 -- nsp run --rm --network none host python3 -c "$keyctl_probe" || return 1
        python3 -c "$allow_all" "$f" good && chmod 0666 "$f" || return 1
        is 1 -- nsp run --rm --network none host python3 -c "$keyctl_probe"
}
ok "a cached seccomp program with a bad checksum, or writable by others, is never loaded" -- seccomp_cache_checked
ok "a privileged container has no seccomp filter" -- bash -c "$NSP_DEF [ \"\$(nsp run --rm --privileged host python3 -c '$keyctl_probe')\" != 1 ]"
ok "default capabilities are Podman's (no CAP_NET_ADMIN, CAP_CHOWN kept)" -- is "00000000800405fb" -- nsp run --rm host sh -c "grep CapEff /proc/self/status | awk '{print \$2}'"
ok "--cap-add NET_ADMIN adds it" -- nsp run --rm --cap-add NET_ADMIN host sh -c "ip link set lo mtu 1500"
ok "no_new_privs is set when unprivileged" -- is 1 -- nsp run --rm host sh -c "grep NoNewPrivs /proc/self/status | awk '{print \$2}'"
host_secrets() {
        # what an unprivileged host-image container must not read: hashes, homes, SSH host
        # keys, the store it runs from (its root and runroot, as given to this test)
        local out
        out=$(nsp run --rm --network none host sh -c "wc -c </etc/shadow; wc -c </etc/gshadow; ls -A /home | wc -l
                ls -A /root | wc -l; touch /root/ok && echo writable
                for k in /etc/ssh/ssh_host_*_key; do [ -e \"\$k\" ] || continue; wc -c <\"\$k\"; done | sort -u
                ls -A '$tmp/root' 2>/dev/null | wc -l") || return 1
        local want; want=$(printf '0\n0\n0\n0\nwritable')
        [ -n "$(ls /etc/ssh/ssh_host_*_key 2>/dev/null)" ] && want=$(printf '%s\n0' "$want")
        want=$(printf '%s\n0' "$want")
        [ "$out" = "$want" ] || { echo "an unprivileged container read: $out"; return 1; }
        # what privileged ones (LNST's) see is the host's
        [ "$(nsp run --rm --privileged --network none host sh -c 'wc -c </etc/shadow')" -gt 0 ]
}
ok "an unprivileged host-image container reads no host secret: shadow, homes, SSH keys, nsprov's store" -- host_secrets
cgroups() {
        # a cgroup per container in each hierarchy it needs (v1 and the hybrid layout:
        # pids, devices; memory and cpu when limited; v2: one dir), made before PID 1 runs
        local id dir
        id=$(nsp run -d --name "$P-cg" --network none --memory 64m --cpus 0.5 host sleep 60) || return 1
        if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
                dir=/sys/fs/cgroup/nsprov/$id
                [ "$(cat $dir/pids.max)" = 2048 ] && [ "$(cat $dir/memory.max)" = 67108864 ] &&
                        [ "$(cat $dir/cpu.max)" = "50000 100000" ] || { echo "v2 limits: $(cat $dir/*.max)"; return 1; }
                set -- "$dir"
        else
                [ "$(cat /sys/fs/cgroup/pids/nsprov/$id/pids.max)" = 2048 ] &&
                        [ "$(cat /sys/fs/cgroup/memory/nsprov/$id/memory.limit_in_bytes)" = 67108864 ] &&
                        [ "$(cat /sys/fs/cgroup/cpu/nsprov/$id/cpu.cfs_quota_us)" = 50000 ] &&
                        grep -qx 'c 136:\* rwm' /sys/fs/cgroup/devices/nsprov/$id/devices.list ||
                        { echo "v1 limits"; return 1; }
                set -- /sys/fs/cgroup/{pids,devices,memory,cpu}/nsprov/$id
        fi
        grep -qx "$(nsp inspect -f '{{.State.Pid}}' "$P-cg")" "$1/cgroup.procs" || { echo "PID 1 not in $1"; return 1; }
        # the container sees its own cgroup as its root
        [ "$(nsp exec "$P-cg" sh -c 'grep pids /proc/self/cgroup || grep "^0::" /proc/self/cgroup' | cut -d: -f3)" = / ] ||
                { echo "cgroup namespace: $(nsp exec "$P-cg" cat /proc/self/cgroup)"; return 1; }
        nsp inspect "$P-cg" | grep -q '"NanoCpus": 500000000' || return 1
        nsp rm -f "$P-cg" >/dev/null || return 1
        for d in "$@"; do [ ! -e "$d" ] || { echo "$d left"; return 1; }; done
        # a fork bomb stops at --pids-limit
        local out
        out=$(nsp run --rm --network none --pids-limit 20 host sh -c 'for i in $(seq 40); do sleep 5 & done' 2>&1) || true
        grep -q "Cannot fork\|Resource temporarily unavailable" <<<"$out" ||
                { echo "--pids-limit 20: $out"; return 1; }
        # a device made with CAP_MKNOD (loop-control, kmsg) is not opened; null is
        out=$(nsp run --rm --network none --cap-add MKNOD host python3 -c '
import os
for name, maj, mn, flags in (("lc", 10, 237, os.O_RDONLY), ("km", 1, 11, os.O_WRONLY), ("nl", 1, 3, os.O_RDONLY)):
    p = "/dev/p-" + name
    os.mknod(p, 0o20600, os.makedev(maj, mn))
    try:
        os.close(os.open(p, flags)); print(name, "open")
    except OSError as e:
        print(name, e.errno == 1 and "EPERM" or e.strerror)') || return 1
        [ "$out" = "$(printf 'lc EPERM\nkm EPERM\nnl open')" ] || { echo "devices: $out"; return 1; }
        # a start that fails leaves none
        id=$(nsp create --name "$P-cg3" --network none -w /no/such/dir host true) || return 1
        nsp start "$P-cg3" >/dev/null 2>&1 && { echo "started with a missing workdir"; return 1; }
        [ -z "$(ls -d /sys/fs/cgroup/*/nsprov/$id /sys/fs/cgroup/nsprov/$id 2>/dev/null)" ] ||
                { echo "a failed start left its cgroups"; return 1; }
        nsp rm "$P-cg3" >/dev/null || return 1
        # a container whose monitor was killed: gc takes its cgroups
        id=$(nsp run -d --name "$P-cg2" --network none host sleep 60) || return 1
        local mon pid1; mon=$(nsp inspect -f '{{.State.ConmonPid}}' "$P-cg2"); pid1=$(nsp inspect -f '{{.State.Pid}}' "$P-cg2")
        kill -9 "$mon" "$pid1" && sleep 0.3 && nsp system gc >/dev/null && nsp rm -f "$P-cg2" >/dev/null || return 1
        [ -z "$(ls -d /sys/fs/cgroup/*/nsprov/$id /sys/fs/cgroup/nsprov/$id 2>/dev/null)" ] ||
                { echo "left after gc: $(ls -d /sys/fs/cgroup/*/nsprov/$id 2>/dev/null)"; return 1; }
}
ok "cgroups: pids.max 2048 and the limits asked for, Podman's device rules, PID 1 inside, gone with the container (and by gc)" -- cgroups
pid1_hidden() {
        # the caller's environment is not PID 1's to show; PID 1 cannot be ptraced
        local out
        out=$(NSPROV_TEST_SECRET=$P-xyzzy nsp run --rm --network none host sh -c \
                'cat /proc/1/environ 2>&1 | tr "\0" "\n"; python3 -c "import ctypes; l = ctypes.CDLL(None, use_errno=True); print(\"ptrace\", l.ptrace(16, 1, 0, 0), ctypes.get_errno())"') || return 1
        grep -q "$P-xyzzy" <<<"$out" && { echo "unprivileged: $out"; return 1; }
        grep -q "Permission denied" <<<"$out" && grep -q "ptrace -1 1$" <<<"$out" || { echo "unprivileged: $out"; return 1; }
        out=$(NSPROV_TEST_SECRET=$P-xyzzy nsp run --rm --privileged --network none host sh -c 'tr "\0" "\n" </proc/1/environ') ||
                return 1
        ! grep -q "$P-xyzzy" <<<"$out" || { echo "privileged PID 1 showed the caller's environment"; return 1; }
}
ok "PID 1 shows no caller's environment and is not dumpable (unprivileged: no /proc/1/environ, no ptrace)" -- pid1_hidden
ro_recursive() {
        mkdir -p "$tmp/ro/sub" && mount -t tmpfs "$P-ro" "$tmp/ro/sub" || return 1
        local out
        out=$(nsp run --rm --network none -v "$tmp/ro:/mnt:ro" host sh -c 'touch /mnt/top 2>&1; touch /mnt/sub/x 2>&1; echo end')
        umount "$tmp/ro/sub"
        [ "$(grep -c "Read-only file system" <<<"$out")" = 2 ] || { echo "a :ro bind: $out"; return 1; }
}
ok "a :ro bind is read-only all the way down (a tmpfs under its source too)" -- ro_recursive
ok "privileged sees host devices" -- nsp run --rm --privileged host test -e /dev/vda -o -e /dev/sda -o -e /dev/nvme0n1 -o -e /dev/xvda -o -e /dev/loop0 -o -e /dev/kmsg

# --- init, exit codes ---
ok "exit codes pass through" -- rc_is 42 -- nsp run --rm host sh -c 'exit 42'
ok "a command that is not found: 127, named" -- expect_fail 127 "no-such-cmd-$P" -- nsp run --rm host "no-such-cmd-$P"
ok "a command that cannot run: 126" -- expect_fail 126 "noexec" -- nsp run --rm "$P-bb" /bin/noexec
ok "a workdir that is missing: 126, named" -- expect_fail 126 "workdir '/no-such-$P' does not exist" -- nsp run --rm -w "/no-such-$P" host true
ok "a signal death is 128+N" -- rc_is 137 -- nsp run --rm host sh -c 'kill -9 $$'
ok "init reaps orphans: no zombie remains" -- bash -c "$NSP_DEF
        nsp run -d --name $P-z host sh -c '(sleep 0.2 &); exec sleep 30' >/dev/null || exit 1
        sleep 0.8
        z=\$(nsp exec $P-z sh -c 'cat /proc/[0-9]*/stat 2>/dev/null' | awk '\$3 == \"Z\"' | wc -l)
        nsp rm -f $P-z >/dev/null; [ \"\$z\" = 0 ] || { echo \"\$z zombies\"; exit 1; }"

# --- detached lifecycle: ps, inspect, exec, logs, stop, wait ---
ok "run -d prints the id" -- bash -c "$NSP_DEF id=\$(nsp run -d --name $P-d -l lab=$P host sh -c 'echo out-line; echo err-line >&2; trap \"exit 3\" TERM; while :; do sleep 0.1; done'); [ \${#id} = 64 ]"
ok "ps lists it as Up" -- bash -c "$NSP_DEF nsp ps | grep -q 'Up .*$P-d\$'"
ok "ps --format json has Podman's fields" -- bash -c "$NSP_DEF nsp ps --format json | python3 -c 'import json,sys; c=[x for x in json.load(sys.stdin) if x[\"Names\"]==[\"$P-d\"]][0]; assert c[\"State\"]==\"running\" and c[\"Labels\"]=={\"lab\":\"$P\"} and c[\"Pid\"]>0, c'"
ok "inspect has Podman's shape and the netns path" -- bash -c "$NSP_DEF nsp inspect $P-d | python3 -c '
import json,sys,os
c=json.load(sys.stdin)[0]
assert c[\"Name\"]==\"$P-d\" and len(c[\"Id\"])==64
assert c[\"State\"][\"Status\"]==\"running\" and c[\"State\"][\"Running\"] and c[\"State\"][\"Pid\"]>0
assert c[\"Config\"][\"Hostname\"]==c[\"Id\"][:12] and c[\"HostConfig\"][\"Privileged\"] is False
k=c[\"NetworkSettings\"][\"SandboxKey\"]; assert k==\"/run/netns/nsprov-\"+c[\"Id\"] and os.path.exists(k), k
assert c[\"State\"][\"StartedAt\"].endswith(\"Z\")'"
ok "inspect templates print one field" -- bash -c "$NSP_DEF [ \"\$(nsp inspect -f '{{.State.Status}}/{{.Name}}' $P-d)\" = running/$P-d ]"
ok "ip netns can enter the container's netns by its SandboxKey" -- bash -c "$NSP_DEF ip netns exec nsprov-\$(nsp inspect -f '{{.Id}}' $P-d) ip -o link | grep -q 'lo:'"
ok "exec runs inside, with the container's hostname" -- is "$(nsp inspect -f '{{.Config.Hostname}}' "$P-d" 2>/dev/null)" -- nsp exec "$P-d" hostname
ok "exec without -t has no terminal" -- bash -c "$NSP_DEF nsp exec $P-d sh -c 'tty' | grep -q 'not a tty'"
exec_tty() {
        local out; out=$(nsp exec -t "$P-d" tty </dev/null | od -An -c | tr -s ' ')
        [ "$out" = " / d e v / p t s / 0 \\r \\n" ] || { echo "got '$out'"; return 1; }
}
ok "exec -t gets the container's own pty (/dev/pts/0), CRLF output" -- exec_tty
exec_stdin() { [ "$(echo piped | nsp exec -i "$P-d" cat)" = piped ]; }
ok "exec -i feeds stdin" -- exec_stdin
ok "exec returns the command's status" -- rc_is 7 -- nsp exec "$P-d" sh -c 'exit 7'
ok "exec of a missing command: 127" -- expect_fail 127 "not found" -- nsp exec "$P-d" "no-such-$P"
ok "exec -e and -w apply" -- is "v /tmp" -- nsp exec -e "X_$P=v" -w /tmp "$P-d" sh -c "echo \$X_$P \$(pwd)"
monitor_cwd() {
        local pid cwd
        pid=$(nsp inspect -f '{{.State.ConmonPid}}' "$P-d") || return 1
        cwd=$(readlink "/proc/$pid/cwd")
        [ "$(cat "/proc/$pid/comm")" = nsprov-monitor ] && [ "$cwd" = / ] || { echo "monitor $pid in '$cwd'"; return 1; }
}
ok "the monitor (ConmonPid) keeps no caller's directory busy: its cwd is /" -- monitor_cwd
# The host image's root is the host's / bound with its submounts; the netns names under
# /run (this container's, $P-d's) must not live on beneath the container's own /run:
# each copy would pin a netns name and tax its removal.
no_netns_mounts_inside() {
        nsp run -d --name "$P-pin" host sleep 100 >/dev/null || return 1
        local pid nsfs
        pid=$(nsp inspect -f '{{.State.Pid}}' "$P-pin")
        nsfs=$(grep ' - nsfs ' "/proc/$pid/mountinfo")
        nsp rm -f "$P-pin" >/dev/null
        [ -n "$pid" ] && [ -z "$nsfs" ] || { echo "pid '$pid'; netns mounts inside: $nsfs"; return 1; }
}
ok "a host-image container's mounts hold no netns name (its own or another's)" -- no_netns_mounts_inside
ok "top lists the container's processes" -- bash -c "$NSP_DEF nsp top $P-d | grep -q 'nsprov-init\\|nsprov'"
# the container's /etc/passwd is its own to make anything of: a FIFO there gives top no
# names (the uids then), and must not hang it
top_fifo_passwd() {
        nsp run -d --name "$P-fifo" host sleep 100 >/dev/null || return 1
        nsp exec "$P-fifo" sh -c 'rm /etc/passwd && mkfifo /etc/passwd' || { nsp rm -f "$P-fifo" >/dev/null; return 1; }
        local out rc=0
        out=$(timeout 10 "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" top "$P-fifo") || rc=$?
        nsp rm -f "$P-fifo" >/dev/null
        [ $rc = 0 ] || { echo "top: exit $rc (124: it hung)"; return 1; }
        grep -Eq '^0 +1 +0 +nsprov-init' <<<"$out" || { echo "top: $out"; return 1; }
}
ok "top with a FIFO for the container's /etc/passwd: uids, no hang" -- top_fifo_passwd
ok "logs has stdout and stderr" -- bash -c "$NSP_DEF [ \"\$(nsp logs $P-d 2>/dev/null)\" = out-line ] && [ \"\$(nsp logs $P-d 2>&1 >/dev/null)\" = err-line ]"
ok "logs --timestamps prefixes RFC 3339 times" -- bash -c "$NSP_DEF nsp logs -t $P-d 2>/dev/null | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z out-line\$'"
follow_logs() {
        nsp run -d --name "$P-f" host sh -c 'echo one; sleep 0.3; echo two' >/dev/null || return 1
        local out; out=$(timeout 10 "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" logs -f "$P-f")
        nsp rm "$P-f" >/dev/null
        [ "$out" = "one
two" ] || { echo "got '$out'"; return 1; }
}
ok "logs -f follows until the container ends" -- follow_logs
ok "logs --tail N keeps the last N lines" -- bash -c "$NSP_DEF nsp run --name $P-t host sh -c 'echo 1; echo 2; echo 3' >/dev/null && [ \"\$(nsp logs --tail 2 $P-t | tr '\\n' ' ')\" = '2 3 ' ] && nsp rm $P-t >/dev/null"
ok "rm of a running container without -f is refused, named, exit 2 as Podman's" -- expect_fail 2 "'$P-d' is running" -- nsp rm "$P-d"
ok "rm of a container that does not exist: exit 1 as Podman's; with -f, 0 and nothing said" -- bash -c "$NSP_DEF
        nsp rm nope-$P 2>/dev/null; [ \$? = 1 ] || exit 1
        out=\$(nsp rm -f nope-$P 2>&1) && [ -z \"\$out\" ]"
ok "stop uses SIGTERM: the trap's exit status shows" -- bash -c "$NSP_DEF nsp stop $P-d >/dev/null && [ \"\$(nsp inspect -f '{{.State.ExitCode}} {{.State.Status}}' $P-d)\" = '3 exited' ]"
ok "the netns went with the stop" -- bash -c "$NSP_DEF ! ip netns list | grep -q \$(nsp inspect -f '{{.Id}}' $P-d)"
ok "wait on an exited container prints its code" -- is 3 -- nsp wait "$P-d"
ok "start again, then stop escalates to SIGKILL when TERM is ignored" -- bash -c "$NSP_DEF
        nsp run -d --name $P-k --stop-timeout 1 host sh -c 'trap \"\" TERM; while :; do sleep 0.1; done' >/dev/null || exit 1
        t0=\$(date +%s%N); nsp stop $P-k >/dev/null || exit 1; t=\$(( (\$(date +%s%N) - t0) / 1000000 ))
        code=\$(nsp inspect -f '{{.State.ExitCode}}' $P-k)
        [ \"\$code\" = 137 ] && [ \$t -ge 900 ] && [ \$t -lt 5000 ] || { echo \"code \$code after \$t ms\"; exit 1; }"
ok "restart brings a stopped container back" -- bash -c "$NSP_DEF nsp restart $P-d >/dev/null && [ \"\$(nsp inspect -f '{{.State.Status}}' $P-d)\" = running ]"
ok "kill --signal sends that signal" -- bash -c "$NSP_DEF nsp kill -s TERM $P-d >/dev/null && [ \"\$(nsp wait $P-d)\" = 3 ]"
ok "rm removes it and its name" -- bash -c "$NSP_DEF nsp rm $P-d $P-k >/dev/null && ! nsp inspect $P-d >/dev/null 2>&1 && empty $tmp/run/containers"
ok "--rm leaves nothing once it returns" -- bash -c "$NSP_DEF nsp run --rm --name $P-r host true && ! nsp ps -a | grep -q $P-r && empty $tmp/run/containers $tmp/run/names"
ok "run attached relays stdout and stderr" -- bash -c "$NSP_DEF [ \"\$(nsp run --rm host sh -c 'echo a; echo b >&2' 2>/dev/null)\" = a ] && [ \"\$(nsp run --rm host sh -c 'echo a; echo b >&2' 2>&1 >/dev/null)\" = b ]"
run_stdin() { [ "$(echo in | nsp run --rm -i host cat)" = in ]; }
ok "run -i feeds stdin to the command" -- run_stdin
sig_proxy() {
        local out rc=0
        out=$("$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" run --rm host \
                      sh -c 'trap "echo got-TERM; exit 5" TERM; sleep 30 & wait' &
              pid=$!; sleep 0.5; kill -TERM $pid; wait $pid) || rc=$?
        [ "$out" = got-TERM ] && [ $rc = 5 ] || { echo "out '$out' rc $rc"; return 1; }
}
ok "a signal to an attached run reaches the container (sig-proxy)" -- sig_proxy
ok "run -t gives the command a terminal of the container's own devpts" -- is "/dev/pts/0" -- bash -c "$NSP_DEF nsp run --rm -t host tty </dev/null | tr -d '\\r'"
ok "env, env-file, workdir and entrypoint apply" -- bash -c "$NSP_DEF
        printf 'B=2\n# comment\n' > $tmp/envf
        [ \"\$(nsp run --rm -e A=1 --env-file $tmp/envf -w /usr --entrypoint /bin/sh host -c 'echo \$A\$B \$(pwd)')\" = '12 /usr' ]"
ok "bind mounts: rw and ro" -- bash -c "$NSP_DEF mkdir -p $tmp/vol
        nsp run --rm -v $tmp/vol:/mnt host sh -c 'echo w > /mnt/f' && [ \"\$(cat $tmp/vol/f)\" = w ] &&
        [ \"\$(nsp run --rm -v $tmp/vol:/mnt:ro host sh -c 'echo x > /mnt/f 2>/dev/null; echo \$?')\" != 0 ] &&
        nsp run --rm -v $tmp/vol:/new/dir $P-bb cat /new/dir/f | grep -q w &&
        nsp run --rm --mount type=bind,source=$tmp/vol,target=/data,readonly $P-bb cat /data/f | grep -q w"

ok "--user: a name or uid[:gid] from the container's passwd, HOME from it, no capabilities; exec -u; an unknown user is 126" -- bash -c "$NSP_DEF
        out=\$(nsp run --rm --user nobody host sh -c 'id -u; id -g; echo \$HOME; grep CapEff /proc/self/status' | tr '\n\t' '  ')
        [ \"\$out\" = '65534 65534 /nonexistent CapEff: 0000000000000000 ' ] || { echo \"nobody: \$out\"; exit 1; }
        [ \"\$(nsp run --rm -u 1234:5678 host id)\" = 'uid=1234 gid=5678 groups=5678' ] || exit 1
        rc=0; nsp run --rm -u ghost host true 2>\$tmp/ghost || rc=\$?
        [ \$rc = 126 ] && grep -q 'unable to find user ghost' \$tmp/ghost || { echo \"ghost: rc \$rc\"; exit 1; }
        nsp run -d --name $P-u --user nobody host sleep 60 >/dev/null || exit 1
        [ \"\$(nsp inspect -f '{{.Config.User}}' $P-u)\" = nobody ] && [ \"\$(nsp exec $P-u id -u)\" = 65534 ] &&
        [ \"\$(nsp exec -u 0 $P-u id -u)\" = 0 ] || exit 1
        rc=0; nsp exec -u ghost $P-u true 2>/dev/null || rc=\$?
        nsp rm -f $P-u >/dev/null; [ \$rc = 126 ]"
ok "sysfs shows the container's netns (only lo here), also when a bind mount lands under /sys" -- bash -c "$NSP_DEF
        mkdir -p $tmp/sysvol && touch $tmp/sysvol/marker
        [ \"\$(nsp run --rm host ls /sys/class/net)\" = lo ] &&
        [ \"\$(nsp run --rm -v $tmp/sysvol:/sys/fs/cgroup host sh -c 'ls /sys/fs/cgroup /sys/class/net' | tr '\n' ' ')\" = '/sys/class/net: lo  /sys/fs/cgroup: marker ' ]"

# --- kill -9 of a monitor, then gc ---
ok "kill -9 of a monitor, then system gc, leaves nothing" -- bash -c "$NSP_DEF
        nsp run -d --name $P-g host sleep 300 >/dev/null || exit 1
        id=\$(nsp inspect -f '{{.Id}}' $P-g); mon=\$(nsp inspect -f '{{.State.ConmonPid}}' $P-g); init=\$(nsp inspect -f '{{.State.Pid}}' $P-g)
        kill -9 \$mon
        for i in \$(seq 100); do kill -0 \$init 2>/dev/null || break; sleep 0.02; done
        kill -0 \$init 2>/dev/null && { echo 'PID 1 outlived its monitor'; exit 1; }
        nsp system gc >/dev/null || exit 1
        [ ! -e /run/netns/nsprov-\$id ] || { echo 'netns left'; exit 1; }
        [ \"\$(nsp inspect -f '{{.State.Status}}' $P-g)\" = exited ] || exit 1
        nsp rm $P-g >/dev/null && empty $tmp/run/containers"

# --- races ---
ok "20 parallel run -d with distinct names all start" -- bash -c "$NSP_DEF
        for i in \$(seq 20); do nsp run -d --name $P-p\$i host sleep 60 >/dev/null & done; wait
        [ \"\$(nsp ps --format json | python3 -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin) if c[\"Names\"][0].startswith(\"$P-p\") and c[\"State\"]==\"running\"))')\" = 20 ]"
ok "...and rm -f removes all 20 in parallel" -- bash -c "$NSP_DEF
        for i in \$(seq 20); do nsp rm -f $P-p\$i >/dev/null & done; wait
        empty $tmp/run/containers"
ok "two racing creates of one name: exactly one wins" -- bash -c "$NSP_DEF
        for i in 1 2; do nsp create --name $P-race host true >$tmp/race.\$i 2>&1 & done; wait
        wins=\$(cat $tmp/race.1 $tmp/race.2 | grep -c '^[0-9a-f]\\{64\\}\$'); losses=\$(cat $tmp/race.1 $tmp/race.2 | grep -c 'already in use')
        nsp rm $P-race >/dev/null; [ \$wins = 1 ] && [ \$losses = 1 ] && empty $tmp/run/containers"

# --- readiness: a detached start returns once the container says it is ready ---
# listens on PORT (or a unix socket at PATH) after DELAY seconds, then idles
listener() {  # listener DELAY tcp:PORT|unix:PATH
        local py='import socket, sys, time
time.sleep(float(sys.argv[1])); kind, where = sys.argv[2].split(":", 1)
s = socket.socket(socket.AF_INET if kind == "tcp" else socket.AF_UNIX)
s.bind(("0.0.0.0", int(where)) if kind == "tcp" else where); s.listen(); time.sleep(300)'
        echo python3 -c "'$py'" "$1" "$2"
}
listening() {  # listening NAME HEXPORT: the container's own socket table lists a TCP listener
        nsp exec "$1" cat /proc/net/tcp /proc/net/tcp6 | awk -v p=":$2" '$4 == "0A" && toupper(substr($2, length($2) - 4)) == p { f = 1 } END { exit !f }'
}
t_ready_tcp() {
        # the listener comes a second after the command starts: run returns after it
        nsp run -d --name "$P-rt" --ready tcp:9999 host sh -c "$(listener 1 tcp:9999)" >/dev/null || return 1
        listening "$P-rt" 270F || { echo "run -d returned before anything listened on 9999"; return 1; }
        nsp stop -t 0 "$P-rt" >/dev/null && nsp start "$P-rt" >/dev/null &&
                listening "$P-rt" 270F || { echo "start returned before anything listened"; return 1; }
        nsp rm -f "$P-rt" >/dev/null
}
ok "run -d and start --ready tcp:PORT return once the port listens in the container" -- t_ready_tcp
t_ready_unix_cmd() {
        nsp run -d --rm --name "$P-ru" --ready unix:/tmp/agent.sock host sh -c "$(listener 0.5 unix:/tmp/agent.sock)" >/dev/null &&
                nsp exec "$P-ru" test -S /tmp/agent.sock || { echo "unix: returned before the socket"; return 1; }
        nsp run -d --rm --name "$P-rc" --ready 'cmd:test -e /tmp/up' host sh -c 'sleep 0.5; touch /tmp/up; sleep 300' >/dev/null &&
                nsp exec "$P-rc" test -e /tmp/up || { echo "cmd: returned before it succeeded"; return 1; }
        nsp rm -f "$P-ru" "$P-rc" >/dev/null
}
ok "--ready unix:PATH and cmd:COMMAND" -- t_ready_unix_cmd
t_ready_declared() {
        local cmd; cmd=$(python3 -c 'import json, sys; print(json.dumps(["sh", "-c", sys.argv[1]]))' "$(listener 0.8 tcp:9998)")
        nsp image add "$P-agent" --rootfs host --ready tcp:9998 --cmd "$cmd" >/dev/null || return 1
        nsp image inspect "$P-agent" | grep -q '"Ready": "tcp:9998"' || { echo "image inspect lacks Ready"; return 1; }
        nsp run -d --name "$P-ri" "$P-agent" >/dev/null && listening "$P-ri" 270E || { echo "the image's readiness was not awaited"; return 1; }
        nsp run -d --name "$P-rl" --label io.nsprov.ready=tcp:9997 host sh -c "$(listener 0.8 tcp:9997)" >/dev/null &&
                listening "$P-rl" 270D || { echo "the label's readiness was not awaited"; return 1; }
        # none: the image's declaration off; the start returns at once
        nsp run -d --name "$P-rn" --ready none "$P-agent" sh -c 'sleep 300' >/dev/null || return 1
        [ "$(nsp inspect -f '{{.Config.Ready}}' "$P-ri")" = tcp:9998 ] || { echo "inspect lacks Config.Ready"; return 1; }
        nsp rm -f "$P-ri" "$P-rl" "$P-rn" >/dev/null && nsp image rm "$P-agent" >/dev/null
}
ok "readiness from the image (image add --ready) and the label io.nsprov.ready; --ready none" -- t_ready_declared
t_ready_timeout() {
        local out rc=0
        out=$(nsp run -d --name "$P-rto" --ready tcp:9996 --ready-timeout 1s host sh -c 'echo still-booting; sleep 300' 2>&1) || rc=$?
        [ "$rc" = 125 ] || { echo "exit $rc: $out"; return 1; }
        grep -q "container '$P-rto' not ready after 1.0 s: it waited for a listener on TCP port 9996; its last lines: still-booting; stopped" <<<"$out" ||
                { echo "said: $out"; return 1; }
        [ "$(nsp inspect -f '{{.State.Status}}' "$P-rto")" = exited ] || { echo "not stopped"; return 1; }
        nsp logs "$P-rto" 2>&1 | grep -q 'nsprov: not ready after 1.0 s (waited for a listener on TCP port 9996): stopped' ||
                { echo "the log does not say why"; return 1; }
        nsp rm "$P-rto" >/dev/null
        # --rm: gone, with the same word
        rc=0; out=$(nsp run -d --rm --name "$P-rtr" --ready tcp:9996 --ready-timeout 500ms host sleep 300 2>&1) || rc=$?
        [ "$rc" = 125 ] && grep -q "not ready after 0.5 s" <<<"$out" || { echo "--rm: exit $rc: $out"; return 1; }
        ! nsp inspect "$P-rtr" >/dev/null 2>&1 || { echo "--rm: the container is still there"; return 1; }
}
ok "a container not ready in time: start fails naming what it waited for, container stopped (--rm: gone), log says why" -- t_ready_timeout
t_ready_exit() {
        expect_fail 125 "container '$P-rx' exited with code 3 before it was ready (it waited for a listener on TCP port 9995); its last lines: giving up" -- \
                nsp run -d --name "$P-rx" --ready tcp:9995 host sh -c 'echo giving up; exit 3' || return 1
        nsp rm "$P-rx" >/dev/null || return 1
        # --rm: its log may be gone with it by the time the start looks; the exit code is kept
        expect_fail 125 "container '$P-rxr' exited with code 4 before it was ready" -- \
                nsp run -d --rm --name "$P-rxr" --ready tcp:9995 host sh -c 'exit 4'
}
ok "a container that exits while awaited fails the start with its exit code and last lines" -- t_ready_exit
ok "--ready that does not parse" -- expect_fail 125 "is not tcp:PORT, unix:PATH, cmd:COMMAND or none" -- nsp run -d --ready http:80 host true
ok "--ready tcp with no port" -- expect_fail 125 "a TCP port is 1-65535" -- nsp create --ready tcp:0 host true
ok "--ready-timeout that is not a duration" -- expect_fail 125 "--ready-timeout takes a duration" -- nsp run -d --ready tcp:1 --ready-timeout 5x host true
ok "an image declaring a readiness that does not parse" -- expect_fail 125 "readiness 'tcp:http'" -- nsp image add "$P-badready" --rootfs host --ready tcp:http

# --- bad input: one clear line, exit 125, nothing left ---
ok "unknown image" -- expect_fail 125 "no such image 'nope-$P'" -- nsp run --rm "nope-$P" true
ok "duplicate name" -- bash -c "$NSP_DEF nsp create --name $P-dup host true >/dev/null && { nsp create --name $P-dup host true 2>&1; [ \$? = 125 ]; } | grep -q \"name '$P-dup' is already in use\"; nsp rm $P-dup >/dev/null"
ok "invalid name" -- expect_fail 125 "invalid container name '-bad'" -- nsp create --name -bad host true
ok "a name too long" -- expect_fail 125 "1-64 characters" -- nsp create --name "$(printf 'a%.0s' $(seq 65))" host true
ok "missing command in a rootfs image" -- expect_fail 127 "no-such-$P" -- nsp run --rm "$P-bb" "no-such-$P"
ok "a rootfs path that does not exist" -- expect_fail 125 "$tmp/missing" -- nsp image add "$P-x" --rootfs "$tmp/missing"
ok "a bind mount source that is missing" -- expect_fail 125 "$tmp/nosrc" -- nsp run --rm -v "$tmp/nosrc:/x" host true
ok "a relative mount destination" -- expect_fail 125 "must be an absolute path" -- nsp run --rm -v "$tmp:rel" host true
ok "'..' in a mount destination" -- expect_fail 125 "must not contain '..'" -- nsp run --rm -v "$tmp:/a/../b" host true
ok "an unknown capability" -- expect_fail 125 "unknown capability 'CAP_NOPE'" -- nsp run --rm --cap-add CAP_NOPE host true
ok "an unknown stop signal" -- expect_fail 125 "unknown stop signal 'SIGNOPE'" -- nsp create --stop-signal SIGNOPE host true
ok "no such container" -- expect_fail 125 "no such container 'nope-$P'" -- nsp stop "nope-$P"
ok "a rootfs path with ':' (an overlay separator)" -- bash -c "$NSP_DEF mkdir -p '$tmp/a:b'; { nsp image add $P-colon --rootfs '$tmp/a:b' 2>&1; [ \$? = 125 ]; } | grep -q \"must not contain\""
ok "after all the bad input nothing is left" -- empty "$tmp/run/containers" "$tmp/run/names"

# --- soak ---
soak() {
        # Other tests run beside this one and make and remove their own mounts, netns and
        # files: every check is on what belongs to the store and containers made here.
        local ids=() id i
        for i in $(seq 100); do
                id=$(nsp run -d --name "$P-s" host true) || { echo "run -d cycle $i failed"; return 1; }
                ids+=("$id")
                nsp rm -f "$P-s" >/dev/null || { echo "rm cycle $i failed"; return 1; }
        done
        for i in $(seq 100); do nsp run --rm --name "$P-s" host true || { echo "run --rm cycle $i failed"; return 1; }; done
        for id in "${ids[@]}"; do
                [ ! -e "/run/netns/nsprov-$id" ] || { echo "netns of $id left"; return 1; }
                ! grep -q "$id" /proc/self/mountinfo || { echo "a mount of $id left"; return 1; }
        done
        # no process of this store lives on (a monitor keeps its CLI's command line, which
        # names the store), and no process holds a file of it open: a leak per cycle
        # would leave 200 of either
        local pid fd held=""
        for pid in /proc/[0-9]*; do
                grep -qsF "$tmp/run" "$pid/cmdline" && held+=" process ${pid#/proc/}"
                for fd in "$pid"/fd/*; do
                        case "$(readlink "$fd" 2>/dev/null)" in "$tmp"/*) held+=" ${fd#/proc/}" ;; esac
                done
        done
        [ -z "$held" ] || { echo "still held:$held"; return 1; }
        empty "$tmp/run/containers" "$tmp/run/names"
}
ok "200 run/rm cycles leave no mount, netns, process, open file or state file" -- soak
ok "system reset removes every container and network, bridges included" -- bash -c "$NSP_DEF
        nsp network create --bridge $P-rb1 $P-rn1 >/dev/null && nsp network create --bridge $P-rb2 $P-rn2 >/dev/null || exit 1
        nsp run -d --name $P-x1 --network $P-rn1 host sleep 60 >/dev/null; nsp create --name $P-x2 host true >/dev/null
        out=\$(nsp system reset --force) && [ \"\$out\" = 'removed 2 container(s) and 2 network(s)' ] || { echo \"said: \$out\"; exit 1; }
        empty $tmp/run/containers && [ -z \"\$(nsp network ls -q)\" ] && ! ip link show $P-rb1 >/dev/null 2>&1 && ! ip link show $P-rb2 >/dev/null 2>&1"
