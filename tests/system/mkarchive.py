# SPDX-License-Identifier: LGPL-2.1-or-later
"""Image archives for the image load tests, written as `podman save` and `docker save`
write them, with Python's tarfile alone:

  mkarchive.py docker|oci OUT BUSYBOX REF      a busybox image of two layers: the first
        has the tree and /etc/motd, /srv/keep/{a,b}, /srv/owned (1234:5678, mode 6755); the second whites out /etc/motd,
        makes /srv/keep opaque (b goes, c comes) with the xattrs trusted.overlay.opaque and
        user.lnst, adds /srv/new, and gzips itself
  mkarchive.py evil-dotdot OUT BUSYBOX REF NAME    a layer with "../../../../tmp/NAME"
  mkarchive.py evil-symlink OUT BUSYBOX REF NAME   a layer with a symlink to / and
        /tmp/NAME written through it (must land inside the image, never on the host)
  mkarchive.py evil-member OUT BUSYBOX REF     an outer member named "../x"
  mkarchive.py oci-dir OUT BUSYBOX REF         the docker kind's image as an OCI layout
        directory (skopeo's oci:OUT:REF), with /etc/arch saying "amd64"
  mkarchive.py oci-multi OUT BUSYBOX REF       the same with an image index of two images,
        linux/arm64 first (/etc/arch "arm64") then linux/amd64 ("amd64")
  mkarchive.py oci-unique OUT BUSYBOX REF      oci-dir with a fourth layer of 256 KiB of
        random bytes (/srv/random): a layer no other image has
  mkarchive.py oci-zstd OUT BUSYBOX REF        oci-dir with every layer zstd-compressed
        (the zstd command)
  mkarchive.py edge OUT BUSYBOX REF            kinds replaced across layers: the first has a
        dir /a (with /a/f), a symlink /l -> a, a hard link /h -> a/f, a dir /gone with a
        file; the second makes /a a file, /l a dir and whites out /gone
"""
import gzip, hashlib, io, json, sys, tarfile, time


def add_file(t, name, data=b"", mode=0o644, uid=0, gid=0):
    i = tarfile.TarInfo(name)
    i.size, i.mode, i.mtime, i.uid, i.gid = len(data), mode, int(time.time()), uid, gid
    t.addfile(i, io.BytesIO(data))


def add_dir(t, name, mode=0o755):
    i = tarfile.TarInfo(name)
    i.type, i.mode = tarfile.DIRTYPE, mode
    t.addfile(i)


def add_symlink(t, name, target):
    i = tarfile.TarInfo(name)
    i.type, i.linkname = tarfile.SYMTYPE, target
    t.addfile(i)


def layer(build):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        build(t)
    return buf.getvalue()


def base_layer(busybox):
    def build(t):
        for d in ("bin", "etc", "srv", "srv/keep", "tmp", "proc", "sys", "dev"):
            add_dir(t, d)
        with open(busybox, "rb") as f:
            add_file(t, "bin/busybox", f.read(), 0o755)
        for c in ("sh", "cat", "ls", "echo", "test", "sleep", "id"):
            add_symlink(t, f"bin/{c}", "busybox")
        add_file(t, "etc/motd", b"lower\n")
        add_file(t, "srv/keep/a", b"a\n")
        add_file(t, "srv/keep/b", b"b\n")
        # owners and set-id bits as the layer has them
        add_file(t, "srv/owned", b"o", 0o6755, 1234, 5678)
        # a device node: not created (a container's /dev is its own)
        i = tarfile.TarInfo("dev/null2")
        i.type, i.devmajor, i.devminor, i.mode = tarfile.CHRTYPE, 1, 3, 0o666
        t.addfile(i)
    return layer(build)


def top_layer():
    def build(t):
        add_file(t, "etc/.wh.motd")
        # an attribute overlayfs would obey on its lower dir (never set), and a user one (kept)
        i = tarfile.TarInfo("srv/keep")
        i.type, i.mode = tarfile.DIRTYPE, 0o755
        i.pax_headers = {"SCHILY.xattr.trusted.overlay.opaque": "y", "SCHILY.xattr.user.lnst": "kept"}
        t.addfile(i)
        add_file(t, "srv/keep/.wh..wh..opq")
        add_file(t, "srv/keep/c", b"c\n")
        add_file(t, "srv/new", b"new\n")
    return gzip.compress(layer(build))


def add_hardlink(t, name, target):
    i = tarfile.TarInfo(name)
    i.type, i.linkname = tarfile.LNKTYPE, target
    t.addfile(i)


def edge_layers(busybox):
    def first(t):
        for d in ("bin", "a", "gone"):
            add_dir(t, d)
        with open(busybox, "rb") as f:
            add_file(t, "bin/busybox", f.read(), 0o755)
        for c in ("sh", "cat", "ls", "test", "stat"):
            add_symlink(t, f"bin/{c}", "busybox")
        add_file(t, "a/f", b"f\n")
        add_symlink(t, "l", "a")
        add_hardlink(t, "h", "a/f")
        add_file(t, "gone/x", b"x")

    def second(t):
        add_file(t, "a", b"now a file\n")
        add_dir(t, "l")
        add_file(t, "l/inside", b"in\n")
        add_file(t, ".wh.gone")
    return [layer(first), layer(second)]


def evil_layer(kind, name):
    def build(t):
        if kind == "evil-dotdot":
            add_file(t, f"../../../../tmp/{name}", b"x")
        else:
            add_symlink(t, "up", "/")
            add_file(t, f"up/tmp/{name}", b"x")
    return layer(build)


