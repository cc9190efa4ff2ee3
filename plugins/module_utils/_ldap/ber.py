# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""BER as LDAP uses it (RFC 4511 section 5.1): definite lengths, low tag numbers, nothing more.

Pure Python, no Ansible import. The errors of the LDAP client start here: a
peer whose bytes are not BER is the first thing that can go wrong.
"""

from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

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

Element = Tuple[int, bytes]


class LdapError(Exception):
    """Anything that went wrong; ``code`` is the LDAP result code when the server sent one."""

    def __init__(self, message: str, code: Optional[int] = None, diagnostic: str = "", matched_dn: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.diagnostic = diagnostic
        self.matched_dn = matched_dn


class LdapProtocolError(LdapError):
    """The peer sent something that is not the LDAP answer expected (or closed the connection)."""


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


def expect_tag(element: Element, tag: int, what: str) -> bytes:
    """The content of ``element``, which must have ``tag`` (``what`` names it in the error)."""
    if element[0] != tag:
        raise LdapProtocolError("%s: expected tag 0x%02x, got 0x%02x" % (what, tag, element[0]))
    return element[1]
