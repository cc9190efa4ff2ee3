"""The docker CLI as a user runs it: builds, pushes and pulls, with what it printed kept for the checks."""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any, Dict, List, Optional, Tuple

DIGEST = re.compile(r"(?:digest|Digest): (sha256:[0-9a-f]{64})")


def docker(*args: str, stdin: Optional[str] = None) -> Tuple[int, str]:
    """(exit code, stdout and stderr) of one docker command."""
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, input=stdin, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def retries(out: str) -> int:
    """How many times docker fetched or sent a layer again: it counts down to each retry a second at a time
    ("Retrying in 5 seconds", ... "Retrying in 1 second")."""
    return out.count("Retrying in 1 second")


def build_random(ref: str, context: str, size: int) -> None:
    """docker build of REF: an image of one layer, a file of SIZE random bytes (its own digest every time).
    Up to three attempts: Docker 20.10's builder can lose an image it just committed when another client of the same
    daemon removes images at that moment ("unable to find image sha256:..."); a build is set-up, not what is proven."""
    os.makedirs(context, exist_ok=True)
    with open(os.path.join(context, "Dockerfile"), "w", encoding="utf-8") as handle:
        handle.write("FROM scratch\nCOPY data /data\n")
    with open(os.path.join(context, "data"), "wb") as handle:
        handle.write(os.urandom(size))
    out = ""
    for _attempt in range(3):
        code, out = docker("build", "-q", "-t", ref, context)
        if code == 0:
            return
    raise SystemExit("docker build failed three times: %s" % out)


def push(ref: str) -> Dict[str, Any]:
    """Push a local image: exit code, the digest docker printed, its output, whether a layer was there already."""
    rc, out = docker("push", ref)
    match = DIGEST.search(out)
    return {"rc": rc, "digest": match.group(1) if match else None, "output": out.strip()[-600:],
            "retries": retries(out),
            "layer_already_existed": "Layer already exists" in out}


def fill(registry: str, repository: str, directory: str, size_mb: int, most: int) -> Dict[str, Any]:
    """Build and push images of SIZE_MB of random data, tags pr-1, pr-2, ..., until a push is refused;
    every digest pushed and the refusal (exit code and what docker printed)."""
    pushed: Dict[str, Optional[str]] = {}
    context = os.path.join(directory, "fill")
    for number in range(1, most + 1):
        ref = "%s/%s:pr-%d" % (registry, repository, number)
        build_random(ref, context, size_mb * 1024 * 1024)
        result = push(ref)
        if result["rc"] != 0:
            return {"pushed": pushed, "refused": dict(ref=ref, **result)}
        pushed[ref] = result["digest"]
    raise SystemExit("no push was refused in %d pushes of %d MB" % (most, size_mb))


def pull(refs: List[str]) -> Dict[str, str]:
    """For each reference, forget the local copy, pull it, and report the digest docker printed (or the error)."""
    found = {}
    for ref in refs:
        docker("rmi", ref)
        rc, out = docker("pull", ref)
        match = DIGEST.search(out)
        found[ref] = match.group(1) if rc == 0 and match else "error: " + out.strip()[-300:]
    return found
