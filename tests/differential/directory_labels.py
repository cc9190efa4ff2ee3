"""docker_auth 1.14.0's labels of a directory person, for the differential test's simulated people.

What docker_auth's LDAP authenticator does (``getLabelsFromMap`` and
``getCNFromDN`` in ``auth_server/authn/ldap_auth.go``, on go-ldap v3.0.3's
``ParseDN`` and ``Entry.GetAttributeValues``): the differential test gives the
simulator these labels and compares them with those docker_auth logs, and
tests/unit/test_directory_labels.py pins the corner cases. The collection
itself never computes a directory person's labels (docker_auth does, at
login), so this lives with the tests.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Sequence, Tuple

from ansible_collections.sovereign.registry.plugins.module_utils._ldap.ber import LdapError, decode_tlv


class DirectoryLabelError(ValueError):
    """docker_auth logs nobody in with this label mapping and entry: it returns an error or its handler panics."""


class DnSyntaxError(ValueError):
    """A string go-ldap v3.0.3's ParseDN refuses."""


RDN = List[Tuple[str, str]]
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
# After a backslash, these stand for themselves; anything else must be two hex digits.
_DN_ESCAPED = frozenset(b' "#+,;<=>\\')


def _go_string(data: bytes) -> str:
    # A Go string holds any bytes; bytes that are not UTF-8 survive as lone surrogates.
    return data.decode("utf-8", "surrogateescape")


def _go_hex_decode(data: bytes) -> bytes:
    """encoding/hex.DecodeString: an even number of hex digits, nothing else."""
    if len(data) % 2 or not set(data) <= _HEX_DIGITS:
        raise DnSyntaxError("failed to decode BER encoding: invalid hex %r" % data)
    return bytes.fromhex(data.decode("ascii"))


def _ber_value(raw: bytes) -> bytes:
    """The content of the BER element of a DN's ``=#hex`` value (go-ldap reads it with asn1-ber)."""
    try:
        _tag, content, _end = decode_tlv(raw, 0)
    except LdapError as error:
        raise DnSyntaxError("failed to decode BER encoding: %s" % error) from None
    return content


def parse_dn(dn: str) -> List[RDN]:
    """go-ldap v3.0.3 ParseDN: the RDNs in order, each a list of (type, value); DnSyntaxError when it refuses.

    Line for line, corner cases included: leading spaces of a type or value and unescaped trailing ones are
    dropped, ``\\`` escapes one special character or stands before two hex digits, ``+`` separates the
    values of a multi-valued RDN, ``=#hex`` is a BER value (its content), a second ``=`` starts the type
    again, and a last RDN whose value is empty is left out.
    """
    data = dn.encode("utf-8", "surrogateescape")
    rdns: List[RDN] = []
    rdn: RDN = []
    buffer = bytearray()
    attribute_type: bytes = b""
    escaping = False
    trailing_spaces = 0

    def taken() -> bytes:
        nonlocal trailing_spaces
        text = bytes(buffer[:len(buffer) - trailing_spaces])
        buffer.clear()
        trailing_spaces = 0
        return text

    i = 0
    while i < len(data):
        char = data[i]
        if escaping:
            trailing_spaces = 0
            escaping = False
            if char in _DN_ESCAPED:
                buffer.append(char)
            elif len(data) == i + 1:
                raise DnSyntaxError("got corrupted escaped character")
            else:
                pair = data[i:i + 2]
                if not set(pair) <= _HEX_DIGITS:
                    raise DnSyntaxError("failed to decode escaped character: %r" % pair)
                buffer.append(int(pair, 16))
                i += 1
        elif char == 0x5C:  # backslash
            trailing_spaces = 0
            escaping = True
        elif char == 0x3D:  # =
            attribute_type = taken()
            if len(data) > i + 1 and data[i + 1] == 0x23:  # #
                i += 2
                rest = data[i:]
                ends = [at for at in (rest.find(b","), rest.find(b"+")) if at >= 0]
                index = min(ends) if ends else -1
                chunk = rest[:index] if index > 0 else rest
                value = _ber_value(_go_hex_decode(chunk))
                buffer += value
                i += len(chunk) - 1
        elif char in (0x2C, 0x2B):  # , +
            if not attribute_type:
                raise DnSyntaxError("incomplete type, value pair")
            rdn.append((_go_string(attribute_type), _go_string(taken())))
            attribute_type = b""
            if char == 0x2C:
                rdns.append(rdn)
                rdn = []
        elif char == 0x20 and not buffer:
            pass
        else:
            trailing_spaces = trailing_spaces + 1 if char == 0x20 else 0
            buffer.append(char)
        i += 1
    if buffer:
        if not attribute_type:
            raise DnSyntaxError("DN ended with incomplete type, value pair")
        rdn.append((_go_string(attribute_type), _go_string(taken())))
        rdns.append(rdn)
    return rdns


