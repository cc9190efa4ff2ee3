# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Check docker_auth users and ACL before anything is deployed.

Pure Python, no Ansible import. Errors are mistakes docker_auth would
refuse, silently ignore, or evaluate differently from what was written;
warnings are entries that are legal but almost certainly not meant.
Each finding names where it is (``acl[3].match.name``) and the fix.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set

from ansible_collections.sovereign.registry.plugins.module_utils import _go
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.access import (
    Matrix,
    access_matrix,
    less_than_anonymous,
)
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.authz import (
    ACTIONS,
    CAPTURE_GROUP,
    ENTRY_KEYS,
    MATCH_FIELDS,
    MATCH_KEYS,
    PLACEHOLDER,
    covers,
    is_regex,
    match_string,
    parse_ip_pattern,
)
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.users import user_errors, user_labels

# A regex with one of these is taken to name something literally.
_LITERAL = re.compile(r"[A-Za-z0-9_-]")


class Finding(Dict[str, str]):
    """{'level': 'error'|'warning', 'where': ..., 'message': ...}"""

    def __str__(self) -> str:
        return "%s: %s" % (self["where"], self["message"])


def _check_placeholders(where: str, pattern: str, match: Mapping[str, Any], findings: List[Finding],
                        in_labels: bool) -> None:
    for found in PLACEHOLDER.finditer(pattern):
        inner = found.group(1)
        if inner in MATCH_FIELDS:
            continue
        if inner.startswith("labels:") and len(inner) > len("labels:"):
            if in_labels:
                findings.append(Finding(level="error", where=where, message=(
                    "%s is not expanded inside match.labels (docker_auth only expands label placeholders in "
                    "account, type, name and service)") % found.group(0)))
            continue
        capture = re.match(r"^(account|type|name|service):(\d+)$", inner)
        if capture:
            source = match.get(capture.group(1))
            if not isinstance(source, str) or not is_regex(source):
                findings.append(Finding(level="error", where=where, message=(
                    "%s refers to match.%s, which is not a /regex/: docker_auth leaves it unexpanded; make "
                    "match.%s a /regex/ with a capture group") % (found.group(0), capture.group(1), capture.group(1))))
                continue
            try:
                groups = _go.re2_compile(source[1:-1]).groups
            except ValueError:
                continue  # reported on the source field
            if not 1 <= int(capture.group(2)) <= groups:
                findings.append(Finding(level="error", where=where, message=(
                    "%s: match.%s has %d capture group(s); number them from 1") % (found.group(0), capture.group(1), groups)))
            continue
        findings.append(Finding(level="error", where=where, message=(
            "unknown placeholder %s; docker_auth knows ${account}, ${type}, ${name}, ${service}, "
            "${labels:KEY} and capture groups ${account:N}, ${type:N}, ${name:N}, ${service:N}") % found.group(0)))
    # docker_auth finds capture groups with the lazy expression \$\{(.+?):(\d+)\}: an
    # earlier placeholder in the same field swallows the capture group.
    for found in CAPTURE_GROUP.finditer(pattern):
        if "}" in found.group(1):
            findings.append(Finding(level="error", where=where, message=(
                "docker_auth reads %r as one placeholder, so the capture group in it is never expanded; "
                "put the capture group before any other placeholder in this field") % found.group(0)))


def _check_pattern(where: str, field: str, pattern: Any, match: Mapping[str, Any], findings: List[Finding],
                   in_labels: bool = False) -> None:
    if not isinstance(pattern, str):
        findings.append(Finding(level="error", where=where, message="must be a string pattern"))
        return
    _check_placeholders(where, pattern, match, findings, in_labels)
    if is_regex(pattern):
        body = pattern[1:-1]
        try:
            _go.re2_compile(body)
        except ValueError as exc:
            findings.append(Finding(level="error", where=where, message=(
                "RE2 (the engine docker_auth's Go regexp uses) refuses %s: %s. docker_auth would not start; "
                "Perl look-arounds and back-references do not exist in RE2") % (pattern, exc)))
            return
        if not body.startswith("^") and not body.endswith("$") and _LITERAL.search(body):
            findings.append(Finding(level="warning", where=where, message=(
                "%s is unanchored: docker_auth searches anywhere in the value (/ci/ also matches 'circleci'); "
                "write /^%s$/ unless a substring match is meant") % (pattern, body.lstrip("^").rstrip("$"))))
        return
    try:
        _go.path_match(pattern, "")
    except _go.BadPattern:
        findings.append(Finding(level="error", where=where, message=(
            "%r is not a valid glob (Go path.Match): check '[' ranges and trailing '\\'; docker_auth would "
            "never match it") % pattern))
        return
    if field == "name" and pattern.endswith("/*"):
        prefix = pattern[:-2]
        findings.append(Finding(level="warning", where=where, message=(
            "%r matches one level only: '*' does not cross '/', so %s/a matches but %s/a/b does not; add an "
            "entry for deeper names or use the regex /^%s/.+$/") % (pattern, prefix, prefix, _regex_literal(prefix))))


