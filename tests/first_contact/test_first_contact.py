"""First contact: the README's two commands, as a newcomer types them, on fresh test hosts.

A copy of this checkout stands for the newcomer's clone, on a test host of
each kind: one started without systemd as PID 1 and with the Docker Engine
not running (a container, WSL, a CI runner), and one with systemd. The
quick start's first command runs as written (`scripts/demo`); then what it
printed: `docker login`, a push to the user's namespace, an anonymous pull
of publicrepos/*, curl of /v2/ without --cacert (the CA is trusted
system-wide). On the host without systemd, the first run is killed midway
and the command run again, and once more after the checks (site.yml
changes nothing);
the README's second command runs after the demo, for the suite that proves
it leaves this machine's registry alone; and `scripts/demo --remove` leaves
nothing of the demo behind. No image registry is reachable here: the images
come as the archives scripts/test built (SOVEREIGN_IMAGE_ARCHIVES), as at an
air-gapped site. Nothing is deployed to this machine.
"""

import os
import re
import shlex
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from helpers import REPO, testhosts  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "readme"))
from test_readme import readme_block  # noqa: E402

CLONE = "/root/sovereign-registry"
ARCHIVES = "/root/image-archives"
DOMAIN = "registry.sovereign.test"
# What scripts/demo makes, and --remove takes away.
DEMO_PATHS = ["/etc/sovereign-registry", "/var/lib/sovereign-registry", "/etc/nginx/conf.d/sovereign-registry.conf",
              "/etc/docker/certs.d/" + DOMAIN, "/usr/local/share/ca-certificates/sovereign-registry-demo.crt",
              "/etc/ssl/certs/sovereign-registry-demo.pem", "/root/.local/share/sovereign-registry/demo-credentials",
              "/usr/share/sovereign-registry/browser", "/usr/local/lib/sovereign-registry/browser/browser.py"]
CONTAINERS = ["registry-1", "registry-2", "registry-disk-guard", "docker_auth-1", "docker_auth-2",
              "sovereign-registry-audit", "sovereign-registry-browser"]


def quick_start():
    """The quick start's two commands, without their comments."""
    return [line.split("#")[0].strip() for line in readme_block("quick-start").splitlines() if line.strip()]


class Newcomer:
    """A fresh test host with a clone of this checkout and the image archives on it."""

    def __init__(self, name):
        self.name = name

    def sh(self, command, check=True):
        proc = subprocess.run([sys.executable, os.path.join(REPO, "tests", "testhosts", "testhosts.py"), "ssh", self.name,
                               "newcomer", "bash -c %s" % shlex.quote(command)],
                              capture_output=True, text=True, check=False)
        assert not check or proc.returncode == 0, "%s\n%s%s" % (command, proc.stdout[-4000:], proc.stderr[-2000:])
        return proc

    def put(self, source_dir, target, names):
        tar = subprocess.run(["tar", "-cf", "-", "-C", source_dir, *names], capture_output=True, check=True).stdout
        proc = subprocess.run([sys.executable, os.path.join(REPO, "tests", "testhosts", "testhosts.py"), "ssh", self.name,
                               "newcomer", "mkdir -p %s && tar -xf - -C %s" % (target, target)],
                              input=tar, capture_output=True, check=False)
        assert proc.returncode == 0, proc.stderr

    def demo(self, *args):
        """The quick start's first command, in the clone, with the image archives; its output."""
        command = " ".join([quick_start()[0], *args])
        return self.sh("cd %s && SOVEREIGN_IMAGE_ARCHIVES=%s %s 2>&1" % (CLONE, ARCHIVES, command)).stdout

    def left_behind(self):
        paths = self.sh("ls -d %s 2>/dev/null; true" % " ".join(DEMO_PATHS)).stdout.split()
        hosts = self.sh("grep -h %s /etc/hosts || true" % DOMAIN).stdout.split("\n")
        names = self.sh("docker ps -a --format '{{.Names}}'").stdout.split()
        return paths + [line for line in hosts if line] + [name for name in names if name in CONTAINERS]


