"""The registry's audit trail: who logged in, pushed and deleted what, and when, in one file.

  sovereign-registry-audit LISTEN_PORT LOG_FILE STATE_DIR JOURNAL_MATCH

Two sources, one JSON line per event in LOG_FILE (0600, root):
  * the registry's notifications, POSTed to 127.0.0.1:LISTEN_PORT/events:
    a manifest pushed (push: user, client, repository, tag, digest) or
    deleted (delete); a notification is answered only once its events are
    written, and the registry retries it until then;
  * docker_auth's log, read from the journal (JOURNAL_MATCH, for example
    CONTAINER_TAG=sovereign-docker-auth): a token issued to a named account
    (login when it asked for no scope, as `docker login` does; token
    otherwise, with the access granted), and a failed authentication
    (login_failed). The journal cursor of the last line handled is kept in
    STATE_DIR, so a restart goes on where it stopped.
"""

import datetime
import http.server
import json
import os
import re
import subprocess
import sys
import threading

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

LOCK = threading.Lock()
SETTINGS = {}


def write(events):
    """Append events to the trail and make sure they are on disk."""
    if not events:
        return
    with LOCK:
        fd = os.open(SETTINGS["log_file"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            for event in events:
                handle.write(json.dumps(event, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())


def client_address(addr):
    return re.sub(r":\d+$", "", addr or "").strip("[]")


def registry_events(envelope):
    out = []
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


class Notifications(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (the http.server interface)
        try:
            length = int(self.headers.get("Content-Length", "0"))
            write(registry_events(json.loads(self.rfile.read(length) or b"{}")))
        except (ValueError, OSError) as error:
            # Not written: the registry sends the envelope again.
            self.send_error(500, str(error)[:200])
            return
        self.send_response(200)
        self.end_headers()

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


def scopes_of(text):
    return ["%s:%s:%s" % (t, n, a.replace(" ", ",")) for t, _class, n, a in SCOPE.findall(text)]


def auth_event(message, when):
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


def follow_journal():
    cursor_file = os.path.join(SETTINGS["state_dir"], "journal.cursor")
    args = ["journalctl", "--follow", "--output=json", SETTINGS["journal_match"]]
    try:
        with open(cursor_file, encoding="utf-8") as handle:
            args.insert(1, "--after-cursor=" + handle.read().strip())
    except OSError:
        args.insert(1, "--since=today")
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True) as journal:
        for line in journal.stdout:
            entry = json.loads(line)
            message = entry.get("MESSAGE")
            if isinstance(message, list):  # journald stores non-UTF-8 as bytes
                message = bytes(message).decode("utf-8", "replace")
            when = datetime.datetime.fromtimestamp(int(entry["__REALTIME_TIMESTAMP"]) / 1e6,
                                                   datetime.timezone.utc).isoformat()
            event = auth_event(message or "", when)
            write([event] if event else [])
            with open(cursor_file + ".new", "w", encoding="utf-8") as handle:
                handle.write(entry["__CURSOR"])
            os.replace(cursor_file + ".new", cursor_file)
    raise SystemExit("journalctl ended")


def main():
    port, SETTINGS["log_file"], SETTINGS["state_dir"], SETTINGS["journal_match"] = sys.argv[1:5]
    os.umask(0o077)
    os.makedirs(SETTINGS["state_dir"], mode=0o700, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Notifications)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    follow_journal()


if __name__ == "__main__":
    main()
