#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The CNI executor as a user drives it: `nsprov cni` against small fake plugins written
# here (shell scripts) and Debian's real containernetworking-plugins. Test names carry the
# IDs of shared/cni-checklist.md. Every test has its own config, cache and plugin dirs;
# the host's /etc/cni and /var/lib/cni are never touched. Real-plugin tests run their
# "host" side in a throwaway netns, so bridges and iptables chains go with it.
set -uo pipefail
. "$(dirname "$0")/tap.sh"
require_root
trap tap_finish EXIT

use_private_store
CONF=$tmp/conf BIN=$tmp/bin CACHE=$tmp/cache DATA=$tmp/data
export LOG=$tmp/log
mkdir -p "$CONF" "$BIN" "$CACHE" "$DATA" "$LOG"
cni() { nsp --cni-config-dir "$CONF" --cni-path "$BIN:/usr/lib/cni" --cni-cache-dir "$CACHE" cni "$@"; }
# python3 as the JSON checker: pyj 'EXPR with j' < file
pyj() { python3 -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }

# fake NAME [VERSIONS] <<< 'shell for ADD/DEL/CHECK/GC/STATUS': logs each call's CNI_* env
# and stdin to $LOG/NAME.log; VERSION answers with VERSIONS.
fake() {
        local name=$1 versions=${2:-'"0.3.1","0.4.0","1.0.0","1.1.0"'} body
        body=$(cat)
        cat >"$BIN/$name" <<SCRIPT
#!/bin/sh
if [ "\$CNI_COMMAND" = VERSION ]; then
        echo '{"cniVersion":"1.0.0","supportedVersions":[$versions]}'; exit 0
fi
input=\$(cat)
{ echo "== \$CNI_COMMAND"; env | grep -E '^(CNI_|FOO=|PATH=)' | sort; echo "\$input"; } >>"\$LOG/$name.log"
$body
SCRIPT
        chmod +x "$BIN/$name"
}
ok_result='{"cniVersion":"1.0.0","ips":[{"address":"10.9.9.9/24"}],"dns":{}}'
fake fake-ok <<<"[ \"\$CNI_COMMAND\" = ADD ] && echo '$ok_result'; exit 0"
fake fake-ok2 <<<"[ \"\$CNI_COMMAND\" = ADD ] && echo '{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"4\",\"address\":\"10.9.9.10/24\"}]}'; exit 0"
fake fake-fail <<<'[ "$CNI_COMMAND" = ADD ] && { echo "{\"code\":11,\"msg\":\"try later\",\"details\":\"db locked\"}"; exit 1; }; exit 0'
fake fake-notjson <<<'echo "this is not json"; exit 2'
fake fake-stderr <<<'echo "boom on stderr" >&2; exit 3'
fake fake-silent <<<'exit 4'
fake fake-segv <<<'kill -SEGV $$'
fake fake-garbage <<<'echo garbage; exit 0'
fake fake-empty <<<'exit 0'
fake fake-50 <<<'echo "{\"code\":50,\"msg\":\"not ready\"}"; exit 1'
fake fake-hang <<<'sleep 1000 & echo $! >"$LOG/hang.pids"; sleep 1000'
fake fake-daemon <<<"sleep 30 & echo \$! >\"\$LOG/daemon.pids\"; echo '$ok_result'; exit 0"
fake fake-huge <<<'head -c 17000000 /dev/zero | tr "\\0" x; exit 0'
fake fake-big <<<"python3 -c 'import json; print(json.dumps({\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.9.9.9/24\"}],\"dns\":{\"search\":[\"x\"*1048000]}}))'"
cat >"$BIN/fake-noread" <<'SCRIPT'
#!/bin/sh
[ "$CNI_COMMAND" = VERSION ] && { echo '{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}'; exit 0; }
exit 0
SCRIPT
chmod +x "$BIN/fake-noread"
printf '#!/bin/sh\nexit 0\n' >"$BIN/noexec"; chmod 0644 "$BIN/noexec"

# list NAME VERSION TYPE... : a conflist of those plugin types
list() {
        local name=$1 version=$2; shift 2
        local plugins="" t
        for t in "$@"; do plugins+="${plugins:+,}{\"type\":\"$t\"}"; done
        printf '{"cniVersion":"%s","name":"%s","plugins":[%s]}\n' "$version" "$name" "$plugins" >"$CONF/$name.conflist"
}
NETNS=/proc/self/ns/net   # ADD and CHECK need a path that exists (V-35); fakes ignore it

