"""docker_auth's login guard: wrong passwords throttled per account and per address, use never; no enumeration.

  sovereign-registry-login-guard SETTINGS (a JSON object: the ports, the accounts file, the numbers)

Runs in a container of its own (the docker_auth role's), listening on
127.0.0.1 only, beside nginx on the same host:
  * CHECK_PORT, HTTP: nginx asks GET /check (auth_request) before it passes
    a token request that carries a password (Basic) to docker_auth, with the
    client's address in X-Real-IP. 204: pass it on; 403 with Retry-After:
    nginx answers 429 instead, and docker_auth never sees the guess. For a
    name that is no account of docker_auth's, the 204 carries
    X-Login-Authorization and X-Login-Uri (X-Original-URI without its
    account parameter): the same request as the decoy account, whose
    bcrypt hash (at the people's cost) matches no password, so that
    docker_auth spends the same time on it as on a wrong password and answers
    the same. GET /health answers 200. GET /metrics answers in Prometheus'
    text format: the guard's verdicts and the answers nginx fed it, per
    outcome (never per account or address), and whether each docker_auth
    instance (DOCKER_AUTH_PORTS) accepts a connection, tried then.
  * FEED_PORT, UDP: nginx's access log of those token requests (syslog, one
    JSON object per request: status, address, account): 200 is a login, 401
    a wrong password.
The rules, one function each below: failures are counted per account, per
client address (IPv6: per /64) and per pair of both. Each key has a number of
free failures; past them every further failure doubles the wait before the
next guess is let through, up to a ceiling; a key is forgotten after a
quiet while. An address that logged in to an account before (a "known
pair") is judged by its own failures only: a person whose account is under
attack from elsewhere, or whose office shares an address with a guesser,
still logs in. Successful logins and anonymous requests are never counted.
Guesses whose answer is not back yet count as failures for keys that are
not a known pair, so that parallel guesses cannot outrun the count;
requests beyond that wait (a few seconds at most) instead of being refused,
so a new CI fleet's first parallel logins pass once the first succeeded.
State is in memory, per registry server; a restart forgets it.
"""

# The guard runs on the host's own Python, 3.10 at the oldest (Ubuntu jammy).
from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import ipaddress
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import TypedDict

# A request nginx sends is a few headers; anything longer is not nginx.
MAX_REQUEST = 16384
# How long an unanswered guess counts as in flight (nginx's feed is UDP on
# loopback: an entry lost is taken as a failure for this long).
IN_FLIGHT_SECONDS = 60.0
SWEEP_SECONDS = 10.0
# How long a docker_auth instance has to accept a connection when asked for the metrics.
PROBE_SECONDS = 1.0
# nginx's answers to token requests with a password, by what they mean.
ANSWERS = {200: "login", 401: "wrong_password", 429: "throttled"}


class Settings(TypedDict):
    check_port: int
    feed_port: int
    accounts_file: str
    pair_failures: int
    account_failures: int
    address_failures: int
    first_wait: float
    max_wait: float
    forget_seconds: float
    remember_seconds: float
    max_hold_seconds: float
    max_keys: int
    docker_auth_ports: list[int]


@dataclass
class Count:
    """One key's wrong passwords: how many since it was last quiet, when the last one came, guesses in flight."""
    failures: int = 0
    last: float = 0.0
    in_flight: int = 0


Key = tuple[str, ...]
# A verdict: ("pass", 0) | ("wait", 0) | ("throttle", seconds until the next guess may pass).
Verdict = tuple[str, float]


# ---- the rules ---------------------------------------------------------------------------------------------------

def address_key(address: str) -> str:
    """The address failures are counted for: an IPv4 address, or the /64 of an IPv6 one (one host's share)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network("%s/64" % ip, strict=False))
    return str(ip)


def wait_after(failures: int, free: int, settings: Settings) -> float:
    """Seconds after the last failure before the next guess passes: none within the free failures, then doubling."""
    if failures < free:
        return 0.0
    return min(settings["first_wait"] * 2.0 ** min(failures - free, 64), settings["max_wait"])


def judge(count: Count | None, free: int, now: float, settings: Settings, with_in_flight: bool) -> Verdict:
    """One key's verdict. In flight guesses count as failures when WITH_IN_FLIGHT (a key of no known pair)."""
    if count is None:
        return ("pass", 0.0)
    in_flight = count.in_flight if with_in_flight else 0
    if count.failures + in_flight < free:
        return ("pass", 0.0)
    ready = count.last + wait_after(count.failures, free, settings)
    if count.failures >= free and now < ready:
        return ("throttle", ready - now)
    # Free failures used up by guesses still in flight, or one guess per wait: one at a time.
    return ("wait", 0.0) if in_flight > 0 else ("pass", 0.0)


