"""The README's real-server steps, run verbatim, as a user runs them, against fresh test hosts.

A copy of this checkout stands for the user's clone, with its own HOME (the
vault password goes to ~/.vault-pass) and no virtualenv of ours on PATH. The
README's two marked blocks run as they are written; its `.venv` is one made
before from requirements.txt alone (kept in .cache/readme-venv, made again
when requirements.txt changes), so that the block's `python3 -m venv` and
`pip install -r requirements.txt` run for real and find it complete, instead
of downloading the controller's packages once more. In between, the test
fills in the names as the README tells the user to: the hosts (here the
test hosts' addresses and SSH key), the passwords, and (no image registry
is reachable here) the directory of the image archives. Nothing is deployed to
this machine.
"""

import hashlib
import os
import re
import subprocess
import sys

import pytest
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from helpers import REPO, testhosts  # noqa: E402

DOMAIN = "registry.example.org"


def readme_block(marker):
    """The bash block that follows `<!-- readme-test: MARKER ... -->` in the README."""
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    match = re.search(r"<!-- readme-test: %s[^>]*-->\s*```bash\n(.*?)```" % re.escape(marker), text, re.S)
    assert match, "README.md has no block marked readme-test: %s" % marker
    return match.group(1)


@pytest.fixture(scope="module")
def hosts():
    name = "readme"
    testhosts.down(name)
    inventory = testhosts.up(name, {"registry1": ["registry_servers"], "build1": ["docker_clients"]}, DOMAIN)
    with open(os.path.join(inventory, "hosts.yml"), encoding="utf-8") as handle:
        yield yaml.safe_load(handle)["all"]
    testhosts.down(name)


def prepared_venv():
    """A virtualenv with requirements.txt installed, made once per content of requirements.txt."""
    venv = os.path.join(REPO, ".cache", "readme-venv")
    with open(os.path.join(REPO, "requirements.txt"), "rb") as handle:
        wanted = hashlib.sha256(handle.read()).hexdigest()
    stamp = os.path.join(venv, ".requirements.sha256")
    if not os.path.exists(stamp) or open(stamp, encoding="ascii").read() != wanted:
        subprocess.run(["rm", "-rf", venv], check=True)
        subprocess.run(["python3", "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "--disable-pip-version-check", "-r",
                        os.path.join(REPO, "requirements.txt")], check=True)
        with open(stamp, "w", encoding="ascii") as handle:
            handle.write(wanted)
    return venv


def run_block(block, clone, home):
    # The user's shell: no virtualenv of ours, their own HOME.
    path = ":".join(p for p in os.environ["PATH"].split(":") if ".cache/venv" not in p)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "VIRTUAL_ENV", "MOLECULE_"))}
    env.update(HOME=str(home), PATH=path, ANSIBLE_NOCOLOR="1")
    return subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=clone, env=env, capture_output=True,
                          text=True, check=False)


def fill_in_the_names(clone, test_hosts):
    """What the README asks the user to edit by hand after `cp -r inventory.example inventory`."""
    hosts_file = os.path.join(clone, "inventory", "hosts.yml")
    with open(hosts_file, encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    groups = inventory["all"]["children"]
    address = {host: data["ansible_host"] for group in test_hosts["children"].values() for host, data in group["hosts"].items()}
    login = {"ansible_user": "root", "ansible_ssh_private_key_file": test_hosts["vars"]["ansible_ssh_private_key_file"],
             "ansible_ssh_common_args": test_hosts["vars"]["ansible_ssh_common_args"]}
    groups["registry_servers"]["hosts"] = {"registry1.example.org": dict(login, ansible_host=address["registry1"])}
    groups["docker_clients"]["hosts"] = {"build1.example.org": dict(login, ansible_host=address["build1"])}
    with open(hosts_file, "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory, handle)
    # These test hosts reach no image registry: the archives scripts/test built.
    with open(os.path.join(clone, "inventory", "group_vars", "registry_servers", "vars.yml"), "a", encoding="utf-8") as handle:
        handle.write("sovereign_registry_images_controller_archive_dir: %s\n" % os.path.join(REPO, ".cache", "images"))
    vault_file = os.path.join(clone, "inventory", "group_vars", "registry_servers", "vault.yml")
    with open(vault_file, encoding="utf-8") as handle:
        vault = handle.read()
    vault = re.sub(r'"change-me-[a-z]+-0123456789"', lambda m: '"%s"' % os.urandom(18).hex(), vault)
    with open(vault_file, "w", encoding="utf-8") as handle:
        handle.write(vault)
    return address["registry1"]


def test_the_real_server_steps_of_the_readme_deploy_a_working_registry(hosts, tmp_path):
    clone, home = tmp_path / "clone", tmp_path / "home"
    clone.mkdir()
    home.mkdir()
    # The user's clone: the files of this checkout that git tracks.
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True,
                           text=True, check=True).stdout
    subprocess.run(["tar", "-cf", "-", "-T", "-"], cwd=REPO, input=files.encode(), check=True,
                   stdout=open(tmp_path / "clone.tar", "wb"))
    subprocess.run(["tar", "-xf", str(tmp_path / "clone.tar"), "-C", str(clone)], check=True)

    os.symlink(prepared_venv(), clone / ".venv")
    first = run_block(readme_block("before-editing"), clone, home)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    server = fill_in_the_names(clone, hosts)
    second = run_block(readme_block("after-editing"), clone, home)
    output = second.stdout + second.stderr
    assert second.returncode == 0, output[-5000:]

    # One run: that a second changes nothing is each scenario's idempotence step (molecule default's on the
    # same roles and defaults).
    recaps = re.findall(r"registry1\.example\.org\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=0\s+failed=0", output)
    assert len(recaps) == 1 and int(recaps[0][1]) > 0, recaps
    assert "$ANSIBLE_VAULT" in open(os.path.join(clone, "inventory", "group_vars", "registry_servers", "vault.yml")).read()

    # The registry answers on its name with the internal CA, and asks for a token.
    ca = home / "ca.crt"
    ca.write_text(subprocess.run([sys.executable, os.path.join(REPO, "tests", "testhosts", "testhosts.py"), "ssh",
                                  "readme", "registry1", "cat /etc/sovereign-registry/tls/ca.crt"],
                                 capture_output=True, text=True, check=True).stdout)
    answer = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-D", "-", "--cacert", str(ca), "--resolve",
                             "%s:443:%s" % (DOMAIN, server), "https://%s/v2/" % DOMAIN],
                            capture_output=True, text=True, check=False)
    assert answer.returncode == 0 and answer.stdout.startswith("HTTP/1.1 401"), answer.stdout + answer.stderr
    assert 'realm="https://%s/auth/auth"' % DOMAIN in answer.stdout
