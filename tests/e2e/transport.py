"""HTTP for the checks: the transport the collection's registry client takes, on the standard library.

``Http(ca)`` is a ``_registry.client.Transport``: ``request(method, url,
headers, body) -> (status, headers, body)``, headers with lower-case names,
no exception for an HTTP error status. It verifies TLS against the given CA
and can send a name to another address than DNS gives (``resolve``, as
``curl --resolve`` does), so that a check reaches one node of several while
TLS still checks the registry's name. A new connection per request unless
``keep_alive``: a docker client opens a new one for most requests.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import urllib.parse
from typing import Dict, Mapping, Optional, Tuple

Answer = Tuple[int, Dict[str, str], bytes]
REDIRECTS = (301, 302, 303, 307, 308)


def tls_context(ca: Optional[str]) -> ssl.SSLContext:
    """Verify against CA (a file), or the system's trust store when CA is None."""
    return ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()


class _Connection(http.client.HTTPSConnection):
    """An HTTPS connection to ADDRESS that sends and checks the name it was made for (SNI and certificate)."""

    def __init__(self, name: str, port: int, address: str, context: ssl.SSLContext, timeout: float,
                 source: Optional[str] = None) -> None:
        super().__init__(name, port, context=context, timeout=timeout)
        self._address = address
        self._context = context
        self._source = (source, 0) if source else None

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout, self._source)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class Http:
    """A Transport with TLS verified against CA, addresses from RESOLVE ({name: address}) first; HTTPS
    connections from the local address SOURCE when given (one of several of the client host's)."""

    def __init__(self, ca: Optional[str] = None, resolve: Optional[Mapping[str, str]] = None,
                 keep_alive: bool = False, timeout: float = 120, source: Optional[str] = None) -> None:
        self.context = tls_context(ca)
        self.source = source
        self.resolve = dict(resolve or {})
        self.keep_alive = keep_alive
        self.timeout = timeout
        self._kept: Dict[Tuple[str, str, int], http.client.HTTPConnection] = {}
        self.last_seconds = 0.0

    def _connection(self, scheme: str, name: str, port: int) -> http.client.HTTPConnection:
        key = (scheme, name, port)
        if self.keep_alive and key in self._kept:
            return self._kept[key]
        address = self.resolve.get(name, name)
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = _Connection(name, port, address, self.context, self.timeout, self.source)
        else:
            connection = http.client.HTTPConnection(address, port, timeout=self.timeout)
        if self.keep_alive:
            self._kept[key] = connection
        return connection

    def _once(self, method: str, url: str, headers: Mapping[str, str], body: Optional[bytes]) -> Answer:
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        path = parts.path + ("?" + parts.query if parts.query else "")
        for attempt in (1, 2):
            connection = self._connection(parts.scheme, parts.hostname or "", port)
            try:
                connection.request(method, path or "/", body=body, headers=dict(headers))
                answer = connection.getresponse()
                data = answer.read()
            except Exception as error:
                # A connection that failed is never used again.
                connection.close()
                self._kept.pop((parts.scheme, parts.hostname or "", port), None)
                # A kept connection the server closed meanwhile: once more on a new one.
                closed = isinstance(error, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))
                if attempt == 2 or not self.keep_alive or not closed:
                    raise
                continue
            if not self.keep_alive:
                connection.close()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, data
        raise AssertionError("unreachable")

    def __call__(self, method: str, url: str, headers: Dict[str, str], body: Optional[bytes]) -> Answer:
        """One request; GET and HEAD follow redirects (without the credentials when the host changes)."""
        started = time.perf_counter()
        sent = dict(headers)
        for _hop in range(5):
            status, answer_headers, data = self._once(method, url, sent, body)
            if status not in REDIRECTS or method not in ("GET", "HEAD") or "location" not in answer_headers:
                break
            target = urllib.parse.urljoin(url, answer_headers["location"])
            if urllib.parse.urlsplit(target).netloc != urllib.parse.urlsplit(url).netloc:
                sent.pop("Authorization", None)
            url = target
        self.last_seconds = time.perf_counter() - started
        return status, answer_headers, data
