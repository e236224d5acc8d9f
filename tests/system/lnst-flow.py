#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""LNST's ContainerPoolManager flow (shared/lnst-podman-flow.md), replayed with the
standard library only: the same requests, over one keep-alive connection as podman-py
sends them, and the same fields read back, for one network plugin (netavark, cni or
custom_lnst). Two agents on one lab network; each new NIC's MAC read through
`podman exec -it NAME ip -j a` (the podman command given); then LNST's cleanup.

usage: lnst-flow.py SOCKET PLUGIN PREFIX CNI_DIR PODMAN_CMD
Exit 0 when every step answered as Podman does; a message on stderr otherwise."""
import hashlib
import http.client
import json
import os
import socket
import subprocess
import sys

sock_path, plugin, prefix, cni_dir, podman = sys.argv[1:6]
BASE = "/v5.8.0/libpod"


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("%2Frun%2Fpodman%2Fpodman.sock", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(self.path)


conn = UnixConnection(sock_path)
connections = [0]


def call(method, path, body=None, want=None):
    headers = {"Accept-Encoding": "gzip, deflate"}
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["Content-Type"] = "application/json"
    elif method in ("POST", "DELETE"):
        headers["Content-Length"] = "0"
    conn.request(method, BASE + path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    if want is not None and resp.status != want:
        fail(f"{method} {path}: {resp.status} (wanted {want}): {raw[:300]!r}")
    if resp.getheader("Libpod-API-Version", "") < "4.0.0":
        fail(f"{method} {path}: Libpod-API-Version {resp.getheader('Libpod-API-Version')!r}")
    return resp.status, raw


def fail(msg):
    print(f"lnst-flow ({plugin}): {msg}", file=sys.stderr)
    sys.exit(1)


def sh(cmd):
    r = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


def podman_ip_a(name):
    out = subprocess.check_output([podman, "exec", "-it", name, "ip", "-j", "a"])
    return json.loads(out.decode().replace("\r\n", "\n"))


net = f"lnst_container_net_{prefix}n1"
network_made = False
bridge = None
pool = {}

# __init__
call("GET", "/info", want=200)
call("GET", "/images/lnst/exists", want=204)

for k, machine in enumerate(["machine1", "machine2"]):
    _, raw = call("POST", "/containers/create", {"hostname": machine, "image": "lnst", "privileged": True}, want=201)
    cid = json.loads(raw)["Id"]
    _, raw = call("GET", f"/containers/{cid}/json", want=200)
    attrs = json.loads(raw)
    name = attrs["Name"]
    if attrs["State"]["Status"] != "created" or attrs["NetworkSettings"]["SandboxKey"] != "":
        fail(f"after create: {attrs['State']['Status']} {attrs['NetworkSettings']['SandboxKey']!r}")
    call("POST", f"/containers/{cid}/start", want=204)
    _, raw = call("GET", f"/containers/{cid}/json", want=200)
    attrs = json.loads(raw)
    ip = attrs["NetworkSettings"]["Networks"]["podman"]["IPAddress"]
    if not ip:
        fail("no IPAddress on the podman network right after start")
    _, raw = call("POST", f"/containers/{cid}/wait?condition=running", want=200)
    if json.loads(raw) != -1:
        fail(f"wait running answered {raw!r}")
    # the controller reaches the agent at ip: the host must route there
    if sh(f"ping -c1 -W2 {ip}")[0] != 0:
        fail(f"the host cannot reach {ip}")

    if plugin in ("netavark", "cni"):
        if not network_made:
            if plugin == "netavark":
                call("POST", "/networks/create", {"internal": True, "ipam_options": {"driver": "none"},
                                                  "ipv6_enabled": True, "name": net,
                                                  "network_interface": f"{prefix}lb"}, want=200)
            else:
                with open(os.path.join(cni_dir, f"{net}.conflist"), "w") as f:
                    json.dump({"cniVersion": "0.4.0", "name": net,
                               "plugins": [{"type": "bridge", "bridge": f"{prefix}cb", "hairpinMode": True,
                                            "isGateway": False, "ipam": {}}]}, f)
            _, raw = call("GET", f"/networks/{net}", want=200)
            n = json.loads(raw)
            if n["name"] != net or n["driver"] != "bridge" or n["ipam_options"]["driver"] != "none":
                fail(f"network as returned: {n}")
            if plugin == "cni" and (n["network_interface"] != f"{prefix}cb" or not n["internal"]):
                fail(f"CNI network as returned: {n}")
            network_made = True
        netid = hashlib.sha256(net.encode()).hexdigest()
        _, raw = call("POST", f"/networks/{net}/connect", {"Container": cid, "EndpointConfig": {"NetworkID": netid}},
                      want=200)
        if raw != b"OK\n":
            fail(f"connect answered {raw!r}")
        _, raw = call("GET", f"/containers/{cid}/json", want=200)
        attrs = json.loads(raw)
        if attrs["Config"]["Hostname"] != machine:
            fail(f"Config.Hostname {attrs['Config']['Hostname']!r}")
        links = podman_ip_a(name)
        newest = max(links, key=lambda l: l["ifindex"])
        mac = attrs["NetworkSettings"]["Networks"][net]["MacAddress"]
        if newest["ifname"] != "eth1" or newest["address"] != mac:
            fail(f"the newest NIC is {newest['ifname']} {newest['address']}, inspect says {mac}")
    else:
        # custom_lnst: host ip commands into the SandboxKey
        sandbox = attrs["NetworkSettings"]["SandboxKey"]
        if not sandbox.startswith("/") or not os.path.exists(sandbox):
            fail(f"SandboxKey {sandbox!r} is not a host path")
        if bridge is None:
            bridge = f"{prefix}b0"
            for c in (f"ip -j link add name {bridge} type bridge", f"ip link set {bridge} up"):
                if sh(c)[0]:
                    fail(f"{c} failed")
        r, c = f"{prefix}n{k}r", f"{prefix}n{k}c"
        for cmd in (f"ip link add {r} type veth peer name {c}", f"ip link set {c} netns {sandbox}",
                    f"ip link set {r} master {bridge}", f"ip link set {r} up"):
            if sh(cmd)[0]:
                fail(f"{cmd} failed")
        links = podman_ip_a(name)
        if not any(l["ifname"] == c and l.get("address") for l in links):
            fail(f"{c} not seen in the container")
    pool[machine] = (cid, name)

# cleanup_containers, then cleanup_networks
for machine, (cid, name) in pool.items():
    call("POST", f"/containers/{cid}/stop", want=204)
    _, raw = call("DELETE", f"/containers/{cid}", want=200)
    if json.loads(raw)[0]["Id"] != cid:
        fail(f"DELETE answered {raw!r}")
if plugin in ("netavark", "cni"):
    _, raw = call("DELETE", f"/networks/{net}?force=True", want=200)
    if json.loads(raw) != [{"Name": net, "Err": None}]:
        fail(f"network DELETE answered {raw!r}")
    if plugin == "cni" and os.path.exists(os.path.join(cni_dir, f"{net}.conflist")):
        fail("the conflist is still there after DELETE")
    if plugin == "cni":
        sh(f"ip link del {prefix}cb")
else:
    for k in range(2):
        sh(f"ip link del {prefix}n{k}r")
    sh(f"ip link del {bridge}")
print(f"lnst-flow ({plugin}): ok")
