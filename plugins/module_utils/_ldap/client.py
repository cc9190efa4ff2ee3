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

Only the BER that RFC 4511 needs is here: definite lengths, low tag numbers.
"""

from __future__ import annotations

import socket
import ssl
from typing import Dict, List, Optional, Sequence, Tuple, Type, Union

from ansible_collections.sovereign.registry.plugins.module_utils import _go

# BER identifier octets: class bits, then constructed bit.
UNIVERSAL = 0x00
APPLICATION = 0x40
CONTEXT = 0x80
CONSTRUCTED = 0x20

TAG_BOOLEAN = 0x01
TAG_INTEGER = 0x02
TAG_OCTET_STRING = 0x04
TAG_ENUMERATED = 0x0A
TAG_SEQUENCE = 0x30
TAG_SET = 0x31

# protocolOp choices of LDAPMessage (RFC 4511 section 4.2 to 4.14).
OP_BIND_REQUEST = APPLICATION | CONSTRUCTED | 0
OP_BIND_RESPONSE = APPLICATION | CONSTRUCTED | 1
OP_UNBIND_REQUEST = APPLICATION | 2
OP_SEARCH_REQUEST = APPLICATION | CONSTRUCTED | 3
OP_SEARCH_RESULT_ENTRY = APPLICATION | CONSTRUCTED | 4
OP_SEARCH_RESULT_DONE = APPLICATION | CONSTRUCTED | 5
OP_SEARCH_RESULT_REFERENCE = APPLICATION | CONSTRUCTED | 19
OP_EXTENDED_REQUEST = APPLICATION | CONSTRUCTED | 23
OP_EXTENDED_RESPONSE = APPLICATION | CONSTRUCTED | 24

SCOPE_BASE = 0
SCOPE_ONE_LEVEL = 1
SCOPE_SUBTREE = 2
DEREF_NEVER = 0

STARTTLS_OID = "1.3.6.1.4.1.1466.20037"
NOTICE_OF_DISCONNECTION_OID = "1.3.6.1.4.1.1466.20036"

# A reply this large is not an answer to a check that asks for two entries without attributes.
MAX_MESSAGE = 16 * 1024 * 1024

RESULT_CODES = {
    0: "success", 1: "operationsError", 2: "protocolError", 3: "timeLimitExceeded", 4: "sizeLimitExceeded",
    5: "compareFalse", 6: "compareTrue", 7: "authMethodNotSupported", 8: "strongerAuthRequired", 10: "referral",
    11: "adminLimitExceeded", 12: "unavailableCriticalExtension", 13: "confidentialityRequired",
    14: "saslBindInProgress", 16: "noSuchAttribute", 17: "undefinedAttributeType", 18: "inappropriateMatching",
    19: "constraintViolation", 20: "attributeOrValueExists", 21: "invalidAttributeSyntax", 32: "noSuchObject",
    33: "aliasProblem", 34: "invalidDNSyntax", 36: "aliasDereferencingProblem", 48: "inappropriateAuthentication",
    49: "invalidCredentials", 50: "insufficientAccessRights", 51: "busy", 52: "unavailable",
    53: "unwillingToPerform", 54: "loopDetect", 64: "namingViolation", 65: "objectClassViolation",
    66: "notAllowedOnNonLeaf", 67: "notAllowedOnRDN", 68: "entryAlreadyExists", 69: "objectClassModsProhibited",
    71: "affectsMultipleDSAs", 80: "other",
}
SUCCESS = 0
SIZE_LIMIT_EXCEEDED = 4
INVALID_CREDENTIALS = 49

TLS_MODES = ("none", "starttls", "always")

# docker_auth's escapeAccountInput, pair for pair, for strings.NewReplacer.
ACCOUNT_ESCAPES = (
    ("\\", "\\5c"), ("(", "\\28"), (")", "\\29"), ("!", "\\21"), ("*", "\\2a"), ("&", "\\26"),
    ("|", "\\7c"), ("=", "\\3d"), (">", "\\3e"), ("<", "\\3c"), ("~", "\\7e"),
)

Attributes = Dict[str, List[bytes]]
Entry = Tuple[str, Attributes]
Element = Tuple[int, bytes]


class LdapError(Exception):
    """Anything that went wrong; ``code`` is the LDAP result code when the server sent one."""

    def __init__(self, message: str, code: Optional[int] = None, diagnostic: str = "", matched_dn: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.diagnostic = diagnostic
        self.matched_dn = matched_dn


class LdapFilterError(LdapError):
    """A search filter that RFC 4515 (and go-ldap) refuse."""


class LdapProtocolError(LdapError):
    """The peer sent something that is not the LDAP answer expected (or closed the connection)."""


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


def result_name(code: int) -> str:
    return RESULT_CODES.get(code, "result code %d" % code)


def _result_error(what: str, code: int, diagnostic: str, matched_dn: str,
                  cls: Type[LdapError] = LdapError) -> LdapError:
    message = "%s: %s (%d)" % (what, result_name(code), code)
    if diagnostic:
        message += ": %s" % diagnostic
    return cls(message, code=code, diagnostic=diagnostic, matched_dn=matched_dn)


# --- BER ---------------------------------------------------------------------------------------------------------


def encode_length(length: int) -> bytes:
    if length < 0:
        raise ValueError("negative BER length")
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode_tlv(tag: int, content: bytes) -> bytes:
    if tag & 0x1F == 0x1F:
        raise ValueError("high tag numbers are not used by LDAP")
    return bytes([tag]) + encode_length(len(content)) + content


def encode_integer(value: int, tag: int = TAG_INTEGER) -> bytes:
    # Two's complement, shortest form: one extra bit for the sign.
    size = max(1, (value + (value < 0)).bit_length() // 8 + 1)
    return encode_tlv(tag, value.to_bytes(size, "big", signed=True))


def encode_enumerated(value: int) -> bytes:
    return encode_integer(value, TAG_ENUMERATED)


def encode_boolean(value: bool, tag: int = TAG_BOOLEAN) -> bytes:
    return encode_tlv(tag, b"\xff" if value else b"\x00")


def encode_octet_string(value: Union[str, bytes], tag: int = TAG_OCTET_STRING) -> bytes:
    return encode_tlv(tag, value.encode("utf-8") if isinstance(value, str) else value)


def encode_sequence(items: Sequence[bytes], tag: int = TAG_SEQUENCE) -> bytes:
    return encode_tlv(tag, b"".join(items))


def encode_set(items: Sequence[bytes], tag: int = TAG_SET) -> bytes:
    return encode_tlv(tag, b"".join(items))


def tlv_size(data: bytes, offset: int = 0) -> Optional[int]:
    """The full size of the element at ``offset``, or None while its header is incomplete."""
    if len(data) - offset < 2:
        return None
    if data[offset] & 0x1F == 0x1F:
        raise LdapProtocolError("BER: high tag numbers are not used by LDAP (tag byte 0x%02x)" % data[offset])
    first = data[offset + 1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0:
        raise LdapProtocolError("BER: indefinite lengths are not allowed in LDAP (RFC 4511 section 5.1)")
    if count > 4:
        raise LdapProtocolError("BER: a length of %d bytes is too large" % count)
    if len(data) - offset < 2 + count:
        return None
    return 2 + count + int.from_bytes(data[offset + 2:offset + 2 + count], "big")


def decode_tlv(data: bytes, offset: int = 0) -> Tuple[int, bytes, int]:
    """(tag, content, offset after the element) of the element at ``offset``."""
    size = tlv_size(data, offset)
    if size is None or offset + size > len(data):
        raise LdapProtocolError("BER: truncated element at offset %d" % offset)
    header = 2 if data[offset + 1] < 0x80 else 2 + (data[offset + 1] & 0x7F)
    return data[offset], data[offset + header:offset + size], offset + size


def decode_elements(content: bytes) -> List[Element]:
    """The elements of a SEQUENCE or SET's content, in order."""
    elements: List[Element] = []
    offset = 0
    while offset < len(content):
        tag, value, offset = decode_tlv(content, offset)
        elements.append((tag, value))
    return elements


