# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_auth 1.14.0 static ACL semantics: matching, simulation, validation.

Pure Python, no Ansible import: shared by the docker_auth_acl and
docker_auth_access modules and by the tests. Every rule here follows
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

import functools
import ipaddress
import itertools
import re

MATCH_FIELDS = ("account", "type", "name", "service")
ENTRY_KEYS = ("match", "actions", "comment")
MATCH_KEYS = ("account", "type", "name", "ip", "service", "labels")
# Registry token actions; "*" is "all" only as the sole element.
ACTIONS = ("pull", "push", "delete", "*")

# docker_auth's own expression for capture-group placeholders.
_CAPTURE_GROUP = re.compile(r"\$\{(.+?):(\d+)\}")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
# Go regexp.QuoteMeta escapes exactly these bytes.
_GO_SPECIAL = set("\\.+*?()|[]{}^$")


class BadPattern(ValueError):
    """A glob Go's path.Match rejects (path.ErrBadPattern)."""


# ---------------------------------------------------------------- Go semantics


def go_quote_meta(text):
    """Go regexp.QuoteMeta."""
    return "".join("\\" + c if c in _GO_SPECIAL else c for c in text)


def go_replace(text, pairs):
    """Go strings.NewReplacer(old1, new1, ...).Replace(text).

    Scans left to right; at each position the earliest pair in argument
    order whose old string starts there wins; replaced text is not rescanned.
    """
    olds = [(old, new) for old, new in pairs if old]
    if not olds:
        return text
    out = []
    i = 0
    while i < len(text):
        for old, new in olds:
            if text.startswith(old, i):
                out.append(new)
                i += len(old)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _scan_chunk(pattern):
    star = False
    while pattern and pattern[0] == "*":
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 < len(pattern):
                i += 1
        elif c == "[":
            in_range = True
        elif c == "]":
            in_range = False
        elif c == "*" and not in_range:
            return star, pattern[:i], pattern[i:]
        i += 1
    return star, pattern, ""


def _get_esc(chunk):
    if not chunk or chunk[0] in "-]":
        raise BadPattern(chunk)
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern(chunk)
    rune, rest = chunk[0], chunk[1:]
    if not rest:
        raise BadPattern(chunk)
    return rune, rest


def _match_chunk(chunk, s):
    """Return the rest of s after chunk matched its start, or None; raise on a bad chunk."""
    failed = False
    while chunk:
        failed = failed or not s
        c = chunk[0]
        if c == "[":
            r = None
            if not failed:
                r, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = False
            if chunk and chunk[0] == "^":
                negated = True
                chunk = chunk[1:]
            matched = False
            nrange = 0
            while True:
                if chunk and chunk[0] == "]" and nrange > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[0] == "-":
                    hi, chunk = _get_esc(chunk[1:])
                matched = matched or (r is not None and lo <= r <= hi)
                nrange += 1
            failed = failed or matched == negated
        elif c == "?":
            if not failed:
                failed = s[0] == "/"
                s = s[1:]
            chunk = chunk[1:]
        else:
            if c == "\\":
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern(chunk)
            if not failed:
                failed = chunk[0] != s[0]
                s = s[1:]
            chunk = chunk[1:]
    return None if failed else s


def go_path_match(pattern, name):
    """Go path.Match: True/False, or BadPattern for a malformed pattern."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and chunk == "":
            return "/" not in name
        rest = _match_chunk(chunk, name)
        if rest is not None and (rest == "" or pattern):
            name = rest
            continue
        if star:
            i = 0
            advanced = False
            while i < len(name) and name[i] != "/":
                rest = _match_chunk(chunk, name[i + 1:])
                if rest is not None:
                    if not pattern and rest:
                        i += 1
                        continue
                    name = rest
                    advanced = True
                    break
                i += 1
            if advanced:
                continue
        while pattern:
            _star, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, "")
        return False
    return name == ""


def _re2():
    try:
        import re2  # google-re2: the engine Go's regexp follows
    except ImportError as exc:  # pragma: no cover - depends on the host
        raise ImportError("the Python package 'google-re2' is needed: pip install google-re2") from exc
    return re2


@functools.lru_cache(maxsize=4096)
def _re2_compile_or_error(expression):
    re2 = _re2()
    try:
        options = re2.Options()
        options.log_errors = False
        return re2.compile(expression, options), None
    except re2.error as exc:
        message = exc.args[0] if exc.args else str(exc)
        return None, message.decode() if isinstance(message, bytes) else str(message)


def re2_compile(expression):
    """Compile with RE2 like Go's regexp.Compile; raise ValueError if refused."""
    compiled, error = _re2_compile_or_error(expression)
    if error is not None:
        raise ValueError(error)
    return compiled


def is_regex(pattern):
    return len(pattern) > 2 and pattern[0] == "/" and pattern[-1] == "/"


def parse_ip_pattern(pattern):
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


def match_string(pattern, value, pairs):
    """docker_auth matchString."""
    if pattern is None:
        return True
    expanded = go_replace(pattern, pairs)
    if is_regex(expanded):
        try:
            return re2_compile(expanded[1:-1]).search(value) is not None
        except ValueError:
            return False
    try:
        return go_path_match(expanded, value)
    except BadPattern:
        return False


def _match_with_labels(pattern, value, pairs, label_map):
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


def _title(word):
    """Go strings.Title: upper-case the first letter of every word."""
    out = []
    previous_letter = False
    for c in word:
        out.append(c.upper() if not previous_letter and c.isalpha() else c)
        previous_letter = c.isalnum() or c == "_"
    return "".join(out)


def request_vars(match, request):
    """The replacement pairs docker_auth builds for one entry and request."""
    pairs = [
        ("${account}", go_quote_meta(request["account"])),
        ("${type}", go_quote_meta(request["type"])),
        ("${name}", go_quote_meta(request["name"])),
        ("${service}", go_quote_meta(request["service"])),
    ]
    for field in MATCH_FIELDS:
        for found in _CAPTURE_GROUP.finditer(match.get(field) or ""):
            key = _title(found.group(1))
            if key.lower() not in MATCH_FIELDS or key != key.lower().capitalize():
                continue
            source = match.get(key.lower())
            if source is None or len(source) < 2 or source[0] != "/" or source[-1] != "/":
                continue
            try:
                found_groups = re2_compile(source[1:-1]).search(request[key.lower()])
            except ValueError:
                continue
            index = int(found.group(2))
            if found_groups is None or index < 1 or index > found_groups.re.groups:
                continue
            pairs.append((found.group(0), found_groups.group(index) or ""))
    return pairs


def match_conditions(match, request):
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


def normalise_request(request):
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


def authorize(acl, request):
    """Return (granted actions, index of the deciding entry or None)."""
    request = normalise_request(request)
    for index, entry in enumerate(acl):
        if match_conditions(entry.get("match") or {}, request):
            actions = entry.get("actions") or []
            if len(actions) == 1 and actions[0] == "*":
                return sorted(request["actions"]), index
            return sorted(set(request["actions"]) & set(actions)), index
    return [], None
