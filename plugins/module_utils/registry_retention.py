# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tag retention for a distribution registry, through its HTTP API.

Pure Python: the HTTP transport is passed in (the module gives Ansible's
``open_url``; tests give their own), so the rules, the plan and the byte
counts can be checked without a registry, and the same code runs against a
real one.

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

import base64
import datetime
import json
import re

from ansible_collections.sovereign.registry.plugins.module_utils.docker_auth_acl import (
    BadPattern,
    go_path_match,
)

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
IMAGE_CONFIG_TYPES = (
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
)
ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)
# BuildKit marks the provenance/SBOM manifests of an index this way.
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"

RULE_KEYS = ("repository", "tags", "keep_last", "older_than_days", "allow_delete_all")
PAGE_SIZE = 1000


class RetentionError(Exception):
    """Bad input or a plan that must not run; nothing was deleted."""


class RegistryError(Exception):
    """The registry answered something unexpected."""


# ----------------------------------------------------------------- the rules


def _glob_error(pattern):
    try:
        go_path_match(pattern, "")
        go_path_match(pattern, "x" * 3)
    except BadPattern:
        return True
    return False


def validate_rules(rules):
    """Normalised copies of the rules, or RetentionError naming each mistake."""
    if not isinstance(rules, list) or not rules:
        raise RetentionError("rules: give at least one retention rule (a list of dicts with repository and tags)")
    errors = []
    out = []
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


# --------------------------------------------------------------- the client


def parse_challenge(header):
    """Parameters of a ``Bearer realm="...",service="..."`` challenge."""
    scheme, _space, rest = (header or "").partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


def _parse_link(header):
    match = re.search(r"<([^>]+)>", header or "")
    return match.group(1) if match else None


