# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's static users as docker_auth sees them.

Pure Python, no Ansible import. A user is {name, password, groups, labels};
docker_auth knows only labels, so ``groups`` become the label ``group``
(here, and only here: the docker_auth role writes its config with
``config_users``, the checks and the access report use ``user_labels``).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Sequence, Tuple

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
