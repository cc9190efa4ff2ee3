"""Fixtures shared by the integration tests: a test host, never this machine."""

import pytest

from helpers import Target, testhosts


@pytest.fixture(scope="session")
def target():
    """A fresh Debian test host (group registry_servers) for the whole session, removed afterwards."""
    name = "integration"
    testhosts.down(name)  # what an interrupted run may have left
    inventory = testhosts.up(name, {"target": ["registry_servers"]}, testhosts.demo_domain())
    yield Target(name, inventory)
    testhosts.down(name)


@pytest.fixture(scope="session")
def make_certs(target):
    """Run the real certs role on the test host into a new directory; return (directory, extra vars)."""
    made = []

    def make(domain):
        etc = "/tmp/sovereign-certs-%d" % len(made)
        made.append(etc)
        extra = {"sovereign_registry_domain": domain, "sovereign_registry_etc_dir": etc, "sovereign_registry_certs_token_key_size": 2048}
        proc = target.playbook("tests/integration/certs_only.yml", extra)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        return etc, extra

    return make
