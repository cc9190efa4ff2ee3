"""Helpers for the integration tests: ansible runs against a test host, and commands on it."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "testhosts"))
# The harness, re-exported for the tests' fixtures.
import testhosts  # noqa: E402,F401 pylint: disable=unused-import

# The collection as users have it: built and installed from its tarball
# (scripts/install-collection).
INSTALLED = os.path.join(REPO, ".cache", "test-collections")


def run_ansible(args, extra, inventory=None):
    """Run an ansible command from the repository with extra vars and the installed collection; plain output."""
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_COLLECTIONS_PATH=INSTALLED)
    inventory_args = ["-i", inventory] if inventory else []
    return subprocess.run(args[:1] + inventory_args + args[1:] + ["-e", json.dumps(extra)], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)


class Target:
    """One test host of a deployment, in the group registry_servers."""

    def __init__(self, name, inventory, host="target"):
        self.name, self.inventory, self.host = name, inventory, host

    def sh(self, command, check=True):
        proc = subprocess.run([sys.executable, os.path.join(REPO, "tests", "testhosts", "testhosts.py"), "ssh",
                               self.name, self.host, command], capture_output=True, text=True, check=False)
        assert not check or proc.returncode == 0, command + "\n" + proc.stdout + proc.stderr
        return proc

    def playbook(self, playbook, extra, *args):
        return run_ansible(["ansible-playbook", playbook, *args], extra, self.inventory)

    def snapshot(self, *paths):
        """Everything under the paths on the host, sorted: each directory, each file of up to 1 MiB with its
        sha256, each larger one (registry blobs) with its size, mode, inode and modification time in
        nanoseconds; absent paths as absent."""
        script = ("for p in %s; do [ -e \"$p\" ] || { echo \"absent $p\"; continue; }; "
                  "find \"$p\" -type d -printf 'dir %%p\\n'; find \"$p\" -type f -size -1025k -exec sha256sum {} +; "
                  "find \"$p\" -type f -size +1024k -printf 'file %%p %%s %%m %%i %%T@\\n'; done"
                  % " ".join("'%s'" % p for p in paths))
        return sorted(self.sh(script).stdout.splitlines())
