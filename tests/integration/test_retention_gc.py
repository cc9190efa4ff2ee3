"""Retention and garbage collection against the real registry, 3.1.1 and 2.8.

The registry runs without token auth here (docker_auth is not needed to
test what the registry deletes and collects; the Molecule storage scenario
runs the whole stack). It keeps the in-memory blob-descriptor cache, so a
re-pushed layer pulls again only because the GC script restarts it.
Needs the registry images (scripts/test builds them first).
"""

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from helpers import run_ansible
from e2e.images import Pusher
from e2e.transport import Http
from ansible_collections.sovereign.registry.plugins.module_utils._registry.client import Registry

MOUNT_POINT = {"3": "/etc/distribution", "2": "/etc/docker/registry"}
SEEDED = [
    {"repository": "publicrepos/app", "tag": "pr-1", "seed": "app-1", "size": 3000000, "days_ago": 35},
    {"repository": "publicrepos/app", "tag": "pr-2", "seed": "app-2", "size": 3000000, "days_ago": 30},
    {"repository": "publicrepos/app", "tag": "pr-3", "seed": "app-3", "size": 3000000, "days_ago": 20},
    {"repository": "publicrepos/app", "tag": "release-1", "seed": "app-3", "size": 3000000, "days_ago": 20},
    {"repository": "publicrepos/app", "tag": "pr-4", "seed": "app-4", "size": 3000000, "days_ago": 2},
    {"repository": "publicrepos/multi", "tag": "pr-7", "seed": "multi-7", "size": 2000000, "days_ago": 40,
     "platforms": ["linux/amd64", "linux/arm64"]},
    {"repository": "publicrepos/multi", "tag": "pr-8", "seed": "multi-8", "size": 2000000, "days_ago": 1,
     "platforms": ["linux/amd64", "linux/arm64"]},
]
RULES = [{"repository": "publicrepos/*", "tags": "pr-*", "keep_last": 1, "older_than_days": 14}]
DELETED = ["publicrepos/app:pr-1", "publicrepos/app:pr-2", "publicrepos/multi:pr-7"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def docker(*args, check=True):
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    assert not check or proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(params=os.environ.get("SOVEREIGN_TEST_REGISTRY_VERSIONS", "3.1.1 2.8").split())
def registry(request, tmp_path):
    version = request.param
    major = version.split(".")[0]
    port = free_port()
    name = "sovtest-registry"
    for sub in ("data", "config", "switches"):
        (tmp_path / sub).mkdir()
    (tmp_path / "config" / "config.yml").write_text(
        "version: 0.1\nlog: {level: warn}\n"
        "storage:\n  cache: {blobdescriptor: inmemory}\n  delete: {enabled: true}\n"
        "  filesystem: {rootdirectory: /var/lib/registry}\n"
        "http: {addr: ':5000'}\n")
    docker("rm", "-f", name + "-1", check=False)
    docker("run", "-d", "--name", name + "-1", "--network", "host", "-e", "REGISTRY_HTTP_ADDR=127.0.0.1:%d" % port,
           "--mount", "type=bind,source=%s,target=%s,readonly" % (tmp_path / "config", MOUNT_POINT[major]),
           "--mount", "type=bind,source=%s,target=/var/lib/registry" % (tmp_path / "data"),
           "registry:" + version)
    url = "http://127.0.0.1:%d" % port
    for _attempt in range(50):
        try:
            urllib.request.urlopen(url + "/v2/", timeout=1)
            break
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    script = tmp_path / "sovereign-registry-gc"
    # No token auth here: a ready instance answers 200.
    extra = {"sovereign_registry_registry_gc_script": str(script), "sovereign_registry_major_version": int(major),
             "sovereign_registry_registry_ready_script": str(tmp_path / "sovereign-registry-ready"), "sovereign_registry_registry_ready_status": 200,
             "sovereign_registry_image": "registry:" + version, "sovereign_registry_registry_data_dir": str(tmp_path / "data"),
             "sovereign_registry_registry_config_dir": str(tmp_path / "config"),
             "sovereign_registry_switch_dir": str(tmp_path / "switches"), "sovereign_registry_registry_gc_settle_seconds": 1,
             "sovereign_registry_registry_instances": 1, "sovereign_registry_registry_port": port,
             "sovereign_registry_registry_container_name": name, "sovereign_registry_registry_drain_seconds": 1,
             "sovereign_registry_registry_storage_driver": "filesystem",
             # One node, one instance, its cache in memory (the test's config.yml).
             "sovereign_registry_nodes": ["localhost"],
             # The test registry runs as root, so its storage belongs to root.
             "__sovereign_registry_registry_ids": "0:0",
             "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    proc = run_ansible(["ansible-playbook", "tests/integration/gc_script.yml"], extra)
    assert proc.returncode == 0, proc.stdout[-2000:]
    yield dict(version=version, url=url, host="127.0.0.1:%d" % port, script=str(script), tmp=tmp_path)
    docker("rm", "-f", name + "-1", check=False)
    images = docker("images", "--format", "{{.Repository}}:{{.Tag}}", "127.0.0.1:%d/*/*" % port, check=False)
    for ref in images.stdout.split():
        docker("rmi", "-f", ref, check=False)


def run_gc(registry):
    proc = subprocess.run([registry["script"]], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1]), proc.stderr


def pull_digest(ref):
    docker("rmi", ref, check=False)
    proc = docker("pull", ref, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("Digest: "):
            return line.split()[1]
    return "error: " + proc.stderr.strip()


def tags(registry, repository):
    with urllib.request.urlopen("%s/v2/%s/tags/list" % (registry["url"], repository)) as answer:
        return sorted(json.load(answer)["tags"] or [])


def test_retention_then_gc_frees_space_and_keeps_every_kept_image(registry, run_module):
    pusher = Pusher(Registry(registry["url"], Http(keep_alive=True)))
    digests = {"%s:%s" % (s["repository"], s["tag"]): pusher.push(s) for s in SEEDED}
    args = {"registry_url": registry["url"], "rules": RULES}

    # Check mode: exactly the selected tags, with the bytes; nothing deleted.
    proc, check = run_module("registry_retention", args, check=True)
    assert proc.returncode == 0, proc.stdout[-2000:]
    listed = sorted("%s:%s" % (e["repository"], t) for e in check["deleted"] for t in e["tags"])
    print("\n[%s] check mode: %s" % (registry["version"], "; ".join(check["summary"])))
    assert listed == DELETED
    assert [(s["tag"], s["kept_tag"]) for s in check["shared"]] == [("pr-3", "release-1")]
    assert [len(e["manifests"]) for e in check["deleted"]] == [1, 1, 5]
    assert check["bytes_freed"] > 2 * 3000000 + 2 * 2000000
    assert tags(registry, "publicrepos/app") == ["pr-1", "pr-2", "pr-3", "pr-4", "release-1"]

    proc, done = run_module("registry_retention", args)
    assert proc.returncode == 0 and done["changed"] and done["manifests_deleted"] == 7
    assert tags(registry, "publicrepos/app") == ["pr-3", "pr-4", "release-1"]
    assert tags(registry, "publicrepos/multi") == ["pr-8"]

    collected, log = run_gc(registry)
    print("[%s] garbage collection: %s" % (registry["version"], collected))
    assert collected["changed"] and collected["bytes_reclaimed"] >= 0.9 * check["bytes_freed"]
    assert "pushes refused meanwhile" in log and "pushes accepted again" in log
    assert not os.path.exists(registry["tmp"] / "switches" / "maintenance")

    kept = {ref: digest for ref, digest in digests.items() if ref not in DELETED}
    pulled = {ref: pull_digest("%s/%s" % (registry["host"], ref)) for ref in kept}
    assert pulled == kept
    assert pull_digest("%s/publicrepos/app:pr-1" % registry["host"]).startswith("error")

    # The deleted layer goes up again (the restarted registry no longer
    # claims it has it) and pulls with the same digest.
    again = Pusher(Registry(registry["url"], Http(keep_alive=True))).push(SEEDED[0])
    assert again == digests["publicrepos/app:pr-1"]
    assert pull_digest("%s/publicrepos/app:pr-1" % registry["host"]) == again

    second = run_gc(registry)[0]
    assert second == {"changed": False, "bytes_reclaimed": 0, "blobs": 0, "manifests": 0}


def test_a_plan_that_empties_a_repository_deletes_nothing(registry, run_module):
    pusher = Pusher(Registry(registry["url"], Http(keep_alive=True)))
    for spec in SEEDED[:2]:
        pusher.push(spec)
    rules = [{"repository": "publicrepos/app", "tags": "pr-*", "older_than_days": 14}]
    proc, result = run_module("registry_retention", {"registry_url": registry["url"], "rules": rules})
    assert proc.returncode != 0
    assert "would lose every tag: publicrepos/app (rule 1). Nothing was deleted" in result["msg"]
    assert tags(registry, "publicrepos/app") == ["pr-1", "pr-2"]


def test_the_timer_units_are_valid_systemd_units(registry):
    units = [str(registry["tmp"] / name) for name in ("sovereign-registry-gc.service", "sovereign-registry-gc.timer")]
    proc = subprocess.run(["systemd-analyze", "verify", "--man=no"] + units, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ExecStart=%s\n" % registry["script"] in open(units[0]).read()


def test_gc_on_a_storage_nothing_was_ever_pushed_to_collects_nothing(registry):
    # A fresh registry (or one whose repositories were all removed) has no
    # repositories directory; the registry's own garbage-collect fails there.
    collected, log = run_gc(registry)
    assert collected == {"changed": False, "bytes_reclaimed": 0, "blobs": 0, "manifests": 0}, log
