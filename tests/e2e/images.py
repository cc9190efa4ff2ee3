"""Push test images straight through the registry API, as BuildKit would.

The docker CLI here (no buildx) can build neither an image with a chosen
creation time nor a multi-platform index with attestations; retention
needs both. Layers are real gzipped tars, so `docker pull` unpacks them.

    python3 -m e2e push-images REGISTRY SPEC.json [--username U --password-file F] [--ca CA]

SPEC is a list of {repository, tag, seed, size, created or days_ago,
platforms, attestations}; without platforms it is a single linux/amd64
image. days_ago counts from the start of the run, the same for every entry.
Prints {"host/repository:tag": digest, ...}, keys as docker names them. The same seed and creation time give
the same digest, so a second push is a re-push.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import io
import json
import random
import tarfile
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.sovereign.registry.plugins.module_utils._registry.client import OCI_INDEX, OCI_MANIFEST, Registry

from e2e.stack import read_secret
from e2e.transport import Http

CONFIG = "application/vnd.oci.image.config.v1+json"
START = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
Descriptor = Dict[str, Any]


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer(seed: str, size: int) -> Tuple[bytes, str]:
    """A gzipped tar with one file of random bytes; (blob, diff_id)."""
    content = random.Random(seed).randbytes(size)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("data-%s" % seed)
        info.size, info.mtime, info.mode = len(content), 0, 0o644
        tar.addfile(info, io.BytesIO(content))
    blob = gzip.compress(raw.getvalue(), compresslevel=1, mtime=0)
    return blob, sha256(raw.getvalue())


class Pusher:
    """Pushes blobs, manifests, images and indexes through a registry client."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def blob(self, repository: str, data: bytes) -> Descriptor:
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

    def manifest(self, repository: str, tag: Optional[str], media_type: str, document: Descriptor) -> Descriptor:
        """Push a manifest under a tag, or (tag None) by its digest, as an index child."""
        data = json.dumps(document, separators=(",", ":")).encode()
        self.registry.call("PUT", "/v2/%s/manifests/%s" % (repository, tag or sha256(data)),
                           "repository:%s:pull,push" % repository, {"Content-Type": media_type},
                           expect=(201,), body=data)
        return dict(mediaType=media_type, digest=sha256(data), size=len(data))

    def image(self, repository: str, tag: Optional[str], seed: str, size: int, created: str, os_name: str = "linux",
              arch: str = "amd64") -> Descriptor:
        """A single-platform image, under a tag or (tag None) by digest, as an index child."""
        blob, diff_id = layer(seed, size)
        config = json.dumps({"architecture": arch, "os": os_name, "created": created,
                             "config": {"Cmd": ["/data-%s" % seed]},
                             "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                             "history": [{"created": created, "created_by": "e2e.images seed %s" % seed}]},
                            sort_keys=True).encode()
        document = {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                    "config": dict(self.blob(repository, config), mediaType=CONFIG),
                    "layers": [dict(self.blob(repository, blob), mediaType=LAYER)]}
        return self.manifest(repository, tag, OCI_MANIFEST, document)

    def attestation(self, repository: str, subject: Descriptor, seed: str) -> Descriptor:
        statement = json.dumps({"_type": "https://in-toto.io/Statement/v0.1",
                                "predicateType": "https://slsa.dev/provenance/v0.2",
                                "subject": [{"digest": {"sha256": subject["digest"][7:]}}],
                                "predicate": {"builder": {"id": "e2e.images"}, "seed": seed}}).encode()
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

    def push(self, spec: Descriptor) -> str:
        repository, tag = spec["repository"], spec["tag"]
        seed, size = spec["seed"], spec.get("size", 4096)
        created = spec.get("created") or (START - datetime.timedelta(days=spec["days_ago"])).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        platforms = spec.get("platforms")
        if not platforms:
            digest: str = self.image(repository, tag, seed, size, created)["digest"]
            return digest
        children, attestations = [], []
        for platform in platforms:
            os_name, arch = platform.split("/")
            child = self.image(repository, None, "%s-%s" % (seed, arch), size, created, os_name, arch)
            children.append(dict(child, platform={"architecture": arch, "os": os_name}))
            if spec.get("attestations", True):
                attestations.append(self.attestation(repository, child, "%s-%s" % (seed, arch)))
        document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children + attestations}
        digest = self.manifest(repository, tag, OCI_INDEX, document)["digest"]
        return digest


def push_images(registry: str, spec: str, username: Optional[str] = None, password_file: Optional[str] = None,
                ca: Optional[str] = None) -> Dict[str, str]:
    """Push the images of the SPEC file to REGISTRY (a base URL); {"host/repository:tag": digest}."""
    password = read_secret(password_file) if password_file else None
    pusher = Pusher(Registry(registry, Http(ca, keep_alive=True), username, password))
    with open(spec, encoding="utf-8") as handle:
        specs: List[Descriptor] = json.load(handle)
    host = registry.split("://", 1)[-1].rstrip("/")
    return {"%s/%s:%s" % (host, s["repository"], s["tag"]): pusher.push(s) for s in specs}


def verify_images(registry: str, pushed: str, username: Optional[str] = None, password_file: Optional[str] = None,
                  ca: Optional[str] = None) -> Dict[str, Any]:
    """Pull every image of PUSHED ({"host/repository:tag": digest}, as push-images printed it) through REGISTRY:
    the tag's manifest, the manifests of an index, and every blob, each one's bytes hashed against its digest.
    A digest of null: the one the registry names for the tag (an image whose push the test did not see end)."""
    password = read_secret(password_file) if password_file else None
    client = Registry(registry, Http(ca, keep_alive=True), username, password)
    accept = {"Accept": ", ".join([OCI_INDEX, OCI_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json",
                                   "application/vnd.docker.distribution.manifest.list.v2+json"])}
    with open(pushed, encoding="utf-8") as handle:
        images: Dict[str, Optional[str]] = json.load(handle)
    counts = {"images": 0, "manifests": 0, "blobs": 0, "bytes": 0}
    faults: List[str] = []

    def fetch(repository: str, kind: str, reference: str, expected: Optional[str]) -> Optional[bytes]:
        scope = "repository:%s:pull" % repository
        status, headers, body = client.call("GET", "/v2/%s/%s/%s" % (repository, kind, reference), scope,
                                            accept, expect=(200, 404))
        if status != 200:
            faults.append("%s %s %s: HTTP %d" % (repository, kind, reference, status))
            return None
        expected = expected or headers.get("docker-content-digest")
        if sha256(body) != expected:
            faults.append("%s %s %s: content is %s, not %s" % (repository, kind, reference, sha256(body), expected))
            return None
        counts["bytes"] += len(body)
        return body

    def manifest(repository: str, reference: str, expected: Optional[str]) -> None:
        body = fetch(repository, "manifests", reference, expected)
        if body is None:
            return
        counts["manifests"] += 1
        document = json.loads(body)
        for child in document.get("manifests", []):
            manifest(repository, child["digest"], child["digest"])
        for blob in [document.get("config")] + document.get("layers", []):
            if blob and fetch(repository, "blobs", blob["digest"], blob["digest"]) is not None:
                counts["blobs"] += 1

    for name, digest in sorted(images.items()):
        repository, tag = name.split("/", 1)[1].rsplit(":", 1)
        counts["images"] += 1
        manifest(repository, tag, digest)
    return dict(counts, faults=faults)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("registry", help="base URL, e.g. https://registry.example.org")
    parser.add_argument("spec", help="JSON file with the images to push")
    parser.add_argument("--username")
    parser.add_argument("--password-file")
    parser.add_argument("--ca", help="CA file for TLS")
