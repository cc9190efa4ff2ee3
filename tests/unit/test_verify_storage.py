"""The restore's storage check (roles/backup/files/sovereign-registry-verify-storage.py) on a registry tree laid out
as distribution writes it: each missing or altered piece is a fault, a whole tree has none."""

import hashlib
import json
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "backup", "files", "sovereign-registry-verify-storage.py")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


class Tree:
    """A storage with one repository: an image (config, layer) and an index naming it, tagged 1 and multi."""

    def __init__(self, root: str) -> None:
        self.v2 = os.path.join(root, "docker", "registry", "v2")
        self.repo = os.path.join(self.v2, "repositories", "team", "app")
        self.layer = self.blob(b"layer" * 1000)
        config = self.blob(b'{"architecture": "amd64"}')
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"digest": config}, "layers": [{"digest": self.layer}]}).encode()
        self.manifest = self.revision(manifest)
        index = json.dumps({"schemaVersion": 2, "manifests": [{"digest": self.manifest}]}).encode()
        self.index = self.revision(index)
        self.tag("1", self.manifest)
        self.tag("multi", self.index)

    def blob_path(self, digest: str) -> str:
        encoded = digest.split(":")[1]
        return os.path.join(self.v2, "blobs", "sha256", encoded[:2], encoded, "data")

    def blob(self, data: bytes) -> str:
        digest = _digest(data)
        _write(self.blob_path(digest), data)
        _write(os.path.join(self.repo, "_layers", "sha256", digest[7:], "link"), digest.encode())
        return digest

    def revision(self, data: bytes) -> str:
        digest = self.blob(data)
        _write(os.path.join(self.repo, "_manifests", "revisions", "sha256", digest[7:], "link"), digest.encode())
        return digest

    def tag(self, name: str, digest: str) -> None:
        _write(os.path.join(self.repo, "_manifests", "tags", name, "current", "link"), digest.encode())


def _check(root: str):
    proc = subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True, check=False)
    return proc.returncode, json.loads(proc.stdout)


@pytest.fixture(name="tree")
def fixture_tree(tmp_path):
    return Tree(str(tmp_path))


def test_a_whole_tree_has_no_fault(tmp_path, tree):
    code, result = _check(str(tmp_path))
    assert code == 0
    assert (result["repositories"], result["tags"], result["manifests"], result["blobs"]) == (1, 2, 2, 4)
    assert result["fault_count"] == 0 and result["bytes"] > 5000


def test_an_empty_storage_has_no_fault(tmp_path):
    assert _check(str(tmp_path)) == (0, {"repositories": 0, "tags": 0, "manifests": 0, "blobs": 0, "bytes": 0,
                                         "faults": [], "fault_count": 0})


@pytest.mark.parametrize("damage, words", [
    (lambda t: os.remove(t.blob_path(t.layer)), "missing"),
    (lambda t: _write(t.blob_path(t.layer), b"other bytes"), "another digest"),
    (lambda t: t.tag("2", "sha256:" + "0" * 64), "team/app:2 names sha256:000"),
    (lambda t: os.remove(os.path.join(t.repo, "_layers", "sha256", t.layer[7:], "link")), "not linked in the repository"),
    (lambda t: os.remove(os.path.join(t.repo, "_manifests", "revisions", "sha256", t.manifest[7:], "link")),
     "not in the repository"),
])
def test_each_damage_is_a_fault(tmp_path, tree, damage, words):
    damage(tree)
    code, result = _check(str(tmp_path))
    assert code == 1
    assert any(words in fault for fault in result["faults"]), result
