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
  directory:
    description:
      - People of the organisation's directory (LDAP), whom docker_auth looks up after the static users. Their
        labels come from attributes of their entries at each login, so they are not known offline; described here,
        they take part in every check and answer as the static users do.
    type: dict
    default: {}
    suboptions:
      labels:
        description:
          - The label names the directory gives people (the keys of docker_auth's C(ldap_auth.labels)). An ACL that
            uses one of them is not warned about, whatever the values it expects.
        type: list
        elements: str
        default: []
      identities:
        description:
          - Sample people of the directory with the labels it gives them (for example one person per group), as
            static users without password. A name that is also a static user is an error (docker_auth would let
            the static account log in as that name).
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Account name (what the person types at C(docker login)).
            type: str
            required: true
          groups:
            description: Their groups, the label C(group).
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