def _regex_literal(text: str) -> str:
    """Quote text for a regex, keeping docker_auth placeholders as they are."""
    parts = re.split(r"(\$\{[^}]*\})", text)
    return "".join(part if part.startswith("${") else _go.quote_meta(part) for part in parts)


def _check_entry(i: int, entry: Any, findings: List[Finding]) -> None:
    where = "acl[%d]" % i
    if not isinstance(entry, dict):
        findings.append(Finding(level="error", where=where, message="must be a mapping with match, actions, comment"))
        return
    for key in sorted(set(entry) - set(ENTRY_KEYS)):
        fix = ("docker_auth ignores it, so it does nothing; to require a login put account: \"/.+/\" into match"
               if key == "require_account" else "docker_auth silently ignores unknown keys; an entry has match, actions, comment")
        findings.append(Finding(level="error", where="%s.%s" % (where, key), message="unknown key: " + fix))
    match = entry.get("match")
    if not isinstance(match, dict):
        findings.append(Finding(level="error", where=where + ".match", message=(
            "missing or not a mapping: docker_auth crashes on an entry without match; use match: {} to match everything")))
        match = {}
    for key in sorted(set(match) - set(MATCH_KEYS)):
        findings.append(Finding(level="error", where="%s.match.%s" % (where, key), message=(
            "unknown match key (docker_auth silently ignores it, so the entry matches more than written); "
            "known: %s") % ", ".join(MATCH_KEYS)))
    actions = entry.get("actions")
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        findings.append(Finding(level="error", where=where + ".actions", message=(
            "missing or not a list of strings: docker_auth crashes when such an entry matches; e.g. actions: [pull]")))
    else:
        for action in actions:
            if action not in ACTIONS:
                findings.append(Finding(level="error", where=where + ".actions", message=(
                    "unknown action %r; the registry asks for pull, push, delete (and * for the catalog); "
                    "[\"*\"] alone grants everything asked") % action))
        if "*" in actions and len(actions) > 1:
            findings.append(Finding(level="error", where=where + ".actions", message=(
                "'*' means all actions only when it is the only element; next to others docker_auth treats it as "
                "the literal action '*'. Write actions: [\"*\"] or list the actions")))
        if "push" in actions and "pull" not in actions and actions != ["*"]:
            findings.append(Finding(level="warning", where=where + ".actions", message=(
                "grants push without pull: a docker push asks for pull,push and the registry needs both, so this "
                "push fails; add pull")))
    for field in MATCH_FIELDS:
        if field in match and match[field] is not None:
            _check_pattern("%s.match.%s" % (where, field), field, match[field], match, findings)
    if match.get("ip") is not None:
        try:
            parse_ip_pattern(str(match["ip"]))
        except ValueError:
            findings.append(Finding(level="error", where=where + ".match.ip", message=(
                "%r is neither an IP address nor a CIDR such as 10.0.0.0/8; docker_auth would not start") % (match["ip"],)))
    labels = match.get("labels")
    if labels is not None and not isinstance(labels, dict):
        findings.append(Finding(level="error", where=where + ".match.labels", message="must be a mapping {label: pattern}"))
    for key, pattern in (labels or {}).items() if isinstance(labels, dict) else []:
        _check_pattern("%s.match.labels.%s" % (where, key), "labels", pattern, match, findings, in_labels=True)


def _label_findings(acl: Sequence[Any], users: Sequence[Any], findings: List[Finding],
                    provided: Optional[Set[str]] = None) -> None:
    """provided: labels the directory gives people, whatever their values (not known offline)."""
    provided = provided or set()
    all_labels: Dict[str, Set[str]] = {}
    for user in users:
        if isinstance(user, dict):
            for key, values in user_labels(user).items():
                all_labels.setdefault(key, set()).update(values if isinstance(values, list) else [])
    for i, entry in enumerate(acl):
        match = entry.get("match") if isinstance(entry, dict) else None
        if not isinstance(match, dict):
            continue
        for field in MATCH_FIELDS:
            pattern = match.get(field)
            for key in re.findall(r"\$\{labels:([^}]+)\}", pattern if isinstance(pattern, str) else ""):
                if key not in all_labels and key not in provided:
                    findings.append(Finding(level="warning", where="acl[%d].match.%s" % (i, field), message=(
                        "${labels:%s}: no user has the label %r and the directory gives none, so this never matches")
                        % (key, key)))
        for key, pattern in (match.get("labels") or {}).items() if isinstance(match.get("labels"), dict) else []:
            label_values = all_labels.get(key, set())
            if not isinstance(pattern, str) or key in provided:
                continue
            if not any(match_string(pattern, v, []) for v in label_values):
                what = "group" if key == "group" else "label %s" % key
                findings.append(Finding(level="warning", where="acl[%d].match.labels.%s" % (i, key), message=(
                    "no user is in %s %r, so this entry never matches; check the spelling or add the %s to a user") % (
                    what, pattern, "group" if key == "group" else "label")))


