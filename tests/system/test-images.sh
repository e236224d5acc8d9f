#!/bin/bash
# Image archives as a user loads them, as root: a docker-archive and an OCI layout written
# as podman save writes them (mkarchive.py: two layers, whiteouts, an opaque dir, a gzip'ed
# layer, a device node), the real `podman save` of both formats as the peer, containers run
# from what was loaded, removal, and archives made to escape: a "../" entry, a symlink to /
# and a file written through it, an outer member outside the archive.
set -u
. "$(dirname "$0")/tap.sh"
begin_store_test
BB=$(command -v busybox)
MK="python3 $(dirname "$0")/mkarchive.py"
NSP_DEF="$(declare -f nsp); tmp='$tmp';"

is() {  # is EXPECTED -- COMMAND...: stdout (trailing newline trimmed) must equal EXPECTED
        local want=$1; shift; [ "$1" = -- ] && shift
        local got; got=$("$@" 2>"$tmp/is.err")
        [ "$got" = "$want" ] || { echo "got '$got', wanted '$want'; stderr: $(cat "$tmp/is.err")"; return 1; }
}
no_staging_left() { [ -z "$(find "$tmp/root/images" -maxdepth 1 -name '.load-*' 2>/dev/null)" ]; }

t_docker_archive() {
        $MK docker "$tmp/d.tar" "$BB" "localhost/$P-d:latest" || return 1
        local out
        out=$(nsp image load -i "$tmp/d.tar" 2>&1) || { echo "$out"; return 1; }
        # the name from the archive's own tag; the device node said, not made
        grep -qx "$P-d" <<<"$out" && grep -q "1 device node" <<<"$out" || { echo "load said: $out"; return 1; }
        # the image's config: Cmd, Env, WorkingDir; the top layer's file
        [ "$(nsp run --rm "$P-d")" = new ] || return 1
        local got
        got=$(nsp run --rm "$P-d" sh -c 'pwd; echo $FROM_IMAGE; ls /srv/keep; test -e /etc/motd || echo motd-gone')
        [ "$got" = "$(printf '/srv\nyes\nc\nmotd-gone')" ] || { echo "in the container: $got"; return 1; }
        got=$(stat -c '%u:%g %a' "$tmp/root/images/$P-d.rootfs/srv/owned")
        [ "$got" = "1234:5678 6755" ] || { echo "owner and mode: $got"; return 1; }
        # a layer's xattrs, but none overlayfs would obey on the lower dir this is
        got=$(python3 -c 'import os, sys; print(sorted(os.listxattr(sys.argv[1])))' "$tmp/root/images/$P-d.rootfs/srv/keep")
        [ "$got" = "['user.lnst']" ] || { echo "xattrs of /srv/keep: $got"; return 1; }
        nsp image inspect "$P-d" | grep -q '"Loaded": true' || { echo "inspect: $(nsp image inspect "$P-d")"; return 1; }
        [ -d "$tmp/root/images/$P-d.rootfs/bin" ] && no_staging_left
}
ok "docker-archive: loaded by its tag, layers applied (whiteout, opaque dir, owners, set-id bits, xattrs but trusted.overlay), config used" -- t_docker_archive

t_oci_stdin() {
        $MK oci "$tmp/o.tar" "$BB" "localhost/$P-o:v2" || return 1
        is "$P-oci" -- nsp image load --name "$P-oci" <"$tmp/o.tar" || return 1
        is "$(printf 'c\nnew')" -- nsp run --rm "$P-oci" sh -c 'ls /srv/keep; cat /srv/new' || return 1
        # without --name: the tag is part of the name
        is "$P-o-v2" -- nsp image load -i "$tmp/o.tar"
}
ok "OCI layout from standard input, with --name; a tag other than latest names it too" -- t_oci_stdin

t_edge() {
        $MK edge "$tmp/edge.tar" "$BB" "localhost/$P-edge:latest" && nsp image load -i "$tmp/edge.tar" >/dev/null 2>&1 ||
                return 1
        # a dir became a file, a symlink a dir, a whited-out dir went; the hard link kept
        # its content when its other name went with /a
        local got
        # and the image's WorkingDir (/srv), missing from its layers, made as Podman makes it
        got=$(nsp run --rm "$P-edge" sh -c 'cat /a; test -L /l || cat /l/inside; test -e /gone || echo gone-gone; cat /h; pwd')
        [ "$got" = "$(printf 'now a file\nin\ngone-gone\nf\n/srv')" ] || { echo "in the container: $got"; return 1; }
        # a --workdir asked for must be there
        expect_fail 126 "workdir '/nowhere' does not exist" -- nsp run --rm -w /nowhere "$P-edge" true || return 1
        nsp image rm "$P-edge" >/dev/null
}
ok "kinds replaced across layers: a dir by a file, a symlink by a dir; whiteout of a dir; hard links; WorkingDir made" -- t_edge

