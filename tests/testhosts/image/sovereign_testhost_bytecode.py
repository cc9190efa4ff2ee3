"""Compile the Python that Ansible sends a test host once per host, not once per task.

Every Ansible task runs a module on the host as a fresh Python process that
imports the module and its module_utils from a zip (AnsiballZ). Python
caches no bytecode for code imported from a zip, so each task compiles the
same sources again: about a third of a module run's CPU, on the two cores
that every CI lane shares. This keeps the compiled code of each source, by
the hash of its text, in a directory only root can read or write; the same
code runs, compiled once. Test hosts only (tests/testhosts/image/Dockerfile
installs it with a .pth file); no server the collection deploys has it.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import zipimport
from types import CodeType

CACHE = "/var/cache/sovereign-testhost-bytecode"
_compile = getattr(zipimport, "_compile_source", None)


def _cached_compile(pathname: str, source: bytes) -> CodeType:
    """zipimport's compile step, through the cache; any failure of the cache falls back to compiling."""
    path = os.path.join(CACHE, hashlib.sha256(source).hexdigest())
    try:
        with open(path, "rb") as handle:
            cached = marshal.loads(handle.read())
        if isinstance(cached, CodeType):
            return cached
    except (OSError, EOFError, ValueError, TypeError):
        pass
    code = _compile(pathname, source)  # type: ignore[misc]
    if not isinstance(code, CodeType):
        raise TypeError("zipimport compiled %s to %r" % (pathname, type(code)))
    try:
        os.makedirs(CACHE, mode=0o700, exist_ok=True)
        partial = "%s.%d" % (path, os.getpid())
        with open(partial, "wb") as handle:
            handle.write(marshal.dumps(code))
        os.replace(partial, path)
    except OSError:
        pass
    return code


# Root's processes only: the cache holds code that root runs.
if _compile is not None and os.geteuid() == 0:
    zipimport._compile_source = _cached_compile  # type: ignore[attr-defined]  # pylint: disable=protected-access
