# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Passwords: every rule a password must meet, and htpasswd-style bcrypt hashes for docker_auth.

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

from typing import Any, Optional, Tuple

# bcrypt reads at most 72 bytes of the password and silently ignores the rest.
MAX_PASSWORD_BYTES = 72
MIN_COST = 4
MAX_COST = 31
# Chosen from scripts/bench-bcrypt (see the module documentation for figures).
DEFAULT_COST = 10
# The collection's minimum for a password (sovereign_registry_docker_auth_password_min_length).
DEFAULT_MIN_LENGTH = 12


class PasswordError(ValueError):
    """A password bcrypt cannot hash faithfully."""


def _backend() -> Any:
    try:
        from passlib.hash import bcrypt  # provided by libpass
    except ImportError as exc:  # pragma: no cover - depends on the controller
        raise ImportError(
            "the Python package 'libpass' (and 'bcrypt') is needed on the host that runs "
            "bcrypt_hash: pip install libpass bcrypt"
        ) from exc
    return bcrypt


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
    return bool(_backend().verify(password, hashed))


def ensure_hash(password: str, current_hash: Optional[str] = None, cost: int = DEFAULT_COST, name: str = "password",
                min_length: int = 1) -> Tuple[str, bool]:
    """Return ``(hash, changed)``, after checking every rule.

    The current hash is kept while it still verifies the password, so that a
    second run rewrites nothing; otherwise a new hash is made.
    """
    check_password(password, name, min_length)
    check_cost(cost)
    if current_hash and verify_password(password, current_hash):
        return current_hash, False
    return hash_password(password, cost), True
