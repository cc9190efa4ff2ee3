"""Helpers for the integration tests."""

import json
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_ansible(args, extra):
    """Run an ansible command from the repository with extra vars; plain output."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return subprocess.run(args + ["-e", json.dumps(extra)], cwd=REPO, env=env, capture_output=True, text=True, check=False)