def decode_integer(content: bytes) -> int:
    if not content:
        raise LdapProtocolError("BER: empty INTEGER")
    return int.from_bytes(content, "big", signed=True)


def decode_boolean(content: bytes) -> bool:
    if len(content) != 1:
        raise LdapProtocolError("BER: a BOOLEAN has one content byte, not %d" % len(content))
    return content != b"\x00"


def _expect(element: Element, tag: int, what: str) -> bytes:
    if element[0] != tag:
        raise LdapProtocolError("%s: expected tag 0x%02x, got 0x%02x" % (what, tag, element[0]))
    return element[1]


def _text(content: bytes) -> str:
    return content.decode("utf-8", errors="replace")


# --- filters (RFC 4515) ------------------------------------------------------------------------------------------

FILTER_AND = CONTEXT | CONSTRUCTED | 0
FILTER_OR = CONTEXT | CONSTRUCTED | 1
FILTER_NOT = CONTEXT | CONSTRUCTED | 2
FILTER_EQUALITY = CONTEXT | CONSTRUCTED | 3
FILTER_SUBSTRINGS = CONTEXT | CONSTRUCTED | 4
FILTER_GREATER_OR_EQUAL = CONTEXT | CONSTRUCTED | 5
FILTER_LESS_OR_EQUAL = CONTEXT | CONSTRUCTED | 6
FILTER_PRESENT = CONTEXT | 7
FILTER_APPROX = CONTEXT | CONSTRUCTED | 8
FILTER_EXTENSIBLE = CONTEXT | CONSTRUCTED | 9

