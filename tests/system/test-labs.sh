#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Labs as files, as a user drives them: ../shared/labs/hello.yaml and forwarding.yaml as
# they are, real LNST (the peer trees, unmodified) running a recipe in its classic pool
# mode on the pool files `lab pool` wrote, `lab reset` between two runs, `lab down`
# leaving nothing; and lab files that are wrong, refused with FILE:LINE:COLUMN.
set -uo pipefail
. "$(dirname "$0")/tap.sh"
begin_store_test
LABS=${NSPROV_PEERS:-$(dirname "$0")/../../../shared/peers}/../labs
PEERS=${NSPROV_PEERS:-$(dirname "$0")/../../../shared/peers}
PY=/usr/bin/python3
if [ ! -f "$LABS/hello.yaml" ]; then
        if [ "${CI:-}" = true ]; then echo "1..1"; echo "not ok 1 - no lab files at $LABS"; exit 1; fi
        echo "1..0 # SKIP no lab files at $LABS"; exit 0
fi
# the labs' management network: the store's default network, a bridge of the test's
export NSPROV_DEFAULT_NETWORK=${P}mg NSPROV_DEFAULT_BRIDGE=${P}mg NSPROV_DEFAULT_SUBNET=198.18.96.0/24
defer ip link del "${P}mg"

