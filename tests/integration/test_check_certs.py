"""playbooks/check_certs.yml on certificates made by the real certs role.

The certs role runs against this machine into a temporary directory; no
container is involved, so this runs everywhere.
"""

import os
import re
import stat
import subprocess

import pytest

from helpers import REPO, run_ansible as run


@pytest.fixture(scope="module")
def certs(make_certs):
    return make_certs("registry.check.test")


def test_private_keys_are_0600_and_the_bundle_holds_no_key(certs):
    etc, _ = certs
    for key in ("token/signing.key", "tls/ca.key", "tls/server.key"):
        assert stat.S_IMODE(os.stat(os.path.join(etc, key)).st_mode) == 0o600
    bundle = open(os.path.join(etc, "trust", "token-bundle.pem")).read()
    assert bundle.count("BEGIN CERTIFICATE") == 1 and "PRIVATE KEY" not in bundle


def test_check_certs_reports_days_left(certs):
    etc, extra = certs
    proc = run(["ansible-playbook", "-i", "localhost,", "-c", "local", "playbooks/check_certs.yml",
                "-e", "sovereign_registry_hosts=localhost"], extra)
    assert proc.returncode == 0, proc.stdout[-3000:]
    days = re.findall(r"(\d+) days left\s+\d+Z\s+(\S+)", proc.stdout)
    assert sorted((os.path.relpath(f, etc), int(d)) for d, f in days) == [
        ("tls/ca.crt", 3649), ("tls/server.crt", 364), ("token/signing.crt", 364), ("trust/token-bundle.pem", 364)]


def test_check_certs_fails_below_the_threshold_naming_the_files(certs):
    etc, extra = certs
    proc = run(["ansible-playbook", "-i", "localhost,", "-c", "local", "playbooks/check_certs.yml",
                "-e", "sovereign_registry_hosts=localhost", "-e", "check_certs_min_days=400"], extra)
    assert proc.returncode != 0
    message = " ".join(proc.stdout.split())
    assert "Fewer than 400 days left: " in message
    for name in ("token/signing.crt: 364", "trust/token-bundle.pem: 364", "tls/server.crt: 364"):
        assert os.path.join(etc, name) in message
    assert "tls/ca.crt" not in message.split("Fewer than 400 days left: ")[1].split("days.")[0]


def test_expiry_script_warns_only_below_its_threshold(certs, tmp_path):
    etc, extra = certs
    extra = dict(extra, certs_expiry_files=[os.path.join(etc, "tls", "ca.crt"), os.path.join(etc, "tls", "server.crt")])
    for days, expected_rc in ((30, 0), (400, 1)):
        script = tmp_path / ("check-%d" % days)
        proc = run(["ansible", "localhost", "-m", "ansible.builtin.template",
                    "-a", "src=%s/roles/certs/templates/sovereign-registry-check-certs.sh.j2 dest=%s mode=0755" % (REPO, script)],
                   dict(extra, certs_expiry_warn_days=days))
        assert proc.returncode == 0, proc.stdout[-2000:]
        assert subprocess.run([str(script)], capture_output=True, check=False).returncode == expected_rc
