#!/bin/bash
# Fault injection: run -d (on an L2 network and a subnet network), network connect, start,
# stop, rm and network rm, each SIGKILLed after a random 0-30 ms, with `serve` killed
# mid-request too, then `system gc`. After each batch: every container process of this
# store that runs is one `ps` lists as running (no orphan), no two running containers hold
# one address, and no running container has an interface its record lacks. At the end,
# after rm -f -a, network rm and gc: nothing of it is left (processes, netns, links,
# mounts, state, leases). NSPROV_FAULT_ROUNDS sets the number of kills (default 300).
set -u
. "$(dirname "$0")/tap.sh"
begin_store_test
ROUNDS=${NSPROV_FAULT_ROUNDS:-300}
L2="$P-l2"
SUB="$P-sub"
# a benchmarking range (RFC 2544) no other test uses: nothing outside this test's
# namespaces is ever addressed
SUBNET=198.18.90.0/24
seen="$tmp/seen-ids"
: >"$seen"

ok "an L2 network and a subnet network" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp network create '$L2' >/dev/null && nsp network create --subnet $SUBNET '$SUB' >/dev/null"

# timeout's KILL ends the nsprov process it ran, as a user's kill -9 or a CI job's timeout
# would; 0 ms is the kill at once
killed_after() {
        local ms=$((RANDOM % 31))
        timeout -s KILL "$(printf '0.%03d' $((ms == 0 ? 1 : ms)))" "$@" >/dev/null 2>&1
        return 0
}
random_container() {
        nsp ps -aq --no-trunc 2>/dev/null | shuf -n 1
}
remember_ids() {
        nsp ps -aq --no-trunc 2>/dev/null >>"$seen"
}

# The invariants, checked on this store's own objects: read from the kernel (each running
# container's netns), /proc (this store's monitors: a forked monitor keeps its CLI's
# command line, which names the store) and nsprov's own listing.
check_invariants() {
        python3 - "$NSPROV_BIN" "$tmp" "$SUB" <<'PY'
import json, os, subprocess, sys
nsprov, tmp, sub = sys.argv[1:]
def nsp(*a):
    return subprocess.run([nsprov, "--root", tmp + "/root", "--runroot", tmp + "/run", *a],
                          capture_output=True, text=True)
def proc_stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        comm = s[s.index("(") + 1:s.rindex(")")]
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().decode(errors="replace")
        return comm, ppid, cmd
    except (OSError, ValueError):
        return None
monitors, inits = set(), {}
procs = {int(p): proc_stat(p) for p in os.listdir("/proc") if p.isdigit()}
for pid, st in procs.items():
    if st and st[0] == "nsprov-monitor" and tmp + "/run" in st[2]:
        monitors.add(pid)
for pid, st in procs.items():
    if st and st[0] == "nsprov-init" and st[1] in monitors:
        inits[pid] = st[1]
ids = nsp("ps", "-aq", "--no-trunc").stdout.split()
running = {}
if ids:
    for c in json.loads(nsp("inspect", *ids).stdout or "[]"):
        if c["State"]["Status"] == "running":
            running[c["Id"]] = c
problems = []
listed_pids = {c["State"]["Pid"] for c in running.values()}
for pid in inits:
    if pid not in listed_pids:
        problems.append(f"container PID 1 {pid} (monitor {inits[pid]}) runs, but ps lists no running container with it")
for cid, c in running.items():
    if c["State"]["Pid"] not in inits:
        problems.append(f"{c['Name']} is listed as running with PID 1 {c['State']['Pid']}, which is not running")
addrs = {}
for cid, c in running.items():
    netns = f"/run/netns/nsprov-{cid}"
    out = subprocess.run(["ip", "-j", "-n", f"nsprov-{cid}", "addr"], capture_output=True, text=True)
    if out.returncode != 0:
        problems.append(f"{c['Name']}: its netns {netns} is gone")
        continue
    try:
        with open(f"{tmp}/run/containers/{cid}/networks.json") as f:
            recorded = {a["ifname"] for a in json.load(f)}
    except (OSError, ValueError, KeyError, TypeError):
        recorded = set()
    for link in json.loads(out.stdout):
        if link["ifname"] == "lo":
            continue
        if link["ifname"] not in recorded:
            problems.append(f"{c['Name']}: interface {link['ifname']} is not in its record")
        for a in link.get("addr_info", []):
            if a["family"] == "inet" and a["local"].startswith("198.18.90."):
                if a["local"] in addrs:
                    problems.append(f"{a['local']} is held by {addrs[a['local']]} and {c['Name']}")
                addrs[a["local"]] = c["Name"]
if problems:
    print("\n".join(problems))
    sys.exit(1)
PY
}
# A start killed a moment ago may still be undoing itself in its monitor: the invariants
# must hold once it is done, so they get up to 10 s (polled, not slept) to.
invariants_hold() {
        local i out
        for i in $(seq 100); do
                out=$(check_invariants 2>&1) && return 0
                sleep 0.1
        done
        echo "$out"
        return 1
}

