"""Requests an attacker sends to the token endpoint: too large, or with a forged client address."""

from __future__ import annotations

import json
from typing import Any, Dict

from e2e.stack import Stack

MIB = 1 << 20


# distribution refuses longer repository names (reference.NameTotalLengthMax).
MAX_NAME_LENGTH = 255


def refusal(body: bytes) -> str:
    """The message of an error answer in the registry's format, or the body as text."""
    try:
        return str(json.loads(body)["errors"][0]["message"])
    except (ValueError, LookupError, TypeError):
        return body.decode("utf-8", "replace")


def oversize(stack: Stack, max_scopes: int, max_scope_length: int) -> Dict[str, Any]:
    """The status of each request no client sends (one scope too many, a scope one character too long, a
    1 MiB POST body, a repository name the registry refuses: 256 characters, or outside its grammar), of the
    longest name it takes, and of an ordinary token request afterwards."""
    too_many = ["repository:oversizecanary/%d:pull" % number for number in range(max_scopes + 1)]
    too_long = ("repository:oversizecanary/" + "a" * max_scope_length)[:max_scope_length - 4] + ":pull"
    name_255 = "oversizecanary/" + "a" * (MAX_NAME_LENGTH - len("oversizecanary/"))
    return {
        "one scope too many": stack.token(too_many).status,
        "a scope one character too long": stack.token([too_long]).status,
        "a repository name of 255 characters": stack.token(["repository:%s:pull" % name_255]).status,
        "a repository name of 256 characters": stack.token(["repository:%sa:pull" % name_255]).status,
        "a repository name in capitals": stack.token(["repository:OversizeCanary/x:pull"]).status,
        "why a name of 256 characters is refused": refusal(stack.token(["repository:%sa:pull" % name_255]).body),
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