t_rm() {
        nsp create --name "$P-user" "$P-d" sleep 60 >/dev/null || return 1
        # a stored rootfs never goes from under a container, -f or not
        expect_fail 125 "used by 1 container" -- nsp image rm -f "$P-d" || return 1
        [ -d "$tmp/root/images/$P-d.rootfs" ] || return 1
        nsp rm "$P-user" >/dev/null && nsp image rm "$P-d" "$P-oci" "$P-o-v2" >/dev/null || return 1
        [ ! -e "$tmp/root/images/$P-d.rootfs" ] && [ ! -e "$tmp/root/images/$P-oci.rootfs" ] &&
                ! nsp image exists "$P-d"
}
ok "image rm takes the unpacked rootfs with it, and refuses while a container uses it" -- t_rm

t_bad() {
        $MK docker "$tmp/again.tar" "$BB" "localhost/$P-again:latest" && nsp image load -i "$tmp/again.tar" >/dev/null 2>&1 || return 1
        expect_fail 125 "image '$P-again' already exists" -- nsp image load -i "$tmp/again.tar" || return 1
        head -c 3000 /dev/urandom >"$tmp/junk.tar"
        expect_fail 125 "not a readable image archive" -- nsp image load -i "$tmp/junk.tar" || return 1
        tar -C "$tmp" -cf "$tmp/plain.tar" d.tar 2>/dev/null
        expect_fail 125 "neither a docker-archive" -- nsp image load -i "$tmp/plain.tar" || return 1
        expect_fail 125 "no such file\|No such file" -- nsp image load -i "$tmp/missing.tar" || return 1
        expect_fail 125 "invalid image name" -- nsp image load -i "$tmp/again.tar" --name '../x' || return 1
        expect_fail 125 "unknown option" -- nsp image load --bogus || return 1
        no_staging_left
}
ok "bad input: a name in use, not an archive, no manifest, no file, a bad name: clear errors" -- t_bad

t_escapes() {
        local esc="$P-escaped"
        $MK evil-dotdot "$tmp/e1.tar" "$BB" "localhost/$P-e1:latest" "$esc" || return 1
        expect_fail 125 "not a path inside the image" -- nsp image load -i "$tmp/e1.tar" || return 1
        $MK evil-member "$tmp/e2.tar" "$BB" "localhost/$P-e2:latest" || return 1
        expect_fail 125 "not a path inside the archive" -- nsp image load -i "$tmp/e2.tar" || return 1
        # refused loads leave nothing: no record, no rootfs, no staging
        ! nsp image exists "$P-e1" && ! nsp image exists "$P-e2" && [ ! -e "$tmp/root/images/$P-e1.rootfs" ] ||
                return 1
        # links resolve inside the image: the file lands in the image's /tmp
        $MK evil-symlink "$tmp/e3.tar" "$BB" "localhost/$P-e3:latest" "$esc" || return 1
        nsp image load -i "$tmp/e3.tar" >/dev/null 2>&1 || return 1
        [ -f "$tmp/root/images/$P-e3.rootfs/tmp/$esc" ] || { echo "not inside the image"; return 1; }
        [ ! -e "/tmp/$esc" ] && [ ! -e "/$esc" ] && no_staging_left
}
ok "archives made to escape: '../' and outer members refused, links kept inside the image" -- t_escapes
rm -f "/tmp/$P-escaped"

