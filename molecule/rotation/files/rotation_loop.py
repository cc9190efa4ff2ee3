"""A registry client in a loop, counting requests per rotation phase.

  rotation_loop.py MODE REGISTRY REPOSITORY USER PASSWORD_FILE CA PHASE_FILE STOP_FILE OUT_FILE MAX_SECONDS INTERVAL

MODE: anonymous-pull, user-pull, or push (a new small image per iteration).
Every iteration is a new client that asks docker_auth for a new token, as a
docker client does, through the collection's registry client (its
module_utils are on PYTHONPATH), and counts as one request, failed when any
step fails. The phase of each iteration is read from PHASE_FILE; OUT_FILE
gets {phase: {total, failed, errors}} when STOP_FILE appears or the time is
up. An iteration starts INTERVAL seconds after the one before at the
earliest, so that the loops stay under nginx's token rate limit.
"""

import collections
import json
import os
import sys
import time

from oci_images import Pusher, transport
from ansible_collections.sovereign.registry.plugins.module_utils._registry_client import OCI_MANIFEST, Registry

mode, registry, repository, user, password_file, ca, phase_file, stop_file, out_file, max_seconds, interval = sys.argv[1:12]
credentials = (None, None) if mode == "anonymous-pull" else (user, open(password_file).read().strip())


def client():
    return Registry("https://" + registry, transport(ca), *credentials)


def pull():
    client().call("GET", "/v2/%s/manifests/1" % repository, "repository:%s:pull" % repository, {"Accept": OCI_MANIFEST})


def push(n):
    Pusher(client()).image(repository, "loop-%d" % n, "rotation-loop-%d-%d" % (os.getpid(), n), 1024,
                           "2026-01-01T00:00:00Z")


counts = collections.defaultdict(lambda: {"total": 0, "failed": 0, "errors": []})
deadline = time.time() + float(max_seconds)
n = 0
while not os.path.exists(stop_file) and time.time() < deadline:
    try:
        phase = open(phase_file).read().strip() or "setup"
    except OSError:
        phase = "setup"
    n += 1
    started = time.time()
    counts[phase]["total"] += 1
    try:
        push(n) if mode == "push" else pull()
    except Exception as exc:  # every failure counts, whatever it is
        counts[phase]["failed"] += 1
        if len(counts[phase]["errors"]) < 5:
            counts[phase]["errors"].append(str(exc)[:200])
    time.sleep(max(0.0, started + float(interval) - time.time()))
with open(out_file, "w") as f:
    json.dump(counts, f)
