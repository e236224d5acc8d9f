#!/bin/bash
# The nsprov command line as a user meets it: help, version, errors and exit codes.
set -u
. "$(dirname "$0")/tap.sh"
trap 'tap_finish; exit $?' EXIT
N=$NSPROV_BIN

ok "--version prints the version" -- bash -c "'$N' --version | grep -Eq '^nsprov version [0-9]+\.[0-9]+\.[0-9]+$'"
ok "version command agrees with --version" -- bash -c "[ \"\$('$N' version)\" = \"\$('$N' --version)\" ]"
ok "--help lists the commands and global options" -- bash -c "'$N' --help | grep -q -- '--runroot' && '$N' --help | grep -q '^  system'"
ok "help COMMAND shows that command's help" -- bash -c "'$N' help system | grep -q 'marked'"
ok "every command has --help" -- bash -c "'$N' system info --help | grep -q Usage && '$N' system marked --help | grep -q Usage && '$N' version --help | grep -q Usage"
ok "no command: help on stderr... and exit 125" -- expect_fail 125 "Usage" -- "$N"
ok "unknown command is named, exit 125" -- expect_fail 125 "unknown command 'frobnicate'" -- "$N" frobnicate
ok "unknown subcommand is named, exit 125" -- expect_fail 125 "unknown command 'system frob'" -- "$N" system frob
ok "unknown global option is named, exit 125" -- expect_fail 125 "'--frob'" -- "$N" --frob version
ok "unknown command option is named, exit 125" -- expect_fail 125 "'--frob'" -- "$N" system info --frob
ok "bad --log-level is named, exit 125" -- expect_fail 125 "invalid --log-level 'loud'" -- "$N" --log-level loud version
ok "bad --format is named, exit 125" -- expect_fail 125 "unknown --format 'yaml'" -- "$N" system info --format yaml
ok "bad --owner is refused, exit 125" -- expect_fail 125 "owner 'a b'" -- "$N" system marked --owner 'a b'
ok "stray argument is refused, exit 125" -- expect_fail 125 "unexpected argument 'x'" -- "$N" system info x

tmp=$(mktemp -d "/tmp/$TEST_PREFIX.XXXXXX"); defer rm -rf "$tmp"
ok "--root/--runroot reach the commands" -- bash -c "'$N' --root '$tmp/r' --runroot '$tmp/rr' system info | grep -q 'runroot: *$tmp/rr'"
ok "NSPROV_ROOT/NSPROV_RUNROOT stand in for the flags" -- bash -c "NSPROV_ROOT='$tmp/e' NSPROV_RUNROOT='$tmp/er' '$N' system info --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"root\"]==\"$tmp/e\" and d[\"runroot\"]==\"$tmp/er\", d'"
ok "flags win over the environment" -- bash -c "NSPROV_ROOT=/nope '$N' --root '$tmp/f' system info | grep -q 'root: *$tmp/f'"
ok "system info --format json is valid JSON with the host facts" -- bash -c "'$N' system info --format json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"cgroups\"] in (\"v1\",\"v1-hybrid\",\"v2\",\"none\"); assert \"CAP_NET_ADMIN\" in d[\"capabilities\"]'"
ok "debug logging goes to stderr, not stdout" -- bash -c "out=\$('$N' --log-level debug version 2>/dev/null); [ \"\$out\" = \"\$('$N' version)\" ]"
