#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: bcrypt_hash
short_description: Make an htpasswd-style bcrypt hash of a password, idempotently
version_added: "0.1.0"
description:
  - Returns a C($2y$) bcrypt hash of O(password), the format C(htpasswd -nB)
    writes and docker_auth's static users read.
  - When O(current_hash) still verifies O(password) it is returned unchanged
    with C(changed=false), so a configuration that embeds the hash is not
    rewritten on every run.
  - >-
    Checks every rule a password must meet, before anything else, with a message that names it (O(name)): it
    must be there, must not be empty, must have at least O(min_length) characters, and at most 72 bytes in
    UTF-8, which bcrypt would otherwise silently truncate. With O(min_strength) (the roles always give it),
    it must not be an example published with this collection (C(inventory.example)), and the strength
    estimator zxcvbn must score it at least O(min_strength) of 4, knowing the account's name and the
    registry's own words. The rules live once, in the collection's library; besides this module only
    M(sovereign.registry.docker_auth_new_user_check) applies them, to a password given at onboarding.
  - >-
    Cost: docker_auth checks the hash on every token request, and the docker
    client asks for a token for every pull or push of a repository (and on
    login). Measured on a 2-core x86_64 machine with bcrypt 5.0.0 (time to
    verify one password): cost 8 18 ms, cost 10 73 ms, cost 11 146 ms, cost 12
    294 ms, cost 13 583 ms. The default 10 keeps a token request under 0.1 s
    and lets one core serve about 13 logins a second, while an offline guess
    still costs 73 ms. Measure on your own hardware with C(scripts/bench-bcrypt).
  - Needs the Python packages C(libpass) (the maintained passlib fork; passlib
    1.7.4 cannot hash with bcrypt 5.0) and C(bcrypt) on the host the module runs
    on; the roles run it on the controller.
  - >-
    Many passwords at once: O(users) checks every rule of every password first, then keeps or makes
    each hash on all cores, in one call (the docker_auth role passes all its users). There each account
    gets the cost that fits its secret: its own C(bcrypt_cost), else O(ci_cost) for a C(ci-) account whose
    password is a generated secret of 32 characters or more (what onboarding makes: 190 bits, which no
    offline search can guess at any cost), else O(cost). A hash made with another cost is made again.
author:
  - sovereign.registry maintainers (@sovereign-registry)
extends_documentation_fragment:
  - sovereign.registry.attributes
options:
  password:
    description:
      - The password to hash, of at least O(min_length) characters and at most 72 bytes in UTF-8.
    type: str
  name:
    description:
      - What the password is, for messages, for example C(sovereign_registry_docker_auth_users[2] (alice) password);
        with O(users), what the list is, for example C(sovereign_registry_docker_auth_users).
    type: str
    default: password
  min_length:
    description:
      - The fewest characters accepted. The docker_auth role and onboarding pass
        C(sovereign_registry_docker_auth_password_min_length).
    type: int
    default: 1
  min_strength:
    description:
      - >-
        The lowest zxcvbn score (0 to 4) accepted, and the published examples refused; unset, neither is
        checked. 3, the default of C(sovereign_registry_docker_auth_password_min_strength), is zxcvbn's
        "safely unguessable" (about 10^8 guesses and more); a generated secret scores 4; 0 keeps only the
        published examples out.
    type: int
  account:
    description:
      - With O(password), the account it belongs to; the estimator counts its name as known to an attacker.
    type: str
    default: ""
  current_hash:
    description:
      - The hash in use now, for example read back from the deployed
        docker_auth configuration. Kept when it verifies O(password).
    type: str
  cost:
    description:
      - bcrypt cost (log2 of the number of rounds), 4 to 31. A O(current_hash)
        made with another cost is replaced. With O(users), the cost of
        accounts that are not CI accounts with a generated secret.
    type: int
    default: 10
  ci_cost:
    description:
      - With O(users), the bcrypt cost of a C(ci-) account whose password
        has 32 characters or more. docker_auth verifies the hash on every token
        request; at cost 4 a CI fleet is not bound by bcrypt.
    type: int
    default: 4
  users:
    description:
      - >-
        Many passwords at once, instead of O(password), given as the docker_auth role takes its users
        (C(sovereign_registry_docker_auth_users)). The result is RV(hashes), in this order. Messages
        name a user as O(name), its index and its name.
    type: list
    elements: dict
    suboptions:
      name:
        description: The account name (C(ci-) accounts may get O(ci_cost)).
        type: str
        required: true
      password:
        description: The password, as for O(password).
        type: str
      bcrypt_cost:
        description: This account's own cost, over O(cost) and O(ci_cost).
        type: int
      groups:
        description: Not used here.
        type: list
        elements: str
      labels:
        description: Not used here.
        type: dict
  deployed_users:
    description:
      - With O(users), the C(users) mapping of the deployed docker_auth configuration; each account's
        C(password) there is its hash in use now, kept as for O(current_hash).
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    details: Hashing has no side effects; the module behaves the same in check mode.
  diff_mode:
    support: none
