#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_auth_new_user_check
short_description: Check a user before onboarding adds it to docker_auth
version_added: "0.2.0"
description:
  - Everything the docker_auth role's C(user_add) entry point checks before it writes anything, in one call, on the
    controller. Fails at the first check that does not pass, with a message that names the item and the fix.
  - "In this order: a name is given (O(name)) and is nobody's yet; a CI account (O(kind=ci)) is named C(ci-PROJECT);
    each of O(groups) is some user's or named by an ACL entry's C(match.labels.group), unless O(new_groups);
    O(users_file) and O(vault_password_file) exist; O(password), when given, meets every password rule (as
    M(sovereign.registry.bcrypt_hash) checks them: length, the examples published with this collection, zxcvbn's
    strength); the users and ACL with the new user pass every check of M(sovereign.registry.docker_auth_acl) (the
    name's grammar among them); and under the ACL a CI account may push and pull C(PROJECT/*) and elsewhere
    nothing beyond what an anonymous client may."
  - Returns what the new user may do, for onboarding to print, and a CI account's project.
  - Runs on the controller; it changes nothing.
author:
  - sovereign.registry maintainers (@sovereign-registry)
extends_documentation_fragment:
  - sovereign.registry.attributes
  - sovereign.registry.attributes.read_only
  - sovereign.registry.docker_auth_users_acl
options:
  name:
    description: The account to add; empty fails, asking for one.
    type: str
    required: true
  kind:
    description:
      - C(human) for a person; C(ci) for a CI account, which must be named C(ci-PROJECT) and be confined by the
        ACL to C(PROJECT/*).
    type: str
    choices: [human, ci]
    default: human
  groups:
    description: Its groups.
    type: list
    elements: str
    default: []
  new_groups:
    description: Let it start a group that no user is in and no ACL entry names.
    type: bool
    default: false
  password:
    description: Its password; left out, nothing is checked (onboarding generates one).
    type: str
  min_length:
    description:
      - The fewest characters a password may have. Onboarding passes
        C(sovereign_registry_docker_auth_password_min_length), as for M(sovereign.registry.bcrypt_hash).
    type: int
    default: 1
  min_strength:
    description:
      - The lowest zxcvbn score (0 to 4) a password must get; 0 keeps only the published examples out (see
        M(sovereign.registry.bcrypt_hash)).
    type: int
    default: 3
  users_file:
    description: The users file onboarding writes the user into; it must exist.
    type: path
    required: true
  vault_password_file:
    description: The vault password file onboarding encrypts the password with; it must exist.
    type: path
    required: true
  anonymous_inversion:
    description:
      - What a logged-in account that gets less than an anonymous client on some repository is, as for
        M(sovereign.registry.docker_auth_acl).
    type: str
    choices: [error, warning]
    default: error
seealso:
  - module: sovereign.registry.docker_auth_acl
  - module: sovereign.registry.docker_auth_access
  - module: sovereign.registry.bcrypt_hash
"""

EXAMPLES = r"""
- name: Check the CI account ci-web before adding it
  sovereign.registry.docker_auth_new_user_check:
    name: ci-web
    kind: ci
    users: "{{ sovereign_registry_docker_auth_users }}"
    acl: "{{ sovereign_registry_docker_auth_acl }}"
    users_file: "{{ inventory_dir }}/group_vars/registry_servers/users.yml"
    vault_password_file: ~/.vault-pass
  delegate_to: localhost
  register: new_user
"""

RETURN = r"""
rights:
  description: What the new user may do, by repository pattern (docker_auth's ACL, first matching entry).
  returned: success
  type: dict
  sample: {"publicrepos/*": [pull], "web/example": [pull, push], "any other repository": []}
project:
  description: The project of a CI account (C(web) for C(ci-web)); null for a person.
  returned: success
  type: str
  sample: web
warnings_found:
  description: What M(sovereign.registry.docker_auth_acl) warns about in the users and ACL with the new user (also shown as Ansible warnings).
  returned: success
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.access import access_matrix, rights
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.acl import check, failure_message
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.onboarding import (
    KINDS,
    OnboardingError,
    check_ci_confinement,
    check_files,
    check_groups,
    check_name,
    ci_sample_repository,
)
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.options import USERS_AND_ACL_OPTIONS
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.users import ci_project
from ansible_collections.sovereign.registry.plugins.module_utils._passwords import (
    DEFAULT_MIN_STRENGTH,
    PasswordError,
    check_password,
    check_strength,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            USERS_AND_ACL_OPTIONS,
            name=dict(type="str", required=True),
            kind=dict(type="str", choices=list(KINDS), default="human"),
            groups=dict(type="list", elements="str", default=[]),
            new_groups=dict(type="bool", default=False),
            password=dict(type="str", no_log=True),
            min_length=dict(type="int", default=1),
            min_strength=dict(type="int", default=DEFAULT_MIN_STRENGTH),
            users_file=dict(type="path", required=True),
            vault_password_file=dict(type="path", required=True, no_log=False),
            anonymous_inversion=dict(type="str", choices=["error", "warning"], default="error"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    name = p["name"]
    new_user = dict(name=name, groups=p["groups"], labels={})
    users = p["users"] + [new_user]
    project = ci_project(name) if p["kind"] == "ci" else None
    try:
        check_name(name, p["kind"], p["users"])
        check_groups(p["groups"], p["users"], p["acl"], p["new_groups"])
        check_files(p["users_file"], p["vault_password_file"])
        if p["password"] is not None:
            what = "user_password for %s" % name
            check_password(p["password"], what, p["min_length"])
            check_strength(p["password"], what, name, p["min_strength"])
        findings = check(p["acl"], users, p["anonymous"], p["repositories"], p["anonymous_inversion"], p["directory"])
        errors = [dict(f) for f in findings if f["level"] == "error"]
        warnings = [dict(f) for f in findings if f["level"] == "warning"]
        for finding in warnings:
            module.warn("%s: %s" % (finding["where"], finding["message"]))
        if errors:
            module.fail_json(msg=failure_message(errors, warnings), errors=errors, warnings_found=warnings)
        repositories = p["repositories"] + ([ci_sample_repository(project)] if project is not None else [])
        # The directory's people described in the inventory answer as static users do.
        matrix = access_matrix(p["acl"], users + p["directory"]["identities"], p["anonymous"], repositories)
        if project is not None:
            check_ci_confinement(name, project, matrix)
    except (OnboardingError, PasswordError) as exc:
        module.fail_json(msg=str(exc))
    except ImportError as exc:
        module.fail_json(msg="docker_auth_new_user_check needs google-re2 and zxcvbn on the controller: %s" % exc)
    module.exit_json(changed=False, rights=rights(matrix)[name], project=project, warnings_found=warnings)


if __name__ == "__main__":
    main()