# A plain rootfs tarball: image import (podman import), from a file and from a pipe
t_import() {
        $MK rootfs "$tmp/rootfs.tar" "$BB" unused || return 1
        is "$P-imp" -- nsp image import "$tmp/rootfs.tar" "localhost/$P-imp:latest" --change 'CMD ["sh", "-c", "echo $GREETING from $(pwd)"]' \
                --change 'ENV GREETING=hello there' --change WORKDIR=/srv --change 'LABEL io.nsprov.ready=cmd:true' || return 1
        is "hello there from /srv" -- nsp run --rm "$P-imp" || return 1
        nsp image inspect "$P-imp" | grep -q '"Ready": "cmd:true"' || { echo "no readiness: $(nsp image inspect "$P-imp")"; return 1; }
        gzip -c "$tmp/rootfs.tar" | nsp image import - "$P-imp2" -c 'CMD echo shell form' --ready tcp:80 >/dev/null || return 1
        is "shell form" -- nsp run --rm --ready none "$P-imp2" || return 1
        [ -d "$tmp/root/images/$P-imp2.rootfs/bin" ] && no_staging_left
}
ok "image import: a rootfs tarball from a file and (gzip'ed) from a pipe, with --change CMD, ENV, WORKDIR, LABEL io.nsprov.ready" -- t_import
t_import_bad() {
        local esc="$P-escaped-imp"
        $MK evil-rootfs "$tmp/evil-rootfs.tar" "$BB" unused "$esc" || return 1
        expect_fail 125 "not a path inside the image" -- nsp image import "$tmp/evil-rootfs.tar" "$P-evil" || return 1
        expect_fail 125 "import image: image '$P-imp' already exists" -- nsp image import "$tmp/rootfs.tar" "$P-imp" || return 1
        expect_fail 125 "change USER is not supported by nsprov's images" -- nsp image import "$tmp/rootfs.tar" "$P-x" -c 'USER nobody' || return 1
        expect_fail 125 "not CMD, ENTRYPOINT, ENV, WORKDIR, STOPSIGNAL or LABEL" -- nsp image import "$tmp/rootfs.tar" "$P-x" -c 'FROM scratch' || return 1
        expect_fail 125 "give a tarball (or -) and a name" -- nsp image import "$tmp/rootfs.tar" || return 1
        printf 'not a tarball' >"$tmp/junk"
        expect_fail 125 "import image" -- nsp image import "$tmp/junk" "$P-junk" || return 1
        ! nsp image exists "$P-evil" && ! nsp image exists "$P-x" && ! nsp image exists "$P-junk" &&
                [ ! -e "/tmp/$esc" ] && [ ! -e "$tmp/root/images/$P-evil.rootfs" ] && no_staging_left
}
ok "image import refuses a tarball climbing out, a name in use, unsupported changes, junk; nothing stored" -- t_import_bad
rm -f "/tmp/$P-escaped-imp"

# The real peer: what podman save writes, both formats, from an image podman imported.
t_podman_save() {
        command -v podman >/dev/null || { echo "podman not installed"; return 1; }
        local pd="$tmp/pod"
        mkdir -p "$pd/tree/bin"
        cp "$BB" "$pd/tree/bin/busybox" && ln -s busybox "$pd/tree/bin/sh" && ln -s busybox "$pd/tree/bin/cat"
        echo from-podman >"$pd/tree/marker"
        printf '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\n' >"$pd/containers.conf"
        pod() { CONTAINERS_CONF="$pd/containers.conf" podman --root "$pd/root" --runroot "$pd/run" "$@"; }
        tar -C "$pd/tree" -cf "$pd/tree.tar" . &&
                pod import --change 'CMD=["/bin/cat","/marker"]' "$pd/tree.tar" "localhost/$P-pm:latest" >/dev/null &&
                pod save --format docker-archive -o "$pd/docker.tar" "localhost/$P-pm:latest" 2>/dev/null &&
                pod save --format oci-archive -o "$pd/oci.tar" "localhost/$P-pm:latest" 2>/dev/null || {
                        echo "podman could not make the archives"; return 1; }
        is "$P-pm" -- nsp image load -i "$pd/docker.tar" || return 1
        is from-podman -- nsp run --rm "$P-pm" || return 1
        is "$P-pmo" -- nsp image load -i "$pd/oci.tar" --name "$P-pmo" || return 1
        is from-podman -- nsp run --rm "$P-pmo"
}
ok "podman save's docker-archive and oci-archive load and run" -- t_podman_save
defer "CONTAINERS_CONF=$tmp/pod/containers.conf podman --root $tmp/pod/root --runroot $tmp/pod/run system reset -f; umount -R $tmp/pod/root/overlay"

t_podman_command() {
        mkdir -p "$tmp/bin" && ln -sf "$NSPROV_BIN" "$tmp/bin/podman" || return 1
        npm() { NSPROV_ROOT=$tmp/root NSPROV_RUNROOT=$tmp/run "$tmp/bin/podman" "$@"; }
        $MK docker "$tmp/pc.tar" "$BB" "localhost/$P-pc:latest" && $MK oci "$tmp/pc2.tar" "$BB" "localhost/$P-pc2:latest" ||
                return 1
        is "Loaded image: localhost/$P-pc:latest" -- npm load -i "$tmp/pc.tar" || return 1
        is "Loaded image: localhost/$P-pc2:latest" -- npm image load <"$tmp/pc2.tar" || return 1
        npm image exists "$P-pc" && npm image exists "localhost/$P-pc2:latest" &&
                nsp image rm "$P-pc" "$P-pc2" >/dev/null
}
ok "nsprov as podman: podman load -i and podman image load, Podman's output" -- t_podman_command