requirements:
  - libpass
  - bcrypt
  - zxcvbn (with O(min_strength))
notes:
  - The password is never returned or logged; set C(no_log) on the task anyway
    when its variables hold other secrets.
seealso:
  - name: htpasswd(1)
    description: C(htpasswd -nB) writes the same format.
    link: https://httpd.apache.org/docs/2.4/programs/htpasswd.html
"""

EXAMPLES = r"""
- name: Hash the password of firstuser, keeping the hash already deployed
  sovereign.registry.bcrypt_hash:
    password: "{{ vault_firstuser_password }}"
    current_hash: "{{ deployed_users.firstuser.password | default(omit) }}"
  delegate_to: localhost
  register: firstuser_hash
  no_log: true

- name: A cheaper hash for a CI account that logs in very often
  sovereign.registry.bcrypt_hash:
    password: "{{ vault_ci_password }}"
    cost: 8
  delegate_to: localhost
  register: ci_hash
  no_log: true

- name: Hash every user's password in one call, each with the cost its secret needs
  sovereign.registry.bcrypt_hash:
    users:
      - name: alice
        password: "{{ vault_alice_password }}"
      - name: ci-web
        password: "{{ vault_ci_web_password }}"
    name: users
    cost: 10
    ci_cost: 4
  delegate_to: localhost
  register: user_hashes
"""

RETURN = r"""
hash:
  description: The bcrypt hash, C(current_hash) itself when that still verifies the password.
  returned: with O(password)
  type: str
  sample: "$2y$10$0a1OvDemOnH1dBEEaCdAjOmvCTz9hIFhq6y0H9lOUz2i/o0JFoVxe"
hashes:
  description: With O(users), one entry per user, in their order.
  returned: with O(users)
  type: list
  elements: dict
  contains:
    hash:
      description: The bcrypt hash.
      type: str
    cost:
      description: The cost the account got.
      type: int
    changed:
      description: Whether a new hash was made.
      type: bool
changed:
  description: Whether a new hash was made.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.users import ci_project
from ansible_collections.sovereign.registry.plugins.module_utils._passwords import (
    DEFAULT_CI_COST,
    DEFAULT_COST,
    PasswordError,
    cost_for,
    ensure_hash,
    ensure_hashes,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            password=dict(type="str", no_log=True),
            current_hash=dict(type="str", no_log=False),
            cost=dict(type="int", default=DEFAULT_COST),
            ci_cost=dict(type="int", default=DEFAULT_CI_COST),
            name=dict(type="str", default="password"),
            min_length=dict(type="int", default=1),
            min_strength=dict(type="int"),
            account=dict(type="str", default=""),
            users=dict(
                type="list",
                elements="dict",
                options=dict(
                    name=dict(type="str", required=True),
                    password=dict(type="str", no_log=True),
                    bcrypt_cost=dict(type="int"),
                    groups=dict(type="list", elements="str"),
                    labels=dict(type="dict"),
                ),
            ),
            deployed_users=dict(type="dict", default={}),
        ),
        mutually_exclusive=[("password", "users")],
        supports_check_mode=True,
    )
    p = module.params
    try:
        if p["users"] is None:
            hashed, changed = ensure_hash(p["password"], p["current_hash"], p["cost"], p["name"], p["min_length"],
                                          p["min_strength"], p["account"])
            module.exit_json(changed=changed, hash=hashed)
        items = [{"name": "%s[%d] (%s) password" % (p["name"], index, user["name"]),
                  "account": user["name"], "password": user["password"],
                  "current_hash": (p["deployed_users"].get(user["name"]) or {}).get("password"),
                  "cost": cost_for(ci_project(user["name"]) is not None, user["password"], p["cost"], p["ci_cost"],
                                   user["bcrypt_cost"])}
                 for index, user in enumerate(p["users"])]
        results = ensure_hashes(items, p["min_length"], min_strength=p["min_strength"])
    except (ImportError, PasswordError, ValueError) as exc:
        module.fail_json(msg=str(exc))
    hashes = [dict(result, cost=item["cost"]) for item, result in zip(items, results)]
    module.exit_json(changed=any(h["changed"] for h in hashes), hashes=hashes)


if __name__ == "__main__":
    main()
