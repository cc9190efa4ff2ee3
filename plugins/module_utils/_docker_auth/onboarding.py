# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Onboarding: what a new user must pass before the docker_auth role's user_add entry point writes anything.

Pure Python, no Ansible import. Each check raises OnboardingError with a
message that names the item and the fix; the docker_auth_new_user_check
module runs them in the order user_add needs, with the password rules of
``_passwords`` and the users and ACL checks of ``acl`` between them.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Sequence

from ansible_collections.sovereign.registry.plugins.module_utils import _go
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.access import Matrix, beyond_anonymous, rights
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.users import CI_ACCOUNT_PREFIX, ci_project

KINDS = ("human", "ci")
# What a CI account gets on its project: a docker push asks for both.
CI_PROJECT_ACTIONS = ["pull", "push"]


class OnboardingError(ValueError):
    """A reason not to add the user; the message names it and the fix, and says nothing was changed."""


def check_name(name: str, kind: str, users: Sequence[Mapping[str, Any]]) -> None:
    """The name is given and nobody's yet, and a CI account's follows the CI convention (``ci_project``).

    The grammar of the name is the users check's (``user_errors``), run with the new user among the others.
    """
    if not name:
        problem = "give -e user=NAME"
    elif name in [user.get("name") for user in users]:
        problem = "that user exists already"
    elif kind == "ci" and ci_project(name) is None:
        problem = "a CI account is named %sPROJECT" % CI_ACCOUNT_PREFIX
    else:
        return
    raise OnboardingError("Cannot onboard %s: %s. Nothing was changed." % (name or "(no user given)", problem))


def known_groups(users: Sequence[Mapping[str, Any]], acl: Sequence[Any]) -> List[str]:
    """The groups a new user may join without starting one: those of a user, and those an ACL entry's
    ``match.labels.group`` names, each once, in that order."""
    found = [group for user in users for group in user.get("groups") or []]
    for entry in acl:
        match = entry.get("match") if isinstance(entry, dict) else None
        labels = match.get("labels") if isinstance(match, dict) else None
        if isinstance(labels, dict) and labels.get("group"):
            found.append(labels["group"])
    return list(dict.fromkeys(found))


def check_groups(groups: Sequence[str], users: Sequence[Mapping[str, Any]], acl: Sequence[Any], new_groups: bool) -> None:
    """Every group is known (``known_groups``), unless starting a new one is asked for."""
    known = known_groups(users, acl)
    unknown = [group for group in dict.fromkeys(groups) if group not in known]
    if unknown and not new_groups:
        raise OnboardingError(
            "Unknown group(s) %s: no user is in them and no ACL entry names them (known: %s). Check the spelling; to "
            "start a new group on purpose, set sovereign_registry_docker_auth_user_new_groups (-e user_new_groups=true)."
            % (", ".join(unknown), ", ".join(known) or "none"))


def check_files(users_file: str, vault_password_file: str) -> None:
    """The users file onboarding writes the user into, and the vault password file it encrypts with, exist."""
    if not (users_file and os.path.exists(users_file) and vault_password_file and os.path.exists(vault_password_file)):
        raise OnboardingError(
            "Onboarding writes the user, with its password vault-encrypted, into %s (set sovereign_registry_users_file to "
            "use another file; it must exist and define sovereign_registry_docker_auth_users), and needs "
            "sovereign_registry_vault_password_file (the file you give --vault-password-file). Nothing was changed."
            % users_file)


def ci_sample_repository(project: str) -> str:
    """A repository of a CI account's project. The ACL names the project only through a capture group, so who may
    do what there is asked about this one."""
    return project + "/example"


def ci_acl_entries() -> List[Dict[str, Any]]:
    """The ACL entries that confine every CI account to its project, in this order and before the entries for
    logged-in users: push and pull ``PROJECT/*``, then nothing else. The account patterns come from
    CI_ACCOUNT_PREFIX, the convention ``ci_project`` follows."""
    prefix = _go.quote_meta(CI_ACCOUNT_PREFIX)
    return [{"match": {"account": "/^%s(.+)$/" % prefix, "name": "${account:1}/*"}, "actions": list(CI_PROJECT_ACTIONS)},
            {"match": {"account": "/^%s/" % prefix}, "actions": []}]


def _entry_text(entry: Mapping[str, Any]) -> str:
    """An ACL entry as the inventory writes it, on one line."""
    match = ", ".join("%s: %s" % (field, json.dumps(pattern)) for field, pattern in entry["match"].items())
    return "{match: {%s}, actions: [%s]}" % (match, ", ".join(entry["actions"]))


def check_ci_confinement(name: str, project: str, matrix: Matrix) -> None:
    """Under the ACL, the CI account ``name`` may pull and push its project, and elsewhere nothing beyond what an
    anonymous client may (pull public repositories, the base images of its builds).

    ``matrix``: the access matrix with the account among the users and ``ci_sample_repository(project)`` among
    the repositories.
    """
    sample = ci_sample_repository(project)
    granted = rights(matrix)[name][sample]
    elsewhere = {label: actions for label, actions in beyond_anonymous(matrix)[name].items() if label != sample}
    if granted == CI_PROJECT_ACTIONS and not elsewhere:
        return
    beyond = "".join("%s: %s;" % (label, ",".join(actions)) for label, actions in elsewhere.items())
    raise OnboardingError(
        "The ACL does not confine %s to %s/*: it may %s there%s Put these entries before the entries for logged-in "
        "users: %s. Nothing was changed." % (
            name, project, ",".join(granted) or "nothing",
            ", and beyond what anyone may do elsewhere: " + beyond if beyond else ".",
            " and ".join(_entry_text(entry) for entry in ci_acl_entries())))