_ATTRIBUTE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.;")
_HEX = frozenset("0123456789abcdefABCDEF")


def _unescape_value(text: str, filter_text: str) -> bytes:
    out = bytearray()
    raw = text.encode("utf-8")
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x5C:
            pair = raw[i + 1:i + 3].decode("ascii", errors="replace")
            if len(pair) != 2 or not set(pair) <= _HEX:
                raise LdapFilterError("malformed filter %s: a backslash in a value must be followed by two hex "
                                      "digits (\\2a for *, \\28 for (, \\29 for ), \\5c for \\), not %r"
                                      % (filter_text, "\\" + pair))
            out.append(int(pair, 16))
            i += 3
        else:
            out.append(byte)
            i += 1
    return bytes(out)


def _check_attribute(attribute: str, filter_text: str) -> str:
    if not attribute:
        raise LdapFilterError("malformed filter %s: an item has no attribute before its operator" % filter_text)
    bad = sorted(set(attribute) - _ATTRIBUTE_CHARS)
    if bad:
        raise LdapFilterError("malformed filter %s: %r is not an attribute description (it contains %s)"
                              % (filter_text, attribute, " ".join(repr(c) for c in bad)))
    return attribute


def _assertion(attribute: str, value: str, filter_text: str, tag: int) -> bytes:
    """AttributeValueAssertion."""
    return encode_sequence([encode_octet_string(attribute), encode_octet_string(_unescape_value(value, filter_text))],
                           tag)


