# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the token-signing keys: the JWKS registry 3 reads beside its trust bundle, and each key's ids."""

from __future__ import annotations

from typing import Any, Callable, Dict

from ansible.errors import AnsibleFilterError

from ansible_collections.sovereign.registry.plugins.module_utils._token_keys import token_jwks, token_key_ids


def _filter(function: Callable[[str], Any]) -> Callable[[str], Any]:
    def wrapped(bundle: str) -> Any:
        try:
            return function(bundle)
        except ValueError as exc:
            raise AnsibleFilterError(str(exc)) from exc
    return wrapped


class FilterModule:
    """sovereign.registry.token_jwks, sovereign.registry.token_key_ids"""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"token_jwks": _filter(token_jwks), "token_key_ids": _filter(token_key_ids)}
