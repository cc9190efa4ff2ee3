"""Push test images straight through the registry API, as BuildKit would.

The docker CLI here (no buildx) can build neither an image with a chosen
creation time nor a multi-platform index with attestations; retention
needs both. Layers are real gzipped tars, so `docker pull` unpacks them.

    oci_images.py push REGISTRY SPEC.json [--username U --password-file F] [--ca CA]

SPEC is a list of {repository, tag, seed, size, created or days_ago,
platforms, attestations}; without platforms it is a single linux/amd64
image. days_ago counts from the start of the run, the same for every entry.
Prints {"host/repository:tag": digest, ...}, keys as docker names them. The same seed and creation time give
the same digest, so a second push is a re-push.
"""

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile

import requests

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".cache", "collections"))
from ansible_collections.sovereign.registry.plugins.module_utils._registry_client import (  # noqa: E402
    OCI_INDEX, OCI_MANIFEST, Registry)

CONFIG = "application/vnd.oci.image.config.v1+json"
START = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer(seed, size):
    """A gzipped tar with one file of random bytes; (blob, diff_id)."""
    content = random.Random(seed).randbytes(size)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("data-%s" % seed)
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    blob = gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)
    return blob, sha256(raw.getvalue())


def transport(verify):
    session = requests.Session()

    def request(method, url, headers, body):
        answer = session.request(method, url, headers=headers, data=body, verify=verify, timeout=120)
        return answer.status_code, {k.lower(): v for k, v in answer.headers.items()}, answer.content

    return request


class Pusher:
    def __init__(self, registry):
        self.registry = registry

    def blob(self, repository, data):
        scope = "repository:%s:pull,push" % repository
        digest = sha256(data)
        status = self.registry.call("HEAD", "/v2/%s/blobs/%s" % (repository, digest), scope, expect=(200, 404))[0]
        if status == 404:
            headers = self.registry.call("POST", "/v2/%s/blobs/uploads/" % repository, scope, expect=(202,))[1]
            location = headers["location"]
            if not location.startswith("http"):
                location = self.registry.url + location
            self.registry.call("PUT", location + ("&" if "?" in location else "?") + "digest=" + digest, scope,
                               {"Content-Type": "application/octet-stream"}, expect=(201,), body=data)
        return dict(digest=digest, size=len(data))

    def manifest(self, repository, tag, media_type, document):
        """Push a manifest under a tag, or (tag None) by its digest, as an index child."""
        data = json.dumps(document, separators=(",", ":")).encode()
        self.registry.call("PUT", "/v2/%s/manifests/%s" % (repository, tag or sha256(data)),
                           "repository:%s:pull,push" % repository, {"Content-Type": media_type},
                           expect=(201,), body=data)
        return dict(mediaType=media_type, digest=sha256(data), size=len(data))

    def image(self, repository, tag, seed, size, created, os_name="linux", arch="amd64"):
        """A single-platform image, under a tag or (tag None) by digest, as an index child."""
        blob, diff_id = layer(seed, size)
        config = json.dumps({"architecture": arch, "os": os_name, "created": created,
                             "config": {"Cmd": ["/data-%s" % seed]},
                             "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                             "history": [{"created": created, "created_by": "oci_images.py seed %s" % seed}]},
                            sort_keys=True).encode()
        document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": dict(self.blob(repository, config), mediaType=CONFIG),
                    "layers": [dict(self.blob(repository, blob), mediaType=LAYER)]}
        return self.manifest(repository, tag, OCI_MANIFEST, document)

    def attestation(self, repository, subject, seed):
        statement = json.dumps({"_type": "https://in-toto.io/Statement/v0.1",
                                "predicateType": "https://slsa.dev/provenance/v0.2",
                                "subject": [{"digest": {"sha256": subject["digest"][7:]}}],
                                "predicate": {"builder": {"id": "oci_images.py"}, "seed": seed}}).encode()
        config = json.dumps({"architecture": "unknown", "os": "unknown", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": [sha256(statement)]}}).encode()
        document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": dict(self.blob(repository, config), mediaType=CONFIG),
                    "layers": [dict(self.blob(repository, statement), mediaType="application/vnd.in-toto+json",
                                    annotations={"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"})]}
        descriptor = self.manifest(repository, None, OCI_MANIFEST, document)
        return dict(descriptor, platform={"architecture": "unknown", "os": "unknown"},
                    annotations={"vnd.docker.reference.digest": subject["digest"],
                                 "vnd.docker.reference.type": "attestation-manifest"})

    def push(self, spec):
        repository, tag = spec["repository"], spec["tag"]
        seed, size = spec["seed"], spec.get("size", 4096)
        created = spec.get("created") or (START - datetime.timedelta(days=spec["days_ago"])).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        platforms = spec.get("platforms")
        if not platforms:
            return self.image(repository, tag, seed, size, created)["digest"]
        children, attestations = [], []
        for platform in platforms:
            os_name, arch = platform.split("/")
            child = self.image(repository, None, "%s-%s" % (seed, arch), size, created, os_name, arch)
            children.append(dict(child, platform={"architecture": arch, "os": os_name}))
            if spec.get("attestations", True):
                attestations.append(self.attestation(repository, child, "%s-%s" % (seed, arch)))
        document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children + attestations}
        return self.manifest(repository, tag, OCI_INDEX, document)["digest"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["push"])
    parser.add_argument("registry", help="base URL, e.g. https://registry.example.org")
    parser.add_argument("spec", help="JSON file with the images to push")
    parser.add_argument("--username")
    parser.add_argument("--password-file")
    parser.add_argument("--ca", help="CA file for TLS", default=True)
    args = parser.parse_args()
    password = open(args.password_file).read().strip() if args.password_file else None
    registry = Registry(args.registry, transport(args.ca), args.username, password)
    pusher = Pusher(registry)
    with open(args.spec) as handle:
        specs = json.load(handle)
    host = args.registry.split("://", 1)[-1].rstrip("/")
    print(json.dumps({"%s/%s:%s" % (host, s["repository"], s["tag"]): pusher.push(s) for s in specs}, indent=1))


if __name__ == "__main__":
    main()