def combine(verdicts: list[Verdict]) -> Verdict:
    """Throttled when any key is (the longest wait), else wait when any key waits, else pass."""
    throttled = [seconds for kind, seconds in verdicts if kind == "throttle"]
    if throttled:
        return ("throttle", max(throttled))
    if any(kind == "wait" for kind, _seconds in verdicts):
        return ("wait", 0.0)
    return ("pass", 0.0)


class Guard:
    """The counts, the known pairs and the guesses in flight, with the rules applied to them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.counts: collections.OrderedDict[Key, Count] = collections.OrderedDict()
        self.known: collections.OrderedDict[Key, float] = collections.OrderedDict()
        self.pending: dict[Key, collections.deque[float]] = {}
        self.changed = asyncio.Event()
        # What the guard said and heard since it started, per outcome.
        self.verdicts: collections.Counter[str] = collections.Counter()
        self.answers: collections.Counter[str] = collections.Counter()

    def keys(self, account: str, address: str) -> list[tuple[Key, int]]:
        return [(("pair", account, address), self.settings["pair_failures"]),
                (("account", account), self.settings["account_failures"]),
                (("address", address), self.settings["address_failures"])]

    def is_known(self, account: str, address: str, now: float) -> bool:
        seen = self.known.get((account, address))
        return seen is not None and now - seen < self.settings["remember_seconds"]

    def verdict(self, account: str, address: str, now: float) -> Verdict:
        """A known pair is judged by its own failures; any other guess by the pair's, the account's and the address's."""
        if self.is_known(account, address, now):
            pair, free = self.keys(account, address)[0]
            return judge(self.counts.get(pair), free, now, self.settings, with_in_flight=False)
        return combine([judge(self.counts.get(key), free, now, self.settings, with_in_flight=True)
                        for key, free in self.keys(account, address)])

    def let_through(self, account: str, address: str, now: float) -> None:
        """A guess passed on: in flight for every key when it is no known pair's, until its answer comes."""
        if self.is_known(account, address, now):
            return
        self.pending.setdefault((account, address), collections.deque()).append(now)
        for key, _free in self.keys(account, address):
            self.count(key).in_flight += 1

    def answered(self, status: int, account: str, address: str, now: float) -> None:
        """nginx's answer to a token request with a password: a login (200), a wrong password (401), or neither."""
        self.answers[ANSWERS.get(status, "other")] += 1
        keys = self.keys(account, address)
        queue = self.pending.get((account, address))
        judged_alone = not queue
        if queue:
            queue.popleft()
            if not queue:
                del self.pending[(account, address)]
            self.release(keys)
        if status == 200:
            self.known[(account, address)] = now
            self.known.move_to_end((account, address))
            self.counts.pop(keys[0][0], None)
        elif status == 401:
            for key, free in keys[:1] if judged_alone else keys:
                count = self.count(key)
                count.failures += 1
                count.last = now
                if count.failures == free:
                    log("%s %s: %d wrong passwords; from now on a wait before each next guess, from %.0f s doubling to %.0f s"
                        % (key[0], " ".join(key[1:]), count.failures, self.settings["first_wait"], self.settings["max_wait"]))
        self.wake()

    def count(self, key: Key) -> Count:
        count = self.counts.get(key)
        if count is None:
            count = self.counts[key] = Count()
        self.counts.move_to_end(key)
        return count

    def release(self, keys: list[tuple[Key, int]]) -> None:
        for key, _free in keys:
            count = self.counts.get(key)
            if count is not None and count.in_flight > 0:
                count.in_flight -= 1

    def wake(self) -> None:
        self.changed.set()
        self.changed = asyncio.Event()

    def sweep(self, now: float) -> None:
        """Forget guesses whose answer never came, quiet keys, old known pairs; keep at most max_keys of each."""
        for (account, address), queue in list(self.pending.items()):
            while queue and now - queue[0] > IN_FLIGHT_SECONDS:
                queue.popleft()
                self.release(self.keys(account, address))
            if not queue:
                del self.pending[(account, address)]
        for key, count in list(self.counts.items()):
            if count.in_flight == 0 and now - count.last > self.settings["forget_seconds"]:
                del self.counts[key]
        for pair, seen in list(self.known.items()):
            if now - seen > self.settings["remember_seconds"]:
                del self.known[pair]
        while len(self.known) > self.settings["max_keys"]:
            self.known.popitem(last=False)
        for key in [key for key, count in self.counts.items() if count.in_flight == 0][:max(0, len(self.counts) - self.settings["max_keys"])]:
            del self.counts[key]
        self.wake()


