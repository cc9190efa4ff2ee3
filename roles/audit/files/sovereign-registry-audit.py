"""The registry's audit trail: who logged in, pushed and deleted what, and when, in one file.

  sovereign-registry-audit NOTIFY_PORT FORWARD_PORT LOG_FILE ROTATE_WEEKS DOCKER_AUTH_TAG

Runs in a container of its own (the audit role's), listening on 127.0.0.1
only, and writes one JSON line per event to LOG_FILE (0600):
  * NOTIFY_PORT: the registry's notifications, POSTed to /events: a manifest
    pushed (push: user, client, repository, tag, digest) or deleted
    (delete). A notification is answered only once its events are written,
    and the registry sends it again until then. GET /health answers 200.
    GET /metrics: the events written since the receiver started, per kind
    (Prometheus text format: sovereign_registry_audit_events_total), which
    counts tokens issued and failed logins per outcome, never per user.
    GET /pushes?repository=NAME: the last push of each of its tags (time,
    user, client, digest), for the repository browser, which shows them to
    admins; loopback only, as the trail is the receiver's alone to read.
  * FORWARD_PORT: docker_auth's log, sent by Docker's fluentd log driver
    (the Forward protocol, acknowledgements asked for): a token issued to a
    named account (login when it asked for no scope, as `docker login` does;
    token otherwise, with the access granted) and a failed authentication
    (login_failed). A message is acknowledged only once its event is
    written; Docker keeps what docker_auth logs while the receiver is away
    and sends again what was not acknowledged, so a restart loses nothing.
    Each such event carries its message's chunk id, so that a message sent
    again after a lost acknowledgement is not written twice, even across a
    restart (the receiver reads the ids back from the end of the trail).
No journal and no systemd: it works the same on any host with Docker.
The receiver rotates the trail itself, weekly (LOG_FILE.YYYY-Www), and keeps
ROTATE_WEEKS of them.
"""

# The receiver runs on the host's own Python, 3.10 at the oldest (Ubuntu jammy):
# the annotations stay strings, so no newer syntax is evaluated.
from __future__ import annotations

import datetime
import glob
import http.server
import json
import os
import re
import socketserver
import struct
import sys
import threading
import urllib.parse
from collections.abc import Iterable
from typing import Any, Literal, TypedDict

MANIFEST_TYPES = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
}
# glog lines of docker_auth 1.14.0 (auth_server/server/server.go); the
# password is printed as *** (api.PasswordString).
REQUEST = r"\{(?P<user>[^:{}]*):[^@{}]*@(?P<client>[^ {}]*) (?P<scopes>\[(?:\{[^{}]*\} ?)*\])\}"
NEW_TOKEN = re.compile(r"New token for " + REQUEST + r" .*?: (?P<claims>\{.*\})\s*$")
AUTH_FAILED = re.compile(r"Auth failed: " + REQUEST)
SCOPE = re.compile(r"\{(\w+) (\S*) (\S+) \[([^\]]*)\]\}")
# How much of the trail's end a restart reads back for chunk ids (Docker
# sends again only what it sent last).
TAIL_BYTES = 1 << 20

# The kinds of event the trail holds.
EVENT_KINDS = ("push", "delete", "login", "token", "login_failed")
# One line of the trail, as JSON.
Event = dict[str, object]
# A decoded MessagePack value, of whatever shape its sender packed: the
# Forward protocol's messages are read in the shapes the protocol gives them,
# and one of another shape raises, which ends its connection unacknowledged.
MessagePack = Any


class Settings(TypedDict, total=False):
    log_file: str
    rotate_weeks: int
    docker_auth_tag: str


LOCK = threading.Lock()
SETTINGS: Settings = {}
WRITTEN_CHUNKS: set[str] = set()
# Events written since start, per kind (push, delete, login, token, login_failed).
EVENT_COUNTS: dict[str, int] = {}


# ---- the trail ---------------------------------------------------------------------------------------------------

def week_of(when: datetime.datetime) -> str:
    year, week, _day = when.isocalendar()
    return "%d-W%02d" % (year, week)


