#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Podman shim as its clients drive it: Debian's podman binary as a remote client
# (podman --url unix://…), LNST's ContainerPoolManager flow replayed for each network
# plugin (lnst-flow.py, stdlib only), nsprov's own `podman` command, and bad input over a
# raw socket. Everything runs on a private store and socket; the default network is
# named podman (as LNST reads it) on a bridge with the test's prefix.
set -uo pipefail
. "$(dirname "$0")/tap.sh"
require_root
trap tap_finish EXIT

use_private_store
SOCK=$tmp/api.sock
export NSPROV_DEFAULT_NETWORK=podman NSPROV_DEFAULT_BRIDGE=${TEST_PREFIX}pd NSPROV_DEFAULT_SUBNET=198.18.42.0/24
export NSPROV_CNI_CONFIG_DIR=$tmp/cni NSPROV_CNI_CACHE_DIR=$tmp/cnicache
mkdir -p "$tmp/cni" "$tmp/bin"
ln -s "$NSPROV_BIN" "$tmp/bin/podman"
defer ip link del "${TEST_PREFIX}pd"
"$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" serve --listen "unix://$SOCK" \
        --ready "$TEST_PREFIX-agent=tcp:9994" 2>"$tmp/serve.log" &
SERVER=$!
# last registered, first run: the server goes after every container and network
defer nsp system reset --force
defer kill "$SERVER"
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
defer nsp system reset --force
nsp image add lnst --rootfs host --cmd '["sleep","300"]' >/dev/null
P=$TEST_PREFIX
pm() { timeout 60 podman --url "unix://$SOCK" "$@"; }
dk() { timeout 60 docker -H "unix://$SOCK" "$@"; }
# grep -q stops reading at its first match, and a Go client still writing gets SIGPIPE,
# which pipefail turns into a failure now and then: this reads to the end.
grep_q() { grep "$@" >/dev/null; }
# nsprov's podman command on the same state, as LNST's subprocess finds it on PATH
npm() { NSPROV_ROOT=$tmp/root NSPROV_RUNROOT=$tmp/run "$tmp/bin/podman" "$@"; }

ok "the socket is 0660 root:root" -- test "$(stat -c '%a %U %G' "$SOCK")" = "660 root root"
ok "podman version: the server's version" -- bash -c "$(declare -f pm grep_q); SOCK=$SOCK; pm version | grep -A2 '^Server:' | grep_q 'Version: *4.9.4'"
ok "podman info: the network backend LNST's auto mode reads" -- \
        bash -c "$(declare -f pm); SOCK=$SOCK; [ \"\$(pm info --format '{{.Host.NetworkBackend}}')\" = netavark ]"
ok "podman image exists: lnst and localhost/lnst:latest yes, nope no" -- bash -c "$(declare -f pm); SOCK=$SOCK
        pm image exists lnst && pm image exists localhost/lnst:latest && ! pm image exists nope"

t_images() {
        local got
        got=$(pm images --format '{{.Repository}}:{{.Tag}}')
        grep -qx 'localhost/lnst:latest' <<<"$got" || { echo "podman images: $got"; return 1; }
        got=$(pm image inspect --format '{{.Config.Cmd}}' lnst)
        [ "$got" = '[sleep 300]' ] || { echo "podman image inspect: $got"; return 1; }
        # the built-in host image dates from the host's release, not from 1970
        got=$(pm images --format '{{.Repository}} {{.CreatedAt}}' | grep '^localhost/host ')
        [ -n "$got" ] && ! grep -q ' 1970-' <<<"$got" || { echo "host image: $got"; return 1; }
        got=$(dk images --format '{{.Repository}}:{{.Tag}}')
        grep -qx 'localhost/lnst:latest' <<<"$got" || { echo "docker images: $got"; return 1; }
        got=$(dk image inspect --format '{{.Id}}' lnst)
        [[ $got == sha256:* ]] || { echo "docker image inspect: $got"; return 1; }
        # docker info in Docker's shape: its counts, not the libpod info's zeros
        got=$(dk info --format '{{.Containers}} {{.Images}} {{.ServerVersion}}')
        [ "$got" = "$(pm ps -a -q | wc -l) 2 4.9.4" ] || { echo "docker info: $got"; return 1; }
}
ok "images: podman images and image inspect, docker images, image inspect and info" -- t_images

