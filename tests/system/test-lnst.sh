#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Real LNST through `nsprov serve`: LNST's Controller with its ContainerPoolManager and
# podman-py, unmodified (the peer trees of ../shared/peers), provisions agent containers
# and runs recipes, for each of LNST's three network plugins. The agents are LNST's own,
# run from the peer tree in the host image, declared ready on LNST's agent port, so LNST
# must reach each on its first try.
#
# LNST writes its cni networks into /etc/cni/net.d and makes bridges with `ip` (br0,
# br1, … for custom_lnst): the controller runs in a mount namespace of its own where
# /etc/cni/net.d is the test's dir, and a bridge of those names the run made and left is
# removed and counted as a failure. The CNI bridge plugin's cni-podman1 (LNST's cni
# conflists name it) outlives its networks by the plugin's design, under Podman as here:
# removed when this run made it, and not counted.
set -uo pipefail
. "$(dirname "$0")/tap.sh"
require_root
trap tap_finish EXIT

PEERS=${NSPROV_PEERS:-$(dirname "$0")/../../../shared/peers}
PY=/usr/bin/python3   # Debian's, with the packages LNST needs (tools/install-deps)
if [ ! -d "$PEERS/lnst/lnst" ] || [ ! -d "$PEERS/podman-py/podman" ]; then
        if [ "${CI:-}" = true ]; then echo "1..1"; echo "not ok 1 - no LNST peer trees at $PEERS"; exit 1; fi
        echo "1..0 # SKIP no LNST peer trees at $PEERS"; exit 0
fi
use_private_store
P=$TEST_PREFIX
SOCK=$tmp/api.sock
export NSPROV_DEFAULT_NETWORK=podman NSPROV_DEFAULT_BRIDGE=${P}pd NSPROV_DEFAULT_SUBNET=198.18.94.0/24
export NSPROV_CNI_CONFIG_DIR=$tmp/cni NSPROV_CNI_CACHE_DIR=$tmp/cnicache
mkdir -p "$tmp/cni" "$tmp/bin" "$tmp/home"
ln -s "$NSPROV_BIN" "$tmp/bin/podman"   # LNST runs `podman exec -it … ip -j a`
defer ip link del "${P}pd"

# The agent's code: the host image keeps /tmp, /var/tmp and /run private, so a copy in a
# place it shows, named for this test
agent_tree=/var/lib/$P-lnst
defer rm -rf "$agent_tree"
cp -r "$PEERS/lnst" "$agent_tree"
"$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" serve --listen "unix://$SOCK" 2>"$tmp/serve.log" &
SERVER=$!
defer nsp system reset --force
defer kill "$SERVER"
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
# LNST's agent writes its logs under the directory it starts in
agent_cmd=$($PY -c 'import json, sys
print(json.dumps([sys.argv[1], "-c", f"import sys; sys.path.insert(0, {sys.argv[2]!r}); "
                  "from lnst.Agent.__main__ import main; main()"]))' "$PY" "$agent_tree")
nsp image add lnst --rootfs host --workdir /tmp --env HOME=/tmp --ready tcp:9999 --cmd "$agent_cmd" >/dev/null

lab_bridges() { ip -o link show type bridge | awk -F': ' '{print $2}' | grep -E '^(br[0-9]+|cni-podman1)$' | sort; }
bridges_before=$(lab_bridges)
for b in $bridges_before; do
        [ "$b" = cni-podman1 ] && echo "# cni-podman1 exists already: the cni case shares it with its owner"
done

# recipe PLUGIN NAME: LNST's run, its figures and log kept for a failure
recipe() {
        local plugin=$1 name=$2 out=$tmp/lnst-$1-$2.log rc=0
        HOME=$tmp/home PATH=$tmp/bin:$PATH NSPROV_ROOT=$tmp/root NSPROV_RUNROOT=$tmp/run \
                timeout 300 unshare -m --propagation slave sh -c \
                'mount --bind "$1" /etc/cni/net.d && shift && exec "$@"' sh "$tmp/cni" \
                $PY "$(dirname "$0")/lnst-recipe.py" "$PEERS" "$SOCK" "$plugin" "$name" </dev/null >"$out" 2>&1 || rc=$?
        local made="" b
        for b in $(lab_bridges); do grep -qx "$b" <<<"$bridges_before" || made+=" $b"; done
        for b in $made; do ip link del "$b" 2>/dev/null; done
        made=${made/ cni-podman1/}
        if [ $rc != 0 ] || ! grep -q '^first-connect: yes' "$out"; then
                echo "LNST ($plugin, $name): exit $rc"; grep -E 'retry|ERROR|Error|FAIL|Traceback' "$out" | tail -20
                return 1
        fi
        [ -z "$made" ] || { echo "LNST ($plugin, $name) left bridges:$made"; return 1; }
        [ -z "$(nsp ps -a -q)" ] || { echo "containers left: $(nsp ps -a)"; return 1; }
        echo "# $plugin $name: $(grep '^seconds:' "$out")"
}

for plugin in netavark cni custom_lnst; do
        ok "LNST HelloWorld ($plugin): two agents on one network ping both ways; each agent reached on LNST's first try" -- \
                recipe "$plugin" hello
done
ok "LNST (custom_lnst): one agent with two NICs on one network" -- recipe custom_lnst two-nics
ok "LNST (netavark): one agent on two networks, one peer on each, the networks apart" -- recipe netavark two-nets
ok "the conflists LNST wrote went with its networks" -- bash -c "[ -z \"\$(ls '$tmp/cni')\" ] || { ls '$tmp/cni'; exit 1; }"

# The agent image container_files/agent/build-rootfs makes (debootstrap, LNST from the
# peer tree), when the distribution's mirror answers
mirror=http://deb.debian.org/debian
t_build_rootfs() {
        local log=$tmp/build-rootfs.log
        nsp image rm lnst >/dev/null || return 1
        NSPROV=$NSPROV_BIN NSPROV_ROOT=$tmp/root NSPROV_RUNROOT=$tmp/run \
                "$(dirname "$0")/../../container_files/agent/build-rootfs" --lnst "$PEERS/lnst" --dir "$tmp/agentroot" \
                --mirror "$mirror" lnst >"$log" 2>&1 || { cat "$log"; return 1; }
        nsp image inspect lnst | grep -q '"Ready": "tcp:9999"' || { echo "not declared ready: $(nsp image inspect lnst)"; return 1; }
        recipe netavark hello
}
if command -v debootstrap >/dev/null && timeout 10 curl -sfI "$mirror/dists/bookworm/Release" >/dev/null 2>&1; then
        ok "LNST HelloWorld (netavark) on the agent image build-rootfs makes with debootstrap" -- t_build_rootfs
else
        TAP_N=$((TAP_N + 1))
        echo "ok $TAP_N - LNST on build-rootfs's image # SKIP no debootstrap, or $mirror does not answer"
fi