t_env() {   # T-10
        list fenv 1.0.0 fake-ok
        rm -f "$LOG/fake-ok.log"
        CNI_IFNAME=stale FOO=1 cni add fenv $NETNS --container-id c1 --args 'IgnoreUnknown=1;K8S_POD_NAME=web' >/dev/null || return 1
        local l=$LOG/fake-ok.log
        grep -qx 'CNI_COMMAND=ADD' $l && grep -qx 'CNI_CONTAINERID=c1' $l && grep -qx "CNI_NETNS=$NETNS" $l &&
                grep -qx 'CNI_IFNAME=eth0' $l && ! grep -q stale $l &&
                grep -qx 'CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=web' $l && grep -qx "CNI_PATH=$BIN:/usr/lib/cni" $l &&
                grep -qx 'FOO=1' $l && [ "$(grep -c '^CNI_IFNAME=' $l)" = 1 ] || { cat $l; return 1; }
        rm -f $l
        cni del fenv $NETNS --container-id c1 --args 'IgnoreUnknown=1;K8S_POD_NAME=web' || return 1
        grep -qx 'CNI_COMMAND=DEL' $l && grep -qx 'CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=web' $l || return 1
        rm -f $l
        cni add fenv $NETNS --container-id c2 >/dev/null && grep -qx 'CNI_ARGS=' $l || return 1
        cni del fenv - --container-id c2
}
ok "T-10: the six CNI_* variables set, stale ones replaced, the rest inherited" -- t_env

t_chain() {   # T-11
        cat >"$CONF/chain.conflist" <<'JSON'
{"cniVersion":"1.0.0","name":"chain","plugins":[{"type":"fake-ok2"},{"type":"fake-ok","capabilities":{"portMappings":true}}]}
JSON
        rm -f "$LOG"/fake-ok*.log
        cni add chain $NETNS --container-id c1 --cap-args '{"portMappings":[{"hostPort":1}],"mac":"x","other":1}' >$tmp/out || return 1
        # the first sees no prevResult; the second gets the first's 0.4.0 result unchanged
        sed -n '/^{/p' "$LOG/fake-ok2.log" | pyj '"prevResult" not in j and "runtimeConfig" not in j' || return 1
        sed -n '/^{/p' "$LOG/fake-ok.log" | pyj 'j["prevResult"]["cniVersion"]=="0.4.0" and j["prevResult"]["ips"][0]["version"]=="4" and list(j["runtimeConfig"])==["portMappings"] and j["name"]=="chain"' || return 1
        pyj 'j["ips"][0]["address"]=="10.9.9.9/24"' <$tmp/out || return 1
        cni del chain - --container-id c1
}
ok "T-11: prevResult chained as printed, runtimeConfig only for declared capabilities" -- t_chain

t_lookup() {   # T-12
        mkdir -p $tmp/d1/fake-x $tmp/d2
        cp "$BIN/fake-ok" $tmp/d2/fake-x
        rm -f "$LOG/fake-ok.log"
        list lk 1.0.0 fake-x
        nsp --cni-config-dir "$CONF" --cni-path "$tmp/d1:$tmp/d2" --cni-cache-dir "$CACHE" cni add lk $NETNS --container-id c1 >/dev/null || return 1
        [ -s "$LOG/fake-ok.log" ] || return 1   # the copy logs under the name it was made with
        nsp --cni-config-dir "$CONF" --cni-path "$tmp/d1:$tmp/d2" --cni-cache-dir "$CACHE" cni del lk - --container-id c1 || return 1
        printf '{"cniVersion":"1.0.0","name":"lk2","plugins":[{"type":"a/b"}]}' >"$CONF/lk2.conflist"
        expect_fail 125 'invalid plugin name' -- cni add lk2 $NETNS --container-id c1 || return 1
        list lk3 1.0.0 nowhere
        expect_fail 125 "failed to find plugin \"nowhere\" in path \[$BIN /usr/lib/cni\]" -- cni add lk3 $NETNS --container-id c1
}
ok "T-12: first regular file in path order, directories skipped; bad names refused" -- t_lookup

t_missing_mid_chain() {   # T-13
        list mid 1.0.0 fake-ok missing fake-ok2
        rm -f "$LOG"/fake-ok*.log
        expect_fail 125 'failed to find plugin "missing"' -- cni add mid $NETNS --container-id c1 || return 1
        [ ! -e "$LOG/fake-ok.log" ] && [ ! -e "$CACHE/results/mid-c1-eth0" ] || return 1
        # DEL: the third runs (reverse order), the missing second stops it, the first never runs
        expect_fail 125 'failed to find plugin "missing"' -- cni del mid - --container-id c1 || return 1
        grep -q '== DEL' "$LOG/fake-ok2.log" && [ ! -e "$LOG/fake-ok.log" ]
}
ok "T-13: a missing plugin fails ADD before any runs; DEL halts at it" -- t_missing_mid_chain