t_lifecycle() {
        pm create --name "$P-a" --hostname h1 --privileged lnst >/dev/null || return 1
        [ "$(pm inspect --format '{{.State.Status}} {{.NetworkSettings.SandboxKey}}x' "$P-a")" = "created x" ] || return 1
        pm start "$P-a" >/dev/null || return 1
        local f ip
        f=$(pm inspect --format '{{.State.Status}} {{.Config.Hostname}} {{.NetworkSettings.Networks.podman.IPAddress}}' "$P-a")
        ip=${f##* }
        [[ $f == "running h1 198.18.42."* ]] || { echo "inspect: $f"; return 1; }
        ping -c1 -W2 "$ip" >/dev/null || return 1
        pm ps --format '{{.Names}} {{.Status}}' | grep_q "^$P-a Up" || return 1
        [ "$(pm inspect --format '{{.NetworkSettings.IPAddress}}' "$P-a")" = "$ip" ]   # one network: copied to the top
}
ok "podman create, start, inspect, ps: running, hostname, an address the host reaches" -- t_lifecycle

# Readiness through the API: a start answers once the container is ready, whether the
# server declares it for the image (serve --ready) or the container does (a label)
listener() {  # a command that listens on TCP PORT after DELAY seconds: listener DELAY PORT
        echo "python3 -c 'import socket, time; time.sleep($1); s = socket.socket(); s.bind((\"0.0.0.0\", $2)); s.listen(); time.sleep(300)'"
}
listening() {  # listening NAME HEXPORT
        nsp exec "$1" cat /proc/net/tcp | awk -v p=":$2" '$4 == "0A" && toupper(substr($2, length($2) - 4)) == p { f = 1 } END { exit !f }'
}
t_ready() {
        local cmd out rc=0
        cmd=$(python3 -c 'import json, sys; print(json.dumps(["sh", "-c", sys.argv[1]]))' "$(listener 1 9994)")
        nsp image add "$P-agent" --rootfs host --cmd "$cmd" >/dev/null || return 1
        pm run -d --name "$P-ra" "$P-agent" >/dev/null && listening "$P-ra" 270A ||
                { echo "podman run -d returned before the agent listened (serve --ready)"; return 1; }
        dk run -d --name "$P-rd" --label io.nsprov.ready=tcp:9993 lnst sh -c "$(listener 1 9993)" >/dev/null &&
                listening "$P-rd" 2709 || { echo "docker run -d returned before the label's listener"; return 1; }
        out=$(pm run -d --name "$P-rt" --label io.nsprov.ready=tcp:9992 --label io.nsprov.ready-timeout=1s lnst 2>&1) || rc=$?
        [ "$rc" != 0 ] && grep_q "container '$P-rt' not ready after 1.0 s: it waited for a listener on TCP port 9992" <<<"$out" ||
                { echo "a container never ready: exit $rc: $out"; return 1; }
        [ "$(pm inspect --format '{{.State.Status}}' "$P-rt")" = exited ] || { echo "not stopped"; return 1; }
        pm rm -f "$P-ra" "$P-rd" "$P-rt" >/dev/null
}
ok "start answers once the container is ready: serve --ready IMAGE=tcp:PORT, the label io.nsprov.ready; a bound" -- t_ready

t_exec() {
        local out err rc=0
        out=$(pm exec "$P-a" sh -c 'echo out; echo err >&2; exit 3' 2>"$tmp/err") || rc=$?
        [ "$rc" = 3 ] && [ "$out" = out ] && grep -qx err "$tmp/err" || { echo "rc=$rc out=$out"; cat "$tmp/err"; return 1; }
        pm exec -t "$P-a" ip -j a | tr -d '\r' | python3 -c 'import json,sys; assert any(l["ifname"]=="eth0" for l in json.load(sys.stdin))' || return 1
        pm exec -it "$P-a" ip -j a </dev/null | tr -d '\r' | python3 -c 'import json,sys; json.load(sys.stdin)' || return 1
        [ "$(echo 'hello stdin' | pm exec -i "$P-a" cat)" = "hello stdin" ] || return 1
        rc=0; pm exec "$P-a" nonexistent-cmd 2>/dev/null || rc=$?
        [ "$rc" = 127 ]
}
ok "podman exec: streams and exit codes; -t and -it (LNST's ip -j a); -i stdin; not found 127" -- t_exec

t_exec_tty_size() {
        PYTHONPATH="$(dirname "$0")" PYTHONDONTWRITEBYTECODE=1 python3 - "$SOCK" "$P-a" <<'PY'
import json, socket, sys, time
import apiclient
path, name = sys.argv[1], sys.argv[2]
call = apiclient.caller(path)
def run(cmd, start, resize=None):
    status, data = call("POST", f"/containers/{name}/exec", {"Cmd": cmd, "Tty": True, "AttachStdout": True})
    sid = json.loads(data)["Id"]
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    body = json.dumps(start).encode()
    s.sendall(b"POST /v4.3.1/libpod/exec/%s/start HTTP/1.1\r\nHost: d\r\nUser-Agent: test\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (sid.encode(), len(body), body))
    out = b""
    while b"\r\n\r\n" not in out:
        out += s.recv(65536)
    if resize:  # while it runs, from a second connection, as the 4.3 CLI does
        status, _ = call("POST", f"/exec/{sid}/resize?h={resize[0]}&w={resize[1]}")
        assert status == 201, status
    while chunk := s.recv(65536):
        out += chunk
    return out.split(b"\r\n\r\n", 1)[1].replace(b"\r", b"").decode().strip()
got = run(["stty", "size"], {"Detach": False, "Tty": True, "h": 33, "w": 101})
assert got == "33 101", f"start's h/w: {got!r}"
got = run(["sh", "-c", "sleep 0.5; stty size"], {"Detach": False, "Tty": True}, resize=(40, 120))
assert got == "40 120", f"after resize: {got!r}"
got = run(["no-such-command"], {"Detach": False, "Tty": True})
assert "executable file not found" in got, got
# detached, with and without a terminal: 200 at once, the command runs on, its exit
# code comes with the session once it ends
for tty, code in ((False, 7), (True, 0)):
    status, data = call("POST", f"/containers/{name}/exec",
                        {"Cmd": ["sh", "-c", f"sleep 0.2; tty > /tmp/detached-{tty}; exit {code}"], "Tty": tty})
    sid = json.loads(data)["Id"]
    status, data = call("POST", f"/exec/{sid}/start", {"Detach": True, "Tty": tty})
    assert status == 200 and data == b"\n", (status, data)
    for _ in range(100):
        info = json.loads(call("GET", f"/exec/{sid}/json")[1])
        if not info["Running"]:
            break
        time.sleep(0.05)
    assert not info["Running"] and info["ExitCode"] == code, info
    got = run(["cat", f"/tmp/detached-{tty}"], {"Detach": False, "Tty": True})
    assert got.startswith("/dev/pts/") if tty else got == "not a tty", (tty, got)
PY
}
ok "exec: a terminal sized by start's h/w and by resize while it runs; not found said in the stream; detached sessions run on and keep their exit code" -- t_exec_tty_size

# A session made while the container ran, started after it stopped: 409, Podman's
# "container state improper", attached or detached, and nothing left running.
t_exec_stopped() {
        pm run -d --name "$P-xs" lnst >/dev/null || return 1
        PYTHONPATH="$(dirname "$0")" PYTHONDONTWRITEBYTECODE=1 python3 - "$SOCK" "$P-xs" <<'PY'
import json, sys
import apiclient
path, name = sys.argv[1], sys.argv[2]
call = apiclient.caller(path)
cid = json.loads(call("GET", f"/containers/{name}/json")[1])["Id"]
sids = [json.loads(call("POST", f"/containers/{name}/exec", {"Cmd": ["true"], "Tty": tty})[1])["Id"]
        for tty in (False, True)]
assert call("POST", f"/containers/{name}/stop?timeout=0")[0] == 204
for sid, detach in zip(sids, (False, True)):
    status, data = call("POST", f"/exec/{sid}/start", {"Detach": detach})
    body = json.loads(data)
    assert status == 409 and body["cause"] == "container state improper", (status, body)
    assert body["message"] == f"cannot exec in a container that is not running; container {cid} is exited", body
    info = json.loads(call("GET", f"/exec/{sid}/json")[1])
    assert not info["Running"] and info["ExitCode"] == 126, info
PY
        local r=$?
        pm rm -f "$P-xs" >/dev/null
        return $r
}
ok "exec start in a container stopped since the session was made: 409, container state improper" -- t_exec_stopped

t_wait_logs() {
        pm run -d --name "$P-w" lnst sh -c 'echo to-out; echo to-err >&2; exit 7' >/dev/null || return 1
        [ "$(pm wait "$P-w")" = 7 ] || return 1
        [ "$(pm logs "$P-w" 2>/dev/null)" = to-out ] && [ "$(pm logs "$P-w" 2>&1 >/dev/null)" = to-err ] || return 1
        pm rm "$P-w" >/dev/null
}
ok "podman wait gives the exit code; podman logs splits stdout and stderr" -- t_wait_logs
t_logs_follow() {
        pm run -d --name "$P-lf" lnst sh -c 'for i in 1 2 3; do echo line$i; sleep 0.3; done' >/dev/null || return 1
        # from the first line on, each as it comes, and the stream ends with the container
        local out; out=$(timeout 10 podman --url "unix://$SOCK" logs -f "$P-lf" | tr -d '\r' | tr '\n' ' ')
        [ "$out" = "line1 line2 line3 " ] || { echo "followed: '$out'"; return 1; }
        [ "$(pm logs --tail 1 "$P-lf")" = line3 ] || return 1
        pm rm "$P-lf" >/dev/null
}
ok "podman logs -f follows until the container ends; --tail keeps the last lines" -- t_logs_follow

t_run_attached() {
        local out rc=0
        out=$(pm run --name "$P-r" lnst sh -c 'echo attached-out; echo attached-err >&2; exit 5' 2>"$tmp/rerr") || rc=$?
        [ "$rc" = 5 ] && [ "$out" = attached-out ] && grep -qx attached-err "$tmp/rerr" || { echo "run: rc=$rc '$out'"; return 1; }
        pm rm "$P-r" >/dev/null || return 1
        rc=0; out=$(pm run --rm lnst sh -c 'echo rm-out; exit 6') || rc=$?
        [ "$rc" = 6 ] && [ "$out" = rm-out ] || { echo "run --rm: rc=$rc '$out'"; return 1; }
        [ -z "$(pm ps -a -q)" ] || [ "$(pm ps -a --format '{{.Names}}' | grep -v "^$P-a$")" = "" ]
}
t_events() {
        pm run --name "$P-ev" lnst sh -c 'exit 3' >/dev/null 2>&1
        pm rm "$P-ev" >/dev/null || return 1
        [ "$(pm events --stream=false --filter container="$P-ev" --format '{{.Status}}' | tr '\n' ' ')" = "create start died remove " ] || return 1
        [ "$(pm events --stream=false --filter container="$P-ev" --filter event=died --format '{{.ContainerExitCode}}')" = 3 ] || return 1
        dk events --since 0 --until "$(($(date +%s) + 1))" --filter container="$P-ev" --filter event=start | grep_q "container start"
}
ok "podman events / docker events: the container's life from the event log, filtered" -- t_events

ok "podman run without -d: attach streams the output, exit code from wait; --rm too (its code outlives it)" -- t_run_attached

t_networks() {
        # made through the API: Podman 4.3's client cannot name the bridge, and ours must
        # carry the test's prefix
        curl -sf --unix-socket "$SOCK" -d '{"name":"'"$P-n1"'","internal":true,"ipam_options":{"driver":"none"},"network_interface":"'"${P}n1"'"}' \
                http://d/v4.3.1/libpod/networks/create >/dev/null || return 1
        curl -sf --unix-socket "$SOCK" http://d/v4.3.1/libpod/networks/json |
                python3 -c 'import json,sys; n=json.load(sys.stdin); assert n[0]["name"]=="podman", n' || return 1
        pm network ls --format '{{.Name}}' | grep_q -x "$P-n1" || return 1
        [ "$(pm network inspect --format '{{.NetworkInterface}} {{.Internal}}' "$P-n1")" = "${P}n1 true" ] || return 1
        pm network connect "$P-n1" "$P-a" || return 1
        npm exec "$P-a" ip link show eth1 >/dev/null || return 1
        { pm network connect "$P-n1" "$P-a" 2>&1 || true; } | grep_q 'already connected' || return 1
        pm network disconnect "$P-n1" "$P-a" || return 1
        ! npm exec "$P-a" ip link show eth1 >/dev/null 2>&1 || return 1
        pm network rm "$P-n1" >/dev/null && ! ip link show "${P}n1" >/dev/null 2>&1 || return 1
        { pm network rm podman 2>&1 || true; } | grep_q 'cannot be removed'
}
ok "network create (API), ls (podman first), inspect, connect (hot plug), disconnect, rm" -- t_networks

t_network_options() {
        curl -sf --unix-socket "$SOCK" -d '{"name":"'"$P-on"'","network_interface":"'"${P}on"'","subnets":[{"subnet":"198.18.43.0/24"}]}' \
                http://d/v4.3.1/libpod/networks/create >/dev/null || return 1
        pm run -d --name "$P-o" --network "$P-on:mac=02:42:aa:bb:cc:01,interface_name=lab7,ip=198.18.43.77" lnst >/dev/null || return 1
        [ "$(pm inspect -f "{{(index .NetworkSettings.Networks \"$P-on\").MacAddress}} {{(index .NetworkSettings.Networks \"$P-on\").IPAddress}}" "$P-o")" = \
          "02:42:aa:bb:cc:01 198.18.43.77" ] || return 1
        npm exec "$P-o" ip -br addr show lab7 | grep_q '198.18.43.77/24' || return 1
        pm rm -f "$P-o" >/dev/null && pm network rm "$P-on" >/dev/null
}
ok "create's per-network options: static MAC, IP and interface name" -- t_network_options

t_stop_rm() {
        { pm rm "$P-a" 2>&1 || true; } | grep_q 'container state improper' || return 1
        pm stop "$P-a" >/dev/null && [ "$(pm inspect --format '{{.State.Status}}' "$P-a")" = exited ] || return 1
        pm rm "$P-a" >/dev/null && ! pm container exists "$P-a"
}
t_user() {
        [ "$(pm exec --user nobody "$P-a" id -u)" = 65534 ] || return 1
        local rc=0; pm exec --user ghost "$P-a" true >/dev/null 2>&1 || rc=$?
        [ "$rc" = 126 ] || { echo "exec as a user the container lacks: rc $rc"; return 1; }
        pm run -d --user nobody --name "$P-u" lnst >/dev/null || return 1
        [ "$(pm inspect --format '{{.Config.User}}' "$P-u")" = nobody ] && [ "$(pm exec "$P-u" id -u)" = 65534 ] || return 1
        pm rm -f "$P-u" >/dev/null
}
ok "users: exec --user, an unknown one 126; a container created with a user runs as it, and so do its execs" -- t_user

t_top() {
        local out
        out=$(pm top "$P-a") && echo "$out" | grep -Eq '^root +1 +0 +nsprov-init$' &&
                echo "$out" | grep -Eq '^root +2 +1 +sleep 300$' || { echo "podman top: $out"; return 1; }
        dk top "$P-a" | grep -Eq 'sleep 300$' || return 1
        pm run -d --user nobody --name "$P-t" lnst >/dev/null && pm stop "$P-t" >/dev/null || return 1
        out=$(pm top "$P-t" 2>&1); pm rm "$P-t" >/dev/null
        [[ $out == *"can only be used on running containers"* ]] || { echo "top of a stopped one: $out"; return 1; }
}
ok "podman top and docker top: the container's pids and users; a stopped container refused" -- t_top

t_container_tty_size() {
        local api="http://d/v4.3.1/libpod/containers" out
        # sized before the start, as Podman's client does: the command sees it at once
        pm create -t --name "$P-w" lnst stty size >/dev/null || return 1
        curl -sf --unix-socket "$SOCK" -X POST "$api/$P-w/resize?h=25&w=81&running=false" >/dev/null &&
                pm start "$P-w" >/dev/null && pm wait "$P-w" >/dev/null || return 1
        out=$(pm logs "$P-w" | tr -d '\r'); pm rm "$P-w" >/dev/null
        [ "$out" = "25 81" ] || { echo "before start: '$out'"; return 1; }
        # and while it runs
        pm run -d -t --name "$P-w" lnst sh -c 'sleep 1; stty size' >/dev/null &&
                curl -sf --unix-socket "$SOCK" -X POST "$api/$P-w/resize?h=41&w=97" >/dev/null &&
                pm wait "$P-w" >/dev/null || return 1
        out=$(pm logs "$P-w" | tr -d '\r'); pm rm "$P-w" >/dev/null
        [ "$out" = "41 97" ] || { echo "while running: '$out'"; return 1; }
        # the docker CLI gives its terminal's size at create (ConsoleSize)
        out=$(script -qc "stty rows 33 cols 89; docker -H unix://$SOCK run --rm -it lnst stty size" /dev/null </dev/null |
                grep -ao '[0-9]* [0-9]*')  # the terminal's own escapes around it stay out
        [ "$out" = "33 89" ] || { echo "docker run -it: '$out'"; return 1; }
}
ok "a container's own terminal: sized by resize before its start and while it runs, and by docker's ConsoleSize" -- t_container_tty_size

t_binds() {
        mkdir -p "$tmp/vol" && touch "$tmp/vol/marker" || return 1
        local out
        out=$(pm run --rm -v "$tmp/vol:/mnt" lnst ls /mnt) && [ "$out" = marker ] || { echo "podman -v: '$out'"; return 1; }
        out=$(pm run --rm -v "$tmp/vol:/mnt:ro" lnst sh -c 'touch /mnt/x 2>/dev/null; echo $?')
        [ "$out" = 1 ] || { echo "podman -v :ro: '$out'"; return 1; }
        out=$(dk run --rm -v "$tmp/vol:/mnt" lnst ls /mnt) && [ "$out" = marker ] || { echo "docker -v: '$out'"; return 1; }
        out=$(dk run --rm --mount "type=bind,source=$tmp/vol,target=/mnt,readonly" lnst sh -c 'ls /mnt; touch /mnt/y 2>/dev/null; echo $?' | tr '\n' ' ')
        [ "$out" = "marker 1 " ] || { echo "docker --mount readonly: '$out'"; return 1; }
        out=$(pm run --rm -v "$P-named:/data" lnst true 2>&1)
        [[ $out == *"named volumes are not supported"* ]] || { echo "a named volume: '$out'"; return 1; }
        out=$(pm run --rm --tmpfs /scratch lnst true 2>&1)
        [[ $out == *'mount type "tmpfs" is not supported'* ]] || { echo "a tmpfs: '$out'"; return 1; }
        # a --rm container whose start fails is removed, so docker's wait for the removal ends
        local rc=0; timeout -s KILL 30 docker -H "unix://$SOCK" run --rm lnst no-such-cmd >/dev/null 2>&1 || rc=$?
        [ "$rc" = 127 ] || { echo "docker run --rm of a missing command: rc $rc"; return 1; }
        [ -z "$(pm ps -a -q --filter ancestor=lnst --filter status=created)" ]
}
ok "bind mounts through the API (podman -v, -v :ro; docker -v, --mount readonly); volumes refused by name; a failed --rm start removes it" -- t_binds

t_static_ips() {
        local out
        dk network create --subnet 198.18.46.0/24 "$P-d1" >/dev/null && dk network create --subnet 198.18.47.0/24 "$P-d2" >/dev/null || return 1
        dk run -d --name "$P-s1" --network "$P-d1" --ip 198.18.46.7 lnst >/dev/null || return 1
        # a second network with a gateway: its address, and no second default route
        dk network connect --ip 198.18.47.9 "$P-d2" "$P-s1" || return 1
        out=$(dk exec "$P-s1" sh -c 'ip -br -4 a | grep -o "198\.18\.4[67]\.[0-9]*"; ip route | grep default' | tr '\n' ' ')
        dk rm -f "$P-s1" >/dev/null; dk network rm "$P-d1" "$P-d2" >/dev/null
        [ "$out" = "198.18.46.7 198.18.47.9 default via 198.18.46.1 dev eth0  " ] || { echo "got: '$out'"; return 1; }
        # podman's --ip and --mac-address without --network: the default network's, named "default"
        pm run -d --name "$P-s2" --ip 198.18.42.77 --mac-address 02:aa:bb:cc:dd:ee lnst >/dev/null || return 1
        out=$(pm exec "$P-s2" ip -br link show eth0 | awk '{print $3}')$(pm inspect --format ' {{.NetworkSettings.Networks.podman.IPAddress}}' "$P-s2")
        pm rm -f "$P-s2" >/dev/null
        [ "$out" = "02:aa:bb:cc:dd:ee 198.18.42.77" ] || { echo "podman --ip --mac-address: '$out'"; return 1; }
}
ok "docker run --ip, network connect --ip, podman run --ip --mac-address: the addresses asked for; a second network with a gateway adds no second default route" -- t_static_ips

t_run_stdin() {
        local out
        out=$(printf 'one\ntwo\n' | timeout -s KILL 30 podman --url "unix://$SOCK" run --rm -i lnst cat | tr '\n' ' ')
        [ "$out" = "one two " ] || { echo "podman run -i: '$out'"; return 1; }
        out=$(echo three | timeout -s KILL 30 docker -H "unix://$SOCK" run --rm -i lnst cat)
        [ "$out" = three ] || { echo "docker run -i: '$out'"; return 1; }
        # more than a pipe holds, and stdin's EOF reaches the command
        out=$(head -c 300000 /dev/zero | timeout -s KILL 30 podman --url "unix://$SOCK" run --rm -i lnst wc -c)
        [ "$out" = 300000 ] || { echo "podman run -i of 300000 bytes: '$out'"; return 1; }
        # the monitor's stdin socket goes with the container's end (kept, not --rm)
        out=$(echo four | timeout -s KILL 30 podman --url "unix://$SOCK" run --name "$P-in" -i lnst cat)
        [ "$out" = four ] || { echo "podman run -i, kept: '$out'"; return 1; }
        local id left; id=$(pm inspect -f '{{.Id}}' "$P-in")
        [ -d "$tmp/run/containers/$id" ] && [ -e "$tmp/run/containers/$id/stdin.sock" ] && left=1
        pm rm "$P-in" >/dev/null
        [ -n "$id" ] && [ -z "${left:-}" ] || { echo "stdin.sock left in $id's dir"; return 1; }
}
ok "run -i through the API: the client's stdin reaches the command (podman and docker), its EOF too; its socket goes with the end" -- t_run_stdin

ok "podman rm of a running container refused; stop, then rm" -- t_stop_rm

t_podman_command() {
        pm run -d --name "$P-c" lnst >/dev/null || return 1
        npm exec -it "$P-c" ip -j a | tr -d '\r' | python3 -c 'import json,sys; json.load(sys.stdin)' || return 1
        npm ps | grep_q "$P-c" || return 1
        expect_fail 125 "'podman build' is not supported" -- npm build x || return 1
        # pointed at the server (CONTAINER_HOST, --url) with no state dirs of its own: the
        # server's
        CONTAINER_HOST="unix://$SOCK" "$tmp/bin/podman" ps | grep_q "$P-c" || return 1
        "$tmp/bin/podman" --url "unix://$SOCK" exec "$P-c" true || return 1
        expect_fail 125 'unable to connect' -- "$tmp/bin/podman" --url "unix://$tmp/none.sock" ps || return 1
        npm rm -f "$P-c" >/dev/null
}
ok "nsprov as podman: exec -it, ps on the server's state, also found through CONTAINER_HOST/--url; unsupported commands name themselves, 125" -- t_podman_command

for plugin in netavark cni custom_lnst; do
        ok "LNST's ContainerPoolManager flow, $plugin plugin: two agents, their new NICs, cleanup" -- \
                env PATH="$tmp/bin:$PATH" NSPROV_ROOT="$tmp/root" NSPROV_RUNROOT="$tmp/run" \
                python3 "$(dirname "$0")/lnst-flow.py" "$SOCK" "$plugin" "$P" "$tmp/cni" "$tmp/bin/podman"
done
ok "...and nothing of theirs is left" -- bash -c "$(declare -f pm); SOCK=$SOCK
        [ -z \"\$(pm ps -a -q)\" ] && [ \"\$(pm network ls --format '{{.Name}}')\" = podman ]"

# ---- the docker CLI on the compat API (7.2) ----
t_docker() {
        dk version --format '{{.Server.APIVersion}}' | grep_q -x 1.41 || return 1
        dk run -d --name "$P-d" --hostname dh --privileged lnst >/dev/null || return 1
        dk ps --format '{{.Names}} {{.State}}' | grep_q -x "$P-d running" || return 1
        [ "$(dk inspect -f '{{.Name}} {{.Config.Hostname}}' "$P-d")" = "/$P-d dh" ] || return 1
        local out rc=0
        out=$(dk exec "$P-d" sh -c 'echo out; echo err >&2; exit 3' 2>"$tmp/derr") || rc=$?
        [ "$rc" = 3 ] && [ "$out" = out ] && grep -qx err "$tmp/derr" || { echo "exec: rc=$rc out=$out"; return 1; }
        [ "$(echo hi | dk exec -i "$P-d" cat)" = hi ] || return 1
        dk exec -t "$P-d" ip -br a | grep_q eth0 || return 1
        rc=0; out=$(dk run --rm lnst sh -c 'echo docker-rm; exit 7') || rc=$?
        [ "$rc" = 7 ] && [ "$out" = docker-rm ] || { echo "docker run --rm: rc=$rc '$out'"; return 1; }
        dk run -d --name "$P-e" lnst sh -c 'echo hello; exit 4' >/dev/null || return 1
        [ "$(dk wait "$P-e")" = 4 ] && [ "$(dk logs "$P-e")" = hello ] || return 1
        curl -sf --unix-socket "$SOCK" -d '{"Name":"'"$P-dn"'","Internal":true,"IPAM":{"Driver":"none"}}' \
                http://d/v1.41/networks/create >/dev/null || return 1
        dk network ls --format '{{.Name}}' | grep_q -x bridge || return 1
        dk network connect "$P-dn" "$P-d" && dk exec "$P-d" ip link show eth1 >/dev/null || return 1
        [ "$(dk network inspect -f '{{.Internal}}' "$P-dn")" = true ] || return 1
        dk stop "$P-d" >/dev/null && dk rm "$P-d" "$P-e" >/dev/null && dk network rm "$P-dn" >/dev/null || return 1
        [ -z "$(dk ps -a -q)" ]
}
if command -v docker >/dev/null || [ "${CI:-}" = true ]; then
        ok "docker -H unix://…: version, run -d, ps, inspect, exec (101 upgrade: frames, -i, -t), wait, logs, network ls/connect/inspect/rm, stop, rm" -- t_docker
fi

# ---- bad input, over a raw socket ----
raw() {   # raw 'bytes' → the status line of the answer
        python3 - "$SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
try:
    s.sendall(sys.argv[2].encode().decode('unicode_escape').encode('latin-1'))
except OSError:
    pass  # a server that answered early (431, 413) may have closed before the rest went
data = b""
try:
    while b"\r\n" not in data:
        d = s.recv(4096)
        if not d: break
        data += d
except Exception: pass
print(data.split(b"\r\n")[0].decode())
PY
}
ping_ok() { [ "$(raw 'GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n')" = "HTTP/1.1 200 OK" ]; }
t_bad() {
        local cases=(
                '400|GARBAGE\r\n\r\n'
                '400|GET /_ping HTTP/2.0\r\n\r\n'
                '431|GET /_ping HTTP/1.1\r\nX: '"$(head -c 17000 /dev/zero | tr '\0' a)"'\r\n\r\n'
                '413|POST /v4.3.1/libpod/containers/create HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n'
                '400|POST /v4.3.1/libpod/containers/create HTTP/1.1\r\nContent-Length: 5\r\n\r\n{bad}'
                '404|GET /v4.3.1/libpod/containers/nope/json HTTP/1.1\r\n\r\n'
                '404|GET /v4.3.1/libpod/networks/nope HTTP/1.1\r\n\r\n'
                '404|GET /v4.3.1/libpod/exec/0000/json HTTP/1.1\r\n\r\n'
                '404|GET /v4.3.1/libpod/no/such/endpoint HTTP/1.1\r\n\r\n'
                '400|POST /v4.3.1/libpod/containers/create HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'
                '400|GET /a HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n'
        )
        local c want got
        for c in "${cases[@]}"; do
                want=${c%%|*}
                got=$(raw "${c#*|}")
                [[ $got == "HTTP/1.1 $want "* ]] || { echo "wanted $want for ${c:4:60}: '$got'"; return 1; }
                ping_ok || { echo "server stopped answering after ${c:4:60}"; return 1; }
        done
        # a chunked body is read whole
        [[ $(raw 'POST /v4.3.1/libpod/containers/create HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"ima\r\nf\r\nge":"nope-img"}\r\n0\r\n\r\n') == "HTTP/1.1 404 "* ]]
}
ok "bad input: malformed, oversized, bad JSON, unknown ids and routes each get their status; the server goes on" -- t_bad

# A HEAD's answer is headers alone, an error's too (Podman's cp asks HEAD …/archive): a
# body after it is read as the answer to the next request on the connection.
t_head() {
        python3 - "$SOCK" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
s.sendall(b"HEAD /v4.3.1/libpod/containers/nope/archive?path=/ HTTP/1.1\r\nHost: d\r\n\r\n"
          b"HEAD /v4.3.1/libpod/containers/json HTTP/1.1\r\nHost: d\r\n\r\n"
          b"GET /v4.3.1/libpod/_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
answers = data.split(b"HTTP/1.1 ")[1:]
assert len(answers) == 3, data
assert answers[0].startswith(b"404 ") and answers[0].endswith(b"\r\n\r\n"), answers[0]
assert answers[1].startswith(b"200 ") and answers[1].endswith(b"\r\n\r\n"), answers[1]
assert b"Content-Length: " in answers[1], answers[1]
assert answers[2].startswith(b"200 ") and answers[2].endswith(b"\r\n\r\nOK"), answers[2]
PY
}
ok "HEAD: the headers of the answer, no body (also for errors); the connection goes on" -- t_head

t_peer() {
        chmod 0711 "$tmp"
        chmod 0666 "$SOCK"
        local got
        got=$(setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 - "$SOCK" <<'PY'
import socket, sys
# the refusal comes on connect, before the client says anything (and the server may
# have closed before a request could be sent)
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
print(s.recv(4096).split(b"\r\n")[0].decode())
PY
)
        chmod 0660 "$SOCK"
        chmod 0700 "$tmp"
        [[ $got == "HTTP/1.1 403 "* ]] || { echo "got '$got'"; return 1; }
        ping_ok
}
ok "a peer neither root nor in the group is refused (403) before any request is read" -- t_peer

# --group: a member by a supplementary group is let in (the socket's own record of the
# peer's groups, SO_PEERGROUPS), one without it refused
t_peer_group() {
        getent group nogroup >/dev/null || { echo "no group nogroup here"; return 1; }
        local gsock=$tmp/g.sock got rc=0
        "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" serve --listen "unix://$gsock" --group nogroup \
                2>>"$tmp/serve.log" &
        local gpid=$!
        for _ in $(seq 100); do [ -S "$gsock" ] && break; sleep 0.05; done
        chmod 0711 "$tmp"
        local probe='import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
try:
    s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
except BrokenPipeError:
    pass  # refused before a byte is read: the answer is there all the same
print(s.recv(4096).split(b"\r\n")[0].decode())'
        got=$(setpriv --reuid=65534 --regid=12345 --groups=65534 /usr/bin/python3 -c "$probe" "$gsock" 2>&1)
        [[ $got == "HTTP/1.1 200 "* ]] || { echo "a member by a supplementary group got '$got'"; rc=1; }
        # the socket file lets the group in; the server's check is what refuses this one
        chmod 0666 "$gsock"
        got=$(setpriv --reuid=65534 --regid=12345 --clear-groups /usr/bin/python3 -c "$probe" "$gsock" 2>&1)
        [[ $got == "HTTP/1.1 403 "* ]] || { echo "a non-member got '$got'"; rc=1; }
        chmod 0700 "$tmp"
        kill "$gpid"; wait "$gpid" 2>/dev/null
        # --listen never replaces a file that is not a socket
        echo keep >"$tmp/not-a-socket"
        if "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" serve --listen "unix://$tmp/not-a-socket" 2>"$tmp/ns.err"; then
                echo "served on a regular file"; rc=1
        fi
        grep -q "exists and is not a socket" "$tmp/ns.err" && [ "$(cat "$tmp/not-a-socket")" = keep ] ||
                { echo "said: $(cat "$tmp/ns.err")"; rc=1; }
        return $rc
}
ok "--group lets in a member by a supplementary group and refuses others; --listen keeps a file that is not a socket" -- t_peer_group

t_stuck_client() {
        # a client that sent half a request, and one held in a wait, block nobody else
        python3 - "$SOCK" <<'PY' &
import socket, sys, time
a = socket.socket(socket.AF_UNIX); a.connect(sys.argv[1]); a.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n")
time.sleep(8)
PY
        local stuck=$!
        pm run -d --name "$P-s" lnst >/dev/null || return 1
        curl -s --unix-socket "$SOCK" -X POST "http://d/v4.3.1/libpod/containers/$P-s/wait?condition=stopped" >"$tmp/waited" &
        local waiter=$!
        local t0; t0=$(date +%s%N)
        pm ps >/dev/null && pm inspect "$P-s" >/dev/null || return 1
        local took=$(( ($(date +%s%N) - t0) / 1000000 ))
        pm stop "$P-s" >/dev/null; wait "$waiter"; kill "$stuck" 2>/dev/null; wait "$stuck" 2>/dev/null
        pm rm "$P-s" >/dev/null
        # the wait's answer: sleep ended by the stop's SIGTERM, 128+15
        [ "$took" -lt 3000 ] && [ "$(cat "$tmp/waited")" = 143 ] || { echo "took $took ms; wait said '$(cat "$tmp/waited")'"; return 1; }
}
ok "a stuck client and a held wait do not block other requests; the wait ends with the exit code" -- t_stuck_client

t_socket_activation() {
        # as systemd starts it: a listening socket on fd 3, LISTEN_PID/LISTEN_FDS, and an
        # idle timeout that ends the server when no client comes
        python3 - "$NSPROV_BIN" "$tmp" <<'PY'
import os, socket, sys, time, subprocess
nsprov, tmp = sys.argv[1], sys.argv[2]
path = f"{tmp}/activated.sock"
l = socket.socket(socket.AF_UNIX); l.bind(path); l.listen(8)
pid = os.fork()
if pid == 0:
    if l.fileno() != 3:
        os.dup2(l.fileno(), 3)
    os.set_inheritable(3, True)  # dup2 onto itself would leave close-on-exec set
    os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS="1")
    os.execv(nsprov, [nsprov, "--root", f"{tmp}/root", "--runroot", f"{tmp}/run", "serve", "--timeout", "2"])
l.close()
c = socket.socket(socket.AF_UNIX); c.connect(path)
c.sendall(b"GET /v4.3.1/libpod/_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n")
reply = c.recv(4096)
c.close()
assert reply.startswith(b"HTTP/1.1 200 OK"), reply
t0 = time.monotonic()
for _ in range(100):
    done, _ = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    time.sleep(0.1)
else:
    os.kill(pid, 9); os.waitpid(pid, 0)
    sys.exit("the server did not exit after its idle timeout")
print(f"exited {time.monotonic() - t0:.1f} s after the last client")
PY
}
ok "socket activation (LISTEN_FDS) serves the given socket; --timeout ends an idle server" -- t_socket_activation

# Daemonless: a server killed with SIGKILL takes no container with it. Its spawner goes
# with it (PDEATHSIG), the monitors it had forked stay (passed to init), and another
# server on the same store carries on with the container.
t_server_killed() {
        local sock2=$tmp/second.sock pid2 k spawner="" mon st
        "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" serve --listen "unix://$sock2" 2>>"$tmp/serve.log" &
        pid2=$!
        for _ in $(seq 100); do [ -S "$sock2" ] && break; sleep 0.05; done
        if ! timeout 60 podman --url "unix://$sock2" run -d --name "$P-sk" lnst >/dev/null; then
                kill "$pid2"; wait "$pid2"; return 1
        fi
        for k in $(cat /proc/"$pid2"/task/*/children); do
                [ "$(cat "/proc/$k/comm" 2>/dev/null)" = nsprov-spawner ] && spawner=$k
        done
        mon=$(pm inspect -f '{{.State.ConmonPid}}' "$P-sk")
        kill -KILL "$pid2"; wait "$pid2" 2>/dev/null
        rm -f "$sock2"
        [ -n "$spawner" ] || { echo "the second server had no spawner"; return 1; }
        for _ in $(seq 100); do
                [ ! -e "/proc/$spawner" ] || grep -q '^State:.*Z' "/proc/$spawner/status" 2>/dev/null && break
                sleep 0.05
        done
        [ ! -e "/proc/$spawner" ] || grep -q '^State:.*Z' "/proc/$spawner/status" 2>/dev/null ||
                { echo "the spawner $spawner outlived its server"; return 1; }
        [ "$(cat "/proc/$mon/comm" 2>/dev/null)" = nsprov-monitor ] || { echo "monitor $mon gone"; return 1; }
        st=$(pm inspect -f '{{.State.Status}}' "$P-sk")
        [ "$st" = running ] || { echo "after the kill: $st"; return 1; }
        pm exec "$P-sk" true || { echo "exec after the kill failed"; return 1; }
        pm rm -f -t 0 "$P-sk" >/dev/null
}
ok "a server killed with SIGKILL: its spawner goes, its containers run on, another server carries on with them" -- t_server_killed

# The server makes the netns of its next starts ahead, unnamed (held by its fds alone,
# so nothing of them outlives it); a start names one of them.
t_netns_pool() {
        local before id ino
        sleep 0.3 # the pool's thread makes the successor of the last start's
        before=$(ls -l /proc/"$SERVER"/fd 2>/dev/null | grep -o 'net:\[[0-9]*\]' | sort -u)
        id=$(pm run -d --name "$P-pool" lnst) || return 1
        ino=$(stat -L -c %i "/run/netns/nsprov-$id")
        pm rm -f "$P-pool" >/dev/null
        grep_q -F "net:[$ino]" <<<"$before" || { echo "its netns ($ino) was none of those the server held: $before"; return 1; }
}
ok "a start through the server takes a netns it made ahead" -- t_netns_pool

t_no_zombies() {
        local k spawner="" sk
        for k in $(cat /proc/"$SERVER"/task/*/children); do
                if grep -q '^State:.*Z' "/proc/$k/status" 2>/dev/null || [ "$(cat "/proc/$k/comm" 2>/dev/null)" = nsprov-monitor ]; then
                        echo "child $k of the server: $(grep -h '^\(Name\|State\)' "/proc/$k/status" | tr '\n' ' ')"
                        return 1
                fi
                [ "$(cat "/proc/$k/comm" 2>/dev/null)" = nsprov-spawner ] && spawner=$k
        done
        # the monitors are the server's spawner's children, reaped as they end
        [ -n "$spawner" ] || { echo "the server has no nsprov-spawner child"; return 1; }
        for sk in $(cat /proc/"$spawner"/task/*/children); do
                # (a monitor that ended this instant is reaped the next)
                grep -q '^State:.*Z' "/proc/$sk/status" 2>/dev/null && sleep 0.5 &&
                        grep -q '^State:.*Z' "/proc/$sk/status" 2>/dev/null &&
                        { echo "zombie $sk of the spawner"; return 1; }
                [ "$(cat "/proc/$sk/comm" 2>/dev/null)" = nsprov-monitor ] || [ ! -e "/proc/$sk" ] ||
                        { echo "child $sk of the spawner: $(grep -h '^\(Name\|State\)' "/proc/$sk/status" | tr '\n' ' ')"; return 1; }
        done
        return 0
}
ok "the server's children: its spawner, no container monitor (the spawner's), no zombie" -- t_no_zombies

# Without its spawner (killed: ours, by pid) the server still starts containers: it execs
# their monitors instead. Last: the rest of the file ran with the spawner.
t_spawner_gone() {
        local k spawner="" out
        for k in $(cat /proc/"$SERVER"/task/*/children); do
                [ "$(cat "/proc/$k/comm" 2>/dev/null)" = nsprov-spawner ] && spawner=$k
        done
        [ -n "$spawner" ] || { echo "no spawner"; return 1; }
        kill -KILL "$spawner"
        out=$(pm run --rm --name "$P-nospawner" lnst echo started 2>&1)
        [ "$out" = started ] || { echo "run without the spawner: $out"; return 1; }
}
ok "a server whose spawner has gone execs its monitors instead" -- t_spawner_gone

ok "the server is still up and its log has no crash" -- bash -c "kill -0 $SERVER && ! grep -qi 'sanitizer\|segv' $tmp/serve.log"