def _encode_item(item: str, filter_text: str) -> bytes:
    """One ``attr<op>value`` between parentheses."""
    if "=" not in item:
        raise LdapFilterError("malformed filter %s: (%s) has no operator (=, >=, <=, ~=, :=)" % (filter_text, item))
    left, value = item.split("=", 1)
    operator = left[-1:] if left[-1:] in ("~", ">", "<", ":") else ""
    if operator == ":":
        return _encode_extensible(left[:-1], value, filter_text)
    attribute = _check_attribute(left[:-1] if operator else left, filter_text)
    if operator:
        if "*" in value:
            raise LdapFilterError("malformed filter %s: (%s): %s= takes no wildcard; write a literal * as \\2a"
                                  % (filter_text, item, operator))
        tag = {"~": FILTER_APPROX, ">": FILTER_GREATER_OR_EQUAL, "<": FILTER_LESS_OR_EQUAL}[operator]
        return _assertion(attribute, value, filter_text, tag)
    if value == "*":
        return encode_octet_string(attribute, FILTER_PRESENT)
    if "*" not in value:
        return _assertion(attribute, value, filter_text, FILTER_EQUALITY)
    parts = value.split("*")
    pieces: List[bytes] = []
    for index, part in enumerate(parts):
        if not part:
            continue
        tag = CONTEXT | (0 if index == 0 else 2 if index == len(parts) - 1 else 1)
        pieces.append(encode_octet_string(_unescape_value(part, filter_text), tag))
    if not pieces:
        raise LdapFilterError("malformed filter %s: (%s) has wildcards but no substring between them"
                              % (filter_text, item))
    return encode_sequence([encode_octet_string(attribute), encode_sequence(pieces)], FILTER_SUBSTRINGS)


def _encode_extensible(left: str, value: str, filter_text: str) -> bytes:
    # attr[:dn][:rule] or [:dn]:rule, before ":=".
    parts = left.split(":")
    attribute = parts[0]
    rest = parts[1:]
    dn_attributes = False
    if rest and rest[0].lower() == "dn":
        dn_attributes = True
        rest = rest[1:]
    if len(rest) > 1:
        raise LdapFilterError("malformed filter %s: %r is not attr[:dn][:rule]:=value" % (filter_text, left + ":="))
    rule = rest[0] if rest else ""
    if rest and not rule:
        raise LdapFilterError("malformed filter %s: empty matching rule in %r" % (filter_text, left + ":="))
    if not attribute and not rule:
        raise LdapFilterError("malformed filter %s: %r needs an attribute or a matching rule"
                              % (filter_text, left + ":="))
    if "*" in value:
        raise LdapFilterError("malformed filter %s: := takes no wildcard; write a literal * as \\2a" % filter_text)
    items = []
    if rule:
        items.append(encode_octet_string(_check_attribute(rule, filter_text), CONTEXT | 1))
    if attribute:
        items.append(encode_octet_string(_check_attribute(attribute, filter_text), CONTEXT | 2))
    items.append(encode_octet_string(_unescape_value(value, filter_text), CONTEXT | 3))
    if dn_attributes:
        items.append(encode_boolean(True, CONTEXT | 4))
    return encode_sequence(items, FILTER_EXTENSIBLE)


def _parse_filter_at(text: str, pos: int) -> Tuple[bytes, int]:
    if pos >= len(text) or text[pos] != "(":
        where = "the end" if pos >= len(text) else "%r at offset %d" % (text[pos], pos)
        raise LdapFilterError("malformed filter %s: expected '(' but found %s" % (text, where))
    pos += 1
    if pos >= len(text):
        raise LdapFilterError("malformed filter %s: unbalanced parentheses (missing ')')" % text)
    kind = text[pos]
    if kind in "&|":
        pos += 1
        children: List[bytes] = []
        while pos < len(text) and text[pos] == "(":
            child, pos = _parse_filter_at(text, pos)
            children.append(child)
        if pos >= len(text):
            raise LdapFilterError("malformed filter %s: unbalanced parentheses (missing ')')" % text)
        if text[pos] != ")":
            raise LdapFilterError("malformed filter %s: %s takes a list of parenthesized filters, then ')'"
                                  % (text, kind))
        return encode_set(children, FILTER_AND if kind == "&" else FILTER_OR), pos + 1
    if kind == "!":
        child, pos = _parse_filter_at(text, pos + 1)
        if pos >= len(text):
            raise LdapFilterError("malformed filter %s: unbalanced parentheses (missing ')')" % text)
        if text[pos] != ")":
            raise LdapFilterError("malformed filter %s: ! takes exactly one parenthesized filter, then ')'" % text)
        return encode_tlv(FILTER_NOT, child), pos + 1
    end = text.find(")", pos)
    if end < 0:
        raise LdapFilterError("malformed filter %s: unbalanced parentheses (missing ')')" % text)
    item = text[pos:end]
    if not item:
        raise LdapFilterError("malformed filter %s: empty '()'" % text)
    # go-ldap reads a value up to ')' and so takes a bare '(' in it; only a nested filter may start with one here.
    return _encode_item(item, text), end + 1