t_errors() {   # T-14 … T-19
        list e14 1.0.0 fake-fail
        cni add e14 $NETNS --container-id c1 --json-errors >$tmp/err.json 2>$tmp/err.txt; [ $? = 1 ] || return 1
        grep -q 'plugin type="fake-fail" failed (add): try later; db locked' $tmp/err.txt || return 1
        pyj 'j["code"]==11 and j["msg"]=="try later" and j["details"]=="db locked" and j["origin"]=="plugin"' <$tmp/err.json || return 1
        [ ! -e "$CACHE/results/e14-c1-eth0" ] || return 1
        list e15 1.0.0 fake-notjson
        expect_fail 1 'not valid JSON (exit status 2); this is not json' -- cni add e15 $NETNS --container-id c1 || return 1
        list e16 1.0.0 fake-stderr
        expect_fail 1 'boom on stderr' -- cni add e16 $NETNS --container-id c1 || return 1
        list e17 1.0.0 fake-silent
        expect_fail 1 'plugin failed with no error message: exit status 4' -- cni add e17 $NETNS --container-id c1 || return 1
        list e18 1.0.0 fake-segv
        expect_fail 1 'signal: Segmentation fault' -- cni add e18 $NETNS --container-id c1 || return 1
        list e19 1.0.0 fake-garbage
        expect_fail 1 'invalid result' -- cni add e19 $NETNS --container-id c1 || return 1
        cni del e19 - --container-id c1 || return 1
        list e19b 1.0.0 fake-empty
        expect_fail 1 'unexpected end of JSON input' -- cni add e19b $NETNS --container-id c1 || return 1
        cni del e19b - --container-id c1
}
ok "T-14…T-19: plugin errors keep code, msg, details; bad output, silence and signals are named" -- t_errors

t_timeout() {   # T-22
        list hang 1.0.0 fake-hang
        local t0; t0=$(ms)
        expect_fail 125 'timed out after 2.0 s' -- cni add hang $NETNS --container-id c1 --timeout 2 || return 1
        local took=$(( $(ms) - t0 ))
        # 2 s for ADD, 2 s for the rollback DEL that hangs the same way (I-51)
        [ "$took" -lt 5000 ] || { echo "took $took ms"; return 1; }
        local pid; pid=$(cat "$LOG/hang.pids")
        sleep 0.2
        # gone, or a zombie waiting for init to reap it
        case $(ps -o stat= -p "$pid") in ""|Z*) ;; *) echo "helper $pid survived"; kill "$pid"; return 1 ;; esac
        [ ! -e "$CACHE/results/hang-c1-eth0" ] || return 1
        list hang 1.0.0 fake-ok
        cni del hang - --container-id c1
}
ok "T-22: a hung plugin and its helpers are killed at the timeout, nothing cached" -- t_timeout

t_daemon() {   # T-23
        list dmn 1.0.0 fake-daemon
        local t0; t0=$(ms)
        cni add dmn $NETNS --container-id c1 >/dev/null || return 1
        local took=$(( $(ms) - t0 ))
        kill "$(cat "$LOG/daemon.pids")" 2>/dev/null
        [ "$took" -lt 2000 ] || { echo "took $took ms"; return 1; }
        cni del dmn - --container-id c1
}
ok "T-23: a daemonized child holding stdout does not hold up ADD" -- t_daemon

t_big() {   # T-24
        list big 1.0.0 fake-big
        cni add big $NETNS --container-id c1 >$tmp/big.out || return 1
        pyj 'len(j["dns"]["search"][0])==1048000' <$tmp/big.out || return 1
        cni del big - --container-id c1 || return 1
        python3 -c 'import json; print(json.dumps({"cniVersion":"1.0.0","name":"noread","plugins":[{"type":"fake-noread","pad":"y"*262144}]}))' >"$CONF/noread.conflist"
        expect_fail 1 'unexpected end of JSON input' -- cni add noread $NETNS --container-id c1 || return 1
        cni del noread - --container-id c1 || return 1
        # past the 16 MiB bound: killed and refused, not read into memory without end
        list huge 1.0.0 fake-huge
        expect_fail 125 'printed more than 16777216 bytes' -- cni add huge $NETNS --container-id c1 --no-rollback
}
ok "T-24: 1 MiB of output is read whole, 17 MiB refused; a plugin that never reads its stdin is no deadlock" -- t_big

t_noexec() {   # T-25
        list nox 1.0.0 noexec
        expect_fail 125 'Permission denied' -- cni add nox $NETNS --container-id c1 --no-validate
}
ok "T-25: a plugin without the exec bit is EACCES, not not-found" -- t_noexec

t_ids() {   # T-39, T-26
        list ids 1.0.0 fake-ok
        rm -f "$LOG/fake-ok.log"
        local i
        for i in eth0123456789abc .. a/b a:b 'a b' '' $'eth\u00a00'; do
                expect_fail 125 'interface name' -- cni add ids $NETNS --container-id c1 --ifname "$i" || return 1
        done
        for i in -x 'a b'; do
                expect_fail 125 'containerID' -- cni add ids $NETNS --container-id "$i" || return 1
        done
        expect_fail 125 'network name' -- cni add bad/name $NETNS --container-id c1 || return 1
        for i in '=v' 'a=b=c' 'k'; do
                expect_fail 125 'args' -- cni add ids $NETNS --container-id c1 --args "$i" || return 1
        done
        expect_fail 125 'interface name' -- cni del ids - --container-id c1 --ifname a/b || return 1
        [ ! -e "$LOG/fake-ok.log" ]
}
ok "T-39, T-26: bad ifnames, container ids, network names and CNI_ARGS refused before any plugin runs" -- t_ids

