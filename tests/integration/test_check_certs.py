"""playbooks/check_certs.yml on certificates made by the real certs role.

The certs role runs on a test host into a directory of its own.
"""

import re

import pytest


@pytest.fixture(scope="module")
def certs(make_certs):
    return make_certs("registry.check.test")


def test_private_keys_are_0600_and_the_bundle_holds_no_key(certs, target):
    etc = certs[0]
    modes = target.sh("stat -c '%%a %%n' %s/token/signing.key %s/tls/ca.key %s/tls/server.key" % (etc, etc, etc)).stdout
    assert [line.split()[0] for line in modes.splitlines()] == ["600", "600", "600"], modes
    bundle = target.sh("cat %s/trust/token-bundle.pem" % etc).stdout
    assert bundle.count("BEGIN CERTIFICATE") == 1 and "PRIVATE KEY" not in bundle


def test_check_certs_reports_days_left(certs, target):
    etc, extra = certs
    proc = target.playbook("sovereign.registry.check_certs", extra)
    assert proc.returncode == 0, proc.stdout[-3000:]
    days = re.findall(r"(\d+) days left\s+\d+Z\s+(\S+)", proc.stdout)
    assert sorted((f[len(etc) + 1:], int(d)) for d, f in days) == [
        ("tls/ca.crt", 3649), ("tls/server.crt", 364), ("token/signing.crt", 364), ("trust/token-bundle.pem", 364)]


def test_check_certs_fails_below_the_threshold_naming_the_files(certs, target):
    etc, extra = certs
    proc = target.playbook("sovereign.registry.check_certs", extra, "-e", "check_certs_min_days=400")
    assert proc.returncode != 0
    message = " ".join(proc.stdout.split())
    assert "Fewer than 400 days left: " in message
    for name in ("token/signing.crt: 364", "trust/token-bundle.pem: 364", "tls/server.crt: 364"):
        assert etc + "/" + name in message
    assert "tls/ca.crt" not in message.split("Fewer than 400 days left: ")[1].split("days.")[0]


def test_expiry_script_warns_only_below_its_threshold(certs, target):
    etc, extra = certs
    extra = dict(extra, sovereign_registry_certs_expiry_files=[etc + "/tls/ca.crt", etc + "/tls/server.crt"])
    for days, expected_rc in ((30, 0), (400, 1)):
        proc = target.playbook("tests/integration/expiry_script.yml", dict(extra, sovereign_registry_certs_expiry_warn_days=days))
        assert proc.returncode == 0, proc.stdout[-2000:]
        assert target.sh("/usr/local/sbin/sovereign-registry-check-certs", check=False).returncode == expected_rc
