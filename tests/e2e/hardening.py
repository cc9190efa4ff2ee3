"""Requests an attacker sends to the token endpoint: too large, or with a forged client address."""

from __future__ import annotations

from typing import Any, Dict

from e2e.stack import Stack

MIB = 1 << 20


def oversize(stack: Stack, max_scopes: int, max_scope_length: int) -> Dict[str, int]:
    """The status of each request no client sends (one scope too many, a scope one character too long, a
    1 MiB POST body), and of an ordinary token request afterwards."""
    too_many = ["repository:oversizecanary/%d:pull" % number for number in range(max_scopes + 1)]
    too_long = ("repository:oversizecanary/" + "a" * max_scope_length)[:max_scope_length - 4] + ":pull"
    return {
        "one scope too many": stack.token(too_many).status,
        "a scope one character too long": stack.token([too_long]).status,
        "a 1 MiB POST": stack.token(["repository:oversizecanary/post:pull"], method="POST", body=b"\0" * MIB).status,
        "an ordinary token afterwards": stack.token(["repository:publicrepos/x:pull"]).status,
    }


def forged_address(stack: Stack, forged: str) -> Dict[str, Any]:
    """A token and a manifest asked for with a forged X-Forwarded-For and X-Real-IP (so that the address lands
    in every log that would take it), and what push tokens grant from the forged and from the real address."""
    headers = {"X-Forwarded-For": forged, "X-Real-IP": forged}
    return {
        "token_status": stack.token(["repository:publicrepos/x:pull"], headers=headers).status,
        "manifest_status": stack.request("GET", "/v2/publicrepos/x/manifests/1", headers)[0],
        "forged_granted": stack.token(["repository:forgedip/x:pull,push"], headers=headers).access,
        "real_granted": stack.token(["repository:clientip/x:pull,push"]).access,
    }