# ---- docker_auth's accounts --------------------------------------------------------------------------------------

class Accounts:
    """docker_auth's static account names and its decoy, from the file the docker_auth role writes; read again when it changes."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.stamp: tuple[float, int] = (0.0, 0)
        self.names: frozenset[str] = frozenset()
        self.decoy: str | None = None
        self.checked = 0.0

    def refresh(self, now: float) -> None:
        if now - self.checked < 1.0:
            return
        self.checked = now
        try:
            info = os.stat(self.path)
            if (info.st_mtime, info.st_size) == self.stamp:
                return
            with open(self.path, encoding="utf-8") as handle:
                document = json.load(handle)
            names, decoy = frozenset(document["accounts"]), document.get("decoy")
        except (OSError, ValueError, KeyError, TypeError) as error:
            # Keep what was read last; the next change of the file is read again.
            if self.stamp != (-1.0, -1):
                log("%s unreadable, the accounts read before still apply: %s" % (self.path, error))
                self.stamp = (-1.0, -1)
            return
        self.names, self.decoy, self.stamp = names, decoy, (info.st_mtime, info.st_size)

    def stand_in(self, account: str, uri: str, now: float) -> dict[str, str]:
        """For a name docker_auth does not know: the Authorization and request URI to send it instead (the decoy's,
        without the `account` parameter, which docker_auth would find differs from the user). Else none."""
        self.refresh(now)
        if self.decoy is None or account in self.names:
            return {}
        path, question, query = uri.partition("?")
        kept = [part for part in query.split("&") if part and part.split("=", 1)[0] != "account"]
        return {"X-Login-Authorization": "Basic " + base64.b64encode((self.decoy + ":-").encode()).decode(),
                "X-Login-Uri": path + (question + "&".join(kept) if kept else "")}


# ---- HTTP for nginx ----------------------------------------------------------------------------------------------

def basic_account(authorization: str) -> str | None:
    """The account a Basic Authorization names (None: no Basic credentials, which docker_auth treats as anonymous or refuses)."""
    scheme, _space, value = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    account, colon, _password = decoded.partition(":")
    return account if colon else None


def answer(status: int, reason: str, headers: dict[str, str] | None = None) -> bytes:
    lines = ["HTTP/1.1 %d %s" % (status, reason), "Content-Length: 0"]
    lines += ["%s: %s" % item for item in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def accepts(port: int) -> bool:
    """Whether a docker_auth instance on this loopback port accepts a connection within PROBE_SECONDS."""
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), PROBE_SECONDS)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


def metrics_text(guard: Guard, instances_up: list[bool]) -> str:
    """The guard's counts and the docker_auth instances' state, in Prometheus' text format."""
    lines = ["# HELP sovereign_registry_login_guard_verdicts_total Token requests with a password the guard was asked "
             "about, by verdict (throttled: answered 429, docker_auth never saw the guess).",
             "# TYPE sovereign_registry_login_guard_verdicts_total counter"]
    lines += ['sovereign_registry_login_guard_verdicts_total{verdict="%s"} %d' % (verdict, guard.verdicts[verdict])
              for verdict in ("passed", "throttled")]
    lines += ["# HELP sovereign_registry_login_guard_answers_total nginx's answers to token requests with a password, "
              "by outcome.",
              "# TYPE sovereign_registry_login_guard_answers_total counter"]
    lines += ['sovereign_registry_login_guard_answers_total{outcome="%s"} %d' % (outcome, guard.answers[outcome])
              for outcome in sorted(set(ANSWERS.values()) | {"other"})]
    lines += ["# HELP sovereign_registry_docker_auth_up Whether the docker_auth instance accepts a connection "
              "on its loopback port.",
              "# TYPE sovereign_registry_docker_auth_up gauge"]
    lines += ['sovereign_registry_docker_auth_up{docker_auth_instance="%d"} %d' % (number, up)
              for number, up in enumerate(instances_up, start=1)]
    return "\n".join(lines) + "\n"


async def metrics(guard: Guard) -> bytes:
    instances_up = await asyncio.gather(*(accepts(port) for port in guard.settings["docker_auth_ports"]))
    body = metrics_text(guard, list(instances_up)).encode()
    head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: %d\r\n\r\n" % len(body)
    return head.encode("latin-1") + body


