"""The repository browser's service: what a viewer may pull, and nothing else, as JSON for the browser's page.

  sovereign-registry-browser SETTINGS_FILE (JSON, written by the browser role)

Runs in a container of its own (the browser role's), listening on 127.0.0.1
only; nginx passes it /browse/api/ on the registry's own name, after docker_auth's
login guard has seen the request. Read-only: it answers GET and HEAD, nothing
else, and keeps nothing between requests.

Why a service at all: the registry lists its repositories only to a token
for `registry:catalog:*`, all or nothing. Filtered in the page, every name
would reach every viewer. Here the catalog is read with the browser's own
account, whose only right is that scope (from loopback), and docker_auth
itself decides, with the viewer's credentials, which of the names the viewer
may pull: the same ACL, the same users, LDAP included. A name the viewer may
not pull is not sent, and a repository view of it answers as one that does
not exist.

  * GET /browse/api/repositories: the viewer (null: anonymous), whether an
    admin (docker_auth grants them `registry:catalog:*`), and the names.
  * GET /browse/api/repository?name=NAME: each tag's digest, size, creation
    time and platforms (an index is one entry), which tags the retention
    rules would delete next, the pull command, and for an admin who pushed
    each tag and when (the audit receiver's /pushes).
  * GET /browse/api/health: 200.
The viewer's credentials come as `Authorization: Basic` (never in the URL),
are sent on to docker_auth for this request and forgotten. Scopes go to
docker_auth in batches small enough that each token stays one line of its
log (Docker splits lines over 16 KiB, and the audit trail reads whole lines).
"""

# The service runs on the host's own Python, 3.10 at the oldest (Ubuntu jammy).
from __future__ import annotations

import base64
import binascii
import concurrent.futures
import datetime
import http.client
import http.server
import itertools
import json
import re
import socket
import sys
import urllib.parse
from typing import Any, Callable, Optional, TypedDict

# The scopes of one docker_auth request: its log line of the token (which
# the audit trail reads whole; Docker splits lines over 16 KiB) names each
# scope twice, asked ("{repository  NAME [pull]} ") and granted
# ('{"type":"repository","name":"NAME","actions":["pull"]},'): 2 x the name
# + 72 bytes. The rest of the line is about 400 bytes and the viewer's
# labels (LDAP groups): over 4 KiB is left for them.
BATCH_LINE_BYTES = 12000
SCOPE_LINE_BYTES = 72
# Threads for the registry's manifests and docker_auth's batches, shared by
# all requests: the container's pids limit bounds threads, not requests.
WORKERS = 8
TIMEOUT = 30.0
# distribution's repository name grammar; anything else cannot exist.
REPOSITORY_NAME = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")


class Settings(TypedDict):
    port: int
    library: str
    domain: str
    service: str
    docker_auth_ports: list[int]
    registry_ports: list[int]
    audit_port: Optional[int]
    account: str
    password_file: str
    retention_rules: list[dict[str, Any]]


SETTINGS: Settings
POOL = concurrent.futures.ThreadPoolExecutor(WORKERS)
# The collection's registry client and retention rules (module_utils, installed beside this file).
registry_client: Any = None
retention: Any = None


class Refused(Exception):
    """An answer to the viewer: the HTTP status and a message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


# ---- loopback HTTP -----------------------------------------------------------------------------------------------

_turn = itertools.count()


def loopback(ports: list[int], method: str, target: str, headers: dict[str, str],
             body: Optional[bytes] = None) -> tuple[int, dict[str, str], bytes]:
    """One request to the first instance of a component that takes the connection, starting at the next in turn
    (an instance being recreated refuses it; the others answer)."""
    start = next(_turn)
    error: Optional[OSError] = None
    for i in range(len(ports)):
        port = ports[(start + i) % len(ports)]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        try:
            connection.request(method, target, body=body, headers=headers)
            answer = connection.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected) as failure:
            error = failure
        finally:
            connection.close()
    raise Refused(502, "no instance answered on 127.0.0.1 ports %s: %s" % (ports, error))


def registry_transport(method: str, url: str, headers: dict[str, str],
                       body: Optional[bytes]) -> tuple[int, dict[str, str], bytes]:
    """The registry client's transport: its URLs are http://registry/...; docker_auth's are http://docker-auth/...."""
    parts = urllib.parse.urlsplit(url)
    ports = SETTINGS["docker_auth_ports"] if parts.hostname == "docker-auth" else SETTINGS["registry_ports"]
    return loopback(ports, method, parts.path + ("?" + parts.query if parts.query else ""), headers, body)


