# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's static users as docker_auth sees them.

Pure Python, no Ansible import. A user is {name, password, groups, labels};
docker_auth knows only labels, so ``groups`` become the label ``group``
(here, and only here: the docker_auth role writes its config with
``config_users``, the checks and the access report use ``user_labels``).
The rules of a user entry live here too (``user_errors``).

People in a directory get their labels from attributes of their entry:
``directory_labels`` does what docker_auth 1.14.0's LDAP authenticator does
(``getLabelsFromMap`` and ``getCNFromDN`` in ``auth_server/authn/ldap_auth.go``,
on go-ldap v3.0.3's ``ParseDN`` and ``Entry.GetAttributeValues``).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Sequence, Set, Tuple

from ansible_collections.sovereign.registry.plugins.module_utils._ldap.client import LdapError, decode_tlv
from ansible_collections.sovereign.registry.plugins.module_utils._passwords import check_cost

Labels = Dict[str, List[str]]
# (display name, account, labels) of one identity that can ask for a token.
Identity = Tuple[str, str, Labels]

USER_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
USER_NAME_MAX = 64
LABEL_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")
# Label values are put into patterns unescaped: no glob or regex syntax.
LABEL_VALUE = re.compile(r"^[A-Za-z0-9_.-]+$")
USER_KEYS = ("name", "password", "groups", "labels", "bcrypt_cost")
# A logged-in user with no groups or labels: what the next user onboarded gets.
OTHER_USER: Identity = ("any other user", "otheruser", {})


def user_labels(user: Mapping[str, Any]) -> Labels:
    """docker_auth labels of a user: its `labels` plus `groups` as label `group`."""
    labels = {k: list(v) for k, v in (user.get("labels") or {}).items()}
    if user.get("groups"):
        labels["group"] = list(labels.get("group", [])) + list(user["groups"])
    return labels


def identities(users: Sequence[Any], anonymous: bool) -> List[Identity]:
    """Everyone who can ask for a token: anonymous, each user, and any other user."""
    out: List[Identity] = [("anonymous", "", {})] if anonymous else []
    out += [(u["name"], u["name"], user_labels(u)) for u in users if isinstance(u, dict) and u.get("name")]
    if OTHER_USER[1] not in [person[1] for person in out]:
        out.append(OTHER_USER)
    return out


def config_users(users: Sequence[Mapping[str, Any]], hashes: Mapping[str, str]) -> Dict[str, Dict[str, Any]]:
    """docker_auth's `users:` mapping: each user's password hash and labels (none when empty)."""
    out: Dict[str, Dict[str, Any]] = {}
    for user in users:
        entry: Dict[str, Any] = {"password": hashes[user["name"]]}
        labels = user_labels(user)
        if labels:
            entry["labels"] = labels
        out[user["name"]] = entry
    return out


def user_errors(users: Sequence[Any], name_of_list: str = "users") -> List[Tuple[str, str]]:
    """(where, what to fix) for each user entry docker_auth cannot take as written: these rules are defined here."""
    errors: List[Tuple[str, str]] = []
    seen: Set[Any] = set()
    for i, user in enumerate(users):
        where = "%s[%d]" % (name_of_list, i)
        if not isinstance(user, dict):
            errors.append((where, "must be a mapping with name, groups, labels"))
            continue
        unknown = sorted(set(user) - set(USER_KEYS))
        if unknown:
            errors.append((where, "unknown keys %s; a user has name, password, groups, labels, bcrypt_cost"
                           % ", ".join(unknown)))
        name = user.get("name")
        if name == "":
            errors.append((where + ".name",
                           "the empty name is docker_auth's anonymous account; set anonymous: true instead"))
        elif not isinstance(name, str) or not USER_NAME.match(name) or len(name) > USER_NAME_MAX:
            errors.append((where + ".name", (
                "%r cannot be a docker_auth account here: use lower case letters and digits separated by single "
                "'.', '_' or '-', at most 64 characters (a ':' would split the login, and the name is also the "
                "user's repository namespace)") % (name,)))
        elif name in seen:
            errors.append((where + ".name", "user %r is defined twice; keep one entry" % name))
        seen.add(name)
        if user.get("bcrypt_cost") is not None:
            try:
                check_cost(user["bcrypt_cost"])
            except ValueError as exc:
                errors.append((where + ".bcrypt_cost",
                               "bcrypt %s; leave it out for the default of the account's kind" % exc))
        groups = user.get("groups") or []
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            errors.append((where + ".groups", "must be a list of group names"))
            continue
        labels = user.get("labels") or {}
        if not isinstance(labels, dict):
            errors.append((where + ".labels", "must be a mapping {label: [values]}"))
            continue
        for key, values in labels.items():
            if not isinstance(key, str) or not LABEL_KEY.match(key):
                errors.append(("%s.labels.%s" % (where, key), "label names may hold letters, digits, '_', '.', '-' only"))
            if not isinstance(values, list):
                errors.append(("%s.labels.%s" % (where, key), "must be a list of values"))
        for key, values in user_labels(user).items():
            for value in values if isinstance(values, list) else []:
                if not isinstance(value, str) or not LABEL_VALUE.match(value):
                    errors.append(("%s.%s" % (where, "groups" if key == "group" else "labels." + key), (
                        "%r: docker_auth puts label values into ACL patterns unescaped, so only letters, digits, "
                        "'_', '.', '-' are safe") % (value,)))
    return errors


# --- labels of directory people ----------------------------------------------------------------------------------


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
