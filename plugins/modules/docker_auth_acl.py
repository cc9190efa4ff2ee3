#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_auth_acl
short_description: Check docker_auth users and ACL with docker_auth's own semantics
version_added: "0.1.0"
description:
  - Checks static users and the ACL of cesanta/docker_auth 1.14.0 together, before anything is deployed.
    docker_auth silently ignores keys it does not know and gives no feedback on patterns; this module does.
  - "Fails, naming the entry index, the field and the fix, on: unknown keys in an entry or in C(match)
    (such as the tutorial's C(require_account)); a missing C(match) or C(actions); unknown actions, and
    C(*) next to other actions; a regex that RE2 refuses (docker_auth is Go, so regexes are checked with
    RE2 through C(google-re2), not Python's C(re)); a malformed glob (Go C(path.Match)); a bad IP or CIDR;
    placeholders other than C(${account}), C(${type}), C(${name}), C(${service}), C(${labels:KEY}) and
    capture groups C(${field:N}) of a C(/regex/) field; a capture group docker_auth would never expand;
    user names and label values docker_auth cannot take; duplicate users; and, unless
    O(anonymous_inversion=warning), an ACL under which a logged-in account gets less than an anonymous client
    on some repository (the message names the repository pattern, the accounts affected, and the entry to add
    and where)."
  - "Warns on: entries that can never match because an earlier entry always matches first; C(${labels:KEY})
    where no user has that label; groups no user belongs to; unanchored regexes (C(/ci/) also matches
    C(circleci)); C(name: x/*) globs, which do not reach nested repositories; a push grant without pull."
  - Runs on the controller; it changes nothing.
author:
  - sovereign.registry maintainers (@sovereign-registry)
extends_documentation_fragment:
  - sovereign.registry.attributes
  - sovereign.registry.attributes.read_only
  - sovereign.registry.docker_auth_users_acl
options:
  fail_on_warnings:
    description: Fail when there are warnings too.
    type: bool
    default: false
  anonymous_inversion:
    description:
      - What a logged-in account that gets less than an anonymous client on some repository is.
      - >-
        A client that has logged in (C(docker login), every CI job) never falls back to docker_auth's anonymous
        rules. With the tutorial's C(match: {account: "", name: "publicrepos/*"}), a logged-in user outside
        C(first_user_group) is denied a pull that works logged out: public repositories are not public to them.
      - C(error) (the default) fails. C(warning) accepts it, for a site that wants anonymous-only repositories.
    type: str
    choices: [error, warning]
    default: error
notes:
  - The semantics follow docker_auth's C(authz/acl.go) at release 1.14.0; M(sovereign.registry.docker_auth_access)
    answers requests with the same code.
seealso:
  - module: sovereign.registry.docker_auth_access
"""

EXAMPLES = r"""
- name: Check the users and ACL before templating docker_auth's config
  sovereign.registry.docker_auth_acl:
    users: "{{ sovereign_registry_docker_auth_users }}"
    acl: "{{ sovereign_registry_docker_auth_acl }}"
    anonymous: "{{ sovereign_registry_docker_auth_anonymous }}"
  delegate_to: localhost
  no_log: false

- name: Be strict in CI
  sovereign.registry.docker_auth_acl:
    users: [{name: ci-web, groups: [ci]}]
    acl:
      - match: {account: "/^ci-(.+)$/", name: "${account:1}/*"}
        actions: [pull, push]
    anonymous: false
    fail_on_warnings: true
"""

RETURN = r"""
errors:
  description: Mistakes; the module fails when there is one.
  returned: always
  type: list
  elements: dict
  contains:
    level:
      description: C(error).
      type: str
      returned: always
    where:
      description: Where the mistake is, such as C(acl[1].require_account).
      type: str
      returned: always
    message:
      description: What is wrong and the fix.
      type: str
      returned: always
  sample: [{level: error, where: "acl[1].require_account", message: "unknown key: docker_auth ignores it ..."}]
warnings_found:
  description: Legal but probably unintended entries (also shown as Ansible warnings).
  returned: always
  type: list
  elements: dict
  sample: [{level: warning, where: "acl[0].match.name", message: "'publicrepos/*' matches one level only ..."}]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.acl import check, failure_message
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.options import USERS_AND_ACL_OPTIONS


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(USERS_AND_ACL_OPTIONS, fail_on_warnings=dict(type="bool", default=False),
                           anonymous_inversion=dict(type="str", choices=["error", "warning"], default="error")),
        supports_check_mode=True,
    )
    try:
        findings = check(module.params["acl"], module.params["users"],
                         module.params["anonymous"], module.params["repositories"],
                         module.params["anonymous_inversion"], module.params["directory"])
    except ImportError as exc:
        module.fail_json(msg="sovereign_registry_docker_auth_acl needs google-re2 on the controller: %s" % exc)
    errors = [dict(f) for f in findings if f["level"] == "error"]
    warnings = [dict(f) for f in findings if f["level"] == "warning"]
    for finding in warnings:
        module.warn("%s: %s" % (finding["where"], finding["message"]))
    if errors or (warnings and module.params["fail_on_warnings"]):
        module.fail_json(msg=failure_message(errors, warnings), errors=errors, warnings_found=warnings)
    module.exit_json(changed=False, errors=errors, warnings_found=warnings)


if __name__ == "__main__":
    main()
