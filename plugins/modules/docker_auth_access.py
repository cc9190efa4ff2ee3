#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_auth_access
short_description: Answer "who may do what" offline, exactly as docker_auth would
version_added: "0.1.0"
description:
  - Simulates cesanta/docker_auth 1.14.0's static ACL for token requests and returns, for each, the granted
    actions and the entry that decided (index and comment).
  - "Semantics, from docker_auth's C(authz/acl.go): the first matching entry wins; C(actions: [\"*\"]) grants
    what was asked, otherwise the grant is the sorted intersection of asked and listed actions; globs are Go
    C(path.Match) (C(*) does not cross C(/)); C(/regex/) is an unanchored RE2 search; C(${account}),
    C(${type}), C(${name}), C(${service}) are substituted regex-quoted, capture groups C(${field:N}) raw;
    C(${labels:KEY}) is tried with every combination of the account's label values; C(ip) is an address or a
    CIDR; the anonymous account is C(\"\")."
  - Can also render an access report, users (and anonymous) by repository pattern by action, in Markdown or
    as a self-contained HTML page, with the findings of M(sovereign.registry.docker_auth_acl) marked in it.
  - Runs on the controller; it changes nothing.
author:
  - sovereign.registry maintainers (@sovereign-registry)
extends_documentation_fragment:
  - sovereign.registry.attributes
  - sovereign.registry.attributes.read_only
  - sovereign.registry.docker_auth_users_acl
options:
  requests:
    description: Token requests to answer.
    type: list
    elements: dict
    default: []
    suboptions:
      account:
        description: Account name; C("") is anonymous.
        type: str
        default: ""
      labels:
        description: "Labels of the account, C({name: [values]}); default the user's labels and groups."
        type: dict
      type:
        description: Resource type.
        type: str
        default: repository
      name:
        description: Repository (resource) name.
        type: str
        required: true
      service:
        description: The token service (the registry's domain).
        type: str
        default: ""
      ip:
        description: Client address as docker_auth sees it.
        type: str
        default: ""
      actions:
        description: Requested actions; a push asks for C([pull, push]).
        type: list
        elements: str
        default: [pull]
  report:
    description: Also return an access report in this format.
    type: str
    choices: [none, markdown, html]
    default: none
  report_title:
    description: Title of the report.
    type: str
    default: Registry access
seealso:
  - module: sovereign.registry.docker_auth_acl
"""

EXAMPLES = r"""
- name: May firstuser push to publicrepos/tool?
  sovereign.registry.docker_auth_access:
    users: "{{ sovereign_registry_docker_auth_users }}"
    acl: "{{ sovereign_registry_docker_auth_acl }}"
    requests:
      - {account: firstuser, name: publicrepos/tool, actions: [pull, push]}
      - {account: "", name: publicrepos/tool, actions: [pull, push]}
  delegate_to: localhost
  register: access

- name: Write the access report as a web page
  sovereign.registry.docker_auth_access:
    users: "{{ sovereign_registry_docker_auth_users }}"
    acl: "{{ sovereign_registry_docker_auth_acl }}"
    report: html
  delegate_to: localhost
  register: access_html
"""

RETURN = r"""
results:
  description: One answer per request, in order.
  returned: always
  type: list
  elements: dict
  contains:
    request:
      description: The request as evaluated (defaults filled in, actions sorted).
      type: dict
      returned: always
    granted:
      description: Granted actions, sorted; empty when denied.
      type: list
      elements: str
      returned: always
    entry_index:
      description: Index of the deciding ACL entry; null when no entry matched.
      type: int
      returned: always
    entry_comment:
      description: Comment of the deciding entry.
      type: str
      returned: always
  sample:
    - request: {account: firstuser, name: publicrepos/tool, type: repository, actions: [pull, push]}
      granted: [pull, push]
      entry_index: 1
      entry_comment: first_user_group members can push to publicrepos namespace
report:
  description: The access report, when O(report) is not C(none).
  returned: when report is markdown or html
  type: str
matrix:
  description: Who may do what, identities by repository rows (the data behind the report).
  returned: always
  type: dict
rights:
  description: Each identity's rights, by repository pattern (anonymous, each user, and any other user).
  returned: always
  type: dict
  sample: {anonymous: {"publicrepos/*": [pull]}, firstuser: {"publicrepos/*": [pull, push], "firstuser/*": [delete, pull, push]}}
beyond_anonymous:
  description: For each identity, the repository patterns where it gets more than an anonymous client, and those actions.
  returned: always
  type: dict
  sample: {ci-web: {"web/*": [pull, push]}, firstuser: {"publicrepos/*": [push]}}
"""

from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.access import (
    access_matrix,
    beyond_anonymous,
    rights,
)
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.acl import check
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.authz import authorize, normalise_request
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.options import USERS_AND_ACL_OPTIONS
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.report import html_page, markdown
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.users import user_labels

REQUEST_OPTIONS = dict(
    account=dict(type="str", default=""),
    labels=dict(type="dict"),
    type=dict(type="str", default="repository"),
    name=dict(type="str", required=True),
    service=dict(type="str", default=""),
    ip=dict(type="str", default=""),
    actions=dict(type="list", elements="str", default=["pull"]),
)


def answer(acl: List[Any], users: List[Any], requests: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    labels_of = {u.get("name"): user_labels(u) for u in users if isinstance(u, dict)}
    results = []
    for request in requests:
        if request["labels"] is None:
            request = dict(request, labels=labels_of.get(request["account"], {}))
        request = normalise_request(request)
        granted, index = authorize(acl, request)
        entry = acl[index] if index is not None else {}
        results.append(dict(request=request, granted=granted, entry_index=index,
                            entry_comment=entry.get("comment") if isinstance(entry, dict) else None))
    return results


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            USERS_AND_ACL_OPTIONS,
            requests=dict(type="list", elements="dict", default=[], options=REQUEST_OPTIONS),
            report=dict(type="str", choices=["none", "markdown", "html"], default="none"),
            report_title=dict(type="str", default="Registry access"),
        ),
        supports_check_mode=True,
    )
    p: Dict[str, Any] = module.params
    # The directory's people described in the inventory answer as static users do.
    everyone = p["users"] + p["directory"]["identities"]
    try:
        matrix = access_matrix(p["acl"], everyone, p["anonymous"], p["repositories"])
        out = dict(changed=False, results=answer(p["acl"], everyone, p["requests"]), matrix=matrix,
                   rights=rights(matrix), beyond_anonymous=beyond_anonymous(matrix))
        if p["report"] != "none":
            findings = check(p["acl"], p["users"], p["anonymous"], p["repositories"], directory=p["directory"])
            render = markdown if p["report"] == "markdown" else html_page
            out.update(report=render(matrix, findings, p["report_title"]))
    except ImportError as exc:
        module.fail_json(msg="docker_auth_access needs google-re2 on the controller: %s" % exc)
    module.exit_json(**out)


if __name__ == "__main__":
    main()