t_add_twice_and_rollback() {   # O-05, O-12
        list twice 1.0.0 fake-ok
        cni add twice $NETNS --container-id c1 >/dev/null || return 1
        expect_fail 125 'already attached' -- cni add twice $NETNS --container-id c1 || return 1
        cni del twice - --container-id c1 || return 1
        list rb 1.0.0 fake-ok fake-fail
        rm -f "$LOG"/fake-*.log
        expect_fail 1 'try later' -- cni add rb $NETNS --container-id c1 || return 1
        # the rollback DEL ran the whole list in reverse, without prevResult
        grep -q '== DEL' "$LOG/fake-ok.log" && grep -q '== DEL' "$LOG/fake-fail.log" &&
                [ ! -e "$CACHE/results/rb-c1-eth0" ] || return 1
        rm -f "$LOG"/fake-*.log
        expect_fail 1 'try later' -- cni add rb $NETNS --container-id c1 --no-rollback || return 1
        ! grep -q '== DEL' "$LOG/fake-ok.log"
}
ok "O-05, O-12: ADD twice is refused; a failed ADD is rolled back with DEL unless asked not to" -- t_add_twice_and_rollback

t_gc() {   # T-45
        list gcn 1.1.0 fake-ok fake-ok2
        local c
        for c in c1/eth0 c2/eth0 c3/eth1; do
                cni add gcn $NETNS --container-id "${c%/*}" --ifname "${c#*/}" >/dev/null || return 1
        done
        rm -f "$LOG"/fake-*.log
        cni gc gcn --valid c1/eth0 || return 1
        [ "$(grep -c '== DEL' "$LOG/fake-ok.log")" = 2 ] && grep -qx 'CNI_CONTAINERID=c2' "$LOG/fake-ok.log" &&
                grep -qx 'CNI_CONTAINERID=c3' "$LOG/fake-ok.log" || return 1
        [ -e "$CACHE/results/gcn-c1-eth0" ] && [ ! -e "$CACHE/results/gcn-c2-eth0" ] || return 1
        grep -A12 '== GC' "$LOG/fake-ok.log" | sed -n '/^{/{p;q}' |
                pyj 'j["cni.dev/valid-attachments"]==[{"containerID":"c1","ifname":"eth0"}] and "prevResult" not in j and "runtimeConfig" not in j' || return 1
        grep -A12 '== GC' "$LOG/fake-ok.log" | grep -qx 'CNI_CONTAINERID=' || return 1
        # GC runs in forward order: fake-ok's GC line is older than fake-ok2's
        grep -q '== GC' "$LOG/fake-ok2.log" || return 1
        # disableGC: nothing runs
        rm -f "$LOG"/fake-*.log
        printf '{"cniVersion":"1.1.0","name":"gcn","disableGC":true,"plugins":[{"type":"fake-ok"}]}' >"$CONF/gcn.conflist"
        cni gc gcn && [ ! -e "$LOG/fake-ok.log" ] || return 1
        list gcn 1.1.0 fake-ok fake-ok2
        cni gc gcn
}
ok "T-45: GC DELs stale cached attachments, then runs GC with the valid ones" -- t_gc

t_status() {   # T-46
        list st 1.1.0 fake-ok fake-50 fake-ok2
        rm -f "$LOG"/fake-*.log
        cni status st --json-errors >$tmp/st.json; [ $? = 1 ] || return 1
        pyj 'j["code"]==50' <$tmp/st.json && [ ! -e "$LOG/fake-ok2.log" ] && grep -q '== STATUS' "$LOG/fake-ok.log" || return 1
        list st 1.0.0 fake-ok fake-50
        rm -f "$LOG"/fake-*.log
        cni status st && [ ! -e "$LOG/fake-ok.log" ]
}
ok "T-46: STATUS stops at the first failing plugin; lists below 1.1.0 run nothing" -- t_status

t_foreign_cache() {   # T-42, T-43
        list fc 1.0.0 fake-ok
        mkdir -p "$CACHE/results"
        local cfg; cfg=$(base64 -w0 <"$CONF/fc.conflist")
        printf '{"kind":"cniCacheV1","containerId":"pod1","config":"%s","ifName":"eth0","networkName":"fc","cniArgs":[["IgnoreUnknown","1"],["K8S_POD_NAME","web"]],"capabilityArgs":{"aliases":{"fc":["abc"]}},"result":{"cniVersion":"0.4.0","ips":[{"version":"4","address":"10.1.1.1/24"}],"dns":{}}}' "$cfg" >"$CACHE/results/fc-pod1-eth0"
        rm -f "$LOG"/fake-*.log
        cni del fc - --container-id pod1 || return 1
        grep -qx 'CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAME=web' "$LOG/fake-ok.log" || return 1
        sed -n '/^{/p' "$LOG/fake-ok.log" | pyj 'j["prevResult"]["cniVersion"]=="1.0.0" and "version" not in j["prevResult"]["ips"][0]' || return 1
        [ ! -e "$CACHE/results/fc-pod1-eth0" ] || return 1
        # a corrupt entry: DEL goes on without prevResult and drops it; CHECK refuses
        echo 'not json' >"$CACHE/results/fc-pod2-eth0"
        rm -f "$LOG"/fake-*.log
        expect_fail 125 'not attached' -- cni check fc $NETNS --container-id pod2 || return 1
        [ ! -e "$LOG/fake-ok.log" ] || return 1
        echo 'not json' >"$CACHE/results/fc-pod2-eth0"
        cni del fc - --container-id pod2 2>$tmp/warn || return 1
        grep -q 'dropping' $tmp/warn && [ ! -e "$CACHE/results/fc-pod2-eth0" ] || return 1
        sed -n '/^{/p' "$LOG/fake-ok.log" | pyj '"prevResult" not in j' || return 1
        # the network's file gone: DEL from the cached config alone (O-24)
        cni add fc $NETNS --container-id pod3 >/dev/null || return 1
        rm "$CONF/fc.conflist"
        cni del fc - --container-id pod3 && [ ! -e "$CACHE/results/fc-pod3-eth0" ]
}
ok "T-42, T-43, O-24: foreign and corrupt cache entries, and DEL from the cached config alone" -- t_foreign_cache

