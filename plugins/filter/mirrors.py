# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the pull-through mirrors: their checks, their settings as the roles use them, their ACL entries."""

from __future__ import annotations

from typing import Any, Callable, Dict

from ansible_collections.sovereign.registry.plugins.module_utils._mirrors import mirror_acl, mirror_errors, mirror_settings


class FilterModule:
    """sovereign.registry.mirror_errors, sovereign.registry.mirror_settings, sovereign.registry.mirror_acl"""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"mirror_errors": mirror_errors, "mirror_settings": mirror_settings, "mirror_acl": mirror_acl}
