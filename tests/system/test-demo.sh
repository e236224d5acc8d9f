#!/bin/bash
# README's main job, the netlink demo, run as a user would: it must build the lab, get
# answers both ways over IPv4 and IPv6, show it, and leave nothing behind.
set -u
. "$(dirname "$0")/tap.sh"
require_root
trap 'tap_finish; exit $?' EXIT

out=$(mktemp "/tmp/$TEST_PREFIX.XXXXXX"); defer rm -f "$out"
ok "the demo runs to the end" -- bash -c "'$NSPROV_DEMO' --prefix '$TEST_PREFIX' >'$out' 2>&1"
ok "every ping got answers" -- bash -c "[ \$(grep -c ' [123]/3 replies' '$out') = 4 ]"
ok "the table shows both namespaces' eth0 with their addresses" -- bash -c "grep -q 'nsprov-$TEST_PREFIX-a *eth0 .*198.51.100.1/24 2001:db8:100::1/64' '$out' && grep -q 'nsprov-$TEST_PREFIX-b *eth0 .*198.51.100.2/24' '$out'"
ok "the host side carries the mark" -- grep -q "(host) *$TEST_PREFIX-br *bridge" "$out"
ok "the demo says nothing is left" -- grep -q "nothing carrying 'nsprov:demo-$TEST_PREFIX' is left" "$out"
ok "system marked agrees: nothing of the demo's" -- bash -c "! '$NSPROV_BIN' system marked | grep -q '$TEST_PREFIX'"
ok "a bad prefix is refused before anything is made" -- expect_fail 125 "prefix" -- "$NSPROV_DEMO" --prefix 'BAD/x'
