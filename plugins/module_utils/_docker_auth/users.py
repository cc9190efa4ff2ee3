# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""The collection's static users as docker_auth sees them.

Pure Python, no Ansible import. A user is {name, password, groups, labels};
docker_auth knows only labels, so ``groups`` become the label ``group``
(here, and only here: the docker_auth role writes its config with
``config_users``, the checks and the access report use ``user_labels``).
The rules of a user entry live here too (``user_errors``), with the
grammars of user names and label names (``is_user_name``, ``is_label_key``),
the CI-account convention (``ci_project``) and the shape of a directory's
label map (``label_map_errors``).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

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
# A CI account is named ci-PROJECT; the ACL confines it to PROJECT/* (see ci_project).
CI_ACCOUNT_PREFIX = "ci-"
# What docker_auth 1.14.0 reads of one label of a directory person (ldap_auth.labels).
LABEL_MAP_KEYS = ("attribute", "parse_cn", "lower_case")
# A logged-in user with no groups or labels: what the next user onboarded gets.
OTHER_USER: Identity = ("any other user", "otheruser", {})


def is_user_name(name: Any) -> bool:
    """Whether docker_auth can take ``name`` as an account here: lower case letters and digits separated by single
    '.', '_' or '-', at most USER_NAME_MAX characters (a ':' would split the login, and the name is also the
    user's repository namespace)."""
    return isinstance(name, str) and bool(USER_NAME.match(name)) and len(name) <= USER_NAME_MAX


def is_label_key(key: Any) -> bool:
    """Whether ``key`` can name a docker_auth label: letters, digits, '_', '.', '-'."""
    return isinstance(key, str) and bool(LABEL_KEY.match(key))


def ci_project(account: Any) -> Optional[str]:
    """The project of a CI account, None for any other name.

    The convention: a CI account is named ``ci-PROJECT``, a user name as a whole; it may push and pull
    ``PROJECT/*`` and nothing more than anyone may elsewhere. Onboarding, the CI ACL entries it proposes and
    the bcrypt cost of a generated CI secret all follow it from here.
    """
    if is_user_name(account) and account.startswith(CI_ACCOUNT_PREFIX):
        return str(account[len(CI_ACCOUNT_PREFIX):])
    return None


def label_map_errors(label_maps: Any) -> List[str]:
    """What is wrong with a directory's label map, docker_auth's ``ldap_auth.labels``
    ``{LABEL: {attribute: ATTRIBUTE, parse_cn: BOOL, lower_case: BOOL}}``; empty when nothing is."""
    if not isinstance(label_maps, Mapping):
        return ["must be a mapping {LABEL: {attribute: ATTRIBUTE, parse_cn: true|false, lower_case: true|false}}"]
    errors: List[str] = []
    for key, mapping in label_maps.items():
        if not is_label_key(key):
            errors.append("%r: label names may hold letters, digits, '_', '.', '-' only" % (key,))
        if not isinstance(mapping, Mapping):
            errors.append("%s: must be a mapping {attribute: ATTRIBUTE, parse_cn: true|false, lower_case: true|false}"
                          % (key,))
            continue
        if not mapping.get("attribute"):
            errors.append("%s: attribute is missing, the attribute of the person's entry to take the values from"
                          % (key,))
        unknown = sorted(str(name) for name in mapping if name not in LABEL_MAP_KEYS)
        if unknown:
            errors.append("%s: unknown keys %s; docker_auth reads %s" % (key, ", ".join(unknown), ", ".join(LABEL_MAP_KEYS)))
    return errors


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
        elif not is_user_name(name):
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
            if not is_label_key(key):
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