def _inversion_findings(acl: Sequence[Any], matrix: Matrix, level: str, findings: List[Finding]) -> None:
    """One finding per repository pattern where logged-in accounts get less than an anonymous client."""
    for row in matrix["rows"]:
        affected = less_than_anonymous(matrix, row)
        if not affected:
            continue
        anonymous = row["cells"]["anonymous"]["actions"]
        # Before the first entry that decides for an affected account, so that
        # no entry above it changes meaning; at the end if none decides.
        deciding = [row["cells"][who]["entry"] for who in affected if row["cells"][who]["entry"] is not None]
        place = "at the end"
        if deciding:
            first = min(deciding)
            comment = acl[first].get("comment")
            place = "before acl[%d]%s" % (first, " (%s)" % comment if comment else "")
        fix = '{match: {account: "/.+/", name: "%s"}, actions: [%s]}' % (row["label"], ", ".join(anonymous))
        findings.append(Finding(level=level, where="acl (%s)" % row["label"], message=(
            "logged-in accounts get less than an anonymous client on %s: anonymous may %s; %s. A client that has "
            "logged in (docker login, a CI job) never falls back to the anonymous rules. Add %s the entry %s, "
            "or set anonymous_inversion: warning to accept it") % (
            row["label"], ",".join(anonymous),
            ", ".join("%s may %s" % (who, ",".join(row["cells"][who]["actions"]) or "nothing") for who in affected),
            place, fix)))


def _shadowed_identities(users: Sequence[Any], identities: Sequence[Any], findings: List[Finding]) -> None:
    static = {user.get("name") for user in users if isinstance(user, dict)}
    for i, identity in enumerate(identities):
        if isinstance(identity, dict) and identity.get("name") in static:
            findings.append(Finding(level="error", where="directory.identities[%d].name" % i, message=(
                "%r is also a static user: docker_auth tries static users first, so the static password would log "
                "in as %r with the static groups, and the directory's password, groups and disabling would never "
                "apply to that name; rename or remove the static account") % (identity["name"], identity["name"])))


def check(acl: Any, users: Any, anonymous: bool = True, repositories: Sequence[str] = (),
          anonymous_inversion: str = "error", directory: Optional[Mapping[str, Any]] = None) -> List[Finding]:
    """Return the findings for users and ACL, errors first.

    anonymous_inversion: the level of "a logged-in account gets less than an
    anonymous client" (error or warning). directory: the people of a
    directory (LDAP), ``labels`` (the label names it gives) and
    ``identities`` (sample people, as static users without password); they
    count as users everywhere.
    """
    findings: List[Finding] = []
    if not isinstance(users, list):
        return [Finding(level="error", where="users", message="must be a list")]
    if not isinstance(acl, list):
        return [Finding(level="error", where="acl", message="must be a list of entries")]
    identities = list((directory or {}).get("identities") or [])
    provided = set((directory or {}).get("labels") or [])
    for name_of_list, people in (("users", users), ("directory.identities", identities)):
        findings += [Finding(level="error", where=where, message=message) for where, message in user_errors(people, name_of_list)]
    _shadowed_identities(users, identities, findings)
    for i, entry in enumerate(acl):
        _check_entry(i, entry, findings)
    if any(f["level"] == "error" for f in findings):
        return findings
    for j in range(len(acl)):
        for i in range(j):
            if covers(acl[i], acl[j]):
                findings.append(Finding(level="warning", where="acl[%d]" % j, message=(
                    "can never match: acl[%d]%s matches every request this entry matches, and the first matching "
                    "entry wins; move this entry up or remove it") % (
                    i, " (%s)" % acl[i]["comment"] if acl[i].get("comment") else "")))
                break
    everyone = list(users) + identities
    _label_findings(acl, everyone, findings, provided)
    _inversion_findings(acl, access_matrix(acl, everyone, anonymous, repositories), anonymous_inversion, findings)
    return sorted(findings, key=lambda f: 0 if f["level"] == "error" else 1)


def failure_message(errors: Sequence[Mapping[str, str]], warnings: Sequence[Mapping[str, str]]) -> str:
    """What a check of users and ACL fails with: how many errors and warnings, then each error (each warning
    when there is no error)."""
    shown = errors or warnings
    return "docker_auth users/ACL: %d error(s), %d warning(s): %s" % (
        len(errors), len(warnings), "; ".join("%s: %s" % (f["where"], f["message"]) for f in shown))
