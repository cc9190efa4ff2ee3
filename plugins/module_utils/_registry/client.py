# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""A small client of the distribution registry HTTP API, with token authentication.

Pure Python: the HTTP transport is passed in (the retention module gives
Ansible's ``Request``; tests and the client loops give ``requests``), so the
same code runs in a module, in a test and on a test host. It does the token
exchange as a docker client does: a 401 with a Bearer challenge, then a
token per scope from the realm (basic auth when a user is given).
"""

from __future__ import annotations

import base64
import datetime
import json
import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

# request(method, url, headers, body) -> (status, lower-case headers, body); never raises for HTTP errors.
Transport = Callable[[str, str, Dict[str, str], Optional[bytes]], Tuple[int, Dict[str, str], bytes]]
# (digest, media type, size, parsed manifest)
Manifest = Tuple[str, str, int, Dict[str, Any]]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
IMAGE_CONFIG_TYPES = (
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
)
ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)
# BuildKit marks the provenance/SBOM manifests of an index this way.
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"

PAGE_SIZE = 1000


class RegistryError(Exception):
    """The registry answered something unexpected."""


def parse_challenge(header: Optional[str]) -> Tuple[str, Dict[str, str]]:
    """Parameters of a ``Bearer realm="...",service="..."`` challenge."""
    scheme, _space, rest = (header or "").partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


def _parse_link(header: Optional[str]) -> Optional[str]:
    match = re.search(r"<([^>]+)>", header or "")
    return match.group(1) if match else None


def parse_time(value: Any) -> Optional[datetime.datetime]:
    """A config's ``created`` (RFC 3339, nanoseconds allowed) as an aware datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", value)
    if not match:
        return None
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    micro = (match.group(2) or ".0")[1:7].ljust(6, "0")
    parsed = datetime.datetime.fromisoformat("%s.%s%s" % (match.group(1), micro, zone))
    # Go's zero time and the Unix epoch mean "not set" (reproducible builds).
    return None if parsed.year <= 1970 else parsed


class Registry:
    """The few registry API calls retention needs, with token authentication.

    ``request(method, url, headers, body)`` returns ``(status, headers,
    body)``, headers with lower-case names, and must not raise for HTTP errors.
    """

    def __init__(self, url: str, request: Transport, username: Optional[str] = None, password: Optional[str] = None,
                 token_url: Optional[str] = None, token_headers: Optional[Mapping[str, str]] = None) -> None:
        self.url = url.rstrip("/")
        self.token_headers = dict(token_headers or {})
        self.request = request
        self.username = username
        self.password = password
        self.token_url = token_url
        self.challenge: Optional[Dict[str, str]] = None
        self.tokens: Dict[str, str] = {}
        self.manifests: Dict[Tuple[str, str], Manifest] = {}

    def _token(self, scope: str) -> str:
        if scope not in self.tokens:
            challenge = self.challenge or {}
            realm = self.token_url or challenge.get("realm")
            query = "service=%s&scope=%s" % (challenge.get("service", ""), scope)
            headers = dict(self.token_headers)
            if self.username:
                pair = ("%s:%s" % (self.username, self.password or "")).encode()
                headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
            status, _headers, body = self.request("GET", "%s?%s" % (realm, query), headers, None)
            if status != 200:
                raise RegistryError("token request for %s at %s answered %s (%s)%s" % (
                    scope, realm, status, body[:200].decode("utf-8", "replace").strip(),
                    ": check the username and password" if status == 401 else ""))
            data = json.loads(body)
            self.tokens[scope] = str(data.get("token") or data.get("access_token"))
        return self.tokens[scope]

    def call(self, method: str, path: str, scope: str, headers: Optional[Mapping[str, str]] = None,
             expect: Sequence[int] = (200,), body: Optional[bytes] = None) -> Tuple[int, Dict[str, str], bytes]:
        url = path if path.startswith("http") else self.url + path
        sent = dict(headers or {})
        for attempt in (1, 2):
            if self.challenge is not None:
                sent["Authorization"] = "Bearer " + self._token(scope)
            status, answer_headers, answer = self.request(method, url, sent, body)
            if status == 401 and attempt == 1 and self.challenge is None:
                scheme, params = parse_challenge(answer_headers.get("www-authenticate"))
                if scheme != "bearer":
                    raise RegistryError("%s %s asks for %r authentication; only token (Bearer) is supported"
                                        % (method, url, scheme))
                self.challenge = params
                continue
            break
        if status not in expect:
            raise RegistryError("%s %s answered %s: %s" % (method, url, status,
                                                           answer[:300].decode("utf-8", "replace")))
        return status, answer_headers, answer

    def _paged(self, path: str, scope: str, key: str, missing_ok: bool = False) -> List[str]:
        items: List[str] = []
        page: Optional[str] = "%s?n=%d" % (path, PAGE_SIZE)
        while page:
            status, headers, body = self.call("GET", page, scope, expect=(200, 404) if missing_ok else (200,))
            if status == 404:
                return items
            items.extend(json.loads(body).get(key) or [])
            page = _parse_link(headers.get("link"))
        return items

    def repositories(self) -> List[str]:
        return sorted(self._paged("/v2/_catalog", "registry:catalog:*", "repositories"))

    def tags(self, repository: str) -> List[str]:
        """The repository's tags; none when it answers 404 (registry 2.8 lists in its catalog a repository
        that holds only uploaded blobs, and then knows no such name)."""
        return sorted(self._paged("/v2/%s/tags/list" % repository, "repository:%s:pull" % repository, "tags",
                                  missing_ok=True))

    def manifest(self, repository: str, reference: str) -> Manifest:
        """(digest, media type, size, parsed manifest); cached per digest."""
        found = self.find_manifest(repository, reference)
        if found is None:
            raise RegistryError("%s:%s: manifest unknown" % (repository, reference))
        return found

    def find_manifest(self, repository: str, reference: str) -> Optional[Manifest]:
        """As manifest(), or None when the registry answers 404 (registry 2.8 still lists the
        tags of a manifest deleted by its digest)."""
        key = (repository, reference)
        if key not in self.manifests:
            status, headers, body = self.call("GET", "/v2/%s/manifests/%s" % (repository, reference),
                                              "repository:%s:pull" % repository, {"Accept": ACCEPT}, expect=(200, 404))
            if status == 404:
                return None
            parsed = json.loads(body)
            media_type = parsed.get("mediaType") or headers.get("content-type", "").split(";")[0]
            digest = headers.get("docker-content-digest")
            if not digest:
                raise RegistryError("%s:%s: the registry sent no Docker-Content-Digest" % (repository, reference))
            entry = (digest, media_type, len(body), parsed)
            self.manifests[key] = entry
            self.manifests[(repository, digest)] = entry
        return self.manifests[key]

    def created(self, repository: str, config: Mapping[str, Any]) -> Optional[datetime.datetime]:
        if config.get("mediaType") not in IMAGE_CONFIG_TYPES:
            return None
        body = self.call("GET", "/v2/%s/blobs/%s" % (repository, config["digest"]),
                         "repository:%s:pull" % repository)[2]
        return parse_time(json.loads(body).get("created"))

    def delete_manifest(self, repository: str, digest: str) -> bool:
        # 404: already gone (a rerun after an interrupted one).
        status = self.call("DELETE", "/v2/%s/manifests/%s" % (repository, digest),
                           "repository:%s:pull,delete" % repository, expect=(202, 404))[0]
        return status == 202
