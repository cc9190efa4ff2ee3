# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""LDAP search filters: RFC 4515 strings to RFC 4511 BER, as go-ldap (docker_auth's LDAP client) reads them.

Pure Python, no Ansible import. The account docker_auth puts into its filter
is escaped as docker_auth escapes it.
"""

from __future__ import annotations

from typing import List, Tuple

from ansible_collections.sovereign.registry.plugins.module_utils import _go
from ansible_collections.sovereign.registry.plugins.module_utils._ldap.ber import (
    CONSTRUCTED,
    CONTEXT,
    LdapError,
    encode_boolean,
    encode_octet_string,
    encode_sequence,
    encode_set,
    encode_tlv,
)

# docker_auth's escapeAccountInput, pair for pair, for strings.NewReplacer.
ACCOUNT_ESCAPES = (
    ("\\", "\\5c"), ("(", "\\28"), (")", "\\29"), ("!", "\\21"), ("*", "\\2a"), ("&", "\\26"),
    ("|", "\\7c"), ("=", "\\3d"), (">", "\\3e"), ("<", "\\3c"), ("~", "\\7e"),
)


class LdapFilterError(LdapError):
    """A search filter that RFC 4515 (and go-ldap) refuse."""


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
