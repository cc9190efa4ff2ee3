# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Tag retention for a distribution registry, through its HTTP API.

Pure Python, over the registry client (_registry_client), so the rules, the
plan and the byte counts can be checked without a registry, and the same
code runs against a real one.

Semantics (documented in the module):
  - every tag is decided by the first rule whose ``repository`` and ``tags``
    globs (Go ``path.Match``, as docker_auth: ``*`` does not cross ``/``)
    both match; tags no rule matches are kept;
  - per repository and rule, tags are ordered newest first by the image's
    creation time; the ``keep_last`` newest are kept, the others are deleted
    when older than ``older_than_days`` (or always, when it is not set);
  - an image index (multi-platform, with attestations) is one unit: its
    children go with it, and its age is that of its newest platform image;
  - a manifest a kept tag still references (directly or as an index child)
    is never deleted, and neither is the tag that points to it.
"""

from __future__ import annotations

import datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from ansible_collections.sovereign.registry.plugins.module_utils import _go
from ansible_collections.sovereign.registry.plugins.module_utils._registry.client import (
    ATTESTATION_ANNOTATION,
    INDEX_TYPES,
    MANIFEST_TYPES,
    Registry,
)

# A rule after validate_rules: repository, tags, keep_last, older_than_days, allow_delete_all, index.
Rule = Dict[str, Any]
# describe(): digest, media_type, created, children, blobs {digest: size}, platforms.
Image = Dict[str, Any]
Images = Dict[str, Dict[str, Image]]
# (repository, tag) -> the rule that decided (None: no rule matched).
Decisions = Dict[Tuple[str, str], Optional[Rule]]

RULE_KEYS = ("repository", "tags", "keep_last", "older_than_days", "allow_delete_all")


class RetentionError(Exception):
    """Bad input or a plan that must not run; nothing was deleted."""


# ----------------------------------------------------------------- the rules


def _glob_error(pattern: str) -> bool:
    try:
        _go.path_match(pattern, "")
        _go.path_match(pattern, "x" * 3)
    except _go.BadPattern:
        return True
    return False


def validate_rules(rules: Any) -> List[Rule]:
    """Normalised copies of the rules, or RetentionError naming each mistake."""
    if not isinstance(rules, list) or not rules:
        raise RetentionError("rules: give at least one retention rule (a list of dicts with repository and tags)")
    errors: List[str] = []
    out: List[Rule] = []
    for index, rule in enumerate(rules, start=1):
        where = "rule %d" % index
        if not isinstance(rule, dict):
            errors.append("%s: must be a dict with repository, tags, keep_last and/or older_than_days" % where)
            continue
        unknown = sorted(set(rule) - set(RULE_KEYS))
        if unknown:
            errors.append("%s: unknown key(s) %s; the keys are %s" % (where, ", ".join(unknown), ", ".join(RULE_KEYS)))
        norm = dict(repository=rule.get("repository"), tags=rule.get("tags", "*"),
                    keep_last=rule.get("keep_last", 0), older_than_days=rule.get("older_than_days"),
                    allow_delete_all=rule.get("allow_delete_all", False))
        for key in ("repository", "tags"):
            value = norm[key]
            if not isinstance(value, str) or not value:
                errors.append("%s: %s must be a non-empty glob such as \"publicrepos/*\" or \"pr-*\"" % (where, key))
            elif _glob_error(value):
                errors.append("%s: %s %r is not a valid glob (Go path.Match: close every [ and end no pattern with \\)"
                              % (where, key, value))
        for key in ("keep_last", "older_than_days"):
            value = norm[key]
            if value is None and key == "older_than_days":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                errors.append("%s: %s must be a whole number of 0 or more, not %r" % (where, key, value))
        if not isinstance(norm["allow_delete_all"], bool):
            errors.append("%s: allow_delete_all must be true or false" % where)
        elif (norm["keep_last"] == 0 and norm["older_than_days"] is None and not norm["allow_delete_all"]):
            errors.append("%s: with neither keep_last nor older_than_days it deletes every tag it matches; "
                          "set keep_last or older_than_days, or allow_delete_all: true if that is meant" % where)
        norm["index"] = index
        out.append(norm)
    if errors:
        raise RetentionError("; ".join(errors))
    return out


# ------------------------------------------------------------------ images


def describe(registry: Registry, repository: str, reference: str, with_age: bool = True) -> Image:
    """What a tag stands for: digest, type, children, creation time and blobs.

    ``blobs`` maps every blob digest the image needs (manifests included) to
    its size; an index's children and their blobs belong to it.
    """
    digest, media_type, size, manifest = registry.manifest(repository, reference)
    image: Image = dict(digest=digest, media_type=media_type, created=None, children=[], blobs={digest: size},
                        platforms=[])
    if media_type in INDEX_TYPES:
        for child in manifest.get("manifests") or []:
            attestation = (child.get("annotations") or {}).get(ATTESTATION_ANNOTATION) == "attestation-manifest"
            sub = describe(registry, repository, child["digest"], with_age and not attestation)
            image["children"].append(child["digest"])
            image["blobs"].update(sub["blobs"])
            platform = child.get("platform") or {}
            if not attestation:
                image["platforms"].append("%s/%s" % (platform.get("os", "?"), platform.get("architecture", "?")))
                if sub["created"] and (image["created"] is None or sub["created"] > image["created"]):
                    image["created"] = sub["created"]
    elif media_type in MANIFEST_TYPES:
        config = manifest.get("config") or {}
        for blob in [config] + list(manifest.get("layers") or []):
            if blob.get("digest"):
                image["blobs"][blob["digest"]] = int(blob.get("size") or 0)
        if with_age:
            image["created"] = registry.created(repository, config)
    # Other types (schema 1 from old registries, artifacts): no creation time
    # is read, so a rule never deletes them; they are listed as unknown age.
    return image


def first_rule(rules: Sequence[Rule], repository: str, tag: str) -> Optional[Rule]:
    for rule in rules:
        if _go.path_match(rule["repository"], repository) and _go.path_match(rule["tags"], tag):
            return rule
    return None


def inventory(registry: Registry, rules: Sequence[Rule]) -> Images:
    """Every tag of every repository, described; ages only where a rule applies.

    A tag whose manifest is gone (registry 2.8 lists the tags of a manifest
    deleted by its digest) stands for no image: left out, neither kept nor
    deleted.
    """
    found: Images = {}
    for repository in registry.repositories():
        found[repository] = {}
        for tag in registry.tags(repository):
            if registry.find_manifest(repository, tag) is None:
                continue
            ruled = first_rule(rules, repository, tag) is not None
            found[repository][tag] = describe(registry, repository, tag, with_age=ruled)
    return found


# --------------------------------------------------------------------- plan


def _decide_tags(rules: Sequence[Rule], images: Images, now: datetime.datetime) -> Tuple[Decisions, Decisions, List[Dict[str, str]]]:
    """Each tag kept or deleted by the first rule that matches it: (kept, deleted, unknown age)."""
    kept: Decisions = {}
    deleted: Decisions = {}
    unknown_age: List[Dict[str, str]] = []
    for repository in sorted(images):
        groups: Dict[int, Tuple[Rule, List[str]]] = {}
        for tag in sorted(images[repository]):
            rule = first_rule(rules, repository, tag)
            if rule is None:
                kept[(repository, tag)] = None
            else:
                groups.setdefault(rule["index"], (rule, []))[1].append(tag)
        for rule, tags in groups.values():
            for tag in tags:
                if images[repository][tag]["created"] is None:
                    unknown_age.append(dict(repository=repository, tag=tag))
                    kept[(repository, tag)] = rule
            dated = sorted((t for t in tags if images[repository][t]["created"] is not None),
                           key=lambda t: (images[repository][t]["created"], t), reverse=True)
            for position, tag in enumerate(dated):
                age = now - images[repository][tag]["created"]
                old = rule["older_than_days"] is None or age > datetime.timedelta(days=rule["older_than_days"])
                if position < rule["keep_last"] or not old:
                    kept[(repository, tag)] = rule
                else:
                    deleted[(repository, tag)] = rule
    return kept, deleted, unknown_age


def _deletions(images: Images, kept: Decisions, deleted: Decisions,
               now: datetime.datetime) -> Tuple[Dict[Tuple[str, str], Dict[str, Any]], List[Dict[str, str]], Set[str]]:
    """The manifests to delete per image, the tags kept because a kept tag shares their manifest, and the kept blobs."""
    kept_manifests: Dict[str, Dict[str, str]] = {}
    kept_blobs: Set[str] = set()
    for repository, tag in kept:
        image = images[repository][tag]
        kept_manifests.setdefault(repository, {}).update(
            {digest: tag for digest in [image["digest"]] + image["children"]})
        kept_blobs.update(image["blobs"])
    deletions: Dict[Tuple[str, str], Dict[str, Any]] = {}
    shared: List[Dict[str, str]] = []
    for (repository, tag), rule in sorted(deleted.items()):
        image = images[repository][tag]
        keeper = kept_manifests.get(repository, {}).get(image["digest"])
        if keeper is not None:
            # Deleting the manifest would take the kept tag with it.
            shared.append(dict(repository=repository, tag=tag, digest=image["digest"], kept_tag=keeper))
            kept[(repository, tag)] = rule
            continue
        entry = deletions.setdefault((repository, image["digest"]), dict(
            repository=repository, digest=image["digest"], media_type=image["media_type"], tags=[],
            rules=[], created=image["created"].isoformat(), age_days=(now - image["created"]).days,
            platforms=image["platforms"],
            # Children first, the index last: an interrupted run leaves a
            # tag that the next run finds and finishes.
            manifests=[d for d in image["children"] if d not in kept_manifests.get(repository, {})]
            + [image["digest"]],
            blobs=image["blobs"]))
        entry["tags"].append(tag)
        if rule is not None and rule["index"] not in entry["rules"]:
            entry["rules"].append(rule["index"])
    return deletions, shared, kept_blobs


def _refuse_emptied_repositories(rules: Sequence[Rule], images: Images, kept: Decisions, deleted: Decisions) -> None:
    """A repository must keep a tag unless every deciding rule allows otherwise."""
    refused = []
    for repository in sorted(images):
        if not images[repository] or any(key[0] == repository for key in kept):
            continue
        rules_here = sorted({rule["index"] for (r, _tag), rule in deleted.items() if r == repository and rule})
        if not all(rules[i - 1]["allow_delete_all"] for i in rules_here):
            refused.append("%s (rule %s)" % (repository, ", ".join(str(i) for i in rules_here)))
    if refused:
        raise RetentionError(
            "these repositories would lose every tag: %s. Nothing was deleted. Raise keep_last, or set "
            "allow_delete_all: true on the rule if that is meant" % "; ".join(refused))


def plan(rules: Sequence[Rule], images: Images, now: datetime.datetime) -> Dict[str, Any]:
    """Decide, without deleting: which tags go, which manifests, and the bytes.

    ``images`` is ``{repository: {tag: describe(...)}}`` for the whole
    registry, so that layers shared with any kept image are not counted.
    Raises RetentionError when a repository would lose every tag and the
    rules that decided so do not say ``allow_delete_all``.
    """
    kept, deleted, unknown_age = _decide_tags(rules, images, now)
    deletions, shared, kept_blobs = _deletions(images, kept, deleted, now)
    _refuse_emptied_repositories(rules, images, kept, deleted)
    freed = {digest: size for entry in deletions.values() for digest, size in entry["blobs"].items()
             if digest not in kept_blobs}
    result = []
    for key in sorted(deletions, key=lambda k: (k[0], deletions[k]["tags"][0])):
        entry = dict(deletions[key])
        blobs = entry.pop("blobs")
        entry["bytes"] = sum(size for digest, size in blobs.items() if digest in freed)
        result.append(entry)
    return dict(deleted=result, kept=len(kept), shared=shared, unknown_age=unknown_age,
                bytes_freed=sum(freed.values()))


def apply(registry: Registry, decided: Mapping[str, Any]) -> int:
    """Delete what ``plan`` decided; returns the number of manifests deleted."""
    count = 0
    for entry in decided["deleted"]:
        for digest in entry["manifests"]:
            count += registry.delete_manifest(entry["repository"], digest)
    return count


def summary(decided: Mapping[str, Any]) -> List[str]:
    """One line per deleted image, for people and CI logs."""
    lines = []
    for entry in decided["deleted"]:
        lines.append("%s:%s %s %s, %d days old, rule %s, %d manifest(s), %d bytes" % (
            entry["repository"], ",".join(entry["tags"]), entry["digest"][:19],
            "index of " + "+".join(entry["platforms"]) if entry["platforms"] else "image",
            entry["age_days"], ",".join(str(r) for r in entry["rules"]), len(entry["manifests"]), entry["bytes"]))
    lines.append("%d tag(s) in %d image(s) to delete, %d bytes to free; %d tag(s) kept"
                 % (sum(len(e["tags"]) for e in decided["deleted"]), len(decided["deleted"]),
                    decided["bytes_freed"], decided["kept"]))
    return lines
