"""Make the collection importable as ansible_collections.sovereign.registry.

scripts/bootstrap links this checkout into .cache/collections.
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(REPO, ".cache", "collections")
if not os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "sovereign", "registry")):
    raise RuntimeError("run scripts/bootstrap first: %s has no sovereign.registry link" % COLLECTIONS)
sys.path.insert(0, COLLECTIONS)
