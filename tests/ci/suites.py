"""Every suite scripts/test runs: one table (what, for which registry versions, on which deployment, in which lane).

A suite runs for both registry versions only where the version changes
what it proves: the config path and the token key id (default; rotation's
phases, bundle and rolling recreation are the same for both, so it runs for
3.1.1),
garbage collection and the redis settings (storage: registry 2.8's shared
deployment keeps its cache in redis; scaleout proves 3's), and retention
and GC on the bare registry (integration). Everything else runs once, for
the first version, or, where the version changes nothing it proves, where
the lanes then end together (bad input, users). The suites that need only a
running stack share one deployment per version (the default scenario's test
hosts, converged once, with the registry storage on a small tmpfs): each
leaves it as it found it, or its scenario says what it changed; storage
fills the storage and collects garbage, so it comes last. Lanes run at once
(tests/ci/runner.py); "setup" runs first and alone, "last" after every
other.

  python3 tests/ci/suites.py [--list] [KEY ...]
      run every suite (scripts/test), or only the setup and the suites named by
      their KEY (the first column of --list, e.g. 'users 3.1.1': a suite on a
      shared deployment needs the suite that creates it named too); --list
      lists them
"""

from __future__ import annotations

import os
import sys
from typing import List, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# pylint: disable=wrong-import-position
from ci import machine  # noqa: E402
from ci.runner import LAST, SETUP, Run, Suite, jobs  # noqa: E402

BOTH: Tuple[str, ...] = ("3.1.1", "2.8")
FIRST: Tuple[str, ...] = ("3.1.1",)
STACK = "default-{version}"

