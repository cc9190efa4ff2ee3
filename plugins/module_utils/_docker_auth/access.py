# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Who may do what: every identity against every repository pattern of the ACL, with docker_auth's semantics.

Pure Python, no Ansible import. Used by the checks (a logged-in account
that gets less than an anonymous client), the access report, and the
docker_auth_access module (each identity's rights).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.authz import authorize, is_regex
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.users import identities

# {'identities': [...], 'rows': [{'label', 'repository', 'cells': {who: {'actions', 'entry'}}}]}
Matrix = Dict[str, Any]

REQUEST_ACTIONS = ["delete", "pull", "push"]
OTHER_REPOSITORY = "othernamespace/example"


def _sample(pattern: str) -> Optional[str]:
    """A repository name a glob surely matches, or None."""
    if "[" in pattern or "\\" in pattern:
        return None
    return pattern.replace("*", "example").replace("?", "x")


def repository_rows(acl: Sequence[Any], users: Sequence[Any], anonymous: bool,
                    repositories: Sequence[str] = ()) -> List[Tuple[str, str]]:
    """[(row label, sample repository)] covering every name pattern of the ACL."""
    rows: List[Tuple[str, str]] = []
    people = identities(users, anonymous)
    for entry in acl:
        match = entry.get("match") if isinstance(entry, dict) else None
        pattern = match.get("name") if isinstance(match, dict) else None
        if not isinstance(pattern, str) or is_regex(pattern):
            continue
        expansions: List[str] = []
        if "${" not in pattern:
            expansions = [pattern]
        else:
            for _who, account, labels in people:
                if not account and "${account}" in pattern:
                    continue
                base = pattern.replace("${account}", account)
                keys = re.findall(r"\$\{labels:([^}]+)\}", base)
                combos = [base]
                for key in keys:
                    combos = [c.replace("${labels:%s}" % key, v) for c in combos for v in labels.get(key, [])]
                expansions += [c for c in combos if "${" not in c]
        for label in expansions:
            sample = _sample(label)
            if sample:
                rows.append((label, sample))
    rows += [(r, r) for r in repositories]
    rows.append(("any other repository", OTHER_REPOSITORY))
    seen: Set[str] = set()
    unique: List[Tuple[str, str]] = []
    for row in rows:
        if row[0] not in seen:
            seen.add(row[0])
            unique.append(row)
    return unique


def access_matrix(acl: Sequence[Any], users: Sequence[Any], anonymous: bool, repositories: Sequence[str] = (),
                  service: str = "") -> Matrix:
    """{'identities': [...], 'rows': [{'label', 'repository', 'cells': {who: {'actions', 'entry'}}}]}"""
    people = identities(users, anonymous)
    rows: List[Dict[str, Any]] = []
    for label, repository in repository_rows(acl, users, anonymous, repositories):
        cells: Dict[str, Dict[str, Any]] = {}
        for who, account, labels in people:
            granted, index = authorize(acl, {"account": account, "labels": labels, "type": "repository",
                                             "name": repository, "service": service, "actions": REQUEST_ACTIONS})
            cells[who] = {"actions": granted, "entry": index}
        rows.append({"label": label, "repository": repository, "cells": cells})
    return {"identities": [p[0] for p in people], "rows": rows}


def rights(matrix: Matrix) -> Dict[str, Dict[str, List[str]]]:
    """{identity: {repository pattern: actions granted}} from an access matrix."""
    return {who: {row["label"]: row["cells"][who]["actions"] for row in matrix["rows"]}
            for who in matrix["identities"]}


def beyond_anonymous(matrix: Matrix) -> Dict[str, Dict[str, List[str]]]:
    """{identity: {repository pattern: actions granted beyond what an anonymous client gets}}, non-empty only."""
    anonymous = rights(matrix).get("anonymous", {})
    out: Dict[str, Dict[str, List[str]]] = {}
    for who, granted in rights(matrix).items():
        extra = {label: [a for a in actions if a not in anonymous.get(label, [])] for label, actions in granted.items()}
        out[who] = {label: actions for label, actions in extra.items() if actions}
    return out


def less_than_anonymous(matrix: Matrix, row: Dict[str, Any]) -> List[str]:
    """The logged-in identities that get fewer actions than an anonymous client on this row."""
    if "anonymous" not in matrix["identities"]:
        return []
    anonymous = set(row["cells"]["anonymous"]["actions"])
    return [who for who in matrix["identities"] if who != "anonymous" and anonymous - set(row["cells"][who]["actions"])]
