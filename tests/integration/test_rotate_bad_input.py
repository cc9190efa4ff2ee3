"""rotate_certs.yml refuses a broken starting point before changing anything.

The certs role makes real keys and certificates in a temporary directory;
each case breaks them in one way and runs the real playbook against this
machine. No container is involved: every case must stop before phase 2.
"""

import hashlib
import os
import shutil

import pytest

from helpers import run_ansible as run


def snapshot(top):
    state = {}
    for root, _, files in os.walk(top):
        for name in files:
            path = os.path.join(root, name)
            state[os.path.relpath(path, top)] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    return state


@pytest.fixture(scope="module")
def pristine(make_certs):
    return make_certs("registry.rotate.test")


def break_missing_key(etc):
    os.remove(os.path.join(etc, "token", "signing.key"))


def break_foreign_certificate(etc):
    shutil.copy(os.path.join(etc, "tls", "server.crt"), os.path.join(etc, "token", "signing.crt"))


def break_next_is_current(etc):
    shutil.copy(os.path.join(etc, "token", "signing.key"), os.path.join(etc, "token", "next.key"))


CASES = {
    "missing current key": (break_missing_key, "The current token-signing key or certificate is missing"),
    "certificate of another key": (break_foreign_certificate, "signing.crt does not belong to signing.key"),
    "new key equals the old one": (break_next_is_current, "next.key is the current key: rotating to it changes nothing"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rotation_refuses_and_changes_nothing(case, pristine, tmp_path):
    source, extra = pristine
    etc = str(tmp_path / "etc")
    shutil.copytree(source, etc)
    breaker, message = CASES[case]
    breaker(etc)
    before = snapshot(etc)
    proc = run(["ansible-playbook", "-i", "localhost,", "-c", "local", "playbooks/rotate_certs.yml",
                "-e", "sovereign_registry_hosts=localhost"], dict(extra, sovereign_registry_etc_dir=etc))
    output = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0, output[-2000:]
    assert message in output, output[-2000:]
    assert "Nothing was changed" in output
    assert snapshot(etc) == before
