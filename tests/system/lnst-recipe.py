#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real LNST, unmodified (../shared/peers/lnst with podman-py), through `nsprov serve`:
its Controller with ContainerPoolManager provisions agent containers from the image `lnst`
and runs a recipe, for one network plugin (netavark, cni or custom_lnst).

usage: lnst-recipe.py PEERS SOCKET PLUGIN RECIPE
PLUGIN pool:DIR: LNST's classic pool mode on agents already up (nsprov lab pool wrote
DIR); SOCKET is then unused.
RECIPE: hello (two agents on one network, ping both ways), two-nics (one agent's two NICs
on one network, each pinging the other agent), two-nets (one agent on two networks).
Exit 0 when the recipe passed; prints "seconds: S" and "first-connect: yes|no" (whether
LNST reached every agent on its first try) on stdout. Run with Debian's python3 and HOME
pointing at a scratch dir (LNST keeps its config and logs under ~/.lnst)."""
import logging
import os
import sys
import time

t_begin = time.monotonic()
peers, sock, plugin, recipe_name = sys.argv[1:5]
# LNST's pool-mode controller logs under the directory of sys.argv[0]: into the scratch
# HOME, not the source tree
sys.argv[0] = os.path.join(os.environ.get("HOME", "/tmp"), "lnst-recipe")
sys.path[:0] = [os.path.join(peers, "lnst"), os.path.join(peers, "podman-py")]

from lnst.Common.IpAddress import ipaddress  # noqa: E402
from lnst.Controller import BaseRecipe, Controller, DeviceReq, HostReq  # noqa: E402
from lnst.Controller.ContainerPoolManager import ContainerPoolManager  # noqa: E402
from lnst.Controller.MachineMapper import ContainerMapper  # noqa: E402


class Hello(BaseRecipe):
    m1 = HostReq()
    m1.eth0 = DeviceReq(label="net1")
    m2 = HostReq()
    m2.eth0 = DeviceReq(label="net1")

    def test(self):
        m1, m2 = self.matched.m1, self.matched.m2
        m1.eth0.ip_add(ipaddress("192.168.101.1/24"))
        m2.eth0.ip_add(ipaddress("192.168.101.2/24"))
        m1.eth0.up()
        m2.eth0.up()
        m1.run("ping -c 1 -W 5 192.168.101.2")
        m2.run("ping -c 1 -W 5 192.168.101.1")


class TwoNics(BaseRecipe):
    """LNST's custom_lnst case: two NICs of one agent on one network."""
    m1 = HostReq()
    m1.eth0 = DeviceReq(label="net1")
    m1.eth1 = DeviceReq(label="net1")
    m2 = HostReq()
    m2.eth0 = DeviceReq(label="net1")

    def test(self):
        m1, m2 = self.matched.m1, self.matched.m2
        m1.eth0.ip_add(ipaddress("192.168.102.1/24"))
        m1.eth1.ip_add(ipaddress("192.168.103.1/24"))
        m2.eth0.ip_add(ipaddress("192.168.102.2/24"))
        m2.eth0.ip_add(ipaddress("192.168.103.2/24"))
        for d in (m1.eth0, m1.eth1, m2.eth0):
            d.up()
        m2.run("ping -c 1 -W 5 -I 192.168.102.2 192.168.102.1")
        m2.run("ping -c 1 -W 5 -I 192.168.103.2 192.168.103.1")


