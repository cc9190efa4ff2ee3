# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""docker_auth 1.14.0's static ACL semantics: the simulator.

Pure Python, no Ansible import: what docker_auth grants a request, used by
the checks, the access report, the modules and the differential test. Every rule here follows
docker_auth's own code (auth_server/authz/acl.go at release 1.14.0):

* entries are tried in order; the first whose match conditions all hold
  decides; no matching entry grants nothing;
* ``actions: ["*"]`` (exactly one element) grants whatever was requested;
  otherwise the grant is the sorted intersection of requested and listed
  actions (a ``"*"`` next to other actions is a literal string);
* a pattern is first expanded with Go ``strings.NewReplacer`` semantics:
  ``${account}``, ``${type}``, ``${name}``, ``${service}`` (regex-quoted),
  then capture groups ``${field:N}`` (raw);
* ``/re/`` (longer than two characters) is an unanchored RE2 search,
  anything else a Go ``path.Match`` glob, where ``*`` does not cross ``/``;
  a pattern that does not compile matches nothing;
* ``${labels:KEY}`` is tried only when the plain match fails, with every
  combination of the request's label values (raw);
* ``match.labels`` needs, for each label, one request value matching;
* ``ip`` is an address or a CIDR.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ansible_collections.sovereign.registry.plugins.module_utils import _go

# A request as docker_auth sees it: account, type, name, service, ip,
# labels {key: [values]}, actions.
Request = Dict[str, Any]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

MATCH_FIELDS = ("account", "type", "name", "service")
ENTRY_KEYS = ("match", "actions", "comment")
MATCH_KEYS = ("account", "type", "name", "ip", "service", "labels")
# Registry token actions; "*" is "all" only as the sole element.
ACTIONS = ("pull", "push", "delete", "*")

# docker_auth's own expressions for placeholders and capture-group placeholders.
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
CAPTURE_GROUP = re.compile(r"\$\{(.+?):(\d+)\}")


def is_regex(pattern: str) -> bool:
    return len(pattern) > 2 and pattern[0] == "/" and pattern[-1] == "/"


def parse_ip_pattern(pattern: str) -> IPNetwork:
    """docker_auth parseIPPattern: an address (/32 or /128) or a CIDR."""
    try:
        return ipaddress.ip_network(ipaddress.ip_address(pattern))
    except ValueError:
        pass
    if "/" not in pattern:
        raise ValueError("%r is neither an IP address nor a CIDR" % pattern)
    # Go's ParseCIDR accepts host bits set and masks them.
    return ipaddress.ip_network(pattern, strict=False)


# ------------------------------------------------------------------- matching


def match_string(pattern: Optional[str], value: str, pairs: Sequence[Tuple[str, str]]) -> bool:
    """docker_auth matchString."""
    if pattern is None:
        return True
    expanded = _go.replace(pattern, pairs)
    if is_regex(expanded):
        try:
            return _go.re2_compile(expanded[1:-1]).search(value) is not None
        except ValueError:
            return False
    try:
        return _go.path_match(expanded, value)
    except _go.BadPattern:
        return False


def _match_with_labels(pattern: Optional[str], value: str, pairs: Sequence[Tuple[str, str]],
                       label_map: Dict[str, List[str]]) -> bool:
    if match_string(pattern, value, pairs):
        return True
    if pattern is None:
        return True
    sets = [
        [(placeholder, v) for v in values]
        for placeholder, values in sorted(label_map.items())
        if placeholder in pattern
    ]
    if not sets:
        return False
    for combination in itertools.product(*sets):
        if match_string(pattern, value, list(pairs) + list(combination)):
            return True
    return False