t_ls() {
        printf '{"name":' >"$CONF/00-broken.conflist"
        cni ls >$tmp/ls.out 2>$tmp/ls.err || return 1
        grep -q '^fenv  *1.0.0  *fake-ok' $tmp/ls.out && grep -q '00-broken.conflist' $tmp/ls.err || return 1
        cni ls --format json | pyj 'any(n["name"]=="chain" and n["plugins"]==["fake-ok2","fake-ok"] for n in j["networks"]) and any("00-broken" in d["file"] for d in j["diagnostics"])' || return 1
        rm "$CONF/00-broken.conflist"
}
ok "cni ls: every network with version, plugins and file; broken files with the reason" -- t_ls

# ---- Debian's real plugins ----
HOSTNS=${TEST_PREFIX}-h
ip netns add "$HOSTNS" && defer ip netns del "$HOSTNS"
ip -n "$HOSTNS" link set lo up
# runs in the throwaway "host" netns: bridges, veth host ends and iptables chains stay there
hcni() { ip netns exec "$HOSTNS" "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" --cni-config-dir "$CONF" --cni-path "$BIN:/usr/lib/cni" --cni-cache-dir "$CACHE" cni "$@"; }
# the "containers": made here, not inside a test's subshell, so their cleanup is deferred
for n in a b v m g p r x y; do
        ip netns add "$TEST_PREFIX-$n" && defer ip netns del "$TEST_PREFIX-$n"
done

br_list() {   # br_list NAME VERSION [EXTRA PLUGINS JSON]: checklist's BR
        local name=$1 version=$2 extra=${3:-}
        local v=""; [ -n "$version" ] && v="\"cniVersion\":\"$version\","
        cat >"$CONF/$name.conflist" <<JSON
{$v"name":"$name","plugins":[{"type":"bridge","bridge":"${TEST_PREFIX}b0","isGateway":true,"ipMasq":false,
 "ipam":{"type":"host-local","subnet":"10.213.0.0/24","gateway":"10.213.0.1","routes":[{"dst":"0.0.0.0/0"}],"dataDir":"$DATA"},
 "dns":{"nameservers":["10.213.0.1"]}}$extra]}
JSON
}

t_bridge() {   # T-31, T-35, traffic
        br_list nt 1.0.0
        hcni add nt "$TEST_PREFIX-a" --container-id ca >$tmp/a.json || return 1
        hcni add nt "$TEST_PREFIX-b" --container-id cb >$tmp/b.json || return 1
        pyj 'j["ips"][0]["address"]=="10.213.0.2/24" and j["ips"][0]["gateway"]=="10.213.0.1" and j["ips"][0]["interface"]==2 and j["dns"]["nameservers"]==["10.213.0.1"] and j["interfaces"][2]["name"]=="eth0"' <$tmp/a.json || { cat $tmp/a.json; return 1; }
        ip -n "$TEST_PREFIX-a" -br addr show eth0 | grep -q '10.213.0.2/24' || return 1
        [ "$(tr -d '\r' <"$DATA/nt/10.213.0.2")" = $'ca\neth0' ] || return 1
        [ "$(stat -c %a "$CACHE/results/nt-ca-eth0")" = 600 ] || return 1
        ip netns exec "$TEST_PREFIX-a" ping -c1 -W2 10.213.0.3 >/dev/null || return 1
        hcni check nt "$TEST_PREFIX-a" --container-id ca || return 1
        ip -n "$TEST_PREFIX-a" addr flush dev eth0
        expect_fail 1 'plugin type="bridge" failed (check)' -- hcni check nt "$TEST_PREFIX-a" --container-id ca || return 1
        hcni del nt "$TEST_PREFIX-a" --container-id ca && hcni del nt "$TEST_PREFIX-a" --container-id ca || return 1
        [ ! -e "$DATA/nt/10.213.0.2" ] && [ ! -e "$CACHE/results/nt-ca-eth0" ] &&
                ! ip -n "$TEST_PREFIX-a" link show eth0 >/dev/null 2>&1 || return 1
        expect_fail 125 'not attached' -- hcni check nt "$TEST_PREFIX-a" --container-id ca || return 1
        # T-36: the netns gone first, DEL still releases the lease
        ip netns del "$TEST_PREFIX-b"
        hcni del nt "/run/netns/$TEST_PREFIX-b" --container-id cb || return 1
        [ ! -e "$DATA/nt/10.213.0.3" ] && [ ! -e "$CACHE/results/nt-cb-eth0" ]
}
ok "T-31, T-34-36: bridge + host-local ADD, traffic across, CHECK, DEL twice, DEL after the netns went" -- t_bridge

