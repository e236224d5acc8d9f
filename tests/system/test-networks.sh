#!/bin/bash
# Native networks as LNST uses them: L2-only lab networks whose addresses the test sets,
# and a network with subnets and IPAM that the host reaches the containers on. Real
# bridges, veths and pings; every bridge is named with the test's prefix, every host veth
# carries its container's mark, and the end checks none of them is left.
set -u
. "$(dirname "$0")/tap.sh"
begin_store_test  # its reset removes containers, then networks

# Halves of TEST-NET-3 (the lab demo, which may run beside us, has the other) and the
# IPv6 documentation prefix: routed nowhere, and not this host's.
MGMT4=203.0.113.128/25
MGMT6=2001:db8:e5::/64

is() {
        local want=$1; shift; [ "$1" = -- ] && shift
        local got; got=$("$@" 2>&1)
        [ "$got" = "$want" ] || { echo "got '$got', wanted '$want'"; return 1; }
}
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

ok "create an L2-only lab network" -- nsp network create --bridge "$P-lab" "$P-lab"
ok "create a second one" -- nsp network create --bridge "$P-lab2" "$P-lab2"
ok "create a network with IPv4 and IPv6 subnets" -- nsp network create --bridge "$P-mg" --subnet $MGMT4 --subnet $MGMT6 "$P-mgmt"
# where an L2-only network's bridge lives: a netns of the network's own (its path is in
# network inspect), named with the network's name and so with the test's prefix
brns() { nsp network inspect "$1" | python3 -c "import json,sys,os; print(os.path.basename(json.load(sys.stdin)[0]['bridge_netns']))"; }
ok "an L2-only network's bridge lives in a netns of its own, named after it; the host sees none of it" -- bash -c "$(declare -f nsp brns); tmp='$tmp'
        ns=\$(brns $P-lab); case \$ns in nsprov-net-$P-lab-*) ;; *) echo \"netns '\$ns'\"; exit 1;; esac
        ip netns list | grep -q \"^\$ns\" && ip -n \$ns link show $P-lab >/dev/null && ! ip link show $P-lab >/dev/null 2>&1"
