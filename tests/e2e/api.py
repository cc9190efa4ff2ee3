"""Registry API calls as a client makes them, each with the token it asks for first."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict

from e2e.stack import ACCEPT_MANIFEST, Stack


def catalog(stack: Stack) -> Dict[str, int]:
    """/v2/_catalog without a token and with an anonymous catalog token: both must be refused."""
    answer = stack.token(["registry:catalog:*"])
    with_token = stack.request("GET", "/v2/_catalog", {"Authorization": "Bearer %s" % answer.token})[0]
    return {"token_status": answer.status, "without_token": stack.request("GET", "/v2/_catalog")[0],
            "with_anonymous_token": with_token}


def config_blob(stack: Stack, repository: str, tag: str, user: str, password: str) -> Dict[str, Any]:
    """The image's config blob downloaded through the stack: its digest, whether the bytes match it, and the
    headers it came with."""
    bearer = stack.bearer("repository:%s:pull" % repository, user, password)
    status, _headers, body = stack.request("GET", "/v2/%s/manifests/%s" % (repository, tag),
                                           dict(bearer, Accept=ACCEPT_MANIFEST))
    if status != 200:
        raise SystemExit("manifest %s:%s: HTTP %d" % (repository, tag, status))
    digest = json.loads(body)["config"]["digest"]
    status, headers, blob = stack.request("GET", "/v2/%s/blobs/%s" % (repository, digest), bearer)
    return {"digest": digest, "status": status, "bytes_match": "sha256:" + hashlib.sha256(blob).hexdigest() == digest,
            "docker_content_digest": headers.get("docker-content-digest"), "content_type": headers.get("content-type")}


def delete_tagged(stack: Stack, repository: str, tag: str, user: str, password: str) -> Dict[str, Any]:
    """Delete the manifest a tag points to, by its digest, with the collection's registry client; then ask for
    it again. {digest, deleted (the client's verdict), status_after}."""
    client = stack.registry(user, password)
    digest = client.manifest(repository, tag)[0]
    deleted = client.delete_manifest(repository, digest)
    status = client.call("HEAD", "/v2/%s/manifests/%s" % (repository, digest), "repository:%s:pull" % repository,
                         {"Accept": ACCEPT_MANIFEST}, expect=(200, 404))[0]
    return {"digest": digest, "deleted": deleted, "status_after": status}