def parse_filter(text: str) -> bytes:
    """The BER encoding (RFC 4511 Filter) of an RFC 4515 string filter; LdapFilterError when it is malformed."""
    if not text:
        raise LdapFilterError("malformed filter: it is empty")
    encoded, pos = _parse_filter_at(text, 0)
    if pos != len(text):
        raise LdapFilterError("malformed filter %s: unexpected %r after the filter's closing ')' (unbalanced "
                              "parentheses?)" % (text, text[pos:]))
    return encoded


def escape_account(account: str) -> str:
    """docker_auth's escapeAccountInput: strings.NewReplacer of the filter's special characters."""
    return _go.replace(account, ACCOUNT_ESCAPES)


def account_filter(filter_template: str, account: str) -> str:
    """The filter docker_auth searches with for ``account`` (its getFilter after escapeAccountInput)."""
    return _go.replace(filter_template, [("${account}", escape_account(account))])


# --- messages ----------------------------------------------------------------------------------------------------


def _ldap_result(content: bytes, what: str) -> Tuple[int, str, str, List[Element]]:
    """(resultCode, matchedDN, diagnosticMessage, the elements after them) of an LDAPResult."""
    elements = decode_elements(content)
    if len(elements) < 3:
        raise LdapProtocolError("%s: an LDAPResult has at least 3 elements, this one %d" % (what, len(elements)))
    code = decode_integer(_expect(elements[0], TAG_ENUMERATED, what + " resultCode"))
    matched = _text(_expect(elements[1], TAG_OCTET_STRING, what + " matchedDN"))
    diagnostic = _text(_expect(elements[2], TAG_OCTET_STRING, what + " diagnosticMessage"))
    return code, matched, diagnostic, elements[3:]