class TwoNets(BaseRecipe):
    """One agent on two networks, one peer on each."""
    m1 = HostReq()
    m1.eth0 = DeviceReq(label="net1")
    m1.eth1 = DeviceReq(label="net2")
    m2 = HostReq()
    m2.eth0 = DeviceReq(label="net1")
    m3 = HostReq()
    m3.eth0 = DeviceReq(label="net2")

    def test(self):
        m1, m2, m3 = self.matched.m1, self.matched.m2, self.matched.m3
        m1.eth0.ip_add(ipaddress("192.168.104.1/24"))
        m1.eth1.ip_add(ipaddress("192.168.105.1/24"))
        m2.eth0.ip_add(ipaddress("192.168.104.2/24"))
        m3.eth0.ip_add(ipaddress("192.168.105.3/24"))
        for d in (m1.eth0, m1.eth1, m2.eth0, m3.eth0):
            d.up()
        m1.run("ping -c 1 -W 5 192.168.104.2")
        m1.run("ping -c 1 -W 5 192.168.105.3")
        # the networks are apart: m2 cannot reach m3's network
        m2.run("ping -c 1 -W 1 192.168.105.3", fail=True)


# LNST logs every connection attempt to an agent: a retry means it found the agent not
# yet listening after start returned. Its messages also mark the phases of a run.
retries = []
marks = []  # (monotonic time, message)


class Spotter(logging.Handler):
    def emit(self, record):
        msg = record.getMessage()
        marks.append((time.monotonic(), msg))
        if "retry counter:" in msg and not msg.endswith("retry counter: 0"):
            retries.append(msg)




def phases(t_ctl, t_end):
    """Where the time went, from LNST's own messages: seconds per phase."""
    def first(prefix, after=0.0):
        return next((t for t, m in marks if t >= after and m.startswith(prefix)), None)
    out = {"import+controller": t_ctl - t_begin}
    agents = [(t, m.split()[-1]) for t, m in marks if m.startswith("Creating container ")]
    t_prov = agents[0][0] if agents else t_ctl
    for i, (t, name) in enumerate(agents):
        ready = first("Agent process is running at", t)
        if ready is not None:
            out[f"agent {name}: create+start+ready"] = ready - t
    t_clean = first("Cleaning containers") or t_end
    t_recipe = first("Result: ", t_prov) or t_clean
    # a connect: from "Connecting CTR to NET" to the first message after its MAC was read
    # (LNST's `podman exec -it CTR ip -j a`)
    connect_s, t_prov_end, start, reading = 0.0, t_prov, None, False
    for t, m in marks:
        if reading:
            connect_s += t - start
            t_prov_end, start, reading = t, None, False
        if m.startswith("Connecting ") and " to " in m and "retry" not in m and "RPC" not in m:
            start = t
        elif m.startswith("Getting MAC address") and start is not None:
            reading = True
    out["network connects (with exec ip -j a)"] = connect_s
    out["provisioning in all"] = t_prov_end - t_prov
    out["LNST's agent setup (RPC, modules, device probes)"] = t_recipe - t_prov_end
    out["recipe"] = t_clean - t_recipe
    out["teardown"] = t_end - t_clean
    return out

recipes = {"hello": Hello, "two-nics": TwoNics, "two-nets": TwoNets}
if plugin.startswith("pool:"):
    ctl = Controller(pools=[plugin[len("pool:"):]], debug=1)
else:
    ctl = Controller(poolMgr=ContainerPoolManager, mapper=ContainerMapper, podman_uri=f"unix://{sock}",
                     image="lnst", network_plugin=plugin, debug=1)
t_ctl = time.monotonic()
# after the Controller: its logging setup drops the root logger's handlers
logging.getLogger().addHandler(Spotter(level=logging.DEBUG))
recipe = recipes[recipe_name]()
ctl.run(recipe)
t_end = time.monotonic()
passed = all(run.overall_result for run in recipe.runs)
print(f"seconds: {t_end - t_begin:.2f}")
first_tries = sum(1 for _, m in marks if m.endswith("retry counter: 0"))
print(f"first-connect: {'yes' if first_tries and not retries else 'no'} ({first_tries} agents, {len(retries)} retries)")
for name, secs in phases(t_ctl, t_end).items():
    print(f"phase: {name}: {secs:.3f}")
for r in retries:
    print(f"retry: {r}", file=sys.stderr)
sys.exit(0 if passed and recipe.runs else 1)
