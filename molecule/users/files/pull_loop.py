"""Pull one manifest over and over, the way a docker client does, and count failures.

GET the manifest -> 401 with a Bearer challenge -> token from the realm
(with basic auth) -> GET the manifest with the token. Runs until the stop
file exists or the time is up; writes {"total", "failed", "errors"} as JSON.
"""

import json
import os
import re
import sys
import time

import requests

registry, repository, user, password_file, ca, stop_file, out_file, max_seconds = sys.argv[1:9]
password = open(password_file).read().strip()
accept = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
url = "https://%s/v2/%s/manifests/1" % (registry, repository)
total = failed = 0
errors = []
deadline = time.time() + float(max_seconds)
while not os.path.exists(stop_file) and time.time() < deadline:
    total += 1
    try:
        challenge = requests.get(url, headers={"Accept": accept}, verify=ca, timeout=30)
        params = dict(re.findall(r'(\w+)="([^"]*)"', challenge.headers.get("WWW-Authenticate", "")))
        token = requests.get(params["realm"], params={"service": params["service"], "scope": params["scope"]},
                             auth=(user, password), verify=ca, timeout=30)
        token.raise_for_status()
        manifest = requests.get(url, headers={"Accept": accept, "Authorization": "Bearer " + token.json()["token"]},
                                verify=ca, timeout=30)
        manifest.raise_for_status()
    except Exception as exc:  # every failure counts, whatever it is
        failed += 1
        errors.append("%.3f %s" % (time.time(), str(exc)[:200]))
with open(out_file, "w") as f:
    json.dump({"total": total, "failed": failed, "errors": errors[:20]}, f)
