# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Passwords: every rule a password must meet, and htpasswd-style bcrypt hashes for docker_auth.

An account's password must not be one of this collection's published
examples, nor one that zxcvbn (a well-kept strength estimator) scores as
guessable.

Pure Python, no Ansible import: the bcrypt_hash module (which the docker_auth
role and onboarding call) and the tests use it; no rule lives anywhere else.
Hashes are ``$2y$``, as ``htpasswd -nB`` writes them.

passlib's API is used through ``libpass``, the maintained fork: passlib 1.7.4
cannot hash at all with bcrypt 5.0 (it raises ValueError while probing the
backend), and the ``bcrypt`` package alone only writes ``$2b$`` hashes while
htpasswd and the tutorial use ``$2y$``. Go's bcrypt, which docker_auth uses,
accepts both.
"""

from __future__ import annotations

import importlib
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

# bcrypt reads at most 72 bytes of the password and silently ignores the rest.
MAX_PASSWORD_BYTES = 72
MIN_COST = 4
MAX_COST = 31
# Chosen from scripts/bench-bcrypt (see the module documentation for figures).
DEFAULT_COST = 10
# A generated CI secret: onboarding makes 32 letters and digits (190 bits).
# From this length on, a CI account's password counts as one (see cost_for).
CI_SECRET_MIN_LENGTH = 32
# A CI secret of 128 bits or more cannot be guessed offline at any cost;
# what cost protects is low-entropy human passwords.
DEFAULT_CI_COST = 4
# Every password this collection publishes as an example (inventory.example):
# anyone can read them, so no account may use one.
PUBLISHED_EXAMPLES = frozenset({"change-me-admin-0123456789", "change-me-firstuser-0123456789"})
# zxcvbn's score (0-4) from which a password counts as safe against an
# offline attack on a slow hash: 3 is "safely unguessable", about 10^8
# guesses and more (sovereign_registry_docker_auth_password_min_strength;
# 0 turns the estimate off, never the published examples).
DEFAULT_MIN_STRENGTH = 3
# Words every attacker of this registry tries first, beside the account's name.
CONTEXT_WORDS = ("registry", "sovereign", "docker", "admin", "password")
HOW_TO_MAKE_ONE = "make one with openssl rand -base64 24, or a passphrase of five random words"


class PasswordError(ValueError):
    """A password bcrypt cannot hash faithfully."""


def _imported(module: str, name: str, package: str, pip: str, why: str = "") -> Any:
    """NAME from MODULE, imported when first needed: a controller without PACKAGE fails only the modules that
    use it, with the pip command that installs it."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as exc:  # pragma: no cover - depends on the controller
        raise ImportError("the Python package %s is needed on the host that runs bcrypt_hash%s: pip install %s"
                          % (package, why, pip)) from exc


def _backend() -> Any:
    # passlib's name, provided by libpass.
    return _imported("passlib.hash", "bcrypt", "'libpass' (and 'bcrypt')", "libpass bcrypt")


def check_password(password: Any, name: str = "password", min_length: int = 1) -> None:
    """Raise PasswordError unless the password is a string of at least min_length characters that bcrypt hashes whole."""
    if password is None:
        raise PasswordError("%s is missing: set one, from ansible-vault" % name)
    if not isinstance(password, str):
        raise PasswordError("%s must be a string" % name)
    if password == "":
        raise PasswordError("%s is empty: set a password (docker_auth would refuse every login)" % name)
    if len(password) < min_length:
        raise PasswordError(
            "%s has %d characters: use at least %d (from ansible-vault; e.g. openssl rand -base64 24)"
            % (name, len(password), min_length)
        )
    size = len(password.encode("utf-8"))
    if size > MAX_PASSWORD_BYTES:
        raise PasswordError(
            "%s is %d bytes long in UTF-8; bcrypt only uses the first %d bytes and would ignore the rest: "
            "use a password of at most %d bytes" % (name, size, MAX_PASSWORD_BYTES, MAX_PASSWORD_BYTES)
        )


def _estimator() -> Any:
    return _imported("zxcvbn", "zxcvbn", "'zxcvbn'", "zxcvbn", " (it estimates how guessable a password is)")


def check_strength(password: str, name: str = "password", account: str = "",
                   min_strength: int = DEFAULT_MIN_STRENGTH) -> None:
    """Raise PasswordError for a password this collection publishes as an example, or one zxcvbn scores
    below min_strength (the account's name and the registry's own words count as known to the attacker)."""
    if password in PUBLISHED_EXAMPLES:
        raise PasswordError("%s is an example published with this collection (inventory.example): anyone can read "
                            "it; %s" % (name, HOW_TO_MAKE_ONE))
    if min_strength <= 0:
        return
    estimate = _estimator()(password, user_inputs=[word for word in (account,) + CONTEXT_WORDS if word])
    if estimate["score"] < min_strength:
        why = estimate["feedback"].get("warning") or "a pattern that guessing tools try early"
        raise PasswordError("%s is guessable (zxcvbn: %s; about 10^%d guesses, score %d of 4, at least %d wanted); %s"
                            % (name, why.rstrip("."), int(estimate["guesses_log10"]), estimate["score"], min_strength,
                               HOW_TO_MAKE_ONE))


