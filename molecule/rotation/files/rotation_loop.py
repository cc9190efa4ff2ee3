"""A registry client in a loop, counting requests per rotation phase.

  rotation_loop.py MODE REGISTRY REPOSITORY USER PASSWORD_FILE CA PHASE_FILE STOP_FILE OUT_FILE MAX_SECONDS

MODE: anonymous-pull, user-pull, or push (a new small image per iteration).
Every iteration asks docker_auth for a new token, as a docker client does,
and counts as one request, failed when any step fails. The phase of each
iteration is read from PHASE_FILE; OUT_FILE gets {phase: {total, failed,
errors}} when STOP_FILE appears or the time is up.
"""

import collections
import hashlib
import json
import os
import re
import sys
import time

import requests

mode, registry, repository, user, password_file, ca, phase_file, stop_file, out_file, max_seconds = sys.argv[1:11]
auth = None if mode == "anonymous-pull" else (user, open(password_file).read().strip())
base = "https://%s/v2/%s" % (registry, repository)
manifest_type = "application/vnd.oci.image.manifest.v1+json"


def token(actions):
    challenge = requests.get(base + "/manifests/1", headers={"Accept": manifest_type}, verify=ca, timeout=30)
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge.headers.get("WWW-Authenticate", "")))
    response = requests.get(params["realm"], verify=ca, timeout=30, auth=auth, params={
        "service": params["service"], "scope": "repository:%s:%s" % (repository, actions)})
    response.raise_for_status()
    return {"Authorization": "Bearer " + response.json()["token"]}


def pull():
    response = requests.get(base + "/manifests/1", headers=dict(token("pull"), Accept=manifest_type), verify=ca, timeout=30)
    response.raise_for_status()


def upload(headers, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    start = requests.post(base + "/blobs/uploads/", headers=headers, verify=ca, timeout=30)
    start.raise_for_status()
    location = start.headers["Location"]
    if location.startswith("/"):
        location = "https://%s%s" % (registry, location)
    done = requests.put(location, params={"digest": digest}, data=data, verify=ca, timeout=60,
                        headers=dict(headers, **{"Content-Type": "application/octet-stream"}))
    done.raise_for_status()
    return {"mediaType": "application/octet-stream", "digest": digest, "size": len(data)}


def push(n):
    headers = token("pull,push")
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
                         "config": {}, "n": n}).encode()
    layer = os.urandom(1024)
    config_descriptor = upload(headers, config)
    config_descriptor["mediaType"] = "application/vnd.oci.image.config.v1+json"
    layer_descriptor = upload(headers, layer)
    layer_descriptor["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
    manifest = {"schemaVersion": 2, "mediaType": manifest_type, "config": config_descriptor, "layers": [layer_descriptor]}
    response = requests.put(base + "/manifests/loop-%d" % n, data=json.dumps(manifest), verify=ca, timeout=30,
                            headers=dict(headers, **{"Content-Type": manifest_type}))
    response.raise_for_status()


counts = collections.defaultdict(lambda: {"total": 0, "failed": 0, "errors": []})
deadline = time.time() + float(max_seconds)
n = 0
while not os.path.exists(stop_file) and time.time() < deadline:
    try:
        phase = open(phase_file).read().strip() or "setup"
    except OSError:
        phase = "setup"
    n += 1
    counts[phase]["total"] += 1
    try:
        push(n) if mode == "push" else pull()
    except Exception as exc:  # every failure counts, whatever it is
        counts[phase]["failed"] += 1
        if len(counts[phase]["errors"]) < 5:
            counts[phase]["errors"].append(str(exc)[:200])
with open(out_file, "w") as f:
    json.dump(counts, f)
