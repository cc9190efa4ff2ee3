"""Prove that the tests changed nothing of this machine's own registry stack.

The tests deploy to test hosts only. A registry on this machine (one that
scripts/demo made, say) must come through a test run untouched, and one that
was not there must not appear: `snapshot` (before the first suite) records
the stack's paths (every file's size, mode and modification time, a hash of
each small file), the nginx site and the Docker containers of this machine
that are not test hosts, each by its image and id (a deployment creates them
anew); not what the stack writes as it runs (the registry's storage, the
disk guard's switch). `compare` (after
the last suite) takes the same picture and fails on any difference, naming
the first ones on its FAILED line.

  python3 tests/ci/machine.py snapshot | compare
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from typing import Any, Dict, List

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BEFORE = os.path.join(REPO, ".cache", "test-logs", "machine-before.json")
# The stack's own paths on a host the collection deployed (their defaults),
# and the nginx site; also whatever scripts/demo leaves beside them.
PATHS = ["/etc/sovereign-registry", "/var/lib/sovereign-registry", "/etc/nginx/conf.d/sovereign-registry.conf"]
SMALL = 1 << 20
# What the stack itself writes as it runs: the registry's storage (someone
# pushed; the tests never push to this machine) and the disk guard's switch
# (this machine's disk filled up, by the tests' images too). Not watched.
RUNTIME = ("/var/lib/sovereign-registry/registry", "/var/lib/sovereign-registry/switches")


def _file(path: str) -> Dict[str, Any]:
    info = os.lstat(path)
    entry: Dict[str, Any] = {"mode": oct(info.st_mode), "size": info.st_size, "mtime": int(info.st_mtime)}
    if os.path.isfile(path) and not os.path.islink(path) and info.st_size <= SMALL:
        with open(path, "rb") as handle:
            entry["sha256"] = hashlib.sha256(handle.read()).hexdigest()
    return entry


def paths() -> Dict[str, Any]:
    found: Dict[str, Any] = {}
    for top in PATHS:
        if not os.path.lexists(top):
            continue
        found[top] = _file(top)
        for root, directories, files in os.walk(top):
            directories[:] = [name for name in directories if os.path.join(root, name) not in RUNTIME]
            for name in directories + files:
                found[os.path.join(root, name)] = _file(os.path.join(root, name))
    # A directory's modification time is its entries': the runtime ones' too.
    for path in RUNTIME:
        parent = os.path.dirname(path)
        if parent in found:
            found[parent].pop("mtime", None)
    return found


def containers() -> Dict[str, str]:
    """{name: image and container id} of this machine's containers that are not test hosts: a deployment creates
    them anew; dockerd starting them again (at its own start, or after a crash) leaves both as they were."""
    names = subprocess.run(["docker", "ps", "-a", "--format", "{{.Names}}\t{{.Labels}}"], capture_output=True,
                           text=True, check=False).stdout.splitlines()
    found = {}
    for line in names:
        name, _tab, labels = line.partition("\t")
        if "sovereign.registry.testhost" in labels:
            continue
        state = subprocess.run(["docker", "inspect", "--format", "{{.Config.Image}} {{.Id}}", name],
                               capture_output=True, text=True, check=False).stdout.strip()
        found[name] = state
    return found


def picture() -> Dict[str, Any]:
    return {"paths": paths(), "containers": containers()}


def snapshot() -> None:
    os.makedirs(os.path.dirname(BEFORE), exist_ok=True)
    with open(BEFORE, "w", encoding="utf-8") as handle:
        json.dump(picture(), handle)


def differences(before: Dict[str, Any], after: Dict[str, Any]) -> List[str]:
    found = []
    for kind in ("paths", "containers"):
        for name in sorted(set(before[kind]) | set(after[kind])):
            if name not in after[kind]:
                found.append("%s gone: %s" % (kind[:-1], name))
            elif name not in before[kind]:
                found.append("%s new: %s" % (kind[:-1], name))
            elif before[kind][name] != after[kind][name]:
                found.append("%s changed: %s: %s -> %s" % (kind[:-1], name, before[kind][name], after[kind][name]))
    return found


def compare() -> int:
    with open(BEFORE, encoding="utf-8") as handle:
        before = json.load(handle)
    after = picture()
    left = subprocess.run([sys.executable, os.path.join(REPO, "tests", "testhosts", "testhosts.py"), "list"],
                          capture_output=True, text=True, check=False).stdout.split()
    found = differences(before, after) + ["test host left: %s" % name for name in left]
    if found:
        # First, so that the runner's "why" line (tests/ci/runner.py, why_failed) carries the differences.
        print("FAILED this machine changed during the tests: %d difference(s):" % len(found))
        for line in found[:50]:
            print(line)
        return 1
    print("this machine: %d path(s) of a registry stack and %d container(s) before the tests, the same after; "
          "no test host left" % (len(after["paths"]), len(after["containers"])))
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["snapshot"]:
        snapshot()
        sys.exit(0)
    sys.exit(compare())