def request_vars(match: Mapping[str, Any], request: Request) -> List[Tuple[str, str]]:
    """The replacement pairs docker_auth builds for one entry and request."""
    pairs = [
        ("${account}", _go.quote_meta(request["account"])),
        ("${type}", _go.quote_meta(request["type"])),
        ("${name}", _go.quote_meta(request["name"])),
        ("${service}", _go.quote_meta(request["service"])),
    ]
    for field in MATCH_FIELDS:
        for found in CAPTURE_GROUP.finditer(match.get(field) or ""):
            key = _go.title(found.group(1))
            if key.lower() not in MATCH_FIELDS or key != key.lower().capitalize():
                continue
            source = match.get(key.lower())
            if source is None or len(source) < 2 or source[0] != "/" or source[-1] != "/":
                continue
            try:
                found_groups = _go.re2_compile(source[1:-1]).search(request[key.lower()])
            except ValueError:
                continue
            index = int(found.group(2))
            if found_groups is None or index < 1 or index > found_groups.re.groups:
                continue
            pairs.append((found.group(0), found_groups.group(index) or ""))
    return pairs


def match_conditions(match: Mapping[str, Any], request: Request) -> bool:
    """docker_auth MatchConditions.Matches."""
    pairs = request_vars(match, request)
    label_map = {"${labels:%s}" % key: list(values) for key, values in (request.get("labels") or {}).items()}
    for field in MATCH_FIELDS:
        if not _match_with_labels(match.get(field), request[field], pairs, label_map):
            return False
    if match.get("ip") is not None:
        if not request.get("ip"):
            return False
        try:
            if ipaddress.ip_address(request["ip"]) not in parse_ip_pattern(match["ip"]):
                return False
        except ValueError:
            return False
    for label, pattern in (match.get("labels") or {}).items():
        values = (request.get("labels") or {}).get(label) or []
        if not any(match_string(pattern, v, pairs) for v in values):
            return False
    return True


def normalise_request(request: Mapping[str, Any]) -> Request:
    """Fill in defaults; actions sorted as docker_auth sorts the scope's."""
    return {
        "account": request.get("account") or "",
        "type": request.get("type") or "repository",
        "name": request.get("name") or "",
        "service": request.get("service") or "",
        "ip": request.get("ip") or "",
        "labels": {k: list(v) for k, v in (request.get("labels") or {}).items()},
        "actions": sorted(request.get("actions") or []),
    }


def authorize(acl: Sequence[Mapping[str, Any]], request: Mapping[str, Any]) -> Tuple[List[str], Optional[int]]:
    """Return (granted actions, index of the deciding entry or None)."""
    request = normalise_request(request)
    for index, entry in enumerate(acl):
        if match_conditions(entry.get("match") or {}, request):
            actions = entry.get("actions") or []
            if len(actions) == 1 and actions[0] == "*":
                return sorted(request["actions"]), index
            return sorted(set(request["actions"]) & set(actions)), index
    return [], None


# ------------------------------------------------------------------- one entry against another


def _universal(pattern: Optional[str]) -> bool:
    """A pattern that matches every value (None, or a placeholder-free regex matching "")."""
    if pattern is None:
        return True
    if is_regex(pattern) and "${" not in pattern:
        try:
            return _go.re2_compile(pattern[1:-1]).search("") is not None
        except ValueError:
            return False
    return False


def covers(earlier: Mapping[str, Any], later: Mapping[str, Any]) -> bool:
    """True when every request matching `later` surely matches `earlier` too.

    Sure, not complete: the collection's own reasoning on docker_auth's semantics, so that the checks can warn
    about an entry that can never match.
    """
    a = earlier.get("match") or {}
    b = later.get("match") or {}
    for field in MATCH_FIELDS:
        if _universal(a.get(field)):
            continue
        if a.get(field) == b.get(field) and not CAPTURE_GROUP.search(a.get(field) or ""):
            continue
        return False
    if a.get("ip") is not None:
        if b.get("ip") is None:
            return False
        try:
            inner, outer = parse_ip_pattern(b["ip"]), parse_ip_pattern(a["ip"])
            if inner.version != outer.version or not inner.subnet_of(outer):  # type: ignore[arg-type]
                return False
        except (ValueError, TypeError):
            return False
    for key, pattern in (a.get("labels") or {}).items():
        if (b.get("labels") or {}).get(key) != pattern and not _universal(pattern):
            return False
    return True
