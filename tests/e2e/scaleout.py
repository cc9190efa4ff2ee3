"""Checks of several registry nodes behind a load balancer, each node reached by its own address.

A node is a ``Stack`` at the node's address: TLS still checks the
registry's name. Tokens come from the first node given.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.parse
from typing import Any, Dict, List, Sequence

from e2e.stack import ACCEPT_MANIFEST, Stack


def nodes_of(domain: str, ca: str, specs: Sequence[str]) -> Dict[str, Stack]:
    """{name: Stack at its address} from NAME=ADDRESS specs."""
    return {name: Stack(domain, ca, address) for name, _sep, address in (spec.partition("=") for spec in specs)}


def _path_of(location: str) -> str:
    parts = urllib.parse.urlsplit(location)
    return parts.path + ("?" + parts.query if parts.query else "")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def split_upload(nodes: Dict[str, Stack], repository: str, user: str, password: str) -> Dict[str, Any]:
    """One blob upload whose requests (POST, PATCHes, PUT) go to the nodes in turn, then read back through each."""
    names = list(nodes)
    bearer = nodes[names[0]].bearer("repository:%s:pull,push" % repository, user, password)
    chunks = [os.urandom(1 << 20) for _chunk in range(3)]
    digest = _digest(b"".join(chunks))
    parts: Dict[str, List[str]] = {name: [] for name in names}
    turn = iter(range(100))

    def send(step: str, method: str, path: str, expect: int, headers: Dict[str, str], body: bytes = b"") -> str:
        name = names[next(turn) % len(names)]
        status, answer_headers, answer = nodes[name].request(method, path, dict(bearer, **headers), body)
        if status != expect:
            raise SystemExit("%s on %s: HTTP %d %r" % (step, name, status, answer[:300]))
        parts[name].append(step)
        return _path_of(answer_headers["location"]) if "location" in answer_headers else ""

    location, offset = send("POST", "POST", "/v2/%s/blobs/uploads/" % repository, 202, {}), 0
    for chunk in chunks:
        location = send("PATCH", "PATCH", location, 202, {
            "Content-Type": "application/octet-stream",
            "Content-Range": "%d-%d" % (offset, offset + len(chunk) - 1)}, chunk)
        offset += len(chunk)
    send("PUT", "PUT", location + ("&" if "?" in location else "?") + "digest=" + digest, 201, {})
    read_back = {}
    for name, node in nodes.items():
        status, _headers, body = node.request("GET", "/v2/%s/blobs/%s" % (repository, digest), bearer)
        read_back[name] = status == 200 and _digest(body) == digest
    return {"digest": digest, "bytes": offset, "parts": parts, "read_back": read_back}


def pull_each(nodes: Dict[str, Stack], repository: str, tag: str, user: str, password: str) -> Dict[str, Any]:
    """The image's manifest and every blob, through each node, digests checked."""
    names = list(nodes)
    bearer = nodes[names[0]].bearer("repository:%s:pull" % repository, user, password)
    out: Dict[str, Any] = {}
    for name, node in nodes.items():
        status, _headers, body = node.request("GET", "/v2/%s/manifests/%s" % (repository, tag),
                                              dict(bearer, Accept=ACCEPT_MANIFEST))
        if status != 200:
            out[name] = {"manifest": status}
            continue
        manifest = json.loads(body)
        blobs = [manifest["config"]] + manifest["layers"]
        good = 0
        for blob in blobs:
            status, _headers, data = node.request("GET", "/v2/%s/blobs/%s" % (repository, blob["digest"]), bearer)
            good += status == 200 and _digest(data) == blob["digest"]
        out[name] = {"manifest": 200, "blobs": len(blobs), "blobs_good": good}
    return out


def delete_everywhere(nodes: Dict[str, Stack], repository: str, tag: str, user: str, password: str) -> Dict[str, Any]:
    """The manifest read by digest through every node (so that each node's cache knows it), deleted through
    the first, then asked for through every node again."""
    names = list(nodes)
    bearer = nodes[names[0]].bearer("repository:%s:pull,delete" % repository, user, password)
    read = dict(bearer, Accept=ACCEPT_MANIFEST)
    status, headers, _body = nodes[names[-1]].request("HEAD", "/v2/%s/manifests/%s" % (repository, tag), read)
    if status != 200:
        raise SystemExit("HEAD of %s:%s on %s: HTTP %d" % (repository, tag, names[-1], status))
    path = "/v2/%s/manifests/%s" % (repository, headers["docker-content-digest"])

    def everywhere() -> Dict[str, int]:
        return {name: node.request("HEAD", path, read)[0] for name, node in nodes.items()}

    before = everywhere()
    deleted = nodes[names[0]].request("DELETE", path, bearer)[0]
    return {"digest": headers["docker-content-digest"], "before": before, "deleted_on": names[0],
            "deleted": deleted, "after": everywhere()}


def writes_refused(nodes: Dict[str, Stack], repository: str, seconds: float, user: str, password: str) -> Dict[str, Any]:
    """Start an upload (POST) on every node in turn until each has refused one (403, pushes refused) or
    SECONDS have passed; for each node, when it first refused."""
    names = list(nodes)
    bearer = nodes[names[0]].bearer("repository:%s:pull,push" % repository, user, password)
    started = time.time()
    refused: Dict[str, float] = {}
    statuses: Dict[str, List[int]] = {name: [] for name in names}
    while len(refused) < len(nodes) and time.time() - started < seconds:
        for name, node in nodes.items():
            if name in refused:
                continue
            status, _headers, body = node.request("POST", "/v2/%s/blobs/uploads/" % repository, bearer)
            if not statuses[name] or statuses[name][-1] != status:
                statuses[name].append(status)
            if status == 403 and b"DENIED" in body:
                refused[name] = round(time.time() - started, 1)
        time.sleep(0.3)
    return {"refused_after_seconds": refused, "statuses": statuses}