# ---- docker_auth decides -----------------------------------------------------------------------------------------

def claims(token: str) -> dict[str, Any]:
    """A token's claims. It came straight from docker_auth over loopback: its signature is docker_auth's."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


def token(authorization: Optional[str], client: str, scopes: list[str]) -> tuple[str, set[tuple[str, str, str]]]:
    """A token from docker_auth for these scopes with the viewer's credentials, and the (type, name, action)
    it grants. 401 when docker_auth refuses the credentials."""
    query = urllib.parse.urlencode([("service", SETTINGS["service"])] + [("scope", scope) for scope in scopes])
    headers = {"X-Real-IP": client}
    if authorization:
        headers["Authorization"] = authorization
    status, _headers, body = loopback(SETTINGS["docker_auth_ports"], "GET", "/auth/auth?" + query, headers)
    if status == 401:
        raise Refused(401, "wrong user name or password" if authorization else
                      "log in: this registry lets no anonymous client pull")
    if status != 200:
        raise Refused(502, "docker_auth answered %d" % status)
    issued = json.loads(body)
    value = str(issued.get("token") or issued.get("access_token"))
    granted = {(entry["type"], entry["name"], action) for entry in claims(value).get("access") or []
               for action in entry.get("actions") or []}
    return value, granted


def batches(names: list[str]) -> list[list[str]]:
    """The names in groups whose token fits one line of docker_auth's log."""
    out: list[list[str]] = [[]]
    size = 0
    for name in names:
        cost = 2 * len(name) + SCOPE_LINE_BYTES
        if out[-1] and size + cost > BATCH_LINE_BYTES:
            out.append([])
            size = 0
        out[-1].append(name)
        size += cost
    return out


class Viewer:
    """Who asks, and what docker_auth grants them."""

    def __init__(self, authorization: Optional[str], client: str) -> None:
        self.authorization = authorization
        self.client = client
        self.name: Optional[str] = None
        if authorization:
            try:
                decoded = base64.b64decode(authorization.split(" ", 1)[1], validate=True).decode()
            except (IndexError, binascii.Error, UnicodeDecodeError) as error:
                raise Refused(400, "Authorization: Basic with a user name and password expected") from error
            self.name = decoded.partition(":")[0]
        self.admin = False
        # The token of the first batch: it pulls what it grants.
        self.token = ""

    def pullable(self, names: list[str]) -> list[str]:
        """The names the viewer may pull. The first batch goes alone, with the catalog scope (an admin's mark):
        a wrong password costs docker_auth one check, as a docker login does."""
        groups = batches(names)
        first = ["registry:catalog:*"] + ["repository:%s:pull" % name for name in groups[0]]
        self.token, granted = token(self.authorization, self.client, first)
        self.admin = ("registry", "catalog", "*") in granted
        for _token, more in POOL.map(lambda group: token(self.authorization, self.client,
                                                         ["repository:%s:pull" % n for n in group]), groups[1:]):
            granted |= more
        return [name for name in names if ("repository", name, "pull") in granted]


def catalog() -> list[str]:
    """Every repository, read with the browser's account (its only right: the catalog)."""
    with open(SETTINGS["password_file"], encoding="utf-8") as handle:
        password = handle.read().strip()
    registry = registry_client.Registry("http://registry", registry_transport, SETTINGS["account"], password,
                                        token_url="http://docker-auth/auth/auth", token_headers={"X-Real-IP": "127.0.0.1"})
    try:
        return list(registry.repositories())
    except registry_client.RegistryError as error:
        raise Refused(502, "the catalog could not be read: %s" % error) from error


# ---- the views ---------------------------------------------------------------------------------------------------

def repositories(viewer: Viewer) -> dict[str, Any]:
    names = catalog()
    shown = viewer.pullable(names)
    return {"viewer": viewer.name, "admin": viewer.admin, "domain": SETTINGS["domain"], "repositories": shown}


def pushes(name: str) -> dict[str, dict[str, Any]]:
    """The last push of each tag, from the audit receiver; empty without one."""
    if not SETTINGS["audit_port"]:
        return {}
    status, _headers, body = loopback([SETTINGS["audit_port"]], "GET",
                                      "/pushes?" + urllib.parse.urlencode({"repository": name}), {})
    return json.loads(body) if status == 200 else {}