violations=0
kills=0
round=0
next_name=0
batch_check() {
        nsp system gc >/dev/null 2>&1
        remember_ids
        if ! invariants_hold >"$tmp/violation" 2>&1; then
                violations=$((violations + 1))
                echo "# after kill $kills:"
                sed 's/^/#   /' "$tmp/violation"
        fi
}
while [ "$kills" -lt "$ROUNDS" ]; do
        round=$((round + 1))
        case $((RANDOM % 8)) in
        0 | 1)
                next_name=$((next_name + 1))
                killed_after nsp run -d --name "$P-c$next_name" --network "$L2,$SUB" host sleep 300 ;;
        2)
                c=$(random_container); [ -n "$c" ] && killed_after nsp network connect "$L2" "$c" ;;
        3)
                c=$(random_container); [ -n "$c" ] && killed_after nsp network connect "$SUB" "$c" ;;
        4)
                c=$(random_container); [ -n "$c" ] && killed_after nsp start "$c" ;;
        5)
                c=$(random_container); [ -n "$c" ] && killed_after nsp stop -t 0 "$c" ;;
        6)
                c=$(random_container); [ -n "$c" ] && killed_after nsp rm -f "$c" ;;
        7)
                nsp network create "$P-n$round" >/dev/null 2>&1
                c=$(random_container); [ -n "$c" ] && nsp network connect "$P-n$round" "$c" >/dev/null 2>&1
                killed_after nsp network rm -f "$P-n$round" ;;
        esac
        kills=$((kills + 1))
        remember_ids
        # keep the store small: a few containers are enough to collide
        if [ "$(nsp ps -aq | wc -l)" -gt 12 ]; then
                c=$(random_container); nsp rm -f "$c" >/dev/null 2>&1
        fi
        [ $((kills % 10)) = 0 ] && batch_check
done
batch_check

# The API: serve killed while it creates, starts and removes containers for a client.
api_kills=0
sock="$tmp/api.sock"
for i in $(seq 30); do
        # the binary itself in the background, so that $! is serve's pid
        "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" serve --listen "unix://$sock" >/dev/null 2>&1 &
        spid=$!
        for t in $(seq 100); do [ -S "$sock" ] && break; sleep 0.01; done
        name="$P-api$i"
        (
                curl -s --unix-socket "$sock" -X POST -H 'Content-Type: application/json' \
                        -d "{\"image\":\"host\",\"name\":\"$name\",\"command\":[\"sleep\",\"300\"],\"netns\":{\"nsmode\":\"bridge\"},\"Networks\":{\"$SUB\":{}}}" \
                        http://d/v4.0.0/libpod/containers/create >/dev/null
                curl -s --unix-socket "$sock" -X POST "http://d/v4.0.0/libpod/containers/$name/start" >/dev/null
                curl -s --unix-socket "$sock" -X POST "http://d/v4.0.0/libpod/networks/$L2/connect" \
                        -d "{\"Container\":\"$name\"}" >/dev/null
        ) &
        cpid=$!
        sleep "0.0$((RANDOM % 10))"
        kill -KILL "$spid" 2>/dev/null
        wait "$spid" 2>/dev/null
        wait "$cpid" 2>/dev/null
        rm -f "$sock"
        api_kills=$((api_kills + 1))
        remember_ids