t_versions() {   # T-32, T-30
        local v
        for v in 0.4.0 0.3.0 0.2.0 ""; do
                br_list nv "$v"
                hcni add nv "$TEST_PREFIX-v" --container-id cv >$tmp/v.json || return 1
                case $v in
                0.4.0|0.3.0) pyj 'j["ips"][0]["version"]=="4"' <$tmp/v.json ;;
                0.2.0) pyj 'j["ip4"]["ip"].startswith("10.213.0.") and "interfaces" not in j and j["cniVersion"]=="0.2.0"' <$tmp/v.json ;;
                "") pyj '"ip4" in j and j["cniVersion"]=="0.1.0"' <$tmp/v.json ;;
                esac || { echo "version '$v':"; cat $tmp/v.json; return 1; }
                hcni del nv "$TEST_PREFIX-v" --container-id cv || return 1
        done
        printf '{"cniVersion":"1.0.0","name":"lo","plugins":[{"type":"loopback"}]}' >"$CONF/lo.conflist"
        hcni add lo "$TEST_PREFIX-v" --container-id cl --ifname lo >$tmp/lo.json || return 1
        pyj 'j["interfaces"][0]["name"]=="lo" and [i["address"] for i in j["ips"]]==["127.0.0.1/8","::1/128"]' <$tmp/lo.json || return 1
        ip -n "$TEST_PREFIX-v" link show lo | grep -q 'UP' || return 1
        hcni del lo "$TEST_PREFIX-v" --container-id cl --ifname lo
}
ok "T-32, T-30: results in each version's shape; loopback" -- t_versions

t_version_mismatch() {   # T-37, T-38
        br_list vm 1.1.0
        expect_fail 125 'plugin type="bridge" does not support config version "1.1.0"' -- hcni add vm "$TEST_PREFIX-m" --container-id cm || return 1
        hcni add vm "$TEST_PREFIX-m" --container-id cm --raw --json-errors >$tmp/vm.json; [ $? = 1 ] || return 1
        pyj 'j["code"]==1 and "incompatible CNI versions" in j["msg"]' <$tmp/vm.json && [ ! -e "$CACHE/results/vm-cm-eth0" ] || return 1
        br_list fw 0.3.1 ',{"type":"firewall","backend":"iptables"}'
        expect_fail 125 'plugin type="firewall" does not support config version "0.3.1"' -- hcni add fw "$TEST_PREFIX-m" --container-id cm || return 1
        [ -z "$(ls "$DATA/fw" 2>/dev/null | grep -v lock)" ] || return 1
        hcni version bridge firewall | pyj 'j["firewall"]["supportedVersions"]==["0.4.0","1.0.0"] and "1.0.0" in j["bridge"]["supportedVersions"]' || return 1
        expect_fail 125 'valid' -- hcni version fw
}
ok "T-37, T-38: a version a plugin cannot serve is refused before the first ADD" -- t_version_mismatch

t_args_and_caps() {   # T-40, T-41 with tuning
        br_list ng 1.0.0 ',{"type":"tuning","capabilities":{"mac":true}}'
        expect_fail 1 'unknown args' -- hcni add ng "$TEST_PREFIX-g" --container-id cg --args FOO=bar --no-rollback || return 1
        hcni del ng "$TEST_PREFIX-g" --container-id cg --args 'IgnoreUnknown=1' || return 1
        hcni add ng "$TEST_PREFIX-g" --container-id cg --args 'IgnoreUnknown=true;IP=10.213.0.77' \
                --cap-args '{"mac":"c2:11:22:33:44:55","other":1}' >$tmp/g.json || return 1
        pyj 'j["ips"][0]["address"]=="10.213.0.77/24" and j["interfaces"][2]["mac"]=="c2:11:22:33:44:55"' <$tmp/g.json || return 1
        ip -n "$TEST_PREFIX-g" link show eth0 | grep -q 'c2:11:22:33:44:55' || return 1
        pyj 'j["kind"]=="cniCacheV1" and j["cniArgs"]==[["IgnoreUnknown","true"],["IP","10.213.0.77"]] and j["capabilityArgs"]["other"]==1 and j["netns"].endswith("-g")' <"$CACHE/results/ng-cg-eth0" || return 1
        python3 -c 'import json,base64,sys; j=json.load(open(sys.argv[1])); sys.exit(base64.b64decode(j["config"])!=open(sys.argv[2],"rb").read())' \
                "$CACHE/results/ng-cg-eth0" "$CONF/ng.conflist" || return 1
        hcni del ng "$TEST_PREFIX-g" --container-id cg
}
ok "T-40, T-41: CNI_ARGS reach host-local, tuning sets the MAC, the cache holds the file's bytes" -- t_args_and_caps