def parse_time(value):
    """A config's ``created`` (RFC 3339, nanoseconds allowed) as an aware datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", value)
    if not match:
        return None
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    micro = (match.group(2) or ".0")[1:7].ljust(6, "0")
    parsed = datetime.datetime.fromisoformat("%s.%s%s" % (match.group(1), micro, zone))
    # Go's zero time and the Unix epoch mean "not set" (reproducible builds).
    return None if parsed.year <= 1970 else parsed


class Registry:
    """The few registry API calls retention needs, with token authentication.

    ``request(method, url, headers, body)`` returns ``(status, headers,
    body)``, headers with lower-case names, and must not raise for HTTP errors.
    """

    def __init__(self, url, request, username=None, password=None, token_url=None, token_headers=None):
        self.url = url.rstrip("/")
        self.token_headers = dict(token_headers or {})
        self.request = request
        self.username = username
        self.password = password
        self.token_url = token_url
        self.challenge = None
        self.tokens = {}
        self.manifests = {}

    def _token(self, scope):
        if scope not in self.tokens:
            realm = self.token_url or self.challenge.get("realm")
            query = "service=%s&scope=%s" % (self.challenge.get("service", ""), scope)
            headers = dict(self.token_headers)
            if self.username:
                pair = ("%s:%s" % (self.username, self.password or "")).encode()
                headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
            status, _headers, body = self.request("GET", "%s?%s" % (realm, query), headers, None)
            if status != 200:
                raise RegistryError("token request for %s at %s answered %s (%s)%s" % (
                    scope, realm, status, body[:200].decode("utf-8", "replace").strip(),
                    ": check the username and password" if status == 401 else ""))
            data = json.loads(body)
            self.tokens[scope] = data.get("token") or data.get("access_token")
        return self.tokens[scope]

    def call(self, method, path, scope, headers=None, expect=(200,), body=None):
        url = path if path.startswith("http") else self.url + path
        headers = dict(headers or {})
        for attempt in (1, 2):
            if self.challenge is not None:
                headers["Authorization"] = "Bearer " + self._token(scope)
            status, answer_headers, answer = self.request(method, url, headers, body)
            if status == 401 and attempt == 1 and self.challenge is None:
                scheme, params = parse_challenge(answer_headers.get("www-authenticate"))
                if scheme != "bearer":
                    raise RegistryError("%s %s asks for %r authentication; only token (Bearer) is supported"
                                        % (method, url, scheme))
                self.challenge = params
                continue
            break
        if status not in expect:
            raise RegistryError("%s %s answered %s: %s" % (method, url, status,
                                                           answer[:300].decode("utf-8", "replace")))
        return status, answer_headers, answer

    def _paged(self, path, scope, key):
        items = []
        path = "%s?n=%d" % (path, PAGE_SIZE)
        while path:
            _status, headers, body = self.call("GET", path, scope)
            items.extend(json.loads(body).get(key) or [])
            path = _parse_link(headers.get("link"))
        return items

    def repositories(self):
        return sorted(self._paged("/v2/_catalog", "registry:catalog:*", "repositories"))

    def tags(self, repository):
        return sorted(self._paged("/v2/%s/tags/list" % repository, "repository:%s:pull" % repository, "tags"))

    def manifest(self, repository, reference):
        """(digest, media type, size, parsed manifest); cached per digest."""
        key = (repository, reference)
        if key not in self.manifests:
            _status, headers, body = self.call("GET", "/v2/%s/manifests/%s" % (repository, reference),
                                               "repository:%s:pull" % repository, {"Accept": ACCEPT})
            parsed = json.loads(body)
            media_type = parsed.get("mediaType") or headers.get("content-type", "").split(";")[0]
            digest = headers.get("docker-content-digest")
            if not digest:
                raise RegistryError("%s:%s: the registry sent no Docker-Content-Digest" % (repository, reference))
            entry = (digest, media_type, len(body), parsed)
            self.manifests[key] = entry
            self.manifests[(repository, digest)] = entry
        return self.manifests[key]

    def created(self, repository, config):
        if config.get("mediaType") not in IMAGE_CONFIG_TYPES:
            return None
        body = self.call("GET", "/v2/%s/blobs/%s" % (repository, config["digest"]),
                         "repository:%s:pull" % repository)[2]
        return parse_time(json.loads(body).get("created"))

    def delete_manifest(self, repository, digest):
        # 404: already gone (a rerun after an interrupted one).
        status = self.call("DELETE", "/v2/%s/manifests/%s" % (repository, digest),
                           "repository:%s:pull,delete" % repository, expect=(202, 404))[0]
        return status == 202


# ------------------------------------------------------------------ images


def describe(registry, repository, reference, with_age=True):
    """What a tag stands for: digest, type, children, creation time and blobs.

    ``blobs`` maps every blob digest the image needs (manifests included) to
    its size; an index's children and their blobs belong to it.
    """
    digest, media_type, size, manifest = registry.manifest(repository, reference)
    image = dict(digest=digest, media_type=media_type, created=None, children=[], blobs={digest: size},
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


def first_rule(rules, repository, tag):
    for rule in rules:
        if go_path_match(rule["repository"], repository) and go_path_match(rule["tags"], tag):
            return rule
    return None


def inventory(registry, rules):
    """Every tag of every repository, described; ages only where a rule applies."""
    found = {}
    for repository in registry.repositories():
        found[repository] = {}
        for tag in registry.tags(repository):
            ruled = first_rule(rules, repository, tag) is not None
            found[repository][tag] = describe(registry, repository, tag, with_age=ruled)
    return found


# --------------------------------------------------------------------- plan


def plan(rules, images, now):
    """Decide, without deleting: which tags go, which manifests, and the bytes.

    ``images`` is ``{repository: {tag: describe(...)}}`` for the whole
    registry, so that layers shared with any kept image are not counted.
    Raises RetentionError when a repository would lose every tag and the
    rules that decided so do not say ``allow_delete_all``.
    """
    deleted_tags = {}
    kept_tags = {}
    unknown_age = []
    for repository in sorted(images):
        groups = {}
        for tag in sorted(images[repository]):
            rule = first_rule(rules, repository, tag)
            if rule is None:
                kept_tags[(repository, tag)] = None
            else:
                groups.setdefault(rule["index"], (rule, []))[1].append(tag)
        for rule, tags in groups.values():
            dated = [t for t in tags if images[repository][t]["created"] is not None]
            for tag in tags:
                if images[repository][tag]["created"] is None:
                    unknown_age.append(dict(repository=repository, tag=tag))
                    kept_tags[(repository, tag)] = rule
            dated.sort(key=lambda t: (images[repository][t]["created"], t), reverse=True)
            for position, tag in enumerate(dated):
                age = now - images[repository][tag]["created"]
                old = rule["older_than_days"] is None or age > datetime.timedelta(days=rule["older_than_days"])
                if position < rule["keep_last"] or not old:
                    kept_tags[(repository, tag)] = rule
                else:
                    deleted_tags[(repository, tag)] = rule

    # What kept tags reference, per repository (manifests) and registry-wide (blobs).
    kept_manifests = {}
    kept_blobs = set()
    for repository, tag in kept_tags:
        image = images[repository][tag]
        kept_manifests.setdefault(repository, {}).update(
            {digest: tag for digest in [image["digest"]] + image["children"]})
        kept_blobs.update(image["blobs"])

    deletions = {}
    shared = []
    for (repository, tag), rule in sorted(deleted_tags.items()):
        image = images[repository][tag]
        keeper = kept_manifests.get(repository, {}).get(image["digest"])
        if keeper is not None:
            # Deleting the manifest would take the kept tag with it.
            shared.append(dict(repository=repository, tag=tag, digest=image["digest"], kept_tag=keeper))
            kept_tags[(repository, tag)] = rule
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
        if rule["index"] not in entry["rules"]:
            entry["rules"].append(rule["index"])

    # A repository must keep a tag unless every deciding rule allows otherwise.
    refused = []
    for repository in sorted(images):
        if not images[repository] or any(kept[0] == repository for kept in kept_tags):
            continue
        rules_here = sorted({deleted_tags[(repository, t)]["index"] for t in images[repository]})
        if not all(rules[i - 1]["allow_delete_all"] for i in rules_here):
            refused.append("%s (rule %s)" % (repository, ", ".join(str(i) for i in rules_here)))
    if refused:
        raise RetentionError(
            "these repositories would lose every tag: %s. Nothing was deleted. Raise keep_last, or set "
            "allow_delete_all: true on the rule if that is meant" % "; ".join(refused))

    freed = {}
    for entry in deletions.values():
        for digest, size in entry["blobs"].items():
            if digest not in kept_blobs:
                freed[digest] = size
    result = []
    for key in sorted(deletions, key=lambda k: (k[0], deletions[k]["tags"][0])):
        entry = dict(deletions[key])
        blobs = entry.pop("blobs")
        entry["bytes"] = sum(size for digest, size in blobs.items() if digest in freed)
        result.append(entry)
    return dict(deleted=result, kept=len(kept_tags), shared=shared, unknown_age=unknown_age,
                bytes_freed=sum(freed.values()))


def apply(registry, decided):
    """Delete what ``plan`` decided; returns the number of manifests deleted."""
    count = 0
    for entry in decided["deleted"]:
        for digest in entry["manifests"]:
            count += registry.delete_manifest(entry["repository"], digest)
    return count


def summary(decided):
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