def config(layers_raw, arch="amd64"):
    return json.dumps({
        "architecture": arch, "os": "linux",
        "config": {"Cmd": ["/bin/sh", "-c", "cat /srv/new"], "Env": ["PATH=/bin", "FROM_IMAGE=yes"],
                   "WorkingDir": "/srv", "StopSignal": "SIGTERM"},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(
            gzip.decompress(l) if l[:2] == b"\x1f\x8b" else l).hexdigest() for l in layers_raw]},
    }).encode()


def write_docker(out, layers, ref, outer_evil=False):
    cfg = config(layers)
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    names = [f"{hashlib.sha256(l).hexdigest()}/layer.tar" for l in layers]
    with tarfile.open(out, "w") as t:
        for n, l in zip(names, layers):
            add_dir(t, n.split("/")[0])
            add_file(t, n, l)
        add_file(t, cfg_name, cfg)
        if outer_evil:
            add_file(t, "../x", b"x")
        add_file(t, "manifest.json", json.dumps([{"Config": cfg_name, "RepoTags": [ref], "Layers": names}]).encode())


def write_oci(out, layers, ref):
    def blob(t, data):
        d = hashlib.sha256(data).hexdigest()
        add_file(t, f"blobs/sha256/{d}", data)
        return {"digest": f"sha256:{d}", "size": len(data)}
    with tarfile.open(out, "w") as t:
        add_file(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        c = blob(t, config(layers))
        ls = []
        for l in layers:
            desc = blob(t, l)
            desc["mediaType"] = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if l[:2] == b"\x1f\x8b" else "")
            ls.append(desc)
        m = blob(t, json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                                "config": dict(c, mediaType="application/vnd.oci.image.config.v1+json"),
                                "layers": ls}).encode())
        m["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
        m["annotations"] = {"org.opencontainers.image.ref.name": ref}
        add_file(t, "index.json", json.dumps({"schemaVersion": 2, "manifests": [m]}).encode())


def arch_layer(arch):
    return layer(lambda t: add_file(t, "etc/arch", arch.encode() + b"\n"))


def write_oci_dir(out, arches, ref, zstd=False, unique=False):
    import os, subprocess

    def compress(l):
        if not zstd:
            return l, "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if l[:2] == b"\x1f\x8b" else "")
        raw = gzip.decompress(l) if l[:2] == b"\x1f\x8b" else l
        return (subprocess.run(["zstd", "-q", "-c"], input=raw, stdout=subprocess.PIPE, check=True).stdout,
                "application/vnd.oci.image.layer.v1.tar+zstd")

    def blob(data, media_type):
        d = hashlib.sha256(data).hexdigest()
        os.makedirs(f"{out}/blobs/sha256", exist_ok=True)
        with open(f"{out}/blobs/sha256/{d}", "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": f"sha256:{d}", "size": len(data)}
    os.makedirs(out, exist_ok=True)
    with open(f"{out}/oci-layout", "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    manifests = []
    for arch in arches:
        layers = [base_layer(busybox), top_layer(), arch_layer(arch)]
        if unique:
            layers.append(layer(lambda t: add_file(t, "srv/random", os.urandom(256 << 10))))
        ls = [blob(*compress(l)) for l in layers]
        c = blob(config(layers, arch), "application/vnd.oci.image.config.v1+json")
        m = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                             "config": c, "layers": ls}).encode(), "application/vnd.oci.image.manifest.v1+json")
        m["platform"] = {"os": "linux", "architecture": arch}
        manifests.append(m)
    top = manifests[0]
    if len(manifests) > 1:
        top = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                               "manifests": manifests}).encode(), "application/vnd.oci.image.index.v1+json")
    top = dict(top, annotations={"org.opencontainers.image.ref.name": ref})
    top.pop("platform", None)
    with open(f"{out}/index.json", "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [top]}, f)


kind, out, busybox, ref = sys.argv[1:5]
escape = sys.argv[5] if len(sys.argv) > 5 else "nsprov-escaped"
if kind == "docker":
    write_docker(out, [base_layer(busybox), top_layer()], ref)
elif kind == "oci":
    write_oci(out, [base_layer(busybox), top_layer()], ref)
elif kind == "oci-dir":
    write_oci_dir(out, ["amd64"], ref)
elif kind == "oci-unique":
    write_oci_dir(out, ["amd64"], ref, unique=True)
elif kind == "oci-zstd":
    write_oci_dir(out, ["amd64"], ref, zstd=True)
elif kind == "oci-multi":
    write_oci_dir(out, ["arm64", "amd64"], ref)
elif kind in ("evil-dotdot", "evil-symlink"):
    write_docker(out, [base_layer(busybox), evil_layer(kind, escape)], ref)
elif kind == "edge":
    write_docker(out, edge_layers(busybox), ref)
elif kind == "rootfs":
    # a plain root filesystem tarball, as `podman import` takes one (gzip'ed or not, as
    # the layer is)
    with open(out, "wb") as f:
        f.write(base_layer(busybox))
elif kind == "evil-rootfs":
    with open(out, "wb") as f:
        f.write(evil_layer("evil-dotdot", escape))
elif kind == "evil-member":
    write_docker(out, [base_layer(busybox)], ref, outer_evil=True)
else:
    sys.exit(f"mkarchive.py: unknown kind {kind}")
