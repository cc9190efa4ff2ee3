"""Make the collection importable as ansible_collections.sovereign.registry.

Under pytest, scripts/bootstrap links this checkout into .cache/collections;
under `ansible-test units` the checkout already sits in an
ansible_collections tree on the import path.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".cache", "collections")
if os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "sovereign", "registry")):
    sys.path.insert(0, COLLECTIONS)
else:
    import importlib.util
    if importlib.util.find_spec("ansible_collections.sovereign.registry") is None:
        raise RuntimeError("run scripts/bootstrap first: %s has no sovereign.registry link" % COLLECTIONS)


import json
import subprocess

import pytest


@pytest.fixture
def run_module():
    """Run a module of the collection through `ansible localhost -m`; return (process, result)."""

    def run(module, args, check=False):
        env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
        proc = subprocess.run(
            ["ansible", "localhost", "-m", "sovereign.registry." + module, "-a", json.dumps(args)]
            + (["--check"] if check else []),
            cwd=REPO, env=env, capture_output=True, text=True, check=False,
        )
        return proc, json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]

    return run
