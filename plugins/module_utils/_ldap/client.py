# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""A minimal LDAPv3 client on the standard library, for checking a directory before docker_auth uses it.

Pure Python, no Ansible import, no python-ldap or ldap3: the check runs on the
target host before anything is installed there. It does what docker_auth
1.14.0's LDAP authenticator (``auth_server/authn/ldap_auth.go``, on go-ldap)
does and nothing more: connect (plain, StartTLS or LDAPS), verify the
certificate as Go's ``crypto/tls`` does, simple bind, and a subtree search
with an RFC 4515 filter in which the account is escaped as docker_auth
escapes it.

This is the connection and its TLS; the bytes it sends and reads are
messages.py's, the search filter filter.py's, both on ber.py.
"""

from __future__ import annotations

import socket
import ssl
from typing import List, Optional, Sequence, Tuple

from ansible_collections.sovereign.registry.plugins.module_utils._ldap.ber import (
    Element,
    LdapError,
    LdapProtocolError,
    expect_tag,
    tlv_size,
)
from ansible_collections.sovereign.registry.plugins.module_utils._ldap.messages import (
    INVALID_CREDENTIALS,
    OP_BIND_RESPONSE,
    OP_EXTENDED_RESPONSE,
    OP_SEARCH_RESULT_DONE,
    OP_SEARCH_RESULT_ENTRY,
    OP_SEARCH_RESULT_REFERENCE,
    SCOPE_SUBTREE,
    SIZE_LIMIT_EXCEEDED,
    SUCCESS,
    Entry,
    bind_request,
    decode_message,
    encode_message,
    ldap_result,
    result_error,
    search_entry,
    search_request,
    start_tls_request,
    unbind_request,
)

# A reply this large is not an answer to a check that asks for two entries without attributes.
MAX_MESSAGE = 16 * 1024 * 1024

TLS_MODES = ("none", "starttls", "always")


class LdapConnectError(LdapError):
    """The directory could not be reached: name resolution, refused, timed out, reset."""


class LdapTlsError(LdapError):
    """The TLS handshake failed; ``verify_failed`` when the certificate was not trusted."""

    def __init__(self, message: str, verify_failed: bool = False) -> None:
        super().__init__(message)
        self.verify_failed = verify_failed


class LdapCaFileError(LdapTlsError):
    """The CA file could not be read or holds no certificate."""


class LdapStartTlsRefused(LdapError):
    """The server answered the StartTLS extended operation with an error."""


class LdapInvalidCredentials(LdapError):
    """A bind answered with invalidCredentials (49)."""


def _describe_stray(data: bytes) -> str:
    if data[:1] in (b"\x15", b"\x16") and data[1:2] == b"\x03":
        return "the server answered with TLS (bytes %s): it expects LDAPS on this port" % data[:3].hex(" ")
    return "the answer is not an LDAP message (it starts with %s)" % data[:8].hex(" ")


class LdapConnection:
    """One synchronous LDAPv3 connection: one request at a time, answers read in order."""

    def __init__(self, sock: socket.socket, host: str, port: int, timeout: float) -> None:
        self.sock: Optional[socket.socket] = sock
        self.host = host
        self.port = port
        self.timeout = timeout
        self.tls = False
        self._buffer = b""
        self._next_id = 1

    @classmethod
    def connect(cls, host: str, port: int, tls_mode: str = "none", ca_file: str = "",
                timeout: float = 5.0, ca_data: str = "") -> "LdapConnection":
        """Open a connection as docker_auth does: ``none``, ``starttls`` or ``always`` (LDAPS)."""
        if tls_mode not in TLS_MODES:
            raise ValueError("tls_mode must be one of %s, not %r" % (", ".join(TLS_MODES), tls_mode))
        context = tls_context(ca_file, ca_data) if tls_mode != "none" else None
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except socket.timeout:
            raise LdapConnectError("connecting to %s:%d timed out after %g s" % (host, port, timeout)) from None
        except OSError as exc:
            raise LdapConnectError("connecting to %s:%d failed: %s" % (host, port, exc.strerror or exc)) from None
        connection = cls(sock, host, port, timeout)
        try:
            if tls_mode == "starttls":
                connection._start_tls()
            if context is not None:
                connection._wrap(context)
        except BaseException:
            connection.close()
            raise
        return connection

    def __enter__(self) -> "LdapConnection":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.unbind()

    # -- transport --

    def _wrap(self, context: ssl.SSLContext) -> None:
        if self.sock is None:
            raise LdapConnectError("the connection to %s:%d is closed" % (self.host, self.port))
        try:
            self.sock = context.wrap_socket(self.sock, server_hostname=self.host)
        except ssl.SSLCertVerificationError as exc:
            reason = (exc.verify_message or exc.reason or str(exc)).rstrip(".")
            raise LdapTlsError("certificate verify failed: %s" % reason, verify_failed=True) from None
        except ssl.SSLError as exc:
            raise LdapTlsError("TLS handshake failed: %s" % (exc.reason or exc)) from None
        except socket.timeout:
            raise LdapTlsError("TLS handshake timed out after %g s (does %s:%d speak TLS?)"
                               % (self.timeout, self.host, self.port)) from None
        except OSError as exc:
            raise LdapTlsError("TLS handshake failed: the server closed the connection (%s)"
                               % (exc.strerror or exc)) from None
        self.tls = True

    def _send(self, data: bytes) -> None:
        if self.sock is None:
            raise LdapProtocolError("the connection is closed")
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise LdapConnectError("sending to %s:%d timed out after %g s"
                                   % (self.host, self.port, self.timeout)) from None
        except OSError as exc:
            raise LdapConnectError("sending to %s:%d failed: %s"
                                   % (self.host, self.port, exc.strerror or exc)) from None

    def _receive_element(self) -> bytes:
        """Exactly one top-level element, reading as many recv() as it takes and keeping what follows."""
        while True:
            if self._buffer[:1] not in (b"", b"\x30"):
                raise LdapProtocolError(_describe_stray(self._buffer))
            size = tlv_size(self._buffer)
            if size is not None:
                if size > MAX_MESSAGE:
                    raise LdapProtocolError("an LDAP message of %d bytes is larger than this client accepts" % size)
                if len(self._buffer) >= size:
                    element, self._buffer = self._buffer[:size], self._buffer[size:]
                    return element
            if self.sock is None:
                raise LdapProtocolError("the connection is closed")
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise LdapConnectError("%s:%d did not answer within %g s"
                                       % (self.host, self.port, self.timeout)) from None
            except OSError as exc:
                raise LdapConnectError("reading from %s:%d failed: %s"
                                       % (self.host, self.port, exc.strerror or exc)) from None
            if not chunk:
                raise LdapConnectError("%s:%d closed the connection%s" % (
                    self.host, self.port, " in the middle of a message" if self._buffer else ""))
            self._buffer += chunk

    def _request(self, op: bytes) -> int:
        message_id = self._next_id
        self._next_id += 1
        self._send(encode_message(message_id, op))
        return message_id

    def _response(self, message_id: int) -> Element:
        """The protocolOp of the next message, which must answer ``message_id``."""
        received, op = decode_message(self._receive_element())
        if received == 0 and op[0] == OP_EXTENDED_RESPONSE:
            code, matched, diagnostic, _rest = ldap_result(op[1], "notice of disconnection")
            raise result_error("%s:%d ended the session" % (self.host, self.port), code, diagnostic, matched,
                               LdapConnectError)
        if received != message_id:
            raise LdapProtocolError("expected an answer to message %d, got one to message %d" % (message_id, received))
        return op

    # -- operations --

    def _start_tls(self) -> None:
        op = self._response(self._request(start_tls_request()))
        content = expect_tag(op, OP_EXTENDED_RESPONSE, "StartTLS response")
        code, matched, diagnostic, _rest = ldap_result(content, "StartTLS response")
        if code != SUCCESS:
            raise result_error("the server refused StartTLS", code, diagnostic, matched, LdapStartTlsRefused)

    def bind(self, dn: str, password: str) -> None:
        """Simple bind; LdapInvalidCredentials on result 49, LdapError naming the result otherwise."""
        content = expect_tag(self._response(self._request(bind_request(dn, password))), OP_BIND_RESPONSE,
                             "BindResponse")
        code, matched, diagnostic, _rest = ldap_result(content, "BindResponse")
        if code == INVALID_CREDENTIALS:
            raise result_error("bind refused", code, diagnostic, matched, LdapInvalidCredentials)
        if code != SUCCESS:
            raise result_error("bind refused", code, diagnostic, matched)

    def search(self, base: str, filter_text: str, attributes: Sequence[str] = ("1.1",), size_limit: int = 2,
               scope: int = SCOPE_SUBTREE) -> List[Entry]:
        """The entries under ``base`` matching the filter, at most ``size_limit`` (0: the server's limit).

        Hitting ``size_limit`` is not an error: it is how a caller asks whether there is more than one.
        """
        message_id = self._request(search_request(base, filter_text, attributes, size_limit, scope))
        entries: List[Entry] = []
        while True:
            tag, content = self._response(message_id)
            if tag == OP_SEARCH_RESULT_ENTRY:
                entries.append(search_entry(content))
            elif tag == OP_SEARCH_RESULT_REFERENCE:
                continue
            elif tag == OP_SEARCH_RESULT_DONE:
                code, matched, diagnostic, _rest = ldap_result(content, "SearchResultDone")
                if code == SUCCESS or (code == SIZE_LIMIT_EXCEEDED and size_limit):
                    return entries
                raise result_error("search refused", code, diagnostic, matched)
            else:
                raise LdapProtocolError("unexpected answer to a search (tag 0x%02x)" % tag)

    def unbind(self) -> None:
        """Say goodbye (UnbindRequest has no answer) and close; never raises."""
        if self.sock is None:
            return
        try:
            self.sock.sendall(encode_message(self._next_id, unbind_request()))
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None


def tls_context(ca_file: str = "", ca_data: str = "") -> ssl.SSLContext:
    """Verification as docker_auth's: only the CAs of ``ca_file`` (or of the PEM text ``ca_data``) when given (Go's
    RootCAs pool), else the system's."""
    try:
        context = ssl.create_default_context(cafile=ca_file or None, cadata=ca_data or None)
    except FileNotFoundError:
        raise LdapCaFileError("the CA certificate %s does not exist" % ca_file) from None
    except ssl.SSLError as exc:
        raise LdapCaFileError("the CA certificate %s holds no PEM certificate (%s)"
                              % (ca_file or "given", exc.reason or exc)) from None
    except OSError as exc:
        raise LdapCaFileError("cannot read the CA certificate %s: %s" % (ca_file, exc.strerror or exc)) from None
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    # Go trusts any certificate of RootCAs as an anchor, an intermediate CA too, and does not demand the extensions
    # that Python 3.13's strict mode does (a missing Authority Key Identifier): the check must not refuse a
    # directory docker_auth accepts.
    context.verify_flags |= getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)
    context.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    return context


def connect(host: str, port: int, tls_mode: str = "none", ca_file: str = "", timeout: float = 5.0,
            ca_data: str = "") -> LdapConnection:
    """LdapConnection.connect."""
    return LdapConnection.connect(host, port, tls_mode, ca_file, timeout, ca_data)


def split_addr(addr: str) -> Tuple[str, int]:
    """(host, port) of docker_auth's ``addr``; ValueError when it is not host:port."""
    host, sep, port_text = addr.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError("%r is not host:port" % addr)
    return host, int(port_text)


def default_tls(addr: str) -> str:
    """docker_auth's default for ``tls``: LDAPS when ``addr`` ends in :636."""
    return "always" if addr.endswith(":636") else "none"
