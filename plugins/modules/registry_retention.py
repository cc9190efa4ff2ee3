#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_retention
short_description: Delete old tags from a distribution registry by retention rules
version_added: "0.1.0"
description:
  - Lists every repository and tag through the registry HTTP API, decides by O(rules) which tags go, and deletes
    their manifests. Disk space comes back only with garbage collection afterwards (C(playbooks/gc.yml) does
    both).
  - "Each tag is decided by the first rule whose O(rules[].repository) and O(rules[].tags) globs both match (Go
    C(path.Match), as docker_auth: C(*) does not cross C(/)). Tags no rule matches are kept."
  - Per repository and rule, tags are ordered newest first; the O(rules[].keep_last) newest are kept and the
    others are deleted when older than O(rules[].older_than_days), or always when that is not set.
  - "Age is the image's creation time (C(created) in its config), not its push time: the registry API exposes
    no push time, and the creation time is part of the image, so the decision is the same on every storage
    driver and after a storage copy. Images whose creation time is unset or the Unix epoch (some reproducible
    builds) have no age and are always kept; they are listed in RV(unknown_age). So are manifests of other
    types than image indexes and image manifests (schema 1, artifacts)."
  - An image index (multi-platform, with the provenance and SBOM attestation manifests BuildKit adds) is one
    unit. Its age is that of its newest platform image; its child manifests are deleted with it, first, so
    that an interrupted run leaves the tag for the next run to finish.
  - A manifest that a kept tag references, directly or as an index child, is never deleted. A tag to delete
    that points at the same manifest as a kept tag is kept too (deleting the manifest would delete both) and
    listed in RV(shared).
  - "Refuses, before deleting anything: a bad glob, a negative or non-integer number, an unknown key, a rule
    that matches tags with neither O(rules[].keep_last) nor O(rules[].older_than_days), and a plan that leaves a
    repository without any tag, unless the deciding rules say O(rules[].allow_delete_all=true)."
  - In check mode, returns exactly what would be deleted and the bytes that would be freed.
  - The registry must allow deletes (C(storage.delete.enabled), the registry role's C(sovereign_registry_registry_delete_enabled)).
    The account needs the C(registry:catalog:*) scope and pull and delete on every repository.
author:
  - sovereign.registry maintainers (@sovereign-registry)
extends_documentation_fragment:
  - sovereign.registry.attributes
options:
  registry_url:
    description:
      - Base URL of the registry API, without C(/v2/). C(playbooks/gc.yml) uses an instance on loopback, which
        is not subject to nginx's read-only switches.
    type: str
    required: true
  token_url:
    description:
      - Where to ask for tokens. Default is the realm from the registry's C(WWW-Authenticate) challenge; set it
        when the realm's public name does not resolve where the module runs.
    type: str
  token_headers:
    description:
      - Extra headers for token requests. docker_auth reached directly, not through nginx, refuses requests
        without the client address it reads (C(X-Real-IP) in this collection).
    type: dict
    default: {}
  username:
    description: Account to authenticate with. Without it, token requests are anonymous.
    type: str
  password:
    description: Password of O(username).
    type: str
  ca_path:
    description: PEM file of the CA that signed the registry's and the token server's TLS certificates.
    type: path
  validate_certs:
    description: Verify TLS certificates.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each HTTP answer.
    type: int
    default: 30
  rules:
    description: Retention rules, in order; the first rule matching a tag decides it.
    type: list
    elements: dict
    required: true
    suboptions:
      repository:
        description: Glob of repository names, for example C(publicrepos/*).
        type: str
        required: true
      tags:
        description: Glob of tag names, for example C(pr-*).
        type: str
        default: "*"
      keep_last:
        description: Keep this many newest matching tags per repository, whatever their age.
        type: int
        default: 0
      older_than_days:
        description: Delete matching tags older than this many days (beyond O(rules[].keep_last)). Unset
          deletes every matching tag beyond O(rules[].keep_last).
        type: int
      allow_delete_all:
        description: Allow this rule to delete every tag it matches and to leave a repository without tags.
        type: bool
        default: false
notes:
  - Bytes to free (RV(bytes_freed)) count the blobs, manifests included, that only deleted images use, looked up
    across every repository. Untagged manifests are not visible through the API; with registry 2.8, whose
    garbage collection keeps them, the figure is an upper bound.
attributes:
  check_mode:
    support: full
    details: Lists what would be deleted and the bytes it would free; nothing is deleted.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Delete pull-request images after 14 days, keeping the 5 newest per repository
  sovereign.registry.registry_retention:
    registry_url: http://127.0.0.1:5000
    token_url: http://127.0.0.1:5100/auth/auth
    token_headers: {X-Real-IP: 127.0.0.1}
    username: admin
    password: "{{ registry_admin_password }}"
    rules:
      - repository: "publicrepos/*"
        tags: "pr-*"
        keep_last: 5
        older_than_days: 14
      - repository: "*/*"
        tags: "sha-*"
        keep_last: 20
  register: retention

- name: Show what went
  ansible.builtin.debug:
    var: retention.summary
"""

RETURN = r"""
deleted:
  description: Images deleted (would be, in check mode), one entry per manifest.
  returned: always
  type: list
  elements: dict
  contains:
    repository:
      description: Repository name.
      type: str
    tags:
      description: Tags that pointed at it.
      type: list
      elements: str
    digest:
      description: Digest of the tagged manifest or index.
      type: str
    media_type:
      description: Its media type.
      type: str
    created:
      description: Creation time (ISO 8601).
      type: str
    age_days:
      description: Whole days since then.
      type: int
    rules:
      description: Numbers (from 1) of the rules that decided.
      type: list
      elements: int
    platforms:
      description: For an index, its platforms (attestations not counted).
      type: list
      elements: str
    manifests:
      description: Digests deleted, children first.
      type: list
      elements: str
    bytes:
      description: Bytes of its blobs that no kept image uses.
      type: int
  sample:
    - repository: publicrepos/app
      tags: [pr-3]
      digest: sha256:5d2c...
      media_type: application/vnd.oci.image.index.v1+json
      created: "2026-10-01T12:00:00+00:00"
      age_days: 57
      rules: [1]
      platforms: [linux/amd64, linux/arm64]
      manifests: [sha256:aa..., sha256:bb..., sha256:cc..., sha256:dd..., sha256:5d2c...]
      bytes: 31457280
bytes_freed:
  description: Bytes garbage collection can free after the deletion (each blob once).
  returned: always
  type: int
manifests_deleted:
  description: Manifests the registry deleted (0 in check mode).
  returned: always
  type: int
kept:
  description: Number of tags kept.
  returned: always
  type: int
shared:
  description: Tags a rule would delete but that are kept because a kept tag points at the same manifest.
  returned: always
  type: list
  elements: dict
unknown_age:
  description: Tags a rule matches whose image has no creation time; they are kept.
  returned: always
  type: list
  elements: dict
summary:
  description: One line per deleted image and a total, for logs.
  returned: always
  type: list
  elements: str
"""

import datetime
from typing import Any, Dict, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule
from urllib.error import HTTPError
from ansible.module_utils.urls import Request, make_context

from ansible_collections.sovereign.registry.plugins.module_utils._registry.client import (
    Registry,
    RegistryError,
    Transport,
)
from ansible_collections.sovereign.registry.plugins.module_utils._registry.retention import (
    RetentionError,
    apply,
    inventory,
    plan,
    summary,
    validate_rules,
)


def transport(module: AnsibleModule) -> Transport:
    params: Dict[str, Any] = module.params
    # One TLS context for every request: building it per request costs ~30 ms.
    # A redirect (S3 storage sends blob reads to the bucket) does not carry
    # the registry token to the other host.
    client = Request(timeout=params["timeout"], follow_redirects="safe", unredirected_headers=["Authorization"],
                     context=make_context(cafile=params["ca_path"], validate_certs=params["validate_certs"]))

    def request(method: str, url: str, headers: Dict[str, str],
                body: Optional[bytes]) -> Tuple[int, Dict[str, str], bytes]:
        try:
            answer = client.open(method, url, data=body, headers=headers)
        except HTTPError as error:
            answer = error
        body = answer.read()
        return answer.getcode(), {k.lower(): v for k, v in answer.headers.items()}, body

    return request


def main() -> None:
    rule_options = dict(
        repository=dict(type="str", required=True),
        tags=dict(type="str", default="*"),
        keep_last=dict(type="int", default=0),
        older_than_days=dict(type="int"),
        allow_delete_all=dict(type="bool", default=False),
    )
    module = AnsibleModule(
        argument_spec=dict(
            registry_url=dict(type="str", required=True),
            token_url=dict(type="str", no_log=False),
            token_headers=dict(type="dict", default={}, no_log=False),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            ca_path=dict(type="path"),
            validate_certs=dict(type="bool", default=True),
            timeout=dict(type="int", default=30),
            rules=dict(type="list", elements="dict", required=True, options=rule_options),
        ),
        supports_check_mode=True,
    )
    p: Dict[str, Any] = module.params
    try:
        rules = validate_rules(p["rules"])
        registry = Registry(p["registry_url"], transport(module), p["username"], p["password"], p["token_url"],
                            p["token_headers"])
        decided = plan(rules, inventory(registry, rules), datetime.datetime.now(datetime.timezone.utc))
    except RetentionError as error:
        module.fail_json(msg="registry_retention: %s" % error)
    except (RegistryError, OSError, ValueError) as error:
        module.fail_json(msg="registry_retention: nothing was deleted: %s" % error)
    deleted = 0
    if not module.check_mode:
        try:
            deleted = apply(registry, decided)
        except (RegistryError, OSError) as error:
            module.fail_json(msg="registry_retention: deleting stopped half-way (run again to finish): %s" % error,
                             **decided)
    module.exit_json(changed=bool(decided["deleted"]), manifests_deleted=deleted, summary=summary(decided),
                     **decided)


if __name__ == "__main__":
    main()
