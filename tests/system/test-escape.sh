#!/bin/bash
# An unprivileged container's ways out (escape-probe.py), tried in an nsprov container and,
# side by side, in Podman's with its defaults (private config, root and runroot; runc;
# the host's root as an overlay, as nsprov's host image has it): every one refused by
# nsprov, and nothing Podman refuses allowed by nsprov. Both with --cap-add MKNOD (a node
# may be made, a host device not opened) and a :ro bind whose source has a tmpfs under it.
set -u
. "$(dirname "$0")/tap.sh"
begin_store_test
PROBE=$(dirname "$(readlink -f "$0")")/escape-probe.py
mkdir -p "$tmp/ro/sub" "$tmp/probe" && cp "$PROBE" "$tmp/probe/p.py" &&
        mount -t tmpfs "$P-ro" "$tmp/ro/sub" || { echo "1..1"; echo "not ok 1 - setup"; exit 1; }
defer "umount $tmp/ro/sub"
export PROBE_MARKER=$P-marker

nsprov_out=$(nsp run --rm --network none --cap-add MKNOD -v "$tmp/ro:/mnt:ro" -v "$tmp/probe:/srv:ro" \
        -e PROBE_MARKER=container host python3 /srv/p.py "$P-marker" 2>&1)
t_nsprov() {
        local allowed; allowed=$(grep -v " refused$" <<<"$nsprov_out")
        [ "$(grep -c . <<<"$nsprov_out")" = 14 ] && [ -z "$allowed" ] || { echo "$nsprov_out"; return 1; }
}
ok "nsprov refuses every probe: mount, unshare, io_uring, vsock, keyctl, bpf, perf, ptrace of PID 1, its environment, shadow, :ro binds and their submounts, a host device, a fork bomb" -- t_nsprov

t_podman() {
        command -v podman >/dev/null || { echo "podman is not installed (tools/install-deps brings it)"; return 1; }
        local pd=$tmp/pod out
        mkdir -p "$pd"
        printf '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\n' >"$pd/c.conf"
        out=$(CONTAINERS_CONF=$pd/c.conf timeout 120 podman --root "$pd/root" --runroot "$pd/run" run --rm --network none \
                --cap-add MKNOD -v "$tmp/ro:/mnt:ro" -v "$tmp/probe:/srv:ro" -e PROBE_MARKER=container \
                --rootfs /:O python3 /srv/p.py "$P-marker" 2>&1)
        CONTAINERS_CONF=$pd/c.conf podman --root "$pd/root" --runroot "$pd/run" system reset -f >/dev/null 2>&1
        umount -R "$pd/root/overlay" 2>/dev/null
        [ "$(grep -c " refused$\| ALLOWED" <<<"$out")" = 14 ] || { echo "podman ran no probe: $out"; return 1; }
        echo "# Podman: $(grep ALLOWED <<<"$out" | tr '\n' ';')" >&2
        # what Podman refuses, nsprov refuses (it refuses everything: t_nsprov)
        local name
        for name in $(grep " refused$" <<<"$out" | cut -d' ' -f1); do
                grep -qx "$name refused" <<<"$nsprov_out" || { echo "Podman refuses $name, nsprov does not"; return 1; }
        done
        echo "$out" >"$tmp/podman-probe.txt"
}
ok "side by side with Podman's defaults: nothing Podman refuses is allowed by nsprov" -- t_podman
# what Podman allows and nsprov does not, for the log: expected are shadow (Podman masks
# nothing of a --rootfs) and whatever its older profile lets through
[ -s "$tmp/podman-probe.txt" ] && grep ALLOWED "$tmp/podman-probe.txt" | sed 's/^/# Podman allows: /'
true