t_portmap() {   # T-47 (no CHECK: Debian 1.1.1's portmap CHECK is upstream #819)
        command -v iptables >/dev/null || { echo "iptables missing"; return 1; }
        br_list pm 1.0.0 ',{"type":"portmap","capabilities":{"portMappings":true}}'
        hcni add pm "$TEST_PREFIX-p" --container-id cp \
                --cap-args '{"portMappings":[{"hostPort":18080,"containerPort":80,"protocol":"tcp"}]}' >/dev/null || return 1
        ip netns exec "$HOSTNS" iptables -t nat -S | grep -q -- '--dport 18080 .*10.213.0.2:80' || return 1
        hcni del pm "$TEST_PREFIX-p" --container-id cp || return 1
        ! ip netns exec "$HOSTNS" iptables -t nat -S | grep -q -- '--dport 18080'
}
ok "T-47: portmap's DNAT rule comes with ADD and goes with DEL" -- t_portmap

t_rollback_real() {   # T-49, T-50
        br_list rr 1.0.0 ',{"type":"fake-fail"}'
        expect_fail 1 'try later' -- hcni add rr "$TEST_PREFIX-r" --container-id cr || return 1
        [ -z "$(ls "$DATA/rr" | grep -v -e lock -e last_reserved)" ] && ! ip -n "$TEST_PREFIX-r" link show eth0 >/dev/null 2>&1 &&
                [ ! -e "$CACHE/results/rr-cr-eth0" ] || return 1
        expect_fail 125 "/run/netns/$TEST_PREFIX-none" -- hcni add rr "$TEST_PREFIX-none" --container-id cr
}
ok "T-49, T-50: a failed chain leaves no lease, no eth0, no cache; a missing netns is named" -- t_rollback_real

t_parallel() {   # T-48
        br_list par 1.0.0
        hcni add par "$TEST_PREFIX-x" --container-id c1 >$tmp/p1 & local p1=$!
        hcni add par "$TEST_PREFIX-y" --container-id c2 >$tmp/p2 & local p2=$!
        hcni add par "$TEST_PREFIX-x" --container-id c1 --ifname eth1 >$tmp/p3 & local p3=$!
        wait $p1 && wait $p2 && wait $p3 || return 1
        [ "$(cat $tmp/p1 $tmp/p2 $tmp/p3 | grep -o '"10.213.0.[0-9]*/24"' | sort -u | wc -l)" = 3 ] || return 1
        hcni del par "$TEST_PREFIX-x" --container-id c1 & p1=$!
        hcni del par "$TEST_PREFIX-y" --container-id c2 & p2=$!
        hcni del par "$TEST_PREFIX-x" --container-id c1 --ifname eth1 & p3=$!
        wait $p1 && wait $p2 && wait $p3 || return 1
        [ -z "$(ls "$DATA/par" | grep -v -e lock -e last_reserved)" ] && [ -z "$(ls "$CACHE/results" | grep '^par-')" ]
}
ok "T-48: parallel attachments get distinct addresses and all come off" -- t_parallel

# ---- containers on CNI networks (nsprov on the real host netns: its bridge is ours) ----
CBR=${TEST_PREFIX}c0
defer ip link del "$CBR"
defer nsp system reset --force
cat >"$CONF/cnet.conflist" <<JSON
{"cniVersion":"1.0.0","name":"cnet","plugins":[{"type":"bridge","bridge":"$CBR","isGateway":true,"ipMasq":false,
 "ipam":{"type":"host-local","subnet":"10.216.0.0/24","gateway":"10.216.0.1","dataDir":"$DATA"}},
 {"type":"tuning","capabilities":{"mac":true}}]}
JSON
cnsp() { nsp --cni-config-dir "$CONF" --cni-path "$BIN:/usr/lib/cni" --cni-cache-dir "$CACHE" "$@"; }
leases() { ls "$DATA/cnet" 2>/dev/null | grep -c '^10\.' ; }

t_ls_inspect() {
        cnsp network ls | grep -q ' cnet  *cni ' || return 1
        cnsp network inspect cnet | pyj 'j[0]["driver"]=="cni" and j[0]["cni"]["plugins"]==["bridge","tuning"]' || return 1
        cnsp network exists cnet && ! cnsp network exists nope || return 1
        expect_fail 125 'is a CNI network' -- cnsp network rm cnet
}
ok "network ls/inspect/exists show CNI networks beside native ones (driver cni)" -- t_ls_inspect