def rotate() -> None:
    """Start a new file in a new week; keep the ROTATE_WEEKS newest old ones."""
    log_file = SETTINGS["log_file"]
    try:
        modified = datetime.datetime.fromtimestamp(os.stat(log_file).st_mtime, datetime.timezone.utc)
    except FileNotFoundError:
        return
    if week_of(modified) == week_of(datetime.datetime.now(datetime.timezone.utc)):
        return
    os.replace(log_file, "%s.%s" % (log_file, week_of(modified)))
    for old in sorted(glob.glob(log_file + ".*-W*"))[:-SETTINGS["rotate_weeks"]]:
        os.unlink(old)


def append(path: str, lines: Iterable[str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)
        handle.flush()
        os.fsync(handle.fileno())


def write(events: list[Event], chunk: str | None = None) -> None:
    """Append events to the trail, on disk before this returns; those of a Forward message carry its CHUNK id,
    and a chunk already written is not written again."""
    with LOCK:
        if chunk is not None:
            if chunk in WRITTEN_CHUNKS:
                return
            events = [dict(event, chunk=chunk) for event in events]
        if events:
            rotate()
            append(SETTINGS["log_file"], [json.dumps(event, sort_keys=True) for event in events])
            for event in events:
                EVENT_COUNTS[str(event.get("event"))] = EVENT_COUNTS.get(str(event.get("event")), 0) + 1
            if chunk is not None:
                WRITTEN_CHUNKS.add(chunk)


def remember_chunks() -> None:
    """The chunk ids at the end of the trail, so that a message sent again after a restart is not written twice."""
    try:
        with open(SETTINGS["log_file"], "rb") as handle:
            handle.seek(max(0, os.fstat(handle.fileno()).st_size - TAIL_BYTES))
            tail = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return
    WRITTEN_CHUNKS.update(re.findall(r'"chunk": "([^"]+)"', tail))


# ---- the registry's notifications ----------------------------------------------------------------------------------

def client_address(addr: str | None) -> str:
    return re.sub(r":\d+$", "", addr or "").strip("[]")


def registry_events(envelope: dict[str, Any]) -> list[Event]:
    out: list[Event] = []
    for event in envelope.get("events") or []:
        target = event.get("target") or {}
        action = event.get("action")
        if action not in ("push", "delete"):
            continue
        if action == "push" and target.get("mediaType") not in MANIFEST_TYPES:
            continue  # layers and configs: the manifest push says it all
        out.append({
            "time": event.get("timestamp"), "event": action, "user": (event.get("actor") or {}).get("name", ""),
            "client": client_address((event.get("request") or {}).get("addr")),
            "repository": target.get("repository"), "tag": target.get("tag", ""), "digest": target.get("digest", ""),
            "media_type": target.get("mediaType", ""), "request_id": (event.get("request") or {}).get("id", ""),
        })
    return out


def pushes(repository: str) -> dict[str, Event]:
    """The last push of each tag of REPOSITORY, from the trail and its rotated weeks (for the repository
    browser, which shows them to admins)."""
    log_file = SETTINGS["log_file"]
    files = sorted(glob.glob(log_file + ".*-W*")) + [log_file]
    needle = '"repository": %s' % json.dumps(repository)
    found: dict[str, Event] = {}
    for path in files:
        try:
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    if needle not in line:
                        continue
                    event = json.loads(line)
                    if event.get("event") == "push" and event.get("repository") == repository and event.get("tag"):
                        found[str(event["tag"])] = {key: event.get(key) for key in ("time", "user", "client", "digest")}
        except FileNotFoundError:
            continue
    return found


def metrics() -> str:
    """The counts in Prometheus' text format; every kind from the start, so that a rate is there before the first."""
    with LOCK:
        counts = dict(EVENT_COUNTS)
    lines = ["# HELP sovereign_registry_audit_events_total Events written to the audit trail since the receiver started.",
             "# TYPE sovereign_registry_audit_events_total counter"]
    for kind in sorted(set(EVENT_KINDS) | set(counts)):
        lines.append('sovereign_registry_audit_events_total{event="%s"} %d' % (kind, counts.get(kind, 0)))
    return "\n".join(lines) + "\n"


class Notifications(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (the http.server interface)
        try:
            length = int(self.headers.get("Content-Length", "0"))
            write(registry_events(json.loads(self.rfile.read(length) or b"{}")))
        except (ValueError, OSError) as error:
            # Not written: the registry sends the envelope again.
            self.send_error(500, str(error)[:200])
            return
        self.send_response(200)
        self.end_headers()

    def reply(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        path, _mark, query = self.path.partition("?")
        if path == "/metrics":
            self.reply(metrics().encode(), "text/plain; version=0.0.4")
            return
        if path == "/pushes":
            repository = (urllib.parse.parse_qs(query).get("repository") or [""])[0]
            self.reply(json.dumps(pushes(repository)).encode(), "application/json")
            return
        if self.path != "/health":
            self.send_error(404)
            return
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        pass


# ---- docker_auth's log, from Docker's fluentd log driver ---------------------------------------------------------

class Incomplete(Exception):
    """More bytes are needed."""


def unpack(data: bytes, pos: int = 0) -> tuple[MessagePack, int]:
    """One MessagePack value from DATA at POS: (value, next position). Raises Incomplete at the end of DATA."""
    def take(count: int) -> bytes:
        if pos + 1 + count > len(data):
            raise Incomplete()
        return data[pos + 1:pos + 1 + count]

    def sized(kind: Literal["str", "bin"], width: int) -> tuple[str | bytes, int]:
        size = int.from_bytes(take(width), "big")
        start = pos + 1 + width
        if start + size > len(data):
            raise Incomplete()
        raw = data[start:start + size]
        return (raw.decode("utf-8", "replace") if kind == "str" else raw), start + size

    def items(count: int, start: int, pairs: bool) -> tuple[list[MessagePack] | dict[MessagePack, MessagePack], int]:
        values: list[MessagePack] = []
        at = start
        for _item in range(count * (2 if pairs else 1)):
            value, at = unpack(data, at)
            values.append(value)
        return (dict(zip(values[::2], values[1::2])) if pairs else values), at

    if pos >= len(data):
        raise Incomplete()
    first = data[pos]
    if first <= 0x7f:
        return first, pos + 1
    if first >= 0xe0:
        return first - 0x100, pos + 1
    if 0x80 <= first <= 0x8f:
        return items(first & 0x0f, pos + 1, True)
    if 0x90 <= first <= 0x9f:
        return items(first & 0x0f, pos + 1, False)
    if 0xa0 <= first <= 0xbf:
        size = first & 0x1f
        if pos + 1 + size > len(data):
            raise Incomplete()
        return data[pos + 1:pos + 1 + size].decode("utf-8", "replace"), pos + 1 + size
    if first in (0xc0, 0xc2, 0xc3):
        return {0xc0: None, 0xc2: False, 0xc3: True}[first], pos + 1
    if first in (0xc4, 0xc5, 0xc6):
        return sized("bin", {0xc4: 1, 0xc5: 2, 0xc6: 4}[first])
    if first in (0xd9, 0xda, 0xdb):
        return sized("str", {0xd9: 1, 0xda: 2, 0xdb: 4}[first])
    if first in (0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3):
        width = {0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8}[first]
        return int.from_bytes(take(width), "big", signed=first >= 0xd0), pos + 1 + width
    if first in (0xca, 0xcb):
        width = 4 if first == 0xca else 8
        return struct.unpack(">f" if width == 4 else ">d", take(width))[0], pos + 1 + width
    if first in (0xdc, 0xdd, 0xde, 0xdf):
        width = 2 if first in (0xdc, 0xde) else 4
        return items(int.from_bytes(take(width), "big"), pos + 1 + width, first >= 0xde)
    if 0xd4 <= first <= 0xd8 or first in (0xc7, 0xc8, 0xc9):
        if first >= 0xd4:
            size, head = 1 << (first - 0xd4), 1
        else:
            width = {0xc7: 1, 0xc8: 2, 0xc9: 4}[first]
            size, head = int.from_bytes(take(width), "big"), 1 + width
        if pos + head + 1 + size > len(data):
            raise Incomplete()
        kind, raw = data[pos + head], data[pos + head + 1:pos + head + 1 + size]
        if kind == 0 and size == 8:  # Fluentd's EventTime: seconds and nanoseconds
            seconds, nanoseconds = struct.unpack(">II", raw)
            return seconds + nanoseconds / 1e9, pos + head + 1 + size
        return raw, pos + head + 1 + size
    raise ValueError("not MessagePack: byte 0x%02x" % first)


def pack_ack(chunk: str) -> bytes:
    raw = chunk.encode()
    head = bytes([0xa0 | len(raw)]) if len(raw) < 32 else bytes([0xd9, len(raw)])
    return b"\x81\xa3ack" + head + raw


def scopes_of(text: str) -> list[str]:
    return ["%s:%s:%s" % (t, n, a.replace(" ", ",")) for t, _class, n, a in SCOPE.findall(text)]


def auth_event(message: str, when: str) -> Event | None:
    found = NEW_TOKEN.search(message)
    if found and found.group("user"):
        scopes = scopes_of(found.group("scopes"))
        try:
            granted = ["%s:%s:%s" % (a.get("type"), a.get("name"), ",".join(a.get("actions") or []))
                       for a in json.loads(found.group("claims")).get("access") or []]
        except ValueError:
            granted = []
        return {"time": when, "event": "token" if scopes else "login", "user": found.group("user"),
                "client": found.group("client"), "scopes": scopes, "granted": granted}
    found = AUTH_FAILED.search(message)
    if found:
        return {"time": when, "event": "login_failed", "user": found.group("user"), "client": found.group("client"),
                "scopes": scopes_of(found.group("scopes"))}
    return None


def entries(message: MessagePack) -> tuple[MessagePack, list[tuple[MessagePack, MessagePack]], MessagePack]:
    """(tag, [(time, record)], option) of a Forward-protocol message, in any of its modes: Message
    [tag, time, record, option?], Forward [tag, [[time, record], ...], option?] or PackedForward
    [tag, MessagePack bytes of [time, record] entries, option?]."""
    tag, second = message[0], message[1]
    if isinstance(second, list):
        return tag, [(entry[0], entry[1]) for entry in second], message[2] if len(message) > 2 else {}
    if isinstance(second, (bytes, str)):
        packed = second.encode() if isinstance(second, str) else second
        found: list[tuple[MessagePack, MessagePack]] = []
        at = 0
        while at < len(packed):
            entry, at = unpack(packed, at)
            found.append((entry[0], entry[1]))
        return tag, found, message[2] if len(message) > 2 else {}
    return tag, [(second, message[2])], message[3] if len(message) > 3 else {}


def log_events(message: MessagePack) -> tuple[list[Event], str | None]:
    tag, found, option = entries(message)
    events: list[Event] = []
    if tag == SETTINGS["docker_auth_tag"]:
        for when, record in found:
            line = record.get("log", "") if isinstance(record, dict) else ""
            if isinstance(line, bytes):
                line = line.decode("utf-8", "replace")
            stamp = datetime.datetime.fromtimestamp(float(when), datetime.timezone.utc).isoformat()
            event = auth_event(line, stamp)
            if event:
                events.append(event)
    return events, (option or {}).get("chunk")


class Forward(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        data = b""
        while True:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            data += chunk
            while data:
                try:
                    message, used = unpack(data)
                except Incomplete:
                    break
                data = data[used:]
                events, ack = log_events(message)
                write(events, ack)
                if ack:
                    self.request.sendall(pack_ack(ack))


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main() -> None:
    notify_port, forward_port, SETTINGS["log_file"], rotate_weeks, SETTINGS["docker_auth_tag"] = sys.argv[1:6]
    SETTINGS["rotate_weeks"] = int(rotate_weeks)
    os.umask(0o077)
    remember_chunks()
    forward = Server(("127.0.0.1", int(forward_port)), Forward)
    threading.Thread(target=forward.serve_forever, daemon=True).start()
    http.server.ThreadingHTTPServer(("127.0.0.1", int(notify_port)), Notifications).serve_forever()


if __name__ == "__main__":
    main()