# Through the API: podman's remote client (a chunked upload), and a Content-Length one
SOCK=$tmp/api.sock
serve_start "$SOCK" --
t_api_load() {
        $MK docker "$tmp/api-d.tar" "$BB" "localhost/$P-api:latest" && $MK oci "$tmp/api-o.tar" "$BB" "localhost/$P-apio:latest" ||
                return 1
        is "Loaded image: localhost/$P-api:latest" -- timeout 60 podman --url "unix://$SOCK" load -i "$tmp/api-d.tar" ||
                return 1
        is new -- nsp run --rm "$P-api" || return 1
        local out
        out=$(curl -s --unix-socket "$SOCK" -X POST --data-binary @"$tmp/api-o.tar" http://d/v1.41/images/load)
        [ "$out" = "{\"stream\":\"Loaded image: localhost/$P-apio:latest\\n\"}" ] || { echo "docker load said: $out"; return 1; }
        # the same again: 409 with the reason, and the connection's next request still served
        out=$(curl -s --unix-socket "$SOCK" -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/api-d.tar" \
                http://d/v4.0.0/libpod/images/load --next --unix-socket "$SOCK" http://d/_ping)
        grep -q '"response":409' <<<"$out" && grep -q "image '$P-api' already exists" <<<"$out" &&
                grep -q 'OK$' <<<"$out" || { echo "second load said: $out"; return 1; }
        out=$(curl -s --unix-socket "$SOCK" -X POST --data-binary 'not an archive' http://d/v4.0.0/libpod/images/load)
        grep -q '"response":400' <<<"$out" && grep -q "not a readable image archive" <<<"$out" ||
                { echo "junk said: $out"; return 1; }
        no_staging_left && [ -z "$(find "$tmp/root/images" -name '.upload-*')" ]
}
ok "API: podman load (chunked) and docker's images/load; a second load 409, junk 400" -- t_api_load
t_api_import() {
        timeout 60 podman --url "unix://$SOCK" import --change 'CMD ["echo", "podman imported"]' "$tmp/rootfs.tar" \
                "localhost/$P-pimp:latest" >/dev/null || return 1
        is "podman imported" -- nsp run --rm "$P-pimp" || return 1
        timeout 60 docker -H "unix://$SOCK" import -c 'CMD ["echo", "docker imported"]' "$tmp/rootfs.tar" "$P-dimp:v1" >/dev/null ||
                return 1
        is "docker imported" -- nsp run --rm "$P-dimp-v1" || return 1
        local out
        out=$(curl -s --unix-socket "$SOCK" -X POST --data-binary @"$tmp/rootfs.tar" \
                "http://d/v4.0.0/libpod/images/import?reference=$P-pimp&changes=CMD%20true")
        grep -q '"response":409' <<<"$out" || { echo "a second import said: $out"; return 1; }
        out=$(curl -s --unix-socket "$SOCK" -X POST --data-binary @"$tmp/rootfs.tar" \
                "http://d/v4.0.0/libpod/images/import?reference=$P-u&changes=USER%20x")
        grep -q '"response":400' <<<"$out" && grep -q "change USER is not supported" <<<"$out" ||
                { echo "an unsupported change said: $out"; return 1; }
        ! nsp image exists "$P-u" && no_staging_left && [ -z "$(find "$tmp/root/images" -name '.upload-*')" ]
}
ok "API: podman import and docker import (images/import, images/create?fromSrc=-), with changes; 409 and 400" -- t_api_import

t_bomb() {
        # 256 MiB of zeros in a ~250 KiB tarball: refused past the size limit, or where it
        # would leave the disk under its reserve; nothing stored either way
        python3 -c '
import gzip, io, sys, tarfile
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    i = tarfile.TarInfo("zeros"); i.size = 256 << 20
    t.addfile(i, io.BytesIO(bytes(256 << 20)))
sys.stdout.buffer.write(gzip.compress(buf.getvalue()))' >"$tmp/bomb.tgz" || return 1
        [ "$(stat -c %s "$tmp/bomb.tgz")" -lt $((1 << 20)) ] || { echo "not a bomb"; return 1; }
        expect_fail 125 "the image unpacks to over 100 MiB (NSPROV_IMAGE_MAX_SIZE), at zeros" -- \
                env NSPROV_IMAGE_MAX_SIZE=100m "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" \
                image import "$tmp/bomb.tgz" "$P-bomb" || return 1
        expect_fail 125 "the store's disk has under 1048576000 MiB free (NSPROV_IMAGE_MIN_FREE)" -- \
                env NSPROV_IMAGE_MIN_FREE=1000t "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" \
                image import "$tmp/bomb.tgz" "$P-bomb" || return 1
        expect_fail 125 "NSPROV_IMAGE_MAX_SIZE='lots' is not a size" -- \
                env NSPROV_IMAGE_MAX_SIZE=lots "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" \
                image import "$tmp/bomb.tgz" "$P-bomb" || return 1
        ! nsp image exists "$P-bomb" && no_staging_left
}
ok "a tarball that expands past the size limit or the disk's reserve: refused, nothing stored" -- t_bomb

ok "the store holds no load's leftovers" -- no_staging_left