done
batch_check

echo "# $kills CLI kills in $round rounds, $api_kills kills of serve, $(sort -u "$seen" | wc -l) containers, $violations violated checks"
ok "no orphan, no address held twice, no unrecorded link after $kills kills and $api_kills of serve" -- test "$violations" = 0

# A full disk under the runroot: a start that cannot write its records fails with the
# reason and leaves no process, netns or address behind; with room again it starts.
full_disk() {
        local run="$tmp/full-run" root="$tmp/full-root" out
        mkdir -p "$run" && mount -t tmpfs -o size=1m "$P-full" "$run" || return 1
        f() { "$NSPROV_BIN" --root "$root" --runroot "$run" "$@"; }
        f network create --subnet 198.18.91.0/24 "$P-fnet" >/dev/null || return 1
        f create --name "$P-full" --network "$P-fnet" host sleep 300 >/dev/null || return 1
        local id; id=$(f inspect -f '{{.Id}}' "$P-full")
        local k rc=0
        # room for nothing, then for one page (the ledger's) but not the record's commit
        for k in 0 1; do
                local avail; avail=$(df --output=avail -B4096 "$run" | tail -1)
                dd if=/dev/zero of="$run/fill" bs=4096 count=$((avail - k)) 2>/dev/null
                if out=$(f start "$P-full" 2>&1); then echo "a start on a full disk succeeded"; rc=1; fi
                grep -q "No space left on device" <<<"$out" || { echo "no reason given: $out"; rc=1; }
                [ "$(f inspect -f '{{.State.Status}}' "$P-full")" != running ] || { echo "recorded as running"; rc=1; }
                ! grep -qs "$run" /proc/[0-9]*/cmdline 2>/dev/null || { echo "a process of the store runs"; rc=1; }
                [ ! -e "/run/netns/nsprov-$id" ] || { echo "its netns is left"; rc=1; }
                ! grep -qs "$id" "$run/ipam/$P-fnet.json" || { echo "an address is held"; rc=1; }
                rm -f "$run/fill"
        done
        f start "$P-full" >/dev/null || { echo "no start with room again"; rc=1; }
        [ "$(f inspect -f '{{.State.Status}}' "$P-full")" = running ] || rc=1
        f rm -f "$P-full" >/dev/null; f network rm "$P-fnet" >/dev/null
        umount "$run"
        return $rc
}
defer "umount '$tmp/full-run' 2>/dev/null"
ok "a full disk under the runroot: the start fails with the reason, nothing left; with room it starts" -- full_disk
# A netlink error mid-wiring: the kernel refuses the second interface of a start (its
# name, lo, is the container's loopback) after the first is wired and addressed; and the
# same refusal for a hot plug into a running container. Nothing of either is left: no link
# with the container's mark, no address held, no netns; the container runs or not as before.
netlink_error_mid_wiring() {
        local id rc=0
        nsp create --name "$P-mid" --network "$SUB" host sleep 300 >/dev/null || return 1
        id=$(nsp inspect -f '{{.Id}}' "$P-mid")
        nsp network connect --interface-name lo "$L2" "$P-mid" >/dev/null || { echo "connect to a created one"; return 1; }
        local out
        if out=$(nsp start "$P-mid" 2>&1); then echo "the start succeeded"; rc=1; fi
        grep -q "connect lo of '$P-mid' to '$L2'.*File exists" <<<"$out" || { echo "no reason given: $out"; rc=1; }
        [ "$(nsp inspect -f '{{.State.Status}}' "$P-mid")" = created ] || { echo "not left created"; rc=1; }
        [ -z "$(nsp system marked --owner "$id" | tail -n +2)" ] || { echo "marked: $(nsp system marked --owner "$id")"; rc=1; }
        ! grep -qs "$id" "$tmp/run/ipam/$SUB.json" || { echo "an address is held"; rc=1; }
        [ ! -e "/run/netns/nsprov-$id" ] || { echo "its netns is left"; rc=1; }
        # the bad interface gone, it starts; a hot plug refused by the kernel leaves it as it was
        nsp network disconnect --interface-name lo "$L2" "$P-mid" >/dev/null && nsp start "$P-mid" >/dev/null ||
                { echo "no start without it"; rc=1; }
        local links; links=$(nsp system marked --owner "$id" | tail -n +2 | wc -l)
        [ "$links" -ge 1 ] || { echo "system marked shows nothing of a running container"; rc=1; }
        if nsp network connect --interface-name lo "$L2" "$P-mid" >/dev/null 2>&1; then echo "the hot plug succeeded"; rc=1; fi
        [ "$(nsp system marked --owner "$id" | tail -n +2 | wc -l)" = "$links" ] || { echo "the hot plug left a link"; rc=1; }
        [ "$(nsp inspect -f '{{.State.Status}}' "$P-mid")" = running ] || { echo "not running after the hot plug"; rc=1; }
        nsp rm -f "$P-mid" >/dev/null
        [ -z "$(nsp system marked --owner "$id" | tail -n +2)" ] || { echo "left after rm"; rc=1; }
        return $rc
}
ok "a netlink error mid-wiring (start and hot plug): refused with the reason, nothing of it left" -- netlink_error_mid_wiring
ok "rm -f -a, network rm and gc leave every container gone" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp rm -f -a >/dev/null; nsp network rm -f \$(nsp network ls -q) >/dev/null; nsp system gc >/dev/null; [ -z \"\$(nsp ps -aq)\" ] && [ -z \"\$(nsp network ls -q)\" ]"
# A create killed in its last two seconds is told from one in progress only by its age
# (its lock is free either way): gc takes it once that has passed.
gc_until_clean() {
        local i
        for i in $(seq 40); do
                nsp system gc >/dev/null 2>&1
                [ -z "$(ls "$tmp/run/containers" 2>/dev/null)" ] && [ -z "$(ls "$tmp/run/names" 2>/dev/null)" ] && return 0
                sleep 0.1
        done
}
gc_until_clean
nothing_left() {
        local left=""
        for pid in $(ls /proc | grep '^[0-9]*$'); do
                if grep -qs "$tmp/run" "/proc/$pid/cmdline" && grep -qsx 'nsprov-\(monitor\|init\)' "/proc/$pid/comm"; then
                        left+=" process $pid ($(cat /proc/$pid/comm 2>/dev/null))"
                fi
        done
        for id in $(sort -u "$seen"); do
                [ -e "/run/netns/nsprov-$id" ] && left+=" netns nsprov-$id"
                ip -o link show | grep -q "nsprov:$id" && left+=" a link marked $id"
        done
        grep -q "$tmp" /proc/self/mountinfo && left+=" mounts under $tmp"
        [ -n "$(ls "$tmp/run/containers" 2>/dev/null)" ] && left+=" state: $(ls "$tmp/run/containers")"
        [ -n "$(ls "$tmp/run/names" 2>/dev/null)" ] && left+=" names: $(ls "$tmp/run/names")"
        for f in "$tmp"/run/ipam/*.json; do
                [ -f "$f" ] && [ "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$f")" != 0 ] && left+=" leases in $f: $(cat "$f")"
        done
        [ -z "$left" ] || { echo "left:$left"; return 1; }
}
ok "nothing is left: processes, netns, links, mounts, state, leases" -- nothing_left
