# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""LDAPMessage (RFC 4511 sections 4.1 to 4.14): the requests this client sends, and the answers' decoding.

Pure Python, no Ansible import.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple, Type

from ansible_collections.sovereign.registry.plugins.module_utils._ldap.ber import (
    APPLICATION,
    CONSTRUCTED,
    CONTEXT,
    TAG_ENUMERATED,
    TAG_INTEGER,
    TAG_OCTET_STRING,
    TAG_SEQUENCE,
    TAG_SET,
    Element,
    LdapError,
    LdapProtocolError,
    decode_elements,
    decode_integer,
    decode_tlv,
    encode_boolean,
    encode_enumerated,
    encode_integer,
    encode_octet_string,
    encode_sequence,
    encode_tlv,
    expect_tag,
)
from ansible_collections.sovereign.registry.plugins.module_utils._ldap.filter import parse_filter

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

Attributes = Dict[str, List[bytes]]
Entry = Tuple[str, Attributes]


def result_name(code: int) -> str:
    return RESULT_CODES.get(code, "result code %d" % code)


def result_error(what: str, code: int, diagnostic: str, matched_dn: str,
                 cls: Type[LdapError] = LdapError) -> LdapError:
    message = "%s: %s (%d)" % (what, result_name(code), code)
    if diagnostic:
        message += ": %s" % diagnostic
    return cls(message, code=code, diagnostic=diagnostic, matched_dn=matched_dn)


def encode_message(message_id: int, op: bytes) -> bytes:
    """The LDAPMessage that carries the protocolOp ``op`` (no controls)."""
    return encode_sequence([encode_integer(message_id), op])


def decode_message(data: bytes) -> Tuple[int, Element]:
    """(messageID, protocolOp) of one LDAPMessage."""
    _tag, content, _end = decode_tlv(data)
    elements = decode_elements(content)
    if len(elements) < 2:
        raise LdapProtocolError("LDAPMessage: expected messageID and protocolOp, got %d elements" % len(elements))
    return decode_integer(expect_tag(elements[0], TAG_INTEGER, "LDAPMessage messageID")), elements[1]


def start_tls_request() -> bytes:
    return encode_sequence([encode_octet_string(STARTTLS_OID, CONTEXT | 0)], OP_EXTENDED_REQUEST)


def bind_request(dn: str, password: str) -> bytes:
    """A simple bind, LDAP version 3."""
    return encode_sequence([encode_integer(3), encode_octet_string(dn), encode_octet_string(password, CONTEXT | 0)],
                           OP_BIND_REQUEST)


def search_request(base: str, filter_text: str, attributes: Sequence[str], size_limit: int, scope: int) -> bytes:
    """A search that never dereferences aliases and has no time limit; LdapFilterError for a malformed filter."""
    return encode_sequence([
        encode_octet_string(base),
        encode_enumerated(scope),
        encode_enumerated(DEREF_NEVER),
        encode_integer(size_limit),
        encode_integer(0),
        encode_boolean(False),
        parse_filter(filter_text),
        encode_sequence([encode_octet_string(a) for a in attributes]),
    ], OP_SEARCH_REQUEST)


def unbind_request() -> bytes:
    return encode_tlv(OP_UNBIND_REQUEST, b"")


def _text(content: bytes) -> str:
    return content.decode("utf-8", errors="replace")


def ldap_result(content: bytes, what: str) -> Tuple[int, str, str, List[Element]]:
    """(resultCode, matchedDN, diagnosticMessage, the elements after them) of an LDAPResult."""
    elements = decode_elements(content)
    if len(elements) < 3:
        raise LdapProtocolError("%s: an LDAPResult has at least 3 elements, this one %d" % (what, len(elements)))
    code = decode_integer(expect_tag(elements[0], TAG_ENUMERATED, what + " resultCode"))
    matched = _text(expect_tag(elements[1], TAG_OCTET_STRING, what + " matchedDN"))
    diagnostic = _text(expect_tag(elements[2], TAG_OCTET_STRING, what + " diagnosticMessage"))
    return code, matched, diagnostic, elements[3:]


def search_entry(content: bytes) -> Entry:
    """(DN, attributes) of a SearchResultEntry."""
    elements = decode_elements(content)
    if len(elements) != 2:
        raise LdapProtocolError("SearchResultEntry: expected objectName and attributes, got %d elements"
                                % len(elements))
    dn = _text(expect_tag(elements[0], TAG_OCTET_STRING, "SearchResultEntry objectName"))
    attributes: Attributes = {}
    for attribute in decode_elements(expect_tag(elements[1], TAG_SEQUENCE, "SearchResultEntry attributes")):
        parts = decode_elements(expect_tag(attribute, TAG_SEQUENCE, "PartialAttribute"))
        if len(parts) != 2:
            raise LdapProtocolError("PartialAttribute: expected type and vals, got %d elements" % len(parts))
        name = _text(expect_tag(parts[0], TAG_OCTET_STRING, "PartialAttribute type"))
        values = [expect_tag(v, TAG_OCTET_STRING, "PartialAttribute value")
                  for v in decode_elements(expect_tag(parts[1], TAG_SET, "PartialAttribute vals"))]
        attributes.setdefault(name, []).extend(values)
    return dn, attributes