def cn_from_dn(value: str) -> str:
    """docker_auth getCNFromDN: the value of the first CN (any case) of the first RDN that has one, else ``value``.

    docker_auth dereferences the nil result of a failed ParseDN and panics: the login fails, the client gets no
    answer. DirectoryLabelError then.
    """
    try:
        rdns = parse_dn(value)
    except DnSyntaxError as exc:
        raise DirectoryLabelError("parse_cn: %r is not a DN (%s): docker_auth panics and the login fails"
                                  % (value, exc)) from None
    for rdn in rdns:
        for attribute_type, attribute_value in rdn:
            if attribute_type.upper() == "CN":
                return attribute_value
    return value


def go_lower(text: str) -> str:
    """strings.ToLower: Unicode simple case mapping, one character at a time (no final sigma, İ gives i);
    bytes that are not UTF-8 become U+FFFD, unless the string is all ASCII."""
    if text.isascii():
        return text.lower()
    out = []
    for char in text:
        if "\udc80" <= char <= "\udcff":
            out.append("\ufffd")
        elif char == "\u0130":
            out.append("i")
        else:
            lower = char.lower()
            out.append(lower if len(lower) == 1 else char)
    return "".join(out)


def directory_labels(attributes: Mapping[str, Sequence[str]],
                     label_maps: Mapping[str, Mapping[str, Any]]) -> Dict[str, List[str]]:
    """docker_auth's labels of a directory person: getLabelsFromMap over the entry's ``attributes``.

    ``attributes``: the entry as the directory returns it (names as the server writes them); ``label_maps``:
    docker_auth's ``ldap_auth.labels``, {LABEL: {attribute, parse_cn, lower_case}}. As docker_auth:

    * the attribute name is compared exactly, case included (go-ldap's GetAttributeValues);
    * an attribute the entry does not have gives the label with no values (GetAttributeValues returns an
      empty, non-nil list); an attribute returned without values leaves the label out (a nil list); the
      difference counts: a ``${labels:LABEL}`` pattern matches nothing for a label with no values;
    * ``parse_cn`` replaces each value by cn_from_dn (DirectoryLabelError for a value that is not a DN),
      then ``lower_case`` lower-cases as Go does;
    * labels mapped from the same attribute share one list, changed in place: each gets the values after
      every mapping of that attribute (``lower_case`` on one lower-cases the others). docker_auth applies
      them in Go's random map order; here in the order of ``label_maps``, the same whenever the mappings
      commute (and two ``parse_cn`` on one attribute parse the cn again).

    DirectoryLabelError also for a label without ``attribute`` (docker_auth refuses every login then).
    """
    shared: Dict[str, List[str]] = {}
    labels: Dict[str, List[str]] = {}
    for key, mapping in label_maps.items():
        if not mapping.get("attribute"):
            raise DirectoryLabelError("Label %s is missing 'attribute' to map from" % key)
    for key, mapping in label_maps.items():
        attribute = str(mapping["attribute"])
        if attribute in attributes and not attributes[attribute]:
            continue
        values = shared.setdefault(attribute, list(attributes.get(attribute, ())))
        if mapping.get("parse_cn"):
            values[:] = [cn_from_dn(value) for value in values]
        if mapping.get("lower_case"):
            values[:] = [go_lower(value) for value in values]
        labels[key] = values
    return {key: list(values) for key, values in labels.items()}