TABLE: List[Suite] = [
    # ---- what every lane needs, first ------------------------------------------------------------------------
    Suite("images", "images built from pinned sources on the build host, Go modules checked against their pinned hashes",
          "sovereign_build_images $SOVEREIGN_TEST_VERSIONS", lane=SETUP),
    Suite("collection", "collection built and installed from its tarball", "sovereign_install_collection", lane=SETUP),
    Suite("test host image", "test host image (Debian, mmdebstrap), built once", "sovereign_testhost_image", lane=SETUP),
    # ---- checks that need no test host, and a scenario with test hosts of its own -----------------------------
    Suite("ansible-lint", "ansible-lint (production profile)", "ansible-lint", lane="checks", needs_setup=False),
    Suite("ansible-doc", "module and role docs (ansible-doc)", "module_docs", lane="checks", needs_setup=False),
    Suite("syntax", "playbook syntax", "syntax", lane="checks", needs_setup=False),
    Suite("access report", "access report of inventory.example, by the documented command, is the committed example",
          "access_report_example", lane="checks", needs_setup=False),
    Suite("sanity, units", "ansible-test sanity and units", "ansible_test", lane="checks"),
    Suite("mypy", "types of the collection's Python library and of the test library (mypy)", "typecheck", lane="checks",
          needs_setup=False),
    Suite("changelog", "changelog fragments and generated CHANGELOG.md", "changelog", lane="checks", needs_setup=False),
    Suite("alert rules", "the alert rules checked and unit-tested (promtool check rules, promtool test rules)",
          "alert_rules", lane="checks", needs_setup=False),
    # Retention and GC on the bare registry of each version (integration), the ACL simulator against the real
    # docker_auth (differential).
    Suite("integration", "integration on a test host: certificates, expiry, rotation refusals; retention and garbage "
          "collection on the real registry (pytest)", "pytest_suite tests/integration", lane="checks"),
    Suite("differential", "ACL simulator agrees with the real docker_auth (differential)",
          "pytest_suite tests/differential", lane="checks"),
    Suite("ldap", "molecule ldap: people from a directory (OpenLDAP, StartTLS) beside static accounts, registry {version}",
          "molecule_test ldap", versions=FIRST, lane="checks"),
    # ---- one shared deployment per registry version; version-free scenarios where the lanes end together ------
    Suite("default {version}", "molecule default, registry {version}: test hosts, converge, idempotence, verify from a "
          "client host and a monitoring host", "SOVEREIGN_TEST_MONITORING_HOST=monitor:prometheus_servers "
          "molecule_test default --destroy never", versions=FIRST, deployment=STACK, creates=True,
          lane="stack-{version}"),
    # Its second site.yml run is the users suite's last step (zero changed, after onboarding and offboarding), on
    # the same deployment: it is not run twice.
    Suite("default {version}", "molecule default, registry {version}: test hosts, converge, verify from a client host "
          "(site.yml's second run, zero changed: users)", "molecule_test_without_idempotence default",
          versions=("2.8",), deployment=STACK, creates=True, lane="stack-{version}"),
    Suite("bad input", "bad input refused before any change, deployed stack unchanged (registry {version})",
          "SOVEREIGN_TEST_DEPLOYMENT=$SOVEREIGN_TEST_SHARED python -m pytest -q -p no:cacheprovider tests/bad_input",
          versions=("2.8", "3.1.1"), once=True, deployment=STACK, lane="stack-{version}"),
    Suite("conformance", "OCI conformance suite through the stack vs the bare registry {version}",
          "on_shared conformance", versions=FIRST, deployment=STACK, lane="stack-{version}"),
    # Version-free (docker_auth's users, not the registry's): where the lanes then end together.
    Suite("users", "molecule users: onboarding and offboarding without restart (registry {version})",
          "on_shared users", versions=("2.8", "3.1.1"), once=True, deployment=STACK, lane="stack-{version}"),
    Suite("rotation {version}", "molecule rotation: token certificate rotation under load, registry {version}",
          "on_shared rotation", versions=FIRST, deployment=STACK, lane="stack-{version}"),
    Suite("mirror", "molecule mirror: Docker and containerd pull through the pull-through mirrors, the upstream's host "
          "stopped for the second pull; a push and an account without rights refused (registry {version})",
          "on_shared mirror", versions=FIRST, deployment=STACK, lane="stack-{version}"),
    Suite("security", "molecule security: hardening, TLS, limits, canaries and the audit trail, registry {version}",
          "on_shared security", versions=FIRST, deployment=STACK, lane="stack-{version}"),
    # 3.1.1's deployment has the monitoring host (prometheus_servers).
    Suite("monitoring", "molecule monitoring: Prometheus on a monitoring host scrapes every metrics endpoint, another "
          "host gets 403; a certificate expiring in 5 days, the storage past the disk guard's threshold and a registry "
          "instance stopped each fire their alert, and clear (registry {version})",
          "on_shared monitoring", versions=FIRST, deployment=STACK, lane="stack-{version}"),
    Suite("benchmark smoke", "benchmark still works (scripts/benchmark --smoke on the shared deployment: every "
          "measurement, small sizes, figures not judged)", "python3 tests/benchmark/run.py --smoke --deployment $SOVEREIGN_TEST_SHARED",
          versions=("2.8", "3.1.1"), once=True, deployment=STACK, lane="stack-{version}"),
    # Fills the storage and collects garbage: last on its deployment.
    Suite("storage {version}", "molecule storage: disk guard, retention and garbage collection, registry {version}",
          "on_shared storage", versions=BOTH, deployment=STACK, lane="stack-{version}"),
    # After storage: its pr-* tags would be garbage that the storage scenario counts.
    Suite("browser", "molecule browser: the repository browser in Debian's chromium (Selenium): anonymous sees the "
          "public repositories only and never a private name, firstuser theirs with a multi-platform index, the pull "
          "line works in docker pull, an admin sees who pushed, the CSP holds with no violation (registry {version})",
          "on_shared browser", versions=FIRST, deployment=STACK, lane="stack-{version}"),
    # ---- test hosts of their own --------------------------------------------------------------------------------
    Suite("scaleout", "molecule scaleout: two registry nodes on S3 behind HAProxy, an upload across them, a node killed "
          "under a pull loop, garbage collection across them, registry {version}",
          "molecule_test scaleout --destroy never", versions=FIRST, deployment="scaleout-{version}", creates=True,
          lane="nodes"),
    Suite("faults, scale-out", "molecule faults on the scaleout hosts: a docker_auth and a registry instance of a node "
          "killed, redis and the S3 store each stopped for 60 s, a node's network cut, a node rebooted, under docker "
          "pulls and pushes; each row held to its bound, every push read back (registry {version})",
          "on_shared faults", versions=FIRST, deployment="scaleout-{version}", lane="nodes"),
    Suite("readme", "README's real-server steps, verbatim, on fresh test hosts", "pytest_suite tests/readme", lane="nodes"),
    # From registry 2.8 (the previous release deployed it) to 3.1.1; the drill then restores the 3.1.1 server.
    Suite("upgrade", "molecule upgrade: the previous release (molecule/upgrade/vars/release.yml, built from git "
          "history) deployed with registry {version}, then the current collection, then registry 3.1.1 in place, "
          "each under pull loops with no failed pull; going back refused", "molecule_test upgrade --destroy never",
          versions=("2.8",), deployment="upgrade-{version}", creates=True, lane="upgrade"),
    Suite("drill", "molecule drill: a backup while pushes go on, the registry server destroyed, restored onto a fresh "
          "host; every image byte for byte, an old token, old passwords, site.yml changed=0",
          "on_shared drill", versions=("2.8",), deployment="upgrade-{version}", lane="upgrade"),
    # The upgraded and restored server (registry 3.1.1 by then), with its storage on disk: it survives a reboot.
    Suite("faults, single host", "molecule faults on the restored server: each docker_auth and registry instance "
          "killed, nginx reloaded and restarted during a large upload, the audit receiver killed, the host rebooted, "
          "under docker pulls and pushes; each row held to its bound, every push read back and in the audit trail",
          "on_shared faults", versions=("2.8",), deployment="upgrade-{version}", lane="upgrade"),
    Suite("first contact", "the README's quick start as a newcomer types it, on a fresh host without systemd (the demo "
          "killed midway and run again, scripts/test beside it, --remove)", "pytest_suite tests/first_contact -k plain",
          lane="checks"),
    Suite("first contact, systemd", "the README's quick start as a newcomer types it, on a fresh host with systemd",
          "pytest_suite tests/first_contact -k systemd", lane="nodes"),
    # ---- after every other lane ----------------------------------------------------------------------------------
    Suite("machine untouched", "this machine's own registry stack unchanged by the tests, no test host left",
          "testhosts down --all && python3 tests/ci/machine.py compare", lane=LAST, needs_setup=False),
]


def main(argv: List[str]) -> int:
    versions = os.environ.get("SOVEREIGN_TEST_REGISTRY_VERSIONS", " ".join(BOTH)).split()
    if argv[:1] == ["--list"]:
        for job in jobs(TABLE, versions):
            print("%-16s %-24s %s" % (job.lane, job.key, job.deployment or ""))
        return 0
    machine.snapshot()
    run = Run(TABLE, versions)
    if argv:
        unknown = set(argv) - {job.key for job in run.jobs}
        if unknown:
            print("no such suite: %s (python3 tests/ci/suites.py --list)" % ", ".join(sorted(unknown)))
            return 2
        chosen = [job for job in run.jobs if job.key in argv]
        setup = [job for job in run.jobs if job.lane == SETUP] if any(job.suite.needs_setup for job in chosen) else []
        run.jobs = setup + chosen
    run.run()
    return 0 if run.summary() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
