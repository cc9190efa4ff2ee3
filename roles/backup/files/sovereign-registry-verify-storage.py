"""Check a registry's filesystem storage, as a restore must leave it.

Every tag names a manifest of its repository; every manifest's content and
every blob it refers to (config, layers, the manifests of an image index)
are there, and each one's content has its digest. Blobs no link names are
not looked at (garbage collection's business).

  python3 sovereign-registry-verify-storage.py DATA_DIR

Prints JSON: repositories, tags, manifests, blobs, bytes, faults (the first
20) and fault_count; exits 1 if there is any fault.
"""

import hashlib
import json
import os
import sys


def main(data_dir):
    v2 = os.path.join(data_dir, "docker", "registry", "v2")
    checked = {}
    faults = []
    counts = {"repositories": 0, "tags": 0, "manifests": 0}

    def blob(digest):
        """The blob's content if it is there with its digest, else None (and the fault noted)."""
        if digest in checked:
            return checked[digest]
        algorithm, _colon, encoded = digest.partition(":")
        path = os.path.join(v2, "blobs", algorithm, encoded[:2], encoded, "data")
        content = None
        try:
            hashed = hashlib.sha256()
            head = b""
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    hashed.update(chunk)
                    # Manifests (small) are kept for their references.
                    head = head + chunk if len(head) < (4 << 20) else b""
            if algorithm == "sha256" and hashed.hexdigest() == encoded:
                content = head
            else:
                faults.append("blob %s: its content has another digest" % digest)
        except OSError:
            faults.append("blob %s: missing" % digest)
        checked[digest] = content
        return content

    def link(path):
        """The digest a link file names; "" for one that is missing or unreadable (a fault where it is needed)."""
        try:
            with open(path, encoding="ascii") as handle:
                return handle.read().strip()
        except (OSError, UnicodeDecodeError):
            return ""

    repositories = os.path.join(v2, "repositories")
    for parent, directories, _files in os.walk(repositories):
        if "_manifests" not in directories:
            continue
        directories[:] = [d for d in directories if not d.startswith("_")]
        name = os.path.relpath(parent, repositories)
        counts["repositories"] += 1
        revisions_dir = os.path.join(parent, "_manifests", "revisions", "sha256")
        revisions = set()
        for encoded in sorted(os.listdir(revisions_dir)) if os.path.isdir(revisions_dir) else []:
            digest = link(os.path.join(revisions_dir, encoded, "link"))
            if digest != "sha256:" + encoded:
                faults.append("%s: revision %s links to %r" % (name, encoded, digest))
                continue
            revisions.add(digest)
        for digest in sorted(revisions):
            counts["manifests"] += 1
            content = blob(digest)
            if content is None:
                continue
            try:
                manifest = json.loads(content)
            except ValueError:
                faults.append("%s: manifest %s is not JSON" % (name, digest))
                continue
            for child in manifest.get("manifests", []):
                if child["digest"] not in revisions:
                    faults.append("%s: index %s names %s, not in the repository" % (name, digest, child["digest"]))
            for reference in [manifest.get("config")] + manifest.get("layers", []):
                if reference and not reference.get("urls"):
                    blob(reference["digest"])
                    # The registry serves a repository only the blobs linked in it.
                    encoded = reference["digest"].partition(":")[2]
                    if not os.path.exists(os.path.join(parent, "_layers", "sha256", encoded, "link")):
                        faults.append("%s: %s names %s, not linked in the repository" % (name, digest, reference["digest"]))
        tags_dir = os.path.join(parent, "_manifests", "tags")
        for tag in sorted(os.listdir(tags_dir)) if os.path.isdir(tags_dir) else []:
            counts["tags"] += 1
            digest = link(os.path.join(tags_dir, tag, "current", "link"))
            if digest not in revisions:
                faults.append("%s:%s names %s, which is not there" % (name, tag, digest))
    sizes = 0
    for digest, content in checked.items():
        encoded = digest.partition(":")[2]
        path = os.path.join(v2, "blobs", "sha256", encoded[:2], encoded, "data")
        if content is not None and os.path.exists(path):
            sizes += os.path.getsize(path)
    result = dict(counts, blobs=len(checked), bytes=sizes, faults=faults[:20], fault_count=len(faults))
    print(json.dumps(result))
    return 1 if faults else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