ok "the bridge forwards at once: STP off, forward delay 0, marked" -- bash -c "$(declare -f nsp brns); tmp='$tmp'; ip -n \$(brns $P-lab) -j -d link show $P-lab | python3 -c \"import json,sys; l=json.load(sys.stdin)[0]; d=l['linkinfo']['info_data']; assert d['stp_state']==0 and d['forward_delay']==0, d; assert l['ifalias'].startswith('nsprov:net-'), l\""
ok "nothing in a lab network's netns has IPv6 (it sends nothing into the segment)" -- bash -c "$(declare -f nsp brns); tmp='$tmp'; ns=\$(brns $P-lab); [ \$(ip netns exec \$ns cat /proc/sys/net/ipv6/conf/default/disable_ipv6) = 1 ] && [ \$(ip netns exec \$ns cat /proc/sys/net/ipv6/conf/$P-lab/disable_ipv6) = 1 ]"
ok "the gateway lives on the subnet network's bridge, on the host" -- bash -c "$(declare -f nsp); tmp='$tmp'; ip -br addr show $P-mg | grep -q '203.0.113.129/25' && [ \"\$(nsp network inspect $P-mgmt | python3 -c \"import json,sys; print(json.load(sys.stdin)[0]['bridge_netns'])\")\" = '' ]"
ok "--host-bridge keeps an L2-only bridge on the host" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp network create --host-bridge --bridge $P-hb $P-hostbr >/dev/null && ip -j -d link show $P-hb | python3 -c \"import json,sys; l=json.load(sys.stdin)[0]; assert l['linkinfo']['info_kind']=='bridge' and l['ifalias'].startswith('nsprov:net-'), l\""
ok "there it does not answer ARP for the host's addresses" -- bash -c "[ \$(cat /proc/sys/net/ipv4/conf/$P-hb/arp_ignore) = 8 ]"
ok "and has no IPv6 of its own (sends nothing into the segment)" -- bash -c "[ \$(cat /proc/sys/net/ipv6/conf/$P-hb/disable_ipv6) = 1 ]"
ok "network rm deletes the host bridge" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp network rm $P-hostbr >/dev/null && ! ip link show $P-hb >/dev/null 2>&1"
ok "--bridge naming a bridge the host has uses it there" -- bash -c "$(declare -f nsp); tmp='$tmp'
        ip link add $P-ub0 type bridge && nsp network create --bridge $P-ub0 $P-user0 >/dev/null &&
        [ \"\$(nsp network inspect $P-user0 | python3 -c \"import json,sys; print(json.load(sys.stdin)[0]['bridge_netns'])\")\" = '' ]; r=\$?
        nsp network rm $P-user0 >/dev/null; ip link del $P-ub0; exit \$r"
ok "network ls shows them" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp network ls | grep -q '$P-lab .*(L2 only)' && nsp network ls | grep -q '$P-mgmt .*203.0.113.128/25,2001:db8:e5::/64'"
ok "network inspect has Podman's fields" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp network inspect $P-mgmt | python3 -c \"import json,sys; n=json.load(sys.stdin)[0]; assert n['name']=='$P-mgmt' and n['driver']=='bridge' and n['network_interface']=='$P-mg' and len(n['id'])==64 and n['ipv6_enabled'] and n['subnets'][0]=={'subnet':'203.0.113.128/25','gateway':'203.0.113.129'}, n\""
ok "network exists: 0, and 1 for none" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp network exists $P-lab && { nsp network exists nope-$P; [ \$? = 1 ]; }"
ok "a duplicate network is refused" -- expect_fail 125 "network '$P-lab' already exists" -- nsp network create "$P-lab"
ok "a bad subnet is named" -- expect_fail 125 "203.0.113.128/33" -- nsp network create --subnet 203.0.113.128/33 "$P-bad"
ok "a gateway outside its subnet is refused" -- expect_fail 125 "is not in subnet" -- nsp network create --subnet 203.0.113.128/25 --gateway 198.51.100.1 "$P-bad"
ok "an invalid network name" -- expect_fail 125 "invalid network name" -- nsp network create "x/$P"

ok "run two lab agents on the lab network and the management network" -- bash -c "$(declare -f nsp); tmp='$tmp'
        nsp run -d --privileged --name $P-a --hostname machine1 --network $P-mgmt --network $P-lab host sleep 300 >/dev/null &&
        nsp run -d --privileged --name $P-b --hostname machine2 --network $P-mgmt,$P-lab host sleep 300 >/dev/null"
ok "interfaces are there from the start: eth0 (mgmt) and eth1 (lab)" -- is "eth0 eth1" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp exec $P-a ip -o link | awk -F': ' '{print \$2}' | cut -d@ -f1 | grep eth | tr '\n' ' ' | sed 's/ \$//'"
ok "lo is up in a wired container too (brought up by its wiring), 127.0.0.1 answers" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp exec $P-a ip -o link show lo | grep -q 'UP,LOWER_UP' && nsp exec $P-a ping -c1 -W2 127.0.0.1 >/dev/null"
ok "IPAM gave each a distinct address, shown by inspect" -- bash -c "$(declare -f nsp); tmp='$tmp'
        a=\$(nsp inspect -f \"{{.NetworkSettings.Networks.$P-mgmt.IPAddress}}\" $P-a); b=\$(nsp inspect -f \"{{.NetworkSettings.Networks.$P-mgmt.IPAddress}}\" $P-b)
        [ \"\$a\" = 203.0.113.130 ] && [ \"\$b\" = 203.0.113.131 ] || { echo \"\$a \$b\"; exit 1; }"
ok "inspect has Podman's per-network fields" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp inspect $P-a | python3 -c \"import json,sys; c=json.load(sys.stdin)[0]; n=c['NetworkSettings']['Networks']; m=n['$P-mgmt']; assert m['IPPrefixLen']==25 and m['Gateway']=='203.0.113.129' and m['GlobalIPv6Address']=='2001:db8:e5::2' and m['NetworkID']=='$P-mgmt' and m['InterfaceName']=='eth0', m; l=n['$P-lab']; assert l['IPAddress']=='' and l['InterfaceName']=='eth1', l; assert c['HostConfig']['NetworkMode']=='bridge'\""
ok "the address is inside the container, with the default route" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp exec $P-a ip -br addr show eth0 | grep -q '203.0.113.130/25' && nsp exec $P-a ip route show default | grep -q 'via 203.0.113.129 dev eth0'"
ok "MACs are derived: the same on every run, locally administered" -- bash -c "$(declare -f nsp); tmp='$tmp'
        m1=\$(nsp inspect -f \"{{.NetworkSettings.Networks.$P-lab.MacAddress}}\" $P-a)
        inside=\$(nsp exec $P-a cat /sys/class/net/eth1/address)
        [ \"\$m1\" = \"\$inside\" ] || { echo \"\$m1 vs \$inside\"; exit 1; }
        python3 -c \"b=int('\$m1'[:2],16); assert b & 2 and not b & 1, '\$m1'\"
        nsp create --name $P-twin --network $P-lab host true >/dev/null; m2=\$(nsp inspect -f \"{{.NetworkSettings.Networks.$P-lab.MacAddress}}\" $P-twin); nsp rm $P-twin >/dev/null
        nsp rm -f $P-a >/dev/null && nsp run -d --privileged --name $P-a --hostname machine1 --network $P-mgmt --network $P-lab host sleep 300 >/dev/null
        [ \"\$(nsp inspect -f \"{{.NetworkSettings.Networks.$P-lab.MacAddress}}\" $P-a)\" = \"\$m1\" ] && [ \"\$m2\" != \"\$m1\" ]"
ok "the bridge side of each link carries the container's mark" -- bash -c "$(declare -f nsp brns); tmp='$tmp'; id=\$(nsp inspect -f '{{.Id}}' $P-a); [ \$(ip -n \$(brns $P-lab) -j link show master $P-lab | python3 -c \"import json,sys; print(sum(1 for l in json.load(sys.stdin) if l.get('ifalias')=='nsprov:\$id'))\") = 1 ]"

ok "the host reaches an agent at its inspected IP (TCP)" -- bash -c "$(declare -f nsp); tmp='$tmp'
        ip=\$(nsp inspect -f \"{{.NetworkSettings.Networks.$P-mgmt.IPAddress}}\" $P-a)
        (nsp exec $P-a python3 -c 'import socket; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\"0.0.0.0\", 9999)); s.listen(1); c,_=s.accept(); c.sendall(b\"agent-hello\"); c.close()' &)
        for i in \$(seq 50); do out=\$(python3 -c \"import socket; s=socket.create_connection(('\$ip', 9999), timeout=1); print(s.recv(64).decode())\" 2>/dev/null) && break; sleep 0.1; done
        [ \"\$out\" = agent-hello ] || { echo \"got '\$out'\"; exit 1; }"
ok "agents on the management network reach each other (v4 and v6)" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp exec $P-a ping -c1 -W3 203.0.113.131 >/dev/null && nsp exec $P-a ping -6 -c1 -W3 2001:db8:e5::3 >/dev/null"
ok "on the L2 network they set their own addresses and ping both ways, v4 and v6" -- bash -c "$(declare -f nsp); tmp='$tmp'
        nsp exec $P-a ip addr add 198.51.100.21/24 dev eth1 && nsp exec $P-b ip addr add 198.51.100.22/24 dev eth1 &&
        nsp exec $P-a ip -6 addr add 2001:db8:21::1/64 dev eth1 && nsp exec $P-b ip -6 addr add 2001:db8:21::2/64 dev eth1 &&
        nsp exec $P-a ping -c1 -W3 198.51.100.22 >/dev/null && nsp exec $P-b ping -c1 -W3 198.51.100.21 >/dev/null &&
        nsp exec $P-a ping -6 -c1 -W3 2001:db8:21::2 >/dev/null && nsp exec $P-b ping -6 -c1 -W3 2001:db8:21::1 >/dev/null"
ok "the IPv6 address was usable at once (no DAD, never tentative)" -- bash -c "$(declare -f nsp); tmp='$tmp'; ! nsp exec $P-b ip -6 addr show dev eth1 | grep -q tentative && [ \$(nsp exec $P-b cat /proc/sys/net/ipv6/conf/eth1/accept_dad) = 0 ]"

ok "hot plug: connect a running agent to the second lab network, with a MAC and a name" -- bash -c "$(declare -f nsp); tmp='$tmp'
        [ \"\$(nsp network connect --mac-address 02:42:00:00:00:07 --interface-name lab2 $P-lab2 $P-a)\" = lab2 ] &&
        nsp exec $P-a ip -j link show lab2 | python3 -c \"import json,sys; l=json.load(sys.stdin)[0]; assert l['address']=='02:42:00:00:00:07' and 'UP' in l['flags'], l\""
ok "one agent joins the same network twice: two NICs on one segment, both reach a peer" -- bash -c "$(declare -f nsp); tmp='$tmp'
        [ \"\$(nsp network connect $P-lab $P-b)\" = eth2 ] || exit 1
        nsp exec $P-b ip addr add 198.51.100.23/24 dev eth2 &&
        nsp exec $P-b ping -I eth1 -c1 -W3 198.51.100.21 >/dev/null && nsp exec $P-b ping -I eth2 -c1 -W3 198.51.100.21 >/dev/null"
ok "disconnect needs the interface when there are two" -- expect_fail 125 "has 2 interfaces on '$P-lab'" -- nsp network disconnect "$P-lab" "$P-b"
ok "disconnect one by name; it is gone inside" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp network disconnect --interface-name eth2 $P-lab $P-b && ! nsp exec $P-b ip link show eth2 >/dev/null 2>&1"
ok "a requested address is honoured, a taken one refused" -- bash -c "$(declare -f nsp); tmp='$tmp'
        nsp run -d --name $P-c host sleep 300 >/dev/null &&
        nsp network connect --ip 203.0.113.177 $P-mgmt $P-c >/dev/null &&
        [ \"\$(nsp inspect -f \"{{.NetworkSettings.Networks.$P-mgmt.IPAddress}}\" $P-c)\" = 203.0.113.177 ] &&
        nsp network connect --ip 203.0.113.177 --interface-name x1 $P-mgmt $P-c 2>&1 | grep -q 'already in use' &&
        ! nsp exec $P-c ip link show x1 >/dev/null 2>&1"
ok "an address outside the subnet is refused" -- expect_fail 125 "not in subnet" -- nsp network connect --ip 198.51.100.9 --interface-name x2 "$P-mgmt" "$P-c"
ok "stop releases the addresses and the links" -- bash -c "$(declare -f nsp); tmp='$tmp'
        nsp stop -t 0 $P-c >/dev/null && ! grep -q 203.0.113.177 $tmp/run/ipam/$P-mgmt.json &&
        for i in \$(seq 30); do [ \$(ip -j link show master $P-mg | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') = 2 ] && exit 0; sleep 0.1; done; exit 1"
ok "a restart wires it again, with its requested address" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp start $P-c >/dev/null && nsp exec $P-c ip -br addr show eth0 | grep -q 203.0.113.177"
ok "50 parallel connects get 50 distinct addresses" -- bash -c "$(declare -f nsp); tmp='$tmp'
        for i in \$(seq 50); do nsp run -d --name $P-p\$i host sleep 300 >/dev/null || exit 1; done
        for i in \$(seq 50); do nsp network connect $P-mgmt $P-p\$i >/dev/null & done; wait
        n=\$(for i in \$(seq 50); do nsp inspect -f \"{{.NetworkSettings.Networks.$P-mgmt.IPAddress}}\" $P-p\$i; done | sort -u | grep -c 203.0.113)
        for i in \$(seq 50); do nsp rm -f $P-p\$i >/dev/null & done; wait
        [ \$n = 50 ] || { echo \"\$n distinct\"; exit 1; }"
sixteen() {
        local i j k n=16
        nsp network create --bridge "$P-s1" "$P-s1" >/dev/null && nsp network create --bridge "$P-s2" "$P-s2" >/dev/null || return 1
        for i in $(seq $n); do
                nsp run -d --privileged --name "$P-x$i" --network "$P-s1,$P-s2" host sleep 300 >/dev/null || return 1
                nsp exec "$P-x$i" sh -c "ip addr add 198.51.100.$i/24 dev eth0 && ip addr add 198.51.101.$i/24 dev eth1" || return 1
        done
        # every ordered pair, on both networks: one exec per container pings all the others
        for i in $(seq $n); do
                nsp exec "$P-x$i" sh -c "for j in \$(seq $n); do [ \$j = $i ] && continue
                        ping -c1 -W2 198.51.100.\$j >/dev/null && ping -c1 -W2 198.51.101.\$j >/dev/null || { echo \"$i -> \$j\"; exit 1; }; done" || return 1
        done
        for i in $(seq $n); do nsp rm -f "$P-x$i" >/dev/null & done; wait
        nsp network rm "$P-s1" "$P-s2" >/dev/null
}
ok "16 agents on 2 L2 networks: every pair reaches the other on both" -- sixteen
killed_connects() {
        # kill -9 the CLI at varying points of a connect: whatever it made must go with
        # the container and gc, and no address stays taken
        local i id
        nsp network create --bridge "$P-kb" --subnet 198.18.6.0/24 "$P-kill" >/dev/null || return 1
        nsp run -d --privileged --name "$P-k" host sleep 300 >/dev/null || return 1
        id=$(nsp inspect -f '{{.Id}}' "$P-k")
        for i in $(seq 20); do
                "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" network connect "$P-kill" "$P-k" >/dev/null 2>&1 &
                sleep "0.00$((i % 10))"; kill -9 $! 2>/dev/null; wait $! 2>/dev/null
        done
        nsp rm -f "$P-k" >/dev/null && nsp system gc >/dev/null || return 1
        ! grep -q "$id" "$tmp/run/ipam/$P-kill.json" 2>/dev/null || { echo "addresses of $id still taken"; return 1; }
        for i in $(seq 30); do ip -j link | grep -q "nsprov:$id" || break; sleep 0.1; done
        ! ip -j link | grep -q "nsprov:$id" || { echo "links of $id left"; return 1; }
        nsp network rm "$P-kill" >/dev/null
}
ok "kill -9 of the CLI halfway through connects, then gc: nothing left, no address held" -- killed_connects
wiped_state() {
        # a container whose record is gone (its runroot dir wiped) while its netns lives
        # on: gc finds its port on our bridges by its mark, and takes it and the netns
        local id mon
        nsp network create --bridge "$P-wb" "$P-wiped" >/dev/null || return 1
        nsp network create --host-bridge --bridge "$P-wh" "$P-wipedh" >/dev/null || return 1
        nsp run -d --name "$P-w" --network "$P-wiped,$P-wipedh" host sleep 300 >/dev/null || return 1
        id=$(nsp inspect -f '{{.Id}}' "$P-w"); mon=$(nsp inspect -f '{{.State.ConmonPid}}' "$P-w")
        # the monitor is ours (this test started it): its PID 1 goes with it
        kill -9 "$mon"; for i in $(seq 50); do kill -0 "$mon" 2>/dev/null || break; sleep 0.1; done
        rm -rf "$tmp/run/containers/$id" "$tmp/run/names/$P-w"
        ip -j link | grep -q "nsprov:$id" || { echo "the test lost its host port before gc"; return 1; }
        nsp system gc >/dev/null || return 1
        for i in $(seq 30); do ip -j link | grep -q "nsprov:$id" || break; sleep 0.1; done
        ! ip -j link | grep -q "nsprov:$id" || { echo "the port on the host bridge is left"; return 1; }
        [ ! -e "/run/netns/nsprov-$id" ] || { echo "its netns is left"; return 1; }
        ! ip netns exec "$(brns "$P-wiped")" ip -j link | grep -q "nsprov:$id" || { echo "the port in the bridge netns is left"; return 1; }
        nsp network rm "$P-wiped" "$P-wipedh" >/dev/null
}
ok "a container's record wiped while its netns lives: gc takes its ports on our bridges and its netns" -- wiped_state
second_root() {
        # another store on the same host: a default bridge of its own, and a refusal for
        # what would share this store's bridge or address
        local other; other=$(mktemp -d "/tmp/$TEST_PREFIX.XXXXXX")
        o() { "$NSPROV_BIN" --root "$other/root" --runroot "$other/run" "$@"; }
        local ok=0
        expect_fail 125 "belongs to another nsprov network" -- o network create --bridge "$P-mg" "$P-steal" || ok=1
        expect_fail 125 "overlaps" -- o network create --subnet $MGMT4 "$P-overlap" || ok=1
        expect_fail 125 "is a .* link, not a bridge" -- o network create --bridge lo "$P-notbr" || ok=1
        [ -z "$(o network ls -q 2>/dev/null | grep "$P")" ] || { echo "a refused network was recorded"; ok=1; }
        rm -rf "$other"
        return $ok
}
ok "a second --root: refused a bridge another store's network made, an overlapping subnet, a non-bridge" -- second_root
ok "network rm refuses a network in use, exit 2 as Podman's" -- expect_fail 2 "is used by" -- nsp network rm "$P-lab"
ok "network rm of a network that does not exist: exit 1 as Podman's" -- expect_fail 1 "nope-$P" -- nsp network rm "nope-$P"
ok "network rm -f disconnects them, removes the bridge and its netns" -- bash -c "$(declare -f nsp brns); tmp='$tmp'; ns=\$(brns $P-lab); nsp network rm -f $P-lab >/dev/null && ! ip netns list | grep -q \"^\$ns\" && ! nsp exec $P-a ip link show eth1 >/dev/null 2>&1"
default_net() {
        # RFC 2544's benchmarking range: no lab segment here uses it
        local out
        NSPROV_DEFAULT_NETWORK="$P-def" NSPROV_DEFAULT_SUBNET=198.18.0.0/24 NSPROV_DEFAULT_BRIDGE="$P-d0" \
                nsp run -d --name "$P-dn" host sleep 300 >/dev/null || return 1
        out=$(nsp inspect -f "{{.NetworkSettings.Networks.$P-def.IPAddress}} {{.HostConfig.NetworkMode}}" "$P-dn")
        [ "$out" = "198.18.0.2 bridge" ] || { echo "got '$out'"; return 1; }
        ip -br addr show "$P-d0" | grep -q 198.18.0.1/24 || { echo "no gateway on $P-d0"; return 1; }
        NSPROV_DEFAULT_NETWORK="$P-def" nsp run --rm --network none host sh -c '[ $(ls /sys/class/net | wc -l) = 1 ]' ||
                { echo "--network none still joined"; return 1; }
        nsp rm -f "$P-dn" >/dev/null && nsp network rm "$P-def" >/dev/null
}
ok "without --network a container joins the default network, made on first use" -- default_net
ip_range() {
        local i out
        nsp network create --bridge "$P-rg" --subnet 198.18.1.0/24 --ip-range 198.18.1.64/30 "$P-rg" >/dev/null || return 1
        for i in 1 2 3 4; do nsp run -d --name "$P-r$i" --network "$P-rg" host sleep 300 >/dev/null || return 1; done
        out=$(for i in 1 2 3 4; do nsp inspect -f "{{.NetworkSettings.Networks.$P-rg.IPAddress}}" "$P-r$i"; done | tr '\n' ' ')
        [ "$out" = "198.18.1.64 198.18.1.65 198.18.1.66 198.18.1.67 " ] || { echo "got '$out'"; return 1; }
        nsp run -d --name "$P-r5" --network "$P-rg" host sleep 300 2>&1 | grep -q "no free address left in its --ip-range" || return 1
        for i in 1 2 3 4 5; do nsp rm -f "$P-r$i" >/dev/null; done
        nsp network rm "$P-rg" >/dev/null
}
ok "--ip-range bounds what IPAM hands out, and says when it is used up" -- ip_range
ok "an --ip-range outside its subnet is refused" -- expect_fail 125 "is not inside subnet" -- nsp network create --subnet 198.18.1.0/24 --ip-range 198.18.2.0/30 "$P-bad"
# (ok runs each check in a subshell: cleanup for the NAT test is registered out here)
defer "ip netns del $P-nh 2>/dev/null; ip netns del $P-no 2>/dev/null"
nat() {
        # A "host" of its own (a netns) with an "outside" behind it: the forwarding, the
        # nftables table and the masquerading all happen in there, never on this machine.
        local h="$P-nh" o="$P-no" src
        ip netns add "$h" && ip netns add "$o" || return 1
        ip -n "$h" link set lo up && ip -n "$o" link set lo up &&
        ip link add "$P-v0" netns "$h" type veth peer name "$P-v1" netns "$o" &&
        ip -n "$h" addr add 198.18.4.1/24 dev "$P-v0" && ip -n "$h" link set "$P-v0" up &&
        ip -n "$o" addr add 198.18.4.2/24 dev "$P-v1" && ip -n "$o" link set "$P-v1" up || return 1
        hn() { ip netns exec "$h" "$NSPROV_BIN" --root "$tmp/nroot" --runroot "$tmp/nrun" --default-network none "$@"; }
        hn network create --nat --bridge "$P-nb" --subnet 198.18.3.0/24 "$P-nat" >/dev/null || return 1
        [ "$(ip netns exec "$h" cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || { echo "no forwarding"; return 1; }
        ip netns exec "$o" python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("198.18.4.2", 7777)); s.settimeout(10); print(s.recvfrom(64)[1][0])' >"$tmp/natsrc" &
        local lp=$!
        sleep 0.3
        hn run --rm --network "$P-nat" host python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(10): s.sendto(b"x", ("198.18.4.2", 7777)); time.sleep(0.05)' || return 1
        wait $lp
        src=$(cat "$tmp/natsrc")
        [ "$src" = 198.18.4.1 ] || { echo "the outside saw '$src', not the host's address"; return 1; }
        # the table, seen by nft itself (a missing nft must fail the test, not pass it)
        local tables
        tables=$(ip netns exec "$h" nft list tables) || { echo "nft list tables failed"; return 1; }
        grep -q "ip nsprov-" <<<"$tables" || { echo "no nsprov table while the network is there: $tables"; return 1; }
        hn network rm "$P-nat" >/dev/null || return 1
        tables=$(ip netns exec "$h" nft list tables) || { echo "nft list tables failed"; return 1; }
        ! grep -q nsprov <<<"$tables" || { echo "nftables table left: $tables"; return 1; }
}
ok "--nat masquerades what leaves the host from the subnet, and its table goes with the network" -- nat
ok "--nat is refused on an L2-only network" -- expect_fail 125 "--nat needs a --subnet" -- nsp network create --nat "$P-bad"
ok "network prune removes unused networks only" -- bash -c "$(declare -f nsp); tmp='$tmp'; nsp network create $P-unused >/dev/null && [ \"\$(nsp network prune)\" = $P-unused ] && nsp network exists $P-mgmt"
ok "a --bridge the user made is never removed" -- bash -c "$(declare -f nsp); tmp='$tmp'
        ip link add $P-ub type bridge && nsp network create --bridge $P-ub $P-user >/dev/null && nsp network rm $P-user >/dev/null &&
        ip link show $P-ub >/dev/null; r=\$?; ip link del $P-ub; exit \$r"
several_rm() {
        local i out
        # one in a netns of its own, two on the host: both kinds go in one call
        nsp network create --bridge "$P-m1" "$P-m1" >/dev/null || return 1
        for i in 2 3; do nsp network create --host-bridge --bridge "$P-m$i" "$P-m$i" >/dev/null || return 1; done
        out=$(nsp network rm "$P-m1" "$P-nosuch" "$P-m2" "$P-m3" 2>"$tmp/several.err"); [ $? = 1 ] || { echo "exit status not 1 (a name that does not exist, as Podman)"; return 1; }
        [ "$out" = "$(printf '%s\n' "$P-m1" "$P-m2" "$P-m3")" ] || { echo "printed: $out"; return 1; }
        grep -q "$P-nosuch" "$tmp/several.err" || { echo "the missing name was not reported"; return 1; }
        for i in 2 3; do ! ip link show "$P-m$i" >/dev/null 2>&1 || { echo "bridge $P-m$i left"; return 1; }; done
        ! ip netns list | grep -q "^nsprov-net-$P-m1-" || { echo "netns of $P-m1 left"; return 1; }
        ! nsp network exists "$P-m1"
}
ok "network rm of several: each existing one goes with its bridge, a missing name is reported" -- several_rm
remade_netns() {
        # /run emptied (a reboot) or the netns deleted by hand: the first starts, all at
        # once, make it and its bridge again, and every one of them gets its link
        local i ns
        nsp network create --bridge "$P-rb" "$P-remade" >/dev/null || return 1
        ns=$(brns "$P-remade")
        for i in 1 2 3 4 5 6; do nsp create --name "$P-rm$i" --network "$P-remade" host sleep 300 >/dev/null || return 1; done
        ip netns del "$ns" || return 1
        for i in 1 2 3 4 5 6; do nsp start "$P-rm$i" >/dev/null & done
        wait
        [ "$(ip -n "$ns" -j link show master "$P-rb" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 6 ] || { echo "not 6 ports"; return 1; }
        nsp rm -f $(printf "$P-rm%s " 1 2 3 4 5 6) >/dev/null && nsp network rm "$P-remade" >/dev/null
}
ok "a lab network's netns that went is made again by the first starts, even six at once" -- remade_netns
ok "after removing everything, no mark of ours is left" -- bash -c "$(declare -f nsp); tmp='$tmp'
        ids=\$(nsp ps -aq --no-trunc); nsp system reset --force >/dev/null
        for i in \$(seq 30); do left=0; for id in \$ids; do ip -j link | grep -q \"nsprov:\$id\" && left=1; done; [ \$left = 0 ] && break; sleep 0.1; done
        [ \$left = 0 ] && [ -z \"\$(nsp network ls -q)\" ] && ! ip -br link | grep -q '^$P'"
