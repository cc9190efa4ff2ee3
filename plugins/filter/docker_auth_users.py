# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the docker_auth role: the users as docker_auth's config takes them, and the checks of its directory's label map."""

from __future__ import annotations

from typing import Any, Callable, Dict

from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.users import config_users, label_map_errors


class FilterModule:
    """sovereign.registry.docker_auth_config_users, sovereign.registry.docker_auth_label_map_errors"""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"docker_auth_config_users": config_users, "docker_auth_label_map_errors": label_map_errors}
