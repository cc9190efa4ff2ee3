# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""The options sovereign_registry_docker_auth_acl and docker_auth_access share (documented in the docker_auth_users_acl doc fragment)."""

from __future__ import annotations

from typing import Any, Dict

_PERSON = dict(
    name=dict(type="str", required=True),
    groups=dict(type="list", elements="str", default=[]),
    labels=dict(type="dict", default={}),
)

USERS_AND_ACL_OPTIONS: Dict[str, Any] = dict(
    acl=dict(type="list", elements="raw", required=True),
    users=dict(type="list", elements="dict", default=[], options=dict(
        _PERSON,
        # Accepted so that the role's user list can be passed as it is; never read.
        password=dict(type="str", no_log=True),
    )),
    directory=dict(type="dict", default={}, apply_defaults=True, options=dict(
        labels=dict(type="list", elements="str", default=[]),
        identities=dict(type="list", elements="dict", default=[], options=_PERSON),
    )),
    anonymous=dict(type="bool", default=True),
    repositories=dict(type="list", elements="str", default=[]),
)
