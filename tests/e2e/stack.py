"""The deployed stack as a client sees it: its name, its CA, tokens and a registry client.

``Stack.token`` is the one token request of the tests: every check that
needs a token, or needs to see how the token endpoint answers (a refusal, a
429, a header), asks through it. ``Stack.registry`` gives the collection's
own registry client, which does the token exchange as a docker client does.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.sovereign.registry.plugins.module_utils._registry.client import Registry

from e2e.transport import Answer, Http

ACCEPT_MANIFEST = ", ".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])


def read_secret(path: str) -> str:
    """A password from a file (never from a command line, which ps shows)."""
    with open(path, encoding="utf-8") as handle:
        return handle.read().strip()


def jwt_part(token: str, index: int) -> Dict[str, Any]:
    """The header (0) or the claims (1) of a JSON web token, unverified."""
    part = token.split(".")[index]
    decoded: Dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


@dataclass
class TokenAnswer:
    """How the token endpoint answered one request."""

    status: int
    headers: Dict[str, str]
    body: bytes
    seconds: float
    token: Optional[str] = None
    access: List[Dict[str, Any]] = field(default_factory=list)

    def granted(self, repository: str) -> List[str]:
        """The actions the token grants on REPOSITORY."""
        return sorted({action for entry in self.access if entry.get("type") == "repository"
                       and entry.get("name") == repository for action in entry.get("actions", [])})

    def summary(self) -> Dict[str, Any]:
        claims = jwt_part(self.token, 1) if self.token else {}
        return {"status": self.status, "granted": self.access, "seconds": round(self.seconds, 3),
                "kid": jwt_part(self.token, 0).get("kid") if self.token else None,
                "claims": {key: claims.get(key) for key in ("sub", "aud", "iss")},
                "headers": {k: v for k, v in self.headers.items() if k in ("retry-after", "cache-control", "server")}}


def token_url(realm: str, service: str, scopes: Sequence[str] = (), account: Optional[str] = None) -> str:
    """REALM's URL for a token of SERVICE for SCOPES (and ACCOUNT, as docker clients name it)."""
    query = [("service", service)] + [("scope", scope) for scope in scopes]
    if account:
        query.append(("account", account))
    # ':' and '/' as they are, as the checks always sent them (docker encodes them; nginx takes both).
    return realm + "?" + urllib.parse.urlencode(query, safe=":/,*")


def ask_token(http: Http, url: str, user: Optional[str] = None, password: Optional[str] = None, method: str = "GET",
              body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None) -> TokenAnswer:
    """The one token request of the tests: URL (token_url) as USER (basic auth) or anonymously; how it answered,
    with the token and the access it grants when it gave one."""
    sent = dict(headers or {})
    if user is not None:
        sent["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (user, password or "")).encode()).decode()
    started = time.perf_counter()
    status, answer_headers, answer = http(method, url, sent, body)
    result = TokenAnswer(status, answer_headers, answer, time.perf_counter() - started)
    if status == 200:
        document = json.loads(answer)
        result.token = str(document.get("token") or document.get("access_token"))
        result.access = jwt_part(result.token, 1).get("access") or []
    return result


class Stack:
    """The registry at https://DOMAIN, TLS verified with CA; at ADDRESS instead of DNS's answer if given."""

    def __init__(self, domain: str, ca: Optional[str] = None, address: Optional[str] = None,
                 keep_alive: bool = False, source: Optional[str] = None) -> None:
        self.domain = domain
        self.ca = ca
        self.address = address
        self.http = Http(ca, {domain: address} if address else None, keep_alive=keep_alive, source=source)

    def url(self, path: str) -> str:
        return "https://%s%s" % (self.domain, path)

    def request(self, method: str, path: str, headers: Optional[Dict[str, str]] = None,
                body: Optional[bytes] = None) -> Answer:
        return self.http(method, self.url(path), dict(headers or {}), body)

    def token_url(self, scopes: Sequence[str] = (), account: Optional[str] = None) -> str:
        """The token endpoint's URL for SCOPES, as docker clients ask it."""
        return token_url(self.url("/auth/auth"), self.domain, scopes, account)

    def token(self, scopes: Sequence[str] = (), user: Optional[str] = None, password: Optional[str] = None,
              account: Optional[str] = None, method: str = "GET", body: Optional[bytes] = None,
              headers: Optional[Dict[str, str]] = None) -> TokenAnswer:
        """Ask /auth/auth for a token for SCOPES, as USER (basic auth) or anonymously; HEADERS on top."""
        return ask_token(self.http, self.token_url(scopes, account), user, password, method, body, headers)

    def bearer(self, scope: str, user: Optional[str] = None, password: Optional[str] = None) -> Dict[str, str]:
        """An Authorization header with a token for SCOPE; fails when the token endpoint refuses."""
        answer = self.token([scope], user, password)
        if answer.token is None:
            raise SystemExit("token for %s from %s: HTTP %d %s" % (scope, self.address or self.domain, answer.status,
                                                                   answer.body[:200].decode("utf-8", "replace")))
        return {"Authorization": "Bearer " + answer.token}

    def registry(self, user: Optional[str] = None, password: Optional[str] = None) -> Registry:
        """The collection's registry client for this stack: a new client, as each docker command is."""
        return Registry(self.url(""), self.http, user, password)
