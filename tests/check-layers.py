#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The core's layering, checked on what was built: no library calls a symbol that only a
library above it defines. Arguments: the static libraries, lowest first (common, netns,
cni, state, image, network, runtime, api). Prints TAP."""
import subprocess, sys

libs = sys.argv[1:]
defined, undefined = [], []
for lib in libs:
    out = subprocess.run(["nm", "-g", "--defined-only", lib], capture_output=True, text=True, check=True).stdout
    defined.append({l.split()[-1] for l in out.splitlines() if len(l.split()) == 3})
    out = subprocess.run(["nm", "-g", "--undefined-only", lib], capture_output=True, text=True, check=True).stdout
    undefined.append({l.split()[-1] for l in out.splitlines() if l.split()})
print(f"1..{len(libs)}")
failed = 0
for i, lib in enumerate(libs):
    below = set().union(*defined[: i + 1])
    above = {}
    for k in range(i + 1, len(libs)):
        for sym in defined[k]:
            above.setdefault(sym, libs[k])
    upward = sorted(s for s in undefined[i] if s not in below and s in above)
    name = lib.rsplit("/", 1)[-1]
    if upward:
        failed += 1
        print(f"not ok {i + 1} - {name} calls nothing above it")
        for s in upward:
            print(f"# {s} (defined in {above[s].rsplit('/', 1)[-1]})")
    else:
        print(f"ok {i + 1} - {name} calls nothing above it")
sys.exit(1 if failed else 0)
