#!/bin/bash
# image pull against a real registry: Debian's docker-registry on loopback with a config
# of the test's own, images pushed to it with skopeo (an OCI manifest, Docker schema 2, an
# OCI index and a Docker manifest list of two platforms, zstd layers), and a registry in
# front of it (fake-registry.py) for bearer tokens, garbage, a wrong digest, a transfer cut
# halfway and one slow enough to be killed. Then the same through the API, with Podman's
# remote client and the docker CLI. Whatever fails, nothing may be half-stored.
set -u
. "$(dirname "$0")/tap.sh"
begin_store_test
BB=$(command -v busybox)
MK="python3 $(dirname "$0")/mkarchive.py"
FAKE="python3 $(dirname "$0")/fake-registry.py"
TV=--tls-verify=false

is() {  # is EXPECTED -- COMMAND...: stdout (trailing newline trimmed) must equal EXPECTED
        local want=$1; shift; [ "$1" = -- ] && shift
        local got; got=$("$@" 2>"$tmp/is.err")
        [ "$got" = "$want" ] || { echo "got '$got', wanted '$want'; stderr: $(cat "$tmp/is.err")"; return 1; }
}
blobs() { ls "$tmp/root/images/blobs/sha256" 2>/dev/null | wc -l; }
nothing_half_stored() {  # no staging dir, no blob but the N expected
        [ -z "$(find "$tmp/root/images" -maxdepth 1 -name '.load-*' 2>/dev/null)" ] ||
                { echo "staging left: $(ls -a "$tmp/root/images")"; return 1; }
        [ "$(blobs)" = "$1" ] || { echo "$(blobs) blobs, wanted $1"; return 1; }
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# a registry of the test's own: start_registry DIR [EXTRA YAML]; its host:port in STARTED
# (globals, not $(...): the defers must reach this shell, and the server our stdout)
start_registry() {
        local dir=$1 port extra=${2:-}
        mkdir -p "$dir"
        for _ in 1 2 3; do
                port=$(free_port)
                cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: 127.0.0.1:$port
$extra
EOF
                docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 </dev/null &
                local pid=$!
                defer "kill $pid; wait $pid"
                for _ in $(seq 100); do
                        curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && { STARTED=127.0.0.1:$port; return 0; }
                        kill -0 $pid 2>/dev/null || break
                        sleep 0.05
                done
        done
        echo "docker-registry did not start: $(cat "$dir/log")" >&2
        return 1
}
start_fake() {  # start_fake MODE: a fake-registry.py in front of REG; its host:port in STARTED
        local dir=$tmp/fake-$1
        mkdir -p "$dir"
        $FAKE "http://$REG" "$dir/port" "$dir/log" "$1" >/dev/null 2>"$dir/err" </dev/null &
        defer "kill $!; wait $!"
        for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
        STARTED=127.0.0.1:$(cat "$dir/port")
}
push() { skopeo copy -q --dest-tls-verify=false "$@" >/dev/null; }

start_registry "$tmp/reg" && REG=$STARTED || { echo "1..1"; echo "not ok 1 - a registry to pull from"; exit 1; }
$MK oci-dir "$tmp/oci1" "$BB" v1 && $MK oci-multi "$tmp/multi" "$BB" v1 && $MK oci-zstd "$tmp/zstd" "$BB" v1 &&
        push "oci:$tmp/oci1:v1" "docker://$REG/$P/bb:1" &&
        push --format v2s2 "oci:$tmp/oci1:v1" "docker://$REG/$P/bb:v2s2" &&
        push --all "oci:$tmp/multi:v1" "docker://$REG/$P/multi:1" &&
        push --all --format v2s2 "oci:$tmp/multi:v1" "docker://$REG/$P/multi:list" &&
        push "oci:$tmp/zstd:v1" "docker://$REG/$P/zstd:1" &&
        $MK oci-unique "$tmp/uniq" "$BB" v1 && push "oci:$tmp/uniq:v1" "docker://$REG/$P/uniq:1" ||
        { echo "1..1"; echo "not ok 1 - images pushed to the registry with skopeo"; exit 1; }
# the servers the tests below talk to, started here: a test runs in a subshell (ok), whose
# defers would not reach the exit trap
declare -A FAKES
for mode in corrupt garbage cut slow token; do start_fake $mode && FAKES[$mode]=$STARTED; done
hash=$(python3 -W ignore -c 'import crypt; print(crypt.crypt("secret", crypt.mksalt(crypt.METHOD_BLOWFISH)))')
mkdir -p "$tmp/reg2" && echo "lnst:$hash" >"$tmp/reg2/htpasswd"
start_registry "$tmp/reg2" "auth:
  htpasswd:
    realm: nsprov-test
    path: $tmp/reg2/htpasswd" && REG2=$STARTED ||
        { echo "1..1"; echo "not ok 1 - a registry with basic auth"; exit 1; }

t_oci() {
        is bb-1 -- nsp image pull $TV "$REG/$P/bb:1" || return 1
        is "$(printf 'amd64\nnew\nyes')" -- nsp run --rm --network none bb-1 sh -c 'cat /etc/arch /srv/new; echo $FROM_IMAGE' ||
                return 1
        [ "$(blobs)" = 3 ] || { echo "$(blobs) blobs stored"; return 1; }
        nsp image inspect bb-1 | grep -q "\"Rootfs\": \"$tmp/root/images/bb-1.rootfs\""
}
ok "pull an OCI image: run from it, its config applied, its 3 layers stored" -- t_oci

t_again() {
        local before; before=$(stat -c %i "$tmp/root/images/bb-1.rootfs")
        is bb-1 -- nsp image pull $TV "$REG/$P/bb:1" || return 1
        [ "$(stat -c %i "$tmp/root/images/bb-1.rootfs")" = "$before" ] || { echo "unpacked again"; return 1; }
        # by digest too, under another name: the layers are the store's already
        local digest; digest=$(skopeo inspect $TV "docker://$REG/$P/bb:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
        is "$P-pinned" -- nsp image pull $TV --name "$P-pinned" "$REG/$P/bb@$digest" || return 1
        [ "$(blobs)" = 3 ] || { echo "$(blobs) blobs: a shared layer stored twice"; return 1; }
        is amd64 -- nsp run --rm --network none "$P-pinned" cat /etc/arch
}
ok "pulled again: nothing unpacked; by digest under another name: layers shared, stored once" -- t_again

t_v2s2_zstd() {
        is "$P-v2" -- nsp image pull $TV --name "$P-v2" "$REG/$P/bb:v2s2" || return 1
        is new -- nsp run --rm --network none "$P-v2" || return 1
        is zstd-1 -- nsp image pull $TV "$REG/$P/zstd:1" || return 1
        is "$(printf 'amd64\nc')" -- nsp run --rm --network none zstd-1 sh -c 'cat /etc/arch; ls /srv/keep'
}
ok "Docker schema 2 (gzip) and an OCI image of zstd layers" -- t_v2s2_zstd

t_multi() {
        is multi-1 -- nsp image pull $TV "$REG/$P/multi:1" || return 1
        is amd64 -- nsp run --rm --network none multi-1 cat /etc/arch || return 1
        is "$P-arm" -- nsp image pull $TV --platform linux/arm64 --name "$P-arm" "$REG/$P/multi:1" || return 1
        is arm64 -- nsp run --rm --network none "$P-arm" cat /etc/arch || return 1
        is multi-list -- nsp image pull $TV "$REG/$P/multi:list" || return 1
        is amd64 -- nsp run --rm --network none multi-list cat /etc/arch || return 1
        local n; n=$(blobs)
        expect_fail 125 "no image for linux/s390x in the index (it has linux/arm64, linux/amd64)" -- \
                nsp image pull $TV --platform linux/s390x --name "$P-s390" "$REG/$P/multi:1" || return 1
        ! nsp image exists "$P-s390" && nothing_half_stored "$n"
}
ok "an OCI index and a Docker manifest list: this host's platform, --platform, one not there" -- t_multi

# every blob of the store is a layer of an image's record, and every record's layers are there
blobs_match_records() {
        python3 - "$tmp/root/images" <<'EOF'
import glob, json, os, sys
d = sys.argv[1]
named = set()
for rec in glob.glob(f"{d}/*.json"):
    named.update(l.split(":")[1] for l in json.load(open(rec)).get("layers", []))
stored = set(os.listdir(f"{d}/blobs/sha256"))
if named != stored:
    sys.exit(f"stored but named by no image: {stored - named}; named but not stored: {named - stored}")
EOF
}
t_rm_blobs() {
        local n; n=$(blobs)
        nsp image rm "$P-pinned" >/dev/null && [ "$(blobs)" = "$n" ] || { echo "a layer bb-1 has went"; return 1; }
        nsp image rm bb-1 >/dev/null && blobs_match_records && ! nsp image exists bb-1 || return 1
        n=$(blobs)
        is "$P-uniq" -- nsp image pull $TV --name "$P-uniq" "$REG/$P/uniq:1" && [ "$(blobs)" -gt "$n" ] || return 1
        nsp image rm "$P-uniq" >/dev/null && [ "$(blobs)" = "$n" ] && blobs_match_records
}
ok "image rm takes an image's layers unless another image has them" -- t_rm_blobs

t_wrong_digest() {
        local fake=${FAKES[corrupt]} n; n=$(blobs)
        expect_fail 125 "the layer sha256:.* arrived with the digest .*: refused" -- \
                nsp image pull $TV --name "$P-bad" "$fake/$P/uniq:1" ||
                return 1
        ! nsp image exists "$P-bad" && nothing_half_stored "$n"
}
ok "a layer whose digest does not match: refused, nothing stored" -- t_wrong_digest

t_garbage() {
        local fake=${FAKES[garbage]} n; n=$(blobs)
        expect_fail 125 "pull $fake/$P/bb:1: the manifest 1 of $fake/$P/bb: the manifest is not a JSON object" -- \
                nsp image pull $TV --name "$P-g" "$fake/$P/bb:1" || return 1
        ! nsp image exists "$P-g" && nothing_half_stored "$n"
}
ok "a registry answering garbage: one line naming the reference and the reason" -- t_garbage

t_cut() {
        local fake=${FAKES[cut]} n; n=$(blobs)
        expect_fail 125 "pull $fake/$P/uniq:1: GET http://$fake/v2/$P/uniq/blobs/sha256:.*" -- \
                nsp image pull $TV --retry 1 --retry-delay 10ms --name "$P-cut" "$fake/$P/uniq:1" || return 1
        # the layer no other image has, tried twice (--retry 1)
        [ "$(grep -c "^GET /v2/$P/uniq/blobs/" "$tmp/fake-cut/log")" -ge 3 ] || { cat "$tmp/fake-cut/log"; return 1; }
        ! nsp image exists "$P-cut" && nothing_half_stored "$n"
}
ok "a transfer cut halfway, tried again and cut again: fails, nothing half-stored" -- t_cut

t_killed() {
        local fake=${FAKES[slow]} n; n=$(blobs)
        "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" image pull $TV --name "$P-killed" "$fake/$P/uniq:1" \
                >/dev/null 2>&1 &
        local pid=$!
        for _ in $(seq 200); do [ -n "$(find "$tmp/root/images" -path '*/.load-*/*.part' 2>/dev/null)" ] && break; sleep 0.05; done
        [ -n "$(find "$tmp/root/images" -path '*/.load-*/*.part')" ] || { echo "no download seen"; kill -9 $pid; return 1; }
        kill -9 $pid
        wait $pid 2>/dev/null
        # what it left is the next load's to sweep
        is "$P-after" -- nsp image pull $TV --name "$P-after" "$REG/$P/zstd:1" || return 1
        ! nsp image exists "$P-killed" && nothing_half_stored "$n"
}
ok "a pull killed midway: the next one sweeps what it left" -- t_killed

t_token() {
        local fake=${FAKES[token]} n; n=$(blobs)
        expect_fail 125 "$fake asks for a login" -- nsp image pull $TV --name "$P-t" "$fake/$P/bb:1" || return 1
        expect_fail 125 "refused the credentials" -- nsp image pull $TV --creds lnst:wrong --name "$P-t" "$fake/$P/bb:1" ||
                return 1
        is "$P-t" -- nsp image pull $TV --creds lnst:secret --name "$P-t" "$fake/$P/bb:1" || return 1
        # 401 on the first request, then a token, then every request with it
        head -3 "$tmp/fake-token/log" | grep -q '^GET /v2/ 401' && grep -q '^GET /token.* token-issued' "$tmp/fake-token/log" ||
                { cat "$tmp/fake-token/log"; return 1; }
        ! grep '/blobs/' "$tmp/fake-token/log" | grep -qv ' ok$' || { echo "a blob fetched without the token"; return 1; }
        # the credentials from an auth file: --authfile, then $XDG_RUNTIME_DIR's
        mkdir -p "$tmp/xdg/containers"
        printf '{"auths": {"%s": {"auth": "%s"}}}' "$fake" "$(printf lnst:secret | base64)" >"$tmp/xdg/containers/auth.json"
        is "$P-t2" -- nsp image pull $TV --authfile "$tmp/xdg/containers/auth.json" --name "$P-t2" "$fake/$P/bb:1" ||
                return 1
        is "$P-t3" -- env XDG_RUNTIME_DIR="$tmp/xdg" "$NSPROV_BIN" --root "$tmp/root" --runroot "$tmp/run" \
                image pull $TV --name "$P-t3" "$fake/$P/bb:1" || return 1
        nsp image rm "$P-t" "$P-t2" "$P-t3" >/dev/null && nothing_half_stored "$n"
}
ok "bearer tokens: 401, then a token for the credentials (--creds, --authfile, the standard auth file)" -- t_token

t_basic() {
        local reg2=$REG2
        skopeo copy -q --dest-tls-verify=false --dest-creds lnst:secret "oci:$tmp/oci1:v1" "docker://$reg2/$P/bb:1" \
                >/dev/null || return 1
        expect_fail 125 "$reg2 asks for a login" -- nsp image pull $TV --name "$P-b" "$reg2/$P/bb:1" || return 1
        mkdir -p "$tmp/home/.docker"
        printf '{"auths": {"http://%s/v2/": {"auth": "%s"}}}' "$reg2" "$(printf lnst:secret | base64)" \
                >"$tmp/home/.docker/config.json"
        is "$P-b" -- env HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/none" "$NSPROV_BIN" --root "$tmp/root" \
                --runroot "$tmp/run" image pull $TV --name "$P-b" "$reg2/$P/bb:1" || return 1
        is new -- nsp run --rm --network none "$P-b"
}
ok "basic auth (a registry with htpasswd), the login from ~/.docker/config.json" -- t_basic

t_bad_input() {
        expect_fail 125 "pull Busybox/X:1: Busybox/X:1: invalid repository name (it must be lowercase)" -- \
                nsp image pull Busybox/X:1 || return 1
        expect_fail 125 "the digest must be sha256: and 64 lowercase hex digits" -- nsp image pull "$REG/x@sha256:abc" ||
                return 1
        expect_fail 125 "cannot\|Couldn't connect" -- nsp image pull $TV --retry 1 --retry-delay 10ms 127.0.0.1:1/x/y:1 ||
                return 1
        expect_fail 125 "has no manifest nope (HTTP 404: MANIFEST_UNKNOWN" -- nsp image pull $TV "$REG/$P/bb:nope" || return 1
        # a name taken by an image not pulled is not replaced
        mkdir -p "$tmp/r" && nsp image add "$P-taken" --rootfs "$tmp/r" >/dev/null || return 1
        expect_fail 125 "image '$P-taken' already exists and was not pulled" -- \
                nsp image pull $TV --name "$P-taken" "$REG/$P/bb:1" || return 1
        nothing_half_stored "$(blobs)"
}
ok "bad input: a bad reference, a registry down, a tag not there, a name taken: exit 125, one line" -- t_bad_input

t_short_names() {
        cat >"$tmp/registries.conf" <<EOF
# as containers-registries.conf(5) has it
unqualified-search-registries = [
    "$REG",   # the test's
]
[[registry]]
location = "$REG"
insecure = true

[aliases]
"$P-alias" = "$REG/$P/multi"
EOF
        export CONTAINERS_REGISTRIES_CONF=$tmp/registries.conf
        is "$P-short" -- nsp image pull --name "$P-short" "$P/bb:v2s2" || return 1
        is "$P-al" -- nsp image pull --name "$P-al" "$P-alias:list" || return 1
        is amd64 -- nsp run --rm --network none "$P-al" cat /etc/arch || return 1
        echo '[aliases]' >"$tmp/registries.conf"
        expect_fail 125 "is a short name and $tmp/registries.conf names no unqualified-search-registries" -- \
                nsp image pull "$P/bb:1" || return 1
        echo 'unqualified-search-registries = "x"' >"$tmp/registries.conf"
        expect_fail 125 "$tmp/registries.conf:1: unqualified-search-registries is not an array of strings" -- \
                nsp image pull "$P/bb:1"
}
ok "short names: registries.conf's search registries, its insecure ones and its aliases; its errors" -- t_short_names
unset CONTAINERS_REGISTRIES_CONF

t_replace() {
        is "$P-rep" -- nsp image pull $TV --name "$P-rep" "$REG/$P/bb:1" || return 1
        push "oci:$tmp/zstd:v1" "docker://$REG/$P/bb:1" || return 1
        nsp create --name "$P-user" --network none "$P-rep" true >/dev/null || return 1
        expect_fail 125 "image '$P-rep' has a newer version but 1 container(s) use it" -- \
                nsp image pull $TV --name "$P-rep" "$REG/$P/bb:1" || return 1
        nsp rm "$P-user" >/dev/null || return 1
        is "$P-rep" -- nsp image pull $TV --name "$P-rep" "$REG/$P/bb:1" || return 1
        nsp image inspect "$P-rep" >/dev/null && is c -- nsp run --rm --network none "$P-rep" ls /srv/keep
}
ok "a tag that moved: the image replaced, unless a container uses it" -- t_replace

# Through the API
SOCK=$tmp/api.sock
serve_start "$SOCK" --

t_api_podman() {
        local out
        out=$(timeout 60 podman --url "unix://$SOCK" pull $TV "$REG/$P/multi:1" 2>&1) || { echo "$out"; return 1; }
        grep -q "Trying to pull $REG/$P/multi:1" <<<"$out" && grep -qx "[0-9a-f]\{64\}" <<<"$out" ||
                { echo "podman pull said: $out"; return 1; }
        timeout 30 podman --url "unix://$SOCK" images --format '{{.Repository}}:{{.Tag}}' | grep -qx "$REG/$P/multi:1" ||
                return 1
        out=$(timeout 60 podman --url "unix://$SOCK" pull $TV "$REG/$P/multi:nope" 2>&1) && { echo "pulled: $out"; return 1; }
        grep -q "has no manifest nope" <<<"$out" || { echo "podman pull said: $out"; return 1; }
        # policy=missing (what podman create asks first) finds a local image and asks no registry
        out=$(curl -s --unix-socket "$SOCK" -X POST "http://d/v4.0.0/libpod/images/pull?reference=$P-rep&policy=missing")
        grep -q '"images":\["[0-9a-f]\{64\}"\]' <<<"$out" || { echo "policy missing said: $out"; return 1; }
}
ok "API: podman pull (libpod images/pull), its progress and errors; policy missing" -- t_api_podman

t_api_docker() {
        local out
        out=$(timeout 60 docker -H "unix://$SOCK" pull "$REG/$P/zstd:1" 2>&1) || { echo "$out"; return 1; }
        grep -q "Status: Image is up to date for $REG/$P/zstd:1" <<<"$out" || { echo "docker pull said: $out"; return 1; }
        out=$(timeout 60 docker -H "unix://$SOCK" pull "$REG/$P/multi:list" 2>&1) || { echo "$out"; return 1; }
        grep -q "Status: Downloaded newer image for $REG/$P/multi:list\|Status: Image is up to date" <<<"$out" ||
                { echo "docker pull said: $out"; return 1; }
        nsp image exists multi-list
}
ok "API: docker pull (images/create?fromImage=), loopback registries without TLS as Docker's daemon" -- t_api_docker

t_final() { nothing_half_stored "$(blobs)" && blobs_match_records; }
ok "the store holds no pull's leftovers, and no layer no image has" -- t_final