def tag_entry(image: dict[str, Any]) -> dict[str, Any]:
    created = image["created"]
    return {"digest": image["digest"], "media_type": image["media_type"], "size": sum(image["blobs"].values()),
            "created": created.isoformat() if created else None, "platforms": image["platforms"]}


def retention_plan(name: str, images: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The tags retention would delete if it ran now, with the rules' own code."""
    if not SETTINGS["retention_rules"]:
        return {"deleted": [], "refused": None, "rules": 0}
    try:
        rules = retention.validate_rules(SETTINGS["retention_rules"])
        decided = retention.plan(rules, {name: images}, datetime.datetime.now(datetime.timezone.utc))
    except retention.RetentionError as error:
        return {"deleted": [], "refused": str(error), "rules": len(SETTINGS["retention_rules"])}
    return {"deleted": sorted(tag for entry in decided["deleted"] for tag in entry["tags"]), "refused": None,
            "rules": len(SETTINGS["retention_rules"])}


def repository(viewer: Viewer, name: str) -> dict[str, Any]:
    if len(name) > 255 or not REPOSITORY_NAME.match(name) or viewer.pullable([name]) != [name]:
        # The same answer for a name that does not exist and one the viewer may not see.
        raise Refused(404, "no repository of that name that you may pull")
    registry = registry_client.Registry("http://registry", registry_transport)
    registry.challenge = {"realm": "http://docker-auth/auth/auth", "service": SETTINGS["service"]}
    registry.tokens["repository:%s:pull" % name] = viewer.token
    try:
        tags = registry.tags(name)
        found = dict(zip(tags, POOL.map(lambda tag: registry.find_manifest(name, tag) and
                                        retention.describe(registry, name, tag), tags)))
    except registry_client.RegistryError as error:
        raise Refused(502, "the registry answered: %s" % error) from error
    images = {tag: image for tag, image in found.items() if image}
    pushed = pushes(name) if viewer.admin else {}
    return {"viewer": viewer.name, "admin": viewer.admin, "domain": SETTINGS["domain"], "name": name,
            "pull": "%s/%s" % (SETTINGS["domain"], name),
            "tags": {tag: dict(tag_entry(image), pushed=pushed.get(tag)) for tag, image in sorted(images.items())},
            "retention": retention_plan(name, images)}


# ---- HTTP --------------------------------------------------------------------------------------------------------

ROUTES: dict[str, Callable[[Viewer, dict[str, list[str]]], dict[str, Any]]] = {
    "/browse/api/repositories": lambda viewer, query: repositories(viewer),
    "/browse/api/repository": lambda viewer, query: repository(viewer, (query.get("name") or [""])[0]),
}


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "sovereign-registry-browser"
    sys_version = ""

    def answer(self, status: int, document: dict[str, Any], head: bool = False) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        if status == 405:
            self.send_header("Allow", "GET, HEAD")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_GET(self, head: bool = False) -> None:  # noqa: N802 (the http.server interface)
        path, _mark, query = self.path.partition("?")
        if path == "/browse/api/health":
            self.answer(200, {"status": "ok"}, head)
            return
        route = ROUTES.get(path)
        if route is None:
            self.answer(404, {"error": "no such view"}, head)
            return
        try:
            viewer = Viewer(self.headers.get("Authorization"), self.headers.get("X-Real-IP") or "127.0.0.1")
            self.answer(200, route(viewer, urllib.parse.parse_qs(query)), head)
        except Refused as refusal:
            self.answer(refusal.status, {"error": str(refusal)}, head)

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET(head=True)

    def refuse(self) -> None:
        self.answer(405, {"error": "the repository browser is read-only: GET only"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = refuse  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        # nginx logs every request; nothing here could add to it but a name.
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    address_family = socket.AF_INET


def main() -> None:
    global SETTINGS, registry_client, retention  # pylint: disable=global-statement
    with open(sys.argv[1], encoding="utf-8") as handle:
        SETTINGS = json.load(handle)
    sys.path.insert(0, SETTINGS["library"])
    # pylint: disable=import-outside-toplevel
    # (installed beside this program by the role; typed where the collection is checked)
    from ansible_collections.sovereign.registry.plugins.module_utils._registry import client as loaded_client  # type: ignore[import-untyped]
    from ansible_collections.sovereign.registry.plugins.module_utils._registry import retention as loaded_retention
    registry_client, retention = loaded_client, loaded_retention
    Server(("127.0.0.1", SETTINGS["port"]), Handler).serve_forever()


if __name__ == "__main__":
    main()