t_run_on_cni() {
        cnsp run -d --name "$TEST_PREFIX-k1" --network cnet host sleep 300 >/dev/null || return 1
        local id; id=$(cnsp inspect -f '{{.Id}}' "$TEST_PREFIX-k1")
        local ip; ip=$(cnsp inspect -f '{{.NetworkSettings.Networks.cnet.IPAddress}}' "$TEST_PREFIX-k1")
        [[ $ip == 10.216.0.* ]] || { echo "inspect IP '$ip'"; return 1; }
        [ "$(cnsp inspect -f '{{.NetworkSettings.Networks.cnet.Gateway}}' "$TEST_PREFIX-k1")" = 10.216.0.1 ] || return 1
        cnsp exec "$TEST_PREFIX-k1" ip -4 -br addr show eth0 | grep -q "$ip/24" || return 1
        ping -c1 -W2 "$ip" >/dev/null || return 1   # across the CNI bridge from the host
        [ -e "$CACHE/results/cnet-$id-eth0" ] || return 1
        pyj 'j["cniArgs"]==[["IgnoreUnknown","1"],["K8S_POD_NAME","'"$TEST_PREFIX-k1"'"]]' <"$CACHE/results/cnet-$id-eth0" || return 1
        grep -qx 'cnet eth0' "$tmp/run/containers/$id/ledger.cni"
}
ok "--network of a CNI network: ADD into the container's netns, addresses in inspect, traffic" -- t_run_on_cni

t_hotplug() {
        local id; id=$(cnsp inspect -f '{{.Id}}' "$TEST_PREFIX-k1")
        [ "$(cnsp network connect --mac-address c2:11:22:33:44:66 cnet "$TEST_PREFIX-k1")" = eth1 ] || return 1
        cnsp exec "$TEST_PREFIX-k1" ip link show eth1 | grep -q c2:11:22:33:44:66 || return 1
        [ -e "$CACHE/results/cnet-$id-eth1" ] && [ "$(leases)" = 2 ] || return 1
        cnsp network disconnect --interface-name eth1 cnet "$TEST_PREFIX-k1" >/dev/null || return 1
        ! cnsp exec "$TEST_PREFIX-k1" ip link show eth1 >/dev/null 2>&1 && [ ! -e "$CACHE/results/cnet-$id-eth1" ] &&
                [ "$(leases)" = 1 ] && ! grep -q eth1 "$tmp/run/containers/$id/ledger.cni"
}
ok "network connect/disconnect of a CNI network on a running container (ADD/DEL, MAC as asked)" -- t_hotplug

t_stop_start_rm() {
        local id; id=$(cnsp inspect -f '{{.Id}}' "$TEST_PREFIX-k1")
        cnsp stop -t 1 "$TEST_PREFIX-k1" >/dev/null || return 1
        [ ! -e "$CACHE/results/cnet-$id-eth0" ] && [ "$(leases)" = 0 ] || { echo "stop left the attachment"; return 1; }
        [ -z "$(cnsp inspect -f '{{.NetworkSettings.Networks.cnet.IPAddress}}' "$TEST_PREFIX-k1")" ] || return 1
        cnsp start "$TEST_PREFIX-k1" >/dev/null && [ "$(leases)" = 1 ] || return 1
        cnsp rm -f "$TEST_PREFIX-k1" >/dev/null || return 1
        [ "$(leases)" = 0 ] && [ -z "$(ls "$CACHE/results" | grep "^cnet-")" ]
}
ok "stop DELs, start ADDs again, rm -f DELs: no lease or cache entry left" -- t_stop_start_rm

t_gc_after_kill() {
        cnsp run -d --name "$TEST_PREFIX-k2" --network cnet host sleep 300 >/dev/null || return 1
        local id mon init
        id=$(cnsp inspect -f '{{.Id}}' "$TEST_PREFIX-k2")
        mon=$(cnsp inspect -f '{{.State.ConmonPid}}' "$TEST_PREFIX-k2"); init=$(cnsp inspect -f '{{.State.Pid}}' "$TEST_PREFIX-k2")
        kill -9 "$mon"
        for _ in $(seq 100); do kill -0 "$init" 2>/dev/null || break; sleep 0.02; done
        cnsp system gc >/dev/null || return 1
        [ "$(leases)" = 0 ] && [ ! -e "$CACHE/results/cnet-$id-eth0" ] || { echo "gc left the attachment"; return 1; }
        [ ! -s "$tmp/run/containers/$id/ledger.cni" ] || return 1
        cnsp rm "$TEST_PREFIX-k2" >/dev/null
}
ok "kill -9 of a monitor, then system gc: the CNI attachment is DELed" -- t_gc_after_kill

t_bad_cni_network() {
        printf '{"cniVersion":"1.0.0","name":"cbad","plugins":[{"type":"fake-fail"}]}' >"$CONF/cbad.conflist"
        expect_fail 125 'try later' -- cnsp run -d --name "$TEST_PREFIX-k3" --network cbad host sleep 300 || return 1
        cnsp rm -f "$TEST_PREFIX-k3" >/dev/null 2>&1
        [ -z "$(ls "$CACHE/results" | grep "^cbad-")" ]
}
ok "a CNI network whose plugin fails: the container does not start, nothing stays attached" -- t_bad_cni_network
