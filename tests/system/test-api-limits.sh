#!/bin/bash
# The API server against clients that hold what they open (api-hostile.py): a head
# trickled a byte at a time, an idle keep-alive connection, more connections than the
# cap, endless trailers, chunk framing around a small body, more connections than the
# server has fds; and exec sessions created and never started, capped and dropped with
# their container; a peer in a container the socket is mounted into.
set -u
. "$(dirname "$0")/tap.sh"
begin_store_test
HOSTILE="python3 $(dirname "$0")/api-hostile.py"

S1=$tmp/limits.sock
serve_start "$S1" -- --header-timeout 1s --keepalive-timeout 1s --max-connections 8 --body-timeout 5s
PID1=$SERVED
ok "a head trickled a byte at a time: 408 within the header timeout (1 s), not held" -- $HOSTILE "$S1" slowloris 1
ok "an idle keep-alive connection: closed after the keep-alive timeout (1 s)" -- $HOSTILE "$S1" idle 1
ok "past --max-connections (8), all busy: 503 at once; a slot freed, served again" -- $HOSTILE "$S1" cap 8
ok "past --max-connections (8), idle ones among them: a new client served, the oldest idle one closed" -- \
        $HOSTILE "$S1" evict 8
ok "a chunked body's trailers without end: 413, the server's memory bounded" -- $HOSTILE "$S1" trailers "$PID1"
ok "10 MiB of chunk framing around a small body: answered, the server's memory bounded" -- \
        $HOSTILE "$S1" chunks "$PID1"

S4=$tmp/load.sock
serve_start "$S4" -- --max-connections 512
# AddressSanitizer's shadow and quarantine (CI's build) multiply a server's RSS: the
# 64 MiB bound is the plain build's
rss_limit=64
ldd "$NSPROV_BIN" 2>/dev/null | grep -q libasan && rss_limit=512
ok "under load (1000 idle connections, 200 slowloris, trailer floods): _ping p99 < 100 ms, RSS < $rss_limit MiB, threads within the cap, all freed" -- \
        $HOSTILE "$S4" load "$SERVED" 512 "$rss_limit"

S2=$tmp/emfile.sock
serve_start "$S2" prlimit --nofile=48:48 -- --max-connections 1000
ok "out of fds (a hard limit of 48, 100 clients): no spin, served again once they go" -- \
        $HOSTILE "$S2" emfile "$SERVED" 100

t_exec_sessions() {
        nsp image add "$P-img" --rootfs host --cmd '["sleep","300"]' >/dev/null &&
                nsp run -d --name "$P-c" --network none "$P-img" >/dev/null || return 1
        local i code body='{"Cmd":["true"],"AttachStdout":true}' first
        for i in $(seq 256); do
                code=$(curl -s -o "$tmp/ex.json" -w '%{http_code}' --unix-socket "$S1" -H 'Content-Type: application/json' \
                        -d "$body" "http://d/v4.0.0/libpod/containers/$P-c/exec")
                [ "$code" = 201 ] || { echo "create $i: $code $(cat "$tmp/ex.json")"; return 1; }
                [ -n "${first:-}" ] || first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Id"])' "$tmp/ex.json")
        done
        code=$(curl -s -o "$tmp/ex.json" -w '%{http_code}' --unix-socket "$S1" -d "$body" \
                "http://d/v4.0.0/libpod/containers/$P-c/exec")
        [ "$code" = 503 ] && grep -q "the container has too many exec sessions" "$tmp/ex.json" ||
                { echo "the 257th: $code $(cat "$tmp/ex.json")"; return 1; }
        [ "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$S1" "http://d/v4.0.0/libpod/exec/$first/json")" = 200 ] ||
                return 1
        curl -sf --unix-socket "$S1" -X DELETE "http://d/v4.0.0/libpod/containers/$P-c?force=true" >/dev/null || return 1
        code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$S1" "http://d/v4.0.0/libpod/exec/$first/json")
        [ "$code" = 404 ] || { echo "a removed container's session: $code"; return 1; }
}
ok "exec sessions never started: 256 a container, then 503; gone with their container" -- t_exec_sessions


# a container the socket is mounted into: its root is uid 0, but it is refused (and a
# process merely in a mount namespace of its own, as LNST runs in test-lnst, is not)
py_ping='import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n"); print(s.recv(200).split(b"\r\n")[0].decode())'
S3=$tmp/allow/allow.sock
mkdir -p "$tmp/allow"
serve_start "$S3" -- --allow-containers
t_container_peer() {
        local out
        out=$(nsp run --rm --network none -v "$tmp:/mnt" host python3 -c "$py_ping" /mnt/limits.sock) || return 1
        [ "$out" = "HTTP/1.1 403 Forbidden" ] || { echo "a container's root got: $out"; return 1; }
        grep -q "in a container (another pid namespace)" "$tmp/serve.log" || return 1
        out=$(nsp run --rm --network none -v "$tmp/allow:/mnt" host python3 -c "$py_ping" /mnt/allow.sock) || return 1
        [ "$out" = "HTTP/1.1 200 OK" ] || { echo "--allow-containers: $out"; return 1; }
        # the host itself, as ever, and a process in a mount namespace of its own
        [ "$(python3 -c "$py_ping" "$S1")" = "HTTP/1.1 200 OK" ] &&
                [ "$(unshare -m python3 -c "$py_ping" "$S1")" = "HTTP/1.1 200 OK" ]
}
ok "a peer in a container (the socket mounted in): 403 even as uid 0, unless --allow-containers" -- t_container_peer

# serve with its own defaults on a scratch root: the "podman" network's bridge is the
# root's own, never the host-wide nspodman0 a default-root server has (one that outlived
# a scratch root once); the reset at the end removes it, and the check of the store's
# marks (tap.sh) fails the test if anything of it stays
S5=$tmp/scratch.sock
serve_start "$S5" env -u NSPROV_DEFAULT_NETWORK NSPROV_DEFAULT_SUBNET=198.18.99.0/24 --
t_scratch_root_bridge() {
        local bridge
        bridge=$(env -u NSPROV_DEFAULT_NETWORK "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" \
                network inspect podman | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["network_interface"])') ||
                return 1
        [[ $bridge == nsprov* ]] && [ "$bridge" != nspodman0 ] || { echo "a scratch root's bridge: $bridge"; return 1; }
        ip link show "$bridge" >/dev/null || { echo "$bridge is not there"; return 1; }
}
ok "serve on a scratch root: the podman network's bridge is the root's own, not nspodman0" -- t_scratch_root_bridge

ok "the servers are up and logged no crash" -- bash -c "kill -0 $PID1 && kill -0 $SERVED &&
        ! grep -qiE 'AddressSanitizer|runtime error|assert' '$tmp/serve.log'"
