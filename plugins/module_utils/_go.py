# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Go's semantics that docker_auth (and so the ACL simulator and retention) rely on.

Pure Python, no Ansible import. Each function does what the Go function it
names does, including its corner cases:

* ``path_match``: ``path.Match`` (``*`` never crosses ``/``; a malformed
  pattern raises BadPattern, Go's ``path.ErrBadPattern``);
* ``quote_meta``: ``regexp.QuoteMeta``;
* ``replace``: ``strings.NewReplacer(...).Replace``;
* ``re2_compile``: ``regexp.Compile`` (RE2, through google-re2);
* ``title``: ``strings.Title``.
"""

from __future__ import annotations

import functools
from typing import Any, Optional, Sequence, Tuple

# Go regexp.QuoteMeta escapes exactly these bytes.
_GO_SPECIAL = set("\\.+*?()|[]{}^$")


class BadPattern(ValueError):
    """A glob Go's path.Match rejects (path.ErrBadPattern)."""


def quote_meta(text: str) -> str:
    """regexp.QuoteMeta."""
    return "".join("\\" + c if c in _GO_SPECIAL else c for c in text)


def replace(text: str, pairs: Sequence[Tuple[str, str]]) -> str:
    """strings.NewReplacer(old1, new1, ...).Replace(text).

    Scans left to right; at each position the earliest pair in argument
    order whose old string starts there wins; replaced text is not rescanned.
    """
    olds = [(old, new) for old, new in pairs if old]
    if not olds:
        return text
    out = []
    i = 0
    while i < len(text):
        for old, new in olds:
            if text.startswith(old, i):
                out.append(new)
                i += len(old)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _scan_chunk(pattern: str) -> Tuple[bool, str, str]:
    star = False
    while pattern and pattern[0] == "*":
        pattern = pattern[1:]
        star = True
    in_range = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 < len(pattern):
                i += 1
        elif c == "[":
            in_range = True
        elif c == "]":
            in_range = False
        elif c == "*" and not in_range:
            return star, pattern[:i], pattern[i:]
        i += 1
    return star, pattern, ""


def _get_esc(chunk: str) -> Tuple[str, str]:
    if not chunk or chunk[0] in "-]":
        raise BadPattern(chunk)
    if chunk[0] == "\\":
        chunk = chunk[1:]
        if not chunk:
            raise BadPattern(chunk)
    rune, rest = chunk[0], chunk[1:]
    if not rest:
        raise BadPattern(chunk)
    return rune, rest


def _match_chunk(chunk: str, s: str) -> Optional[str]:
    """Return the rest of s after chunk matched its start, or None; raise on a bad chunk."""
    failed = False
    while chunk:
        failed = failed or not s
        c = chunk[0]
        if c == "[":
            r: Optional[str] = None
            if not failed:
                r, s = s[0], s[1:]
            chunk = chunk[1:]
            negated = False
            if chunk and chunk[0] == "^":
                negated = True
                chunk = chunk[1:]
            matched = False
            nrange = 0
            while True:
                if chunk and chunk[0] == "]" and nrange > 0:
                    chunk = chunk[1:]
                    break
                lo, chunk = _get_esc(chunk)
                hi = lo
                if chunk[0] == "-":
                    hi, chunk = _get_esc(chunk[1:])
                matched = matched or (r is not None and lo <= r <= hi)
                nrange += 1
            failed = failed or matched == negated
        elif c == "?":
            if not failed:
                failed = s[0] == "/"
                s = s[1:]
            chunk = chunk[1:]
        else:
            if c == "\\":
                chunk = chunk[1:]
                if not chunk:
                    raise BadPattern(chunk)
            if not failed:
                failed = chunk[0] != s[0]
                s = s[1:]
            chunk = chunk[1:]
    return None if failed else s


def path_match(pattern: str, name: str) -> bool:
    """path.Match: True/False, or BadPattern for a malformed pattern."""
    while pattern:
        star, chunk, pattern = _scan_chunk(pattern)
        if star and chunk == "":
            return "/" not in name
        rest = _match_chunk(chunk, name)
        if rest is not None and (rest == "" or pattern):
            name = rest
            continue
        if star:
            i = 0
            advanced = False
            while i < len(name) and name[i] != "/":
                rest = _match_chunk(chunk, name[i + 1:])
                if rest is not None:
                    if not pattern and rest:
                        i += 1
                        continue
                    name = rest
                    advanced = True
                    break
                i += 1
            if advanced:
                continue
        while pattern:
            _star, chunk, pattern = _scan_chunk(pattern)
            _match_chunk(chunk, "")
        return False
    return name == ""


def _re2() -> Any:
    try:
        import re2  # google-re2: the engine Go's regexp follows
    except ImportError as exc:  # pragma: no cover - depends on the host
        raise ImportError("the Python package 'google-re2' is needed: pip install google-re2") from exc
    return re2


@functools.lru_cache(maxsize=4096)
def _re2_compile_or_error(expression: str) -> Tuple[Any, Optional[str]]:
    re2 = _re2()
    try:
        options = re2.Options()
        options.log_errors = False
        return re2.compile(expression, options), None
    except re2.error as exc:
        message = exc.args[0] if exc.args else str(exc)
        return None, message.decode() if isinstance(message, bytes) else str(message)


def re2_compile(expression: str) -> Any:
    """Compile with RE2 like Go's regexp.Compile; raise ValueError if refused."""
    compiled, error = _re2_compile_or_error(expression)
    if error is not None:
        raise ValueError(error)
    return compiled


def title(word: str) -> str:
    """strings.Title: upper-case the first letter of every word."""
    out = []
    previous_letter = False
    for c in word:
        out.append(c.upper() if not previous_letter and c.isalpha() else c)
        previous_letter = c.isalnum() or c == "_"
    return "".join(out)