def _search_entry(content: bytes) -> Entry:
    elements = decode_elements(content)
    if len(elements) != 2:
        raise LdapProtocolError("SearchResultEntry: expected objectName and attributes, got %d elements"
                                % len(elements))
    dn = _text(_expect(elements[0], TAG_OCTET_STRING, "SearchResultEntry objectName"))
    attributes: Attributes = {}
    for attribute in decode_elements(_expect(elements[1], TAG_SEQUENCE, "SearchResultEntry attributes")):
        parts = decode_elements(_expect(attribute, TAG_SEQUENCE, "PartialAttribute"))
        if len(parts) != 2:
            raise LdapProtocolError("PartialAttribute: expected type and vals, got %d elements" % len(parts))
        name = _text(_expect(parts[0], TAG_OCTET_STRING, "PartialAttribute type"))
        values = [_expect(v, TAG_OCTET_STRING, "PartialAttribute value")
                  for v in decode_elements(_expect(parts[1], TAG_SET, "PartialAttribute vals"))]
        attributes.setdefault(name, []).extend(values)
    return dn, attributes


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
        self._send(encode_sequence([encode_integer(message_id), op]))
        return message_id

    def _response(self, message_id: int) -> Element:
        """The protocolOp of the next message, which must answer ``message_id``."""
        _tag, content, _end = decode_tlv(self._receive_element())
        elements = decode_elements(content)
        if len(elements) < 2:
            raise LdapProtocolError("LDAPMessage: expected messageID and protocolOp, got %d elements" % len(elements))
        received = decode_integer(_expect(elements[0], TAG_INTEGER, "LDAPMessage messageID"))
        op = elements[1]
        if received == 0 and op[0] == OP_EXTENDED_RESPONSE:
            code, matched, diagnostic, _rest = _ldap_result(op[1], "notice of disconnection")
            raise _result_error("%s:%d ended the session" % (self.host, self.port), code, diagnostic, matched,
                                LdapConnectError)
        if received != message_id:
            raise LdapProtocolError("expected an answer to message %d, got one to message %d" % (message_id, received))
        return op

    # -- operations --

    def _start_tls(self) -> None:
        message_id = self._request(encode_sequence([encode_octet_string(STARTTLS_OID, CONTEXT | 0)],
                                                   OP_EXTENDED_REQUEST))
        op = self._response(message_id)
        content = _expect(op, OP_EXTENDED_RESPONSE, "StartTLS response")
        code, matched, diagnostic, _rest = _ldap_result(content, "StartTLS response")
        if code != SUCCESS:
            raise _result_error("the server refused StartTLS", code, diagnostic, matched, LdapStartTlsRefused)

    def bind(self, dn: str, password: str) -> None:
        """Simple bind; LdapInvalidCredentials on result 49, LdapError naming the result otherwise."""
        op = encode_sequence([encode_integer(3), encode_octet_string(dn), encode_octet_string(password, CONTEXT | 0)],
                             OP_BIND_REQUEST)
        content = _expect(self._response(self._request(op)), OP_BIND_RESPONSE, "BindResponse")
        code, matched, diagnostic, _rest = _ldap_result(content, "BindResponse")
        if code == INVALID_CREDENTIALS:
            raise _result_error("bind refused", code, diagnostic, matched, LdapInvalidCredentials)
        if code != SUCCESS:
            raise _result_error("bind refused", code, diagnostic, matched)

    def search(self, base: str, filter_text: str, attributes: Sequence[str] = ("1.1",), size_limit: int = 2,
               scope: int = SCOPE_SUBTREE) -> List[Entry]:
        """The entries under ``base`` matching the filter, at most ``size_limit`` (0: the server's limit).

        Hitting ``size_limit`` is not an error: it is how a caller asks whether there is more than one.
        """
        op = encode_sequence([
            encode_octet_string(base),
            encode_enumerated(scope),
            encode_enumerated(DEREF_NEVER),
            encode_integer(size_limit),
            encode_integer(0),
            encode_boolean(False),
            parse_filter(filter_text),
            encode_sequence([encode_octet_string(a) for a in attributes]),
        ], OP_SEARCH_REQUEST)
        message_id = self._request(op)
        entries: List[Entry] = []
        while True:
            tag, content = self._response(message_id)
            if tag == OP_SEARCH_RESULT_ENTRY:
                entries.append(_search_entry(content))
            elif tag == OP_SEARCH_RESULT_REFERENCE:
                continue
            elif tag == OP_SEARCH_RESULT_DONE:
                code, matched, diagnostic, _rest = _ldap_result(content, "SearchResultDone")
                if code == SUCCESS or (code == SIZE_LIMIT_EXCEEDED and size_limit):
                    return entries
                raise _result_error("search refused", code, diagnostic, matched)
            else:
                raise LdapProtocolError("unexpected answer to a search (tag 0x%02x)" % tag)

    def unbind(self) -> None:
        """Say goodbye (UnbindRequest has no answer) and close; never raises."""
        if self.sock is None:
            return
        try:
            self.sock.sendall(encode_sequence([encode_integer(self._next_id), encode_tlv(OP_UNBIND_REQUEST, b"")]))
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