async def check(guard: Guard, accounts: Accounts, headers: dict[str, str]) -> bytes:
    account = basic_account(headers.get("authorization", ""))
    if account is None:
        return answer(204, "No Content")
    address = address_key(headers.get("x-real-ip", ""))
    deadline = time.monotonic() + guard.settings["max_hold_seconds"]
    while True:
        now = time.monotonic()
        kind, seconds = guard.verdict(account, address, now)
        if kind == "pass":
            guard.verdicts["passed"] += 1
            guard.let_through(account, address, now)
            return answer(204, "No Content", accounts.stand_in(account, headers.get("x-original-uri", ""), time.time()))
        if kind == "throttle" or now >= deadline:
            guard.verdicts["throttled"] += 1
            return answer(403, "Forbidden", {"Retry-After": str(max(1, math.ceil(seconds)))})
        changed = guard.changed
        try:
            await asyncio.wait_for(changed.wait(), deadline - now)
        except asyncio.TimeoutError:
            pass


async def serve_http(guard: Guard, accounts: Accounts, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            headers = {}
            for line in header_lines:
                name, colon, value = line.partition(":")
                if colon:
                    headers[name.strip().lower()] = value.strip()
            path = request_line.split(" ")[1] if request_line.count(" ") >= 2 else ""
            if path == "/check":
                try:
                    writer.write(await check(guard, accounts, headers))
                except Exception as error:  # pylint: disable=broad-exception-caught
                    # docker_auth still checks the password: a fault here must not stop logins.
                    log("a check failed, passed on unguarded: %s: %s" % (type(error).__name__, error))
                    writer.write(answer(204, "No Content"))
            elif path == "/health":
                writer.write(answer(200, "OK"))
            elif path == "/metrics":
                writer.write(await metrics(guard))
            else:
                writer.write(answer(404, "Not Found"))
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                return
    finally:
        writer.close()


# ---- nginx's feed ------------------------------------------------------------------------------------------------

class Feed(asyncio.DatagramProtocol):
    """nginx's syslog lines of token requests with a password: '<PRI>tag: {"status": ..., "address": ..., "account": ...}'."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        text = data.decode("utf-8", "replace")
        try:
            entry = json.loads(text[text.index("{"):])
            status = int(entry["status"])
            account = str(entry["account"])
            address = address_key(str(entry["address"]))
        except (ValueError, KeyError, TypeError):
            log("a line of nginx's feed that is no token request's: %r" % text[:200])
            return
        self.guard.answered(status, account, address, time.monotonic())


def log(message: str) -> None:
    print("login guard: " + message, file=sys.stderr, flush=True)


async def sweeper(guard: Guard) -> None:
    while True:
        await asyncio.sleep(SWEEP_SECONDS)
        guard.sweep(time.monotonic())


async def serve(settings: Settings) -> None:
    guard = Guard(settings)
    accounts = Accounts(settings["accounts_file"])
    accounts.refresh(time.time())
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: Feed(guard), local_addr=("127.0.0.1", settings["feed_port"]))
    server = await asyncio.start_server(lambda r, w: serve_http(guard, accounts, r, w), "127.0.0.1",
                                        settings["check_port"], limit=MAX_REQUEST)
    log("checking on 127.0.0.1:%d, nginx's feed on 127.0.0.1:%d (udp)" % (settings["check_port"], settings["feed_port"]))
    sweeping = asyncio.ensure_future(sweeper(guard))
    try:
        async with server:
            await server.serve_forever()
    finally:
        sweeping.cancel()


def settings_of(text: str) -> Settings:
    """The settings, a JSON object on the command line (numbers may come as strings)."""
    given = json.loads(text)
    settings: Settings = {
        "check_port": int(given["check_port"]), "feed_port": int(given["feed_port"]),
        "accounts_file": str(given["accounts_file"]),
        "pair_failures": int(given["pair_failures"]), "account_failures": int(given["account_failures"]),
        "address_failures": int(given["address_failures"]),
        "first_wait": float(given["first_wait"]), "max_wait": float(given["max_wait"]),
        "forget_seconds": float(given["forget_seconds"]), "remember_seconds": float(given["remember_seconds"]),
        "max_hold_seconds": float(given["max_hold_seconds"]), "max_keys": int(given["max_keys"]),
        "docker_auth_ports": [int(port) for port in given.get("docker_auth_ports", [])]}
    return settings


def main() -> None:
    asyncio.run(serve(settings_of(sys.argv[1])))


if __name__ == "__main__":
    main()