@pytest.fixture(params=["plain", "systemd"])
def newcomer(request):
    name = "first-contact-" + request.param
    testhosts.down(name)
    testhosts.up(name, {"newcomer": ["docker_clients"]}, "", plain=request.param == "plain")
    host = Newcomer(name)
    # Machines of this kind reach PyPI through an egress proxy with a CA of its own, which they trust (a local CA
    # and pip's settings): a test host standing for one gets the same.
    local_cas = [f for f in os.listdir("/usr/local/share/ca-certificates") if f.endswith(".crt") and "sovereign" not in f]
    host.put("/usr/local/share/ca-certificates", "/usr/local/share/ca-certificates", local_cas)
    if os.path.exists("/etc/pip.conf"):
        host.put("/etc", "/etc", ["pip.conf"])
    host.sh("update-ca-certificates >/dev/null")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    host.put(REPO, CLONE, files)
    host.put(os.path.join(REPO, ".cache", "images"), ARCHIVES, sorted(os.listdir(os.path.join(REPO, ".cache", "images"))))
    yield request.param, host
    testhosts.down(name)


def test_a_newcomer_runs_the_quick_start(newcomer):
    kind, host = newcomer
    assert quick_start() == ["scripts/demo", "scripts/test"]
    if kind == "plain":
        assert "offline" in host.sh("systemctl is-system-running 2>&1 || true").stdout
        assert host.sh("docker version --format '{{.Server.Version}}'", check=False).returncode != 0
        # Killed midway, once the configuration is being written: a newcomer's Ctrl-C, or a lost session.
        killed = host.sh(
            "cd %s && (SOVEREIGN_IMAGE_ARCHIVES=%s setsid %s </dev/null >/root/killed-demo.log 2>&1 & echo $! >/root/demo.pid);"
            " pid=$(cat /root/demo.pid);"
            " for _ in $(seq 900); do [ -e /etc/sovereign-registry/docker_auth ] && break; kill -0 $pid || break; sleep 1; done;"
            " kill -KILL -- -$pid; sleep 2; ls /etc/sovereign-registry; tail -3 /root/killed-demo.log"
            % (CLONE, ARCHIVES, quick_start()[0]))
        assert "docker_auth" in killed.stdout, killed.stdout
    output = host.demo()
    print("%s host, the demo's last 15 lines:\n%s" % (kind, "\n".join(output.rstrip().splitlines()[-15:])))
    running = host.sh("docker ps --format '{{.Names}}'").stdout.split()
    assert sorted(set(CONTAINERS) - set(running)) == [], running

    # What the demo printed, as the newcomer runs it.
    login = re.search(r"^\s*(docker login %s --username firstuser --password-stdin < \S+)$" % re.escape(DOMAIN), output, re.M)
    assert login, output[-3000:]
    host.sh(login.group(1))
    host.sh("docker tag busybox:1.35.0 %s/firstuser/hello:1 && docker push %s/firstuser/hello:1" % (DOMAIN, DOMAIN))
    host.sh("docker tag busybox:1.35.0 %s/publicrepos/hello:1 && docker push %s/publicrepos/hello:1" % (DOMAIN, DOMAIN))
    host.sh("docker image rm %s/publicrepos/hello:1 && mkdir -p /root/anonymous && "
            "DOCKER_CONFIG=/root/anonymous docker pull %s/publicrepos/hello:1" % (DOMAIN, DOMAIN))
    answer = host.sh("curl -sS -o /dev/null -w '%%{http_code}' https://%s/v2/" % DOMAIN).stdout
    assert answer == "401", answer
    # Its first health check runs 30 s after it started.
    audit = host.sh("for _ in $(seq 60); do s=$(docker inspect --format '{{.State.Health.Status}}' sovereign-registry-audit);"
                    " [ \"$s\" = starting ] || break; sleep 1; done; echo $s").stdout.strip()
    assert audit == "healthy", audit

    if kind == "plain":
        # The second run changes nothing. Once is enough: on a host with
        # systemd, site.yml's second run is the default scenario's idempotence.
        again = host.demo()
        assert re.search(r"localhost\s+: ok=\d+\s+changed=0\s", again), again[-3000:]

        # The README's second command beside the demo: the suite that proves the tests leave this machine's
        # registry as it was.
        tests = host.sh("cd %s && %s 'machine untouched' 2>&1" % (CLONE, quick_start()[1])).stdout
        assert "0 failed" in tests, tests[-3000:]
        print("%s host, scripts/test beside the demo:\n%s" % (kind, "\n".join(tests.rstrip().splitlines()[-4:])))
        removed = host.demo("--remove")
        print("%s host, scripts/demo --remove:\n%s" % (kind, "\n".join(removed.rstrip().splitlines()[-6:])))
        assert host.left_behind() == []