def check_cost(cost: Any) -> None:
    if isinstance(cost, bool) or not isinstance(cost, int) or not MIN_COST <= cost <= MAX_COST:
        raise ValueError("cost must be a whole number from %d to %d, got %r" % (MIN_COST, MAX_COST, cost))


def is_bcrypt_hash(value: Any) -> bool:
    return isinstance(value, str) and bool(_backend().identify(value))


def hash_password(password: str, cost: int = DEFAULT_COST) -> str:
    """Return a new ``$2y$`` hash of the password."""
    check_password(password)
    check_cost(cost)
    return str(_backend().using(rounds=cost, ident="2y").hash(password))


def verify_password(password: str, hashed: Any) -> bool:
    """True when ``hashed`` is a bcrypt hash of ``password``."""
    if not is_bcrypt_hash(hashed):
        return False
    try:
        return bool(_backend().verify(password, hashed))
    except ValueError:  # a damaged hash (say, a cut salt): make a new one
        return False


def hash_cost(hashed: Any) -> Optional[int]:
    """The cost a bcrypt hash was made with (``$2y$10$...`` -> 10), None for anything else."""
    parts = hashed.split("$") if isinstance(hashed, str) else []
    return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else None


def cost_for(ci_account: bool, password: Any, human_cost: int = DEFAULT_COST, ci_cost: int = DEFAULT_CI_COST,
             own_cost: Optional[int] = None) -> int:
    """The bcrypt cost of an account's hash.

    The account's own ``bcrypt_cost`` when set; else the CI cost for a CI
    account (``ci_account``: whether its name follows the CI convention,
    ``_docker_auth.users.ci_project``) whose password is a generated secret
    (at least CI_SECRET_MIN_LENGTH characters); else the human cost.
    docker_auth pays the cost on every token request; it only protects
    passwords a person chose.
    """
    if own_cost is not None:
        return own_cost
    if ci_account and isinstance(password, str) and len(password) >= CI_SECRET_MIN_LENGTH:
        return ci_cost
    return human_cost


def ensure_hash(password: str, current_hash: Optional[str] = None, cost: int = DEFAULT_COST, name: str = "password",
                min_length: int = 1, min_strength: Optional[int] = None, account: str = "") -> Tuple[str, bool]:
    """Return ``(hash, changed)``, after checking every rule (with ``min_strength``, check_strength too).

    The current hash is kept while it still verifies the password and was
    made with the wanted cost, so that a second run rewrites nothing;
    otherwise a new hash is made.
    """
    check_password(password, name, min_length)
    if min_strength is not None:
        check_strength(password, name, account, min_strength)
    check_cost(cost)
    return _keep_or_make(password, current_hash, cost)


def _keep_or_make(password: str, current_hash: Optional[str], cost: int) -> Tuple[str, bool]:
    """The current hash while it verifies the password at the wanted cost, else a new one (rules already checked)."""
    if current_hash and hash_cost(current_hash) == cost and verify_password(password, current_hash):
        return current_hash, False
    return hash_password(password, cost), True


def ensure_hashes(items: Sequence[Mapping[str, Any]], min_length: int = 1, workers: int = 0,
                  min_strength: Optional[int] = None) -> List[Dict[str, Any]]:
    """ensure_hash for many passwords at once: ``[{hash, changed}]`` in the order of ``items``.

    Each item: ``password``, ``cost``, optional ``current_hash``, ``name`` and
    ``account``. Every rule is checked for every item before any hashing (with
    ``min_strength``, check_strength too); bcrypt releases the GIL, so the
    hashes are checked on all cores (``workers``: threads, 0 for one per
    core): a rerun with 500 users verifies 500 hashes.
    """
    for item in items:
        check_password(item.get("password"), item.get("name") or "password", min_length)
        if min_strength is not None:
            check_strength(item["password"], item.get("name") or "password", item.get("account") or "", min_strength)
        try:
            check_cost(item.get("cost"))
        except ValueError as exc:
            raise ValueError("%s: bcrypt %s" % (item.get("name") or "password", exc)) from None

    def one(item: Mapping[str, Any]) -> Dict[str, Any]:
        hashed, changed = _keep_or_make(item["password"], item.get("current_hash"), item["cost"])
        return {"hash": hashed, "changed": changed}

    if not items:
        return []
    _backend()  # passlib loads its handlers lazily, and not safely from two threads at once
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return list(pool.map(one, items))
