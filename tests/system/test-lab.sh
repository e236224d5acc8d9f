#!/bin/bash
# README's main job, the demo lab, run as a user would: both agents answer both ways over
# IPv4 and IPv6 on the L2 lab network and on the management network, and nothing is left.
set -u
. "$(dirname "$0")/tap.sh"
require_root
trap 'tap_finish; exit $?' EXIT

out=$(mktemp "/tmp/$TEST_PREFIX.XXXXXX"); defer rm -f "$out"
lab=$(dirname "$0")/../../tools/demo/lab
ok "the lab runs to the end" -- bash -c "'$lab' --nsprov '$NSPROV_BIN' --prefix '$TEST_PREFIX' >'$out' 2>&1"
ok "every ping was answered" -- bash -c "[ \$(grep -c ' ok\$' '$out') = 5 ] && ! grep -q FAILED '$out'"
ok "the table shows both agents on both networks" -- bash -c "[ \$(grep -cE '^  $TEST_PREFIX-[ab] +machine-[ab] +eth[01] ' '$out') = 4 ]"
ok "management addresses came from IPAM" -- bash -c "grep -q ' 203.0.113.2/25 ' '$out' && grep -q ' 203.0.113.3/25 ' '$out'"
ok "the lab says nothing is left" -- grep -q "no container, bridge, veth or netns of the lab is left" "$out"
