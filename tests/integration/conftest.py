"""Fixtures shared by the integration tests."""

import pytest

from helpers import run_ansible


@pytest.fixture(scope="session")
def make_certs(tmp_path_factory):
    """Run the real certs role into a new temporary directory; return (directory, extra vars)."""

    def make(domain):
        etc = str(tmp_path_factory.mktemp("etc"))
        extra = {"sovereign_registry_domain": domain, "sovereign_registry_etc_dir": etc,
                 "certs_token_key_size": 2048, "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
        proc = run_ansible(["ansible-playbook", "tests/integration/certs_only.yml"], extra)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        return etc, extra

    return make
