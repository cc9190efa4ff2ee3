"""rotate_certs.yml refuses a broken starting point before changing anything.

The certs role makes real keys and certificates on a test host; each case
copies them, breaks them in one way and runs the real playbook against the
copy. Every case must stop before phase 2, with every file unchanged.
"""

import pytest


@pytest.fixture(scope="module")
def pristine(make_certs):
    return make_certs("registry.rotate.test")


CASES = {
    "missing current key": ("rm {etc}/token/signing.key",
                            "The current token-signing key or certificate is missing"),
    "certificate of another key": ("cp {etc}/tls/server.crt {etc}/token/signing.crt",
                                   "signing.crt does not belong to signing.key"),
    "new key equals the old one": ("cp {etc}/token/signing.key {etc}/token/next.key",
                                   "next.key is the current key: rotating to it changes nothing"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rotation_refuses_and_changes_nothing(case, pristine, target):
    source, extra = pristine
    etc = "/tmp/rotate-%s" % case.replace(" ", "-")
    breaker, message = CASES[case]
    target.sh("rm -rf {etc} && cp -a {source} {etc} && ".format(etc=etc, source=source) + breaker.format(etc=etc))
    before = target.snapshot(etc)
    proc = target.playbook("sovereign.registry.rotate_certs", dict(extra, sovereign_registry_etc_dir=etc))
    output = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0, output[-2000:]
    assert message in output, output[-2000:]
    assert "Nothing was changed" in output
    assert target.snapshot(etc) == before
