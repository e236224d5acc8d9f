# SPDX-License-Identifier: LGPL-2.1-or-later
# A few TAP helpers for the shell-level system tests (sourced, not run).
# Each test gets a unique prefix; `defer` registers cleanup the moment a thing is made,
# and the exit trap runs it, then the shared leak check, whatever happened before.

TAP_N=0
TAP_FAILED=0
TAP_DEFERRED=()
TEST_PREFIX="nst$(head -c 64 /dev/urandom | tr -dc 'a-z0-9' | head -c 4)"

require_root() {
        if [ "$(id -u)" != 0 ]; then
                if [ "${CI:-}" = true ]; then
                        echo "1..1"; echo "not ok 1 - root tests must run in CI, but we are not root"; exit 1
                fi
                echo "1..0 # SKIP needs root"; exit 0
        fi
}

ok() {   # ok DESCRIPTION -- COMMAND...: passes when COMMAND exits 0
        local desc=$1; shift; [ "$1" = -- ] && shift
        TAP_N=$((TAP_N + 1))
        # TAP_ONLY=REGEX: while working on some tests, run those alone
        if [ -n "${TAP_ONLY:-}" ] && ! grep -qE -- "$TAP_ONLY" <<<"$desc"; then
                echo "ok $TAP_N - $desc # SKIP not in TAP_ONLY"
                return 0
        fi
        local out
        if out=$("$@" 2>&1); then
                echo "ok $TAP_N - $desc"
        else
                echo "not ok $TAP_N - $desc"
                printf '%s\n' "$out" | sed 's/^/# /'
                TAP_FAILED=$((TAP_FAILED + 1))
        fi
}

defer() { TAP_DEFERRED+=("$*"); }

# A private nsprov store for the test: $tmp, removed at the end after everything the test
# defers later (defers run last-registered first), and nsp, nsprov on that store.
use_private_store() {
        tmp=$(mktemp -d "/tmp/$TEST_PREFIX.XXXXXX")
        defer rm -rf "$tmp"
        nsp() { "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" "$@"; }
}

# The opening of a test of nsprov on a store of its own: root required, the leak check at
# exit, P the test's prefix, and every container and network of the store removed at the
# end (before the store itself).
begin_store_test() {
        require_root
        trap 'tap_finish; exit $?' EXIT
        P=$TEST_PREFIX
        use_private_store
        defer 'nsp system reset --force'
}

# The marks (link aliases) of the networks a test's store has: a network's bridge is named
# after the network or the store, not the test, so the prefix alone would not find one
# left behind.
store_marks() {
        declare -f nsp >/dev/null && [ -d "${tmp:-}/root" ] || return 0
        nsp network ls --format json 2>/dev/null |
                python3 -c 'import json, sys; [print("nsprov:net-" + n["id"][:32]) for n in json.load(sys.stdin)]' 2>/dev/null
}

# the host links that still carry one of the marks (one argument, a line each), given
# the kernel's background removal up to 3 s, as the leak check does
links_marked() {
        local found _
        for _ in $(seq 30); do
                found=$(ip -j link show 2>/dev/null | python3 -c '
import json, sys
marks = set(sys.argv[1].split())
print(" ".join(l["ifname"] for l in json.load(sys.stdin) if l.get("ifalias") in marks))' "$1")
                [ -z "$found" ] && return 0
                sleep 0.1
        done
        echo "$found"
}

tap_finish() {
        local i marks
        marks=$(store_marks)
        for ((i = ${#TAP_DEFERRED[@]} - 1; i >= 0; i--)); do eval "${TAP_DEFERRED[$i]}" >/dev/null 2>&1 || true; done
        TAP_N=$((TAP_N + 1))
        local leaks marked=""
        [ -n "$marks" ] && marked=$(links_marked "$marks")
        if [ -n "$marked" ]; then
                echo "not ok $TAP_N - nothing named $TEST_PREFIX left behind"
                echo "# the store's networks left links behind: $marked"
                TAP_FAILED=$((TAP_FAILED + 1))
                local l
                for l in $marked; do ip link del "$l" 2>/dev/null; done
                "$NSPROV_LEAKCHECK" --sweep "$TEST_PREFIX" >/dev/null
        elif leaks=$("$NSPROV_LEAKCHECK" --sweep "$TEST_PREFIX"); then
                echo "ok $TAP_N - nothing named $TEST_PREFIX left behind"
        else
                echo "not ok $TAP_N - nothing named $TEST_PREFIX left behind"
                echo "# $leaks"
                TAP_FAILED=$((TAP_FAILED + 1))
        fi
        echo "1..$TAP_N"
        [ "$TAP_FAILED" = 0 ]
}

# nsprov serve on the test's store, stopped at the end; call it at the top level (a
# test function runs in a subshell, whose defers would be lost):
# serve_start SOCK [PREFIX COMMAND...] -- [SERVE OPTIONS...]; its pid in SERVED, its
# stderr in $tmp/serve.log
serve_start() {
        local sock=$1; shift
        local wrap=()
        while [ "$1" != -- ]; do wrap+=("$1"); shift; done
        shift
        "${wrap[@]}" "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" serve --listen "unix://$sock" "$@" \
                2>>"$tmp/serve.log" &
        SERVED=$!
        defer "kill $SERVED; wait $SERVED"
        for _ in $(seq 100); do [ -S "$sock" ] && return 0; sleep 0.05; done
        return 1
}

# exit status and output both matter: expect_fail CODE PATTERN -- COMMAND...
expect_fail() {
        local code=$1 pattern=$2; shift 2; [ "$1" = -- ] && shift
        local out rc=0
        out=$("$@" 2>&1) || rc=$?
        if [ "$rc" != "$code" ]; then echo "exit $rc, wanted $code: $out"; return 1; fi
        if ! grep -q -- "$pattern" <<<"$out"; then echo "output lacks '$pattern': $out"; return 1; fi
}
