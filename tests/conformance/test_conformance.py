"""The OCI distribution-spec conformance suite, a peer's test suite, through the deployed stack.

The stack (nginx, docker_auth, two registry instances) must pass every test
that a bare registry of the same version, without auth, passes: compared test
by test, by name (a name can repeat; the order of repeated tests and the
random sizes differ between runs, so what is compared is how many times each
name passed). The registry's own gaps (sha512, referrers, OCI-Subject, ...)
fail on both and are counted, not hidden.

Runs against a stack another suite deployed (scripts/test runs it after the
Molecule default scenario's verify, before its destroy), as `admin` in
conformance/* and as `firstuser` in firstuser/*, then removes what the suite
left in storage and proves it with the set of blobs before and after.
"""

import collections
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VERSION = os.environ.get("SOVEREIGN_REGISTRY_VERSION", "3.1.1")
DOMAIN = os.environ.get("SOVEREIGN_REGISTRY_DOMAIN", "registry.sovereign.test")
CREDENTIALS = os.path.expanduser("~/.local/share/sovereign-registry/demo-credentials")
STORAGE = "/var/lib/sovereign-registry/registry/docker/registry/v2"
GC_SCRIPT = "/usr/local/sbin/sovereign-registry-gc"
# The suite is a Go `main` package, pinned like every other upstream source.
CONFORMANCE = "github.com/opencontainers/distribution-spec/conformance@v0.0.0-20260831232431-97274622c111"
BARE_PORT = 5990
IDENTITIES = {
    "admin": ("conformance/repo1", "conformance/repo2"),
    "firstuser": ("firstuser/conformance-1", "firstuser/conformance-2"),
}


def run(*args, **kwargs):
    proc = subprocess.run(list(args), capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, " ".join(args) + "\n" + proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc


@pytest.fixture(scope="session")
def conformance_binary():
    gobin = os.path.join(REPO, ".cache", "bin")
    binary = os.path.join(gobin, "conformance")
    if not os.path.exists(binary):
        run("go", "install", CONFORMANCE, env=dict(os.environ, GOBIN=gobin, CGO_ENABLED="0"))
    return binary


def results(directory):
    """Per test name, how many times it passed, failed or was skipped (from the suite's junit.xml)."""
    counts = collections.defaultdict(collections.Counter)
    for case in ET.parse(os.path.join(directory, "junit.xml")).getroot().iter("testcase"):
        counts[case.get("name")][case.get("status")] += 1
    return counts


def totals(counts):
    return sum((c for c in counts.values()), collections.Counter())


def conformance(binary, directory, **settings):
    env = {"PATH": os.environ["PATH"], "HOME": str(directory), "OCI_RESULTS_DIR": str(directory), "OCI_LOG": "error"}
    env.update({"OCI_" + key.upper(): value for key, value in settings.items()})
    # The suite exits 1 when any test fails; the registry's own gaps make that certain.
    proc = subprocess.run([binary], cwd=directory, env=env, capture_output=True, text=True, check=False)
    assert os.path.exists(os.path.join(directory, "junit.xml")), proc.stdout[-3000:] + proc.stderr[-3000:]
    return results(directory)


@pytest.fixture(scope="session")
def bare(conformance_binary, tmp_path_factory):
    """The suite against a bare registry of the same version: no auth, no nginx, its image's own config."""
    name = "sovereign-conformance-bare"
    subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True, check=False)
    run("docker", "run", "-d", "--name", name, "-p", "127.0.0.1:%d:5000" % BARE_PORT, "registry:" + VERSION)
    try:
        wait_for("http://127.0.0.1:%d/v2/" % BARE_PORT)
        return conformance(conformance_binary, tmp_path_factory.mktemp("bare"),
                           registry="127.0.0.1:%d" % BARE_PORT, tls="disabled",
                           repo1="conformance/repo1", repo2="conformance/repo2")
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True, check=False)


def wait_for(url):
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise AssertionError("no answer from " + url)


def blobs():
    """Every blob digest in the stack's storage."""
    found = set()
    for algorithm in ("sha256", "sha512"):
        root = os.path.join(STORAGE, "blobs", algorithm)
        for dirpath, _dirnames, filenames in os.walk(root):
            if "data" in filenames:
                found.add(algorithm + ":" + os.path.basename(dirpath))
    return found


def remove_from_storage(repositories):
    """Delete the repositories the suite used and collect their blobs with the collection's own GC."""
    for repository in repositories:
        run("rm", "-rf", os.path.join(STORAGE, "repositories", repository))
    proc = run(GC_SCRIPT)
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("identity", sorted(IDENTITIES))
def test_stack_passes_what_the_bare_registry_passes(identity, bare, conformance_binary, tmp_path):
    repo1, repo2 = IDENTITIES[identity]
    with open(os.path.join(CREDENTIALS, identity), encoding="utf-8") as handle:
        password = handle.read().strip()
    before = blobs()
    try:
        stack = conformance(conformance_binary, tmp_path, registry=DOMAIN, tls="enabled",
                            repo1=repo1, repo2=repo2, username=identity, password=password)
    finally:
        collected = remove_from_storage((repo1, repo2))
    regressions = {
        name: {"bare": dict(counts), "stack": dict(stack.get(name, {}))}
        for name, counts in sorted(bare.items())
        if stack.get(name, collections.Counter())["passed"] < counts["passed"]
    }
    print("\nconformance registry %s: bare %s; through the stack as %s in %s: %s; GC after: %s"
          % (VERSION, dict(totals(bare)), identity, repo1.split("/")[0], dict(totals(stack)), collected))
    assert not regressions, "tests the bare registry passes and the stack does not:\n" + json.dumps(regressions, indent=1)
    assert totals(stack)["passed"] >= totals(bare)["passed"] > 500
    assert blobs() <= before, "the suite left blobs in storage: %s" % sorted(blobs() - before)[:10]
