# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options shared by sovereign_registry_docker_auth_acl and docker_auth_access (USERS_AND_ACL_OPTIONS)."""

    DOCUMENTATION = r"""
options:
  acl:
    description: The ACL, a list of entries in docker_auth's format (C(match), C(actions), C(comment)).
    type: list
    elements: raw
    required: true
  users:
    description:
      - The static users, as for the docker_auth role. Only C(name), C(groups) and C(labels) are read;
        C(password) may be present and is ignored (and never returned).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Account name.
        type: str
        required: true
      password:
        description: Ignored (accepted so that the role's user list can be passed unchanged); never returned.
        type: str
      groups:
        description: Groups, the docker_auth label C(group).
        type: list
        elements: str
        default: []
      labels:
        description: "Other labels, C({name: [values]})."
        type: dict
        default: {}
  anonymous:
    description: Whether anonymous clients (account C("")) are let in.
    type: bool
    default: true
  repositories:
    description: Repository names known to exist; they are added to the who-can-do-what checks.
    type: list
    elements: str
    default: []
requirements:
  - google-re2
"""
