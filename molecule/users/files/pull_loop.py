"""Pull one manifest over and over, the way a docker client does, and count failures.

Each iteration is a new client of the collection's registry client (its
module_utils are on PYTHONPATH): GET the manifest -> 401 with a Bearer
challenge -> token from the realm (with basic auth) -> GET the manifest
with the token. Runs until the stop file exists or the time is up; writes
{"total", "failed", "errors"} as JSON. An iteration starts INTERVAL
seconds after the one before at the earliest, so that the loop stays under
nginx's token rate limit.

  pull_loop.py REGISTRY REPOSITORY USER PASSWORD_FILE CA STOP_FILE OUT_FILE MAX_SECONDS INTERVAL
"""

import json
import os
import sys
import time

from oci_images import transport
from ansible_collections.sovereign.registry.plugins.module_utils._registry_client import DOCKER_MANIFEST, OCI_MANIFEST, Registry

registry, repository, user, password_file, ca, stop_file, out_file, max_seconds, interval = sys.argv[1:10]
password = open(password_file).read().strip()
total = failed = 0
errors = []
deadline = time.time() + float(max_seconds)
while not os.path.exists(stop_file) and time.time() < deadline:
    total += 1
    started = time.time()
    try:
        Registry("https://" + registry, transport(ca), user, password).call(
            "GET", "/v2/%s/manifests/1" % repository, "repository:%s:pull" % repository,
            {"Accept": ", ".join([OCI_MANIFEST, DOCKER_MANIFEST])})
    except Exception as exc:  # every failure counts, whatever it is
        failed += 1
        errors.append("%.3f %s" % (time.time(), str(exc)[:200]))
    time.sleep(max(0.0, started + float(interval) - time.time()))
with open(out_file, "w") as f:
    json.dump({"total": total, "failed": failed, "errors": errors[:20]}, f)