# LNST's agent from the peer tree in the host image (a copy where the host image shows it)
agent_tree=/var/lib/$P-lnst
defer rm -rf "$agent_tree"
cp -r "$PEERS/lnst" "$agent_tree"
agent_cmd=$($PY -c 'import json, sys
print(json.dumps([sys.argv[1], "-c", f"import sys; sys.path.insert(0, {sys.argv[2]!r}); "
                  "from lnst.Agent.__main__ import main; main()"]))' "$PY" "$agent_tree")
nsp image add lnst --rootfs host --workdir /tmp --env HOME=/tmp --ready tcp:9999 --cmd "$agent_cmd" >/dev/null

t_hello_pool_mode() {
        local out
        out=$(nsp lab up "$LABS/hello.yaml" --workers 2 2>&1) || { echo "lab up: $out"; return 1; }
        grep -qE '^machine1 +eth1 +([0-9a-f]{2}:){5}[0-9a-f]{2} +net1 +198\.18\.96\.' <<<"$out" ||
                { echo "lab up printed: $out"; return 1; }
        [ "$(nsp ps -q | wc -l)" = 2 ] || { echo "running: $(nsp ps)"; return 1; }
        nsp lab pool hello "$tmp/pool" >/dev/null || return 1
        [ -f "$tmp/pool/machine1.xml" ] && [ -f "$tmp/pool/machine2.xml" ] || { ls "$tmp/pool"; return 1; }
        # the pool files are LNST's own format: its parser reads them
        PYTHONPATH=$PEERS/lnst $PY -c 'import sys
from lnst.Controller.AgentMachineParser import AgentMachineParser
from lnst.Controller.Config import CtlConfig
for f in sys.argv[1:]:
    m = AgentMachineParser(f, CtlConfig()).parse()
    params = {p["name"]: p["value"] for p in m["params"]}
    assert params["rpc_port"] == "9999" and params["hostname"].startswith("198.18.96."), m
    assert [i["network"] for i in m["interfaces"]] == ["net1"], m' "$tmp/pool/machine1.xml" "$tmp/pool/machine2.xml" ||
                return 1
        local run
        for run in 1 2; do
                HOME=$tmp/home timeout 300 $PY "$(dirname "$0")/lnst-recipe.py" "$PEERS" - "pool:$tmp/pool" hello \
                        </dev/null >"$tmp/pool-run$run.log" 2>&1 ||
                        { echo "pool-mode run $run failed:"; grep -E 'Error|FAIL|Traceback' "$tmp/pool-run$run.log" | tail -15; return 1; }
                [ $run = 2 ] && break
                # what a recipe leaves in an agent (LNST's own cleanup does not undo all of it,
                # and when it does depends on timing): here an address of our own
                nsp exec hello-machine1 ip addr add 192.168.101.99/24 dev eth1 || return 1
                # between runs: every agent as just up, at the address its pool file names
                local before after
                before=$(nsp lab inspect hello | grep '"Management"')
                nsp lab reset hello || return 1
                after=$(nsp lab inspect hello | grep '"Management"')
                [ "$before" = "$after" ] || { echo "management addresses moved: $before -> $after"; return 1; }
                [ -z "$(nsp exec hello-machine1 ip -o addr show eth1 | grep 192.168.101.)" ] || { echo "after reset"; return 1; }
        done
        out=$(nsp lab down hello) && [ -z "$(nsp ps -a -q)" ] && ! nsp network exists hello-net1 ||
                { echo "lab down: $out; $(nsp ps -a)"; return 1; }
}
mkdir -p "$tmp/home"
ok "hello.yaml: lab up (agents ready, a table), lab pool read by LNST's parser, two LNST pool-mode runs with lab reset between, lab down" -- \
        t_hello_pool_mode

# forwarding.yaml as it is, its image an idle one of the test's
nsp image add "$P-idle" --rootfs host --cmd '["sleep", "300"]' >/dev/null
sed "s/^image: lnst$/image: $P-idle/" "$LABS/forwarding.yaml" >"$tmp/forwarding.yaml"
t_forwarding() {
        nsp lab up "$tmp/forwarding.yaml" --workers 4 >"$tmp/fwd.out" 2>&1 || { cat "$tmp/fwd.out"; return 1; }
        local running
        running=$(nsp lab inspect fwd | $PY -c 'import json, sys; print(sum(a["Status"] == "running" for a in json.load(sys.stdin)["Agents"]))')
        [ "$running" = 19 ] || { echo "running: $running"; return 1; }
        local macs
        macs=$(nsp lab inspect fwd | $PY -c 'import json, sys
lab = json.load(sys.stdin)
macs = [n["Mac"] for a in lab["Agents"] for n in a["Nics"]]
assert len(macs) == len(set(macs)) == 2 + 2 + 2 + 16, macs
client = [a for a in lab["Agents"] if a["Name"] == "client"][0]
print(" ".join(n["Mac"] for n in client["Nics"]))') || return 1
        [ "$macs" = "02:00:00:00:01:01 02:00:00:00:01:02" ] || { echo "client MACs: $macs"; return 1; }
        # a packet through router, across the two segments
        nsp exec fwd-router sh -c 'ip addr add 10.1.0.1/24 dev eth1 && ip addr add 10.2.0.1/24 dev eth2 && sysctl -qw net.ipv4.ip_forward=1' &&
                nsp exec fwd-client sh -c 'ip addr add 10.1.0.2/24 dev eth1 && ip route add 10.2.0.0/24 via 10.1.0.1' &&
                nsp exec fwd-server sh -c 'ip addr add 10.2.0.2/24 dev eth1 && ip route add 10.1.0.0/24 via 10.2.0.1' ||
                return 1
        nsp exec fwd-client ping -c 1 -W 5 10.2.0.2 >/dev/null || { echo "no ping through the router"; return 1; }
        nsp lab pool fwd "$tmp/fwdpool" >/dev/null && [ "$(ls "$tmp/fwdpool" | wc -l)" = 19 ] || return 1
        nsp lab down "$tmp/forwarding.yaml" >/dev/null && ! nsp lab inspect fwd >/dev/null 2>&1 &&
                ! nsp network exists fwd-left
}
t_limit_graph_killed() {
        # --limit: the router and one worker only
        nsp lab up "$tmp/forwarding.yaml" --limit router,worker7 >/dev/null || return 1
        [ "$(nsp lab inspect fwd | $PY -c 'import json, sys; print(" ".join(a["Name"] for a in json.load(sys.stdin)["Agents"]))')" = "router worker7" ] ||
                { echo "limited up: $(nsp lab inspect fwd)"; return 1; }
        expect_fail 125 "--limit names 'nobody', which is no agent of the file" -- nsp lab up "$tmp/forwarding.yaml" --limit nobody ||
                return 1
        # the picture: every NIC an edge to its network, the management network apart
        local g
        g=$(nsp lab graph fwd) && grep -q '"a_router" -- "n_left"' <<<"$g" && grep -q '"a_worker7" -- mgmt' <<<"$g" ||
                { echo "graph: $g"; return 1; }
        nsp lab graph fwd --format mermaid | grep -q 'a_1 -- "eth1 ' || return 1
        nsp lab down fwd >/dev/null || return 1
        # a lab up killed on its way: lab down leaves nothing of it
        nsp lab up "$tmp/forwarding.yaml" --workers 2 >/dev/null 2>&1 &
        local pid=$!
        sleep 0.3
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        nsp lab down fwd >/dev/null
        ! nsp lab inspect fwd >/dev/null 2>&1 || { echo "left: $(nsp lab inspect fwd)"; return 1; }
        ! nsp network ls | grep -q ' fwd-' && ! nsp ps -a | grep -q ' fwd-'
}

ok "forwarding.yaml: 19 agents up, distinct MACs and the client's own, a ping through the router, 19 pool files, down" -- t_forwarding
ok "lab up --limit, lab graph (dot, mermaid), and lab down after a lab up killed on its way" -- t_limit_graph_killed

# up again after the file changed: only what changed changes
t_reconcile() {
        printf 'name: %s\nimage: %s\nnetworks: {left: {}, right: {}}\nagents:\n  r: {nics: {eth1: {network: left}, eth2: {network: right}}}\n  w: {count: 3, nics: {eth1: {network: left}}}\n' \
                "$P-rc" "$P-idle" >"$tmp/rc1.yaml"
        printf 'name: %s\nimage: %s\nnetworks: {left: {}, other: {}}\nagents:\n  r: {nics: {eth1: {network: left}, eth2: {network: other}}}\n  w: {count: 2, nics: {eth1: {network: left}}}\n' \
                "$P-rc" "$P-idle" >"$tmp/rc2.yaml"
        nsp lab up "$tmp/rc1.yaml" >/dev/null || return 1
        local pid_w1 pid_r mac_r1
        pid_w1=$(nsp inspect -f '{{.State.Pid}}' "$P-rc-w1"); pid_r=$(nsp inspect -f '{{.State.Pid}}' "$P-rc-r")
        mac_r1=$(nsp exec "$P-rc-r" cat /sys/class/net/eth1/address)
        nsp lab up "$tmp/rc2.yaml" >/dev/null || return 1
        [ "$(nsp inspect -f '{{.State.Pid}}' "$P-rc-w1")" = "$pid_w1" ] && [ "$(nsp inspect -f '{{.State.Pid}}' "$P-rc-r")" = "$pid_r" ] ||
                { echo "an agent was restarted"; return 1; }
        [ "$(nsp exec "$P-rc-r" cat /sys/class/net/eth1/address)" = "$mac_r1" ] || { echo "eth1 of r was rewired"; return 1; }
        ! nsp inspect "$P-rc-w3" >/dev/null 2>&1 || { echo "w3 is still there"; return 1; }
        nsp network exists "$P-rc-other" && ! nsp network exists "$P-rc-right" || { echo "networks: $(nsp network ls)"; return 1; }
        local eth2; eth2=$(nsp lab inspect "$P-rc" | $PY -c 'import json, sys
print([n["Network"] for a in json.load(sys.stdin)["Agents"] if a["Name"] == "r" for n in a["Nics"] if n["Name"] == "eth2"])')
        [ "$eth2" = "['other']" ] || { echo "eth2 of r is on $eth2"; return 1; }
        nsp lab down "$P-rc" >/dev/null
}
ok "lab up again after the file changed: a NIC moved, a group shrunk, a network renamed; nothing else touched" -- t_reconcile

# wrong files: one line each, FILE:LINE:COLUMN and the reason, nothing made
bad() {  # bad NAME 'PATTERN' <<<TEXT
        local f=$tmp/$1.yaml
        cat >"$f"
        expect_fail 125 "$f:$2" -- nsp lab up "$f" || return 1
        ! nsp lab inspect bad >/dev/null 2>&1
}
ok "an unknown key" -- bad unknown "5:5: agent a: unknown key 'bogus'" <<'EOF'
name: bad
image: lnst
agents:
  a:
    bogus: 1
EOF
ok "a NIC on an undeclared network" -- bad undeclared "6:3: agent b: NIC eth1 is on network 'net2', which networks: does not declare" <<'EOF'
name: bad
image: lnst
networks: {net1: {}}
agents:
  a: {nics: {eth1: {network: net1}}}
  b: {nics: {eth1: {network: net2}}}
EOF
ok "two NICs with one MAC" -- bad twomacs "6:3: agent b: NIC eth1 has MAC 02:00:00:00:00:01, as NIC eth1 of a has" <<'EOF'
name: bad
image: lnst
networks: {n: {}}
agents:
  a: {nics: {eth1: {network: n, mac: "02:00:00:00:00:01"}}}
  b: {nics: {eth1: {network: n, mac: "02:00:00:00:00:01"}}}
EOF
ok "a NIC name too long for the kernel" -- bad longnic "5:14: NIC 'averyveryverylongname': a name of 1-15" <<'EOF'
name: bad
image: lnst
networks: {n: {}}
agents:
  a: {nics: {averyveryverylongname: {network: n}}}
EOF
ok "not YAML" -- bad notyaml "2:4: mapping values are not allowed" <<'EOF'
name: bad
  x: [
EOF
ok "a count out of range" -- bad count "4:14: agent a: count is 1-1000" <<'EOF'
name: bad
image: lnst
agents:
  a: {count: 1001}
EOF
