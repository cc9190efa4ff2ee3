#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ldap_directory_check
short_description: Check the LDAP directory docker_auth will authenticate against, before changing anything
version_added: "0.1.0"
description:
  - Connects to the directory of docker_auth's C(ldap_auth) the way cesanta/docker_auth 1.14.0 does, from the host
    docker_auth will run on, binds as O(bind_dn) and looks up each of O(accounts) with docker_auth's own search.
    Run it before any change to the host, so that a directory docker_auth cannot use fails the deployment, not the
    first C(docker login).
  - "Fails, with a message that names the problem and the variable to fix, when: the directory cannot be reached;
    TLS fails (an untrusted certificate, a host name that is not in the certificate, a port that does not speak
    the O(tls) asked for); the directory refuses StartTLS; the bind is refused (wrong password or DN); the filter
    is malformed or lacks C(${account}); the search is refused (for example a O(base) that does not exist)."
  - An account of O(accounts) that exists in the directory is not a failure here; it is returned in RV(found) and
    the caller decides. docker_auth tries its static users first, so a static account shadows the directory
    account of the same name.
  - Needs nothing but Python's standard library on the target (no python-ldap, no ldap3).
  - Certificates are checked as docker_auth (Go C(crypto/tls)) checks them, with C(ssl.create_default_context)
    and the host name of O(addr). With O(ca_certificate), only the CAs in that file are trusted (an intermediate CA
    alone is enough, as in Go); without it, the system's CAs.
author:
  - sovereign.registry maintainers (@sovereign-registry)
extends_documentation_fragment:
  - sovereign.registry.attributes
options:
  addr:
    description:
      - The directory as C(host:port), docker_auth's C(ldap_auth.addr), for example C(ldap.example.org:636).
    type: str
    required: true
  tls:
    description:
      - docker_auth's C(ldap_auth.tls). C(none) is plain LDAP, C(starttls) plain LDAP upgraded with the StartTLS
        extended operation, C(always) LDAPS.
      - When not set, docker_auth's default is used, C(always) when O(addr) ends with C(:636), else C(none).
    type: str
    choices: [none, always, starttls]
  ca_certificate:
    description:
      - docker_auth's C(ldap_auth.ca_certificate), as a path on the target host. A PEM file of the CA that signed
        the directory's certificate; only that CA is then trusted.
      - When not set (nor O(ca_certificate_content)), the system's CAs are trusted.
    type: path
  ca_certificate_content:
    description:
      - The same CA as PEM text, for a check before the file is on the target host (the docker_auth role passes
        the controller's file this way, so that nothing is written before the check).
      - Mutually exclusive with O(ca_certificate).
    type: str
  base:
    description: docker_auth's C(ldap_auth.base), the DN under which accounts are searched (whole subtree).
    type: str
    required: true
  filter:
    description:
      - docker_auth's C(ldap_auth.filter), an RFC 4515 filter in which C(${account}) stands for the account name,
        for example C((&(objectClass=person)(uid=${account}))).
      - Must contain C(${account}). The account is escaped as docker_auth escapes it before it is put in.
    type: str
    required: true
  bind_dn:
    description:
      - docker_auth's C(ldap_auth.bind_dn), the read-only account that searches. When not set, the search is
        anonymous, as docker_auth's is.
    type: str
  bind_password:
    description:
      - The password of O(bind_dn), the content of docker_auth's C(ldap_auth.bind_password_file).
      - Leading and trailing white space is removed first, because docker_auth trims the file's content.
      - Required with O(bind_dn); docker_auth's LDAP client refuses an empty password.
    type: str
  timeout:
    description: Seconds to wait for the connection and for each answer.
    type: int
    default: 5
  accounts:
    description:
      - Account names to look up, usually the names of the static users (C(sovereign_registry_docker_auth_users)).
      - Each is searched under O(base) with O(filter), as docker_auth searches at login.
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    details: The module only reads the directory; it behaves the same in check mode.
  diff_mode:
    support: none
notes:
  - Without O(accounts), only the connection, TLS and the bind are checked; O(base) and O(filter) are then checked
    only for syntax.
  - The bind password is never returned or logged.
seealso:
  - name: docker_auth LDAP authentication
    description: The C(ldap_auth) section of docker_auth's reference configuration.
    link: https://github.com/cesanta/docker_auth/blob/main/examples/reference.yml
"""

EXAMPLES = r"""
- name: Check the directory before installing docker_auth
  sovereign.registry.ldap_directory_check:
    addr: ldap.example.org:636
    ca_certificate: /etc/ssl/certs/example-ca.pem
    base: ou=people,dc=example,dc=org
    filter: (&(objectClass=person)(uid=${account}))
    bind_dn: cn=docker_auth,ou=services,dc=example,dc=org
    bind_password: "{{ vault_ldap_bind_password }}"
    accounts: "{{ sovereign_registry_docker_auth_users | map(attribute='name') | list }}"
  register: directory

- name: Refuse static accounts that shadow a directory account
  ansible.builtin.assert:
    that: directory.found == {}
    fail_msg: >-
      these static accounts also exist in the directory and would shadow it: {{ directory.found }};
      rename them or remove them from the directory
"""

RETURN = r"""
found:
  description:
    - The accounts of O(accounts) that the search finds in the directory, with the DN of the entry found
      (the first one when there are several; see RV(ambiguous)).
  returned: success
  type: dict
  sample: {admin: "uid=admin,ou=people,dc=example,dc=org"}
ambiguous:
  description:
    - The accounts for which the search finds more than one entry, with the first two DNs. docker_auth refuses
      the login of such an account (C(Too many entries returned)).
  returned: success
  type: dict
  sample: {admin: ["uid=admin,ou=people,dc=example,dc=org", "uid=admin,ou=staff,dc=example,dc=org"]}
searched:
  description: How many accounts were searched.
  returned: success
  type: int
  sample: 2
tls:
  description: The TLS mode used, O(tls) or docker_auth's default for O(addr).
  returned: success
  type: str
  sample: always
changed:
  description: Always false; the module changes nothing.
  returned: always
  type: bool
"""

from typing import Any, Dict, Optional

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.sovereign.registry.plugins.module_utils._ldap.ber import LdapError, LdapProtocolError
from ansible_collections.sovereign.registry.plugins.module_utils._ldap.client import (
    LdapCaFileError,
    LdapConnectError,
    LdapInvalidCredentials,
    LdapStartTlsRefused,
    LdapTlsError,
    connect,
    default_tls,
    split_addr,
)
from ansible_collections.sovereign.registry.plugins.module_utils._ldap.filter import LdapFilterError, account_filter, parse_filter

VAR = "sovereign_registry_docker_auth_ldap_"
ACCOUNT = "${account}"

# Result codes whose fix is known; the others get the server's words only.
NO_SUCH_OBJECT = 32
INSUFFICIENT_ACCESS = 50
CONFIDENTIALITY_REQUIRED = 13
STRONGER_AUTH_REQUIRED = 8


def _tls_hint(code: Optional[int], tls: str) -> str:
    if code in (CONFIDENTIALITY_REQUIRED, STRONGER_AUTH_REQUIRED) and tls == "none":
        return "; the directory wants TLS: set %stls to starttls or always" % VAR
    return ""


def _connect_failure(exc: LdapError, addr: str, host: str, tls: str) -> str:
    """The fail message for an error raised while connecting."""
    if isinstance(exc, LdapCaFileError):
        return "%s; check %sca_certificate (a PEM file, on this host, of the CA that signed the directory's " \
               "certificate)" % (exc, VAR)
    if isinstance(exc, LdapTlsError) and exc.verify_failed:
        return "TLS to %s failed: %s; check %sca_certificate (the CA that signed the directory's certificate) and " \
               "that %s's host name is in its certificate" % (addr, exc, VAR, host)
    if isinstance(exc, LdapTlsError):
        return "TLS to %s failed: %s; check %stls (%s now): does %s speak %s?" % (
            addr, exc, VAR, tls, addr, "LDAPS" if tls == "always" else "StartTLS")
    if isinstance(exc, LdapStartTlsRefused):
        return "the directory at %s refused StartTLS: %s; set %stls to always if %s is an LDAPS port, or enable " \
               "StartTLS on the directory" % (addr, exc.diagnostic or exc, VAR, addr)
    if isinstance(exc, LdapConnectError):
        return "cannot reach the directory at %s: %s; check %saddr and that this host may connect to it " \
               "(firewall, DNS)" % (addr, exc, VAR)
    return "the directory at %s did not answer as LDAP: %s; check %saddr and %stls (%s now)" % (
        addr, exc, VAR, VAR, tls)


def _bind_failure(exc: LdapError, addr: str, bind_dn: str, tls: str) -> str:
    if isinstance(exc, LdapInvalidCredentials):
        return "the directory at %s refused the bind of %s: invalid credentials; check %sbind_password (and that " \
               "%sbind_dn is the DN of the account)" % (addr, bind_dn, VAR, VAR)
    if isinstance(exc, (LdapConnectError, LdapProtocolError)):
        return "the directory at %s dropped the bind of %s: %s; check %stls (%s now%s)" % (
            addr, bind_dn, exc, VAR, tls, "; an LDAPS port drops plain LDAP: use always" if tls == "none" else "")
    return "the directory at %s refused the bind of %s: %s; check %sbind_dn and %sbind_password%s" % (
        addr, bind_dn, exc, VAR, VAR, _tls_hint(exc.code, tls))


def _search_failure(exc: LdapError, addr: str, base: str, search_filter: str, bind_dn: str, tls: str) -> str:
    who = bind_dn or "an anonymous client"
    if exc.code == NO_SUCH_OBJECT:
        return "the directory at %s has no entry %s (noSuchObject%s); check %sbase" % (
            addr, base, ", the nearest is %s" % exc.matched_dn if exc.matched_dn else "", VAR)
    if exc.code == INSUFFICIENT_ACCESS:
        return "the directory at %s does not let %s search %s: %s; give %s read access there, or check %sbind_dn" % (
            addr, who, base, exc, who, VAR)
    return "the directory at %s refused the search of %s with %s: %s; check %sbase and %sfilter%s" % (
        addr, base, search_filter, exc, VAR, VAR, _tls_hint(exc.code, tls))


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            addr=dict(type="str", required=True),
            tls=dict(type="str", choices=["none", "always", "starttls"]),
            ca_certificate=dict(type="path"),
            ca_certificate_content=dict(type="str"),
            base=dict(type="str", required=True),
            filter=dict(type="str", required=True),
            bind_dn=dict(type="str"),
            bind_password=dict(type="str", no_log=True),
            timeout=dict(type="int", default=5),
            accounts=dict(type="list", elements="str", default=[]),
        ),
        mutually_exclusive=[("ca_certificate", "ca_certificate_content")],
        supports_check_mode=True,
    )
    p: Dict[str, Any] = module.params
    addr = p["addr"]
    try:
        host, port = split_addr(addr)
    except ValueError:
        module.fail_json(msg="%saddr is %r, not host:port (for example ldap.example.org:636)" % (VAR, addr))
    if ACCOUNT not in p["filter"]:
        module.fail_json(msg="%sfilter %s has no ${account}: docker_auth would find the same entry for every "
                             "account; for example (&(objectClass=person)(uid=${account}))" % (VAR, p["filter"]))
    try:
        parse_filter(account_filter(p["filter"], "probe"))
    except LdapFilterError as exc:
        module.fail_json(msg="%s; check %sfilter" % (exc, VAR))
    if p["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds, not %d" % p["timeout"])
    bind_dn = p["bind_dn"] or ""
    # docker_auth reads the password from bind_password_file and strings.TrimSpace()s it.
    bind_password = (p["bind_password"] or "").strip()
    if bind_dn and not bind_password:
        module.fail_json(msg="%sbind_password is empty: docker_auth's LDAP client (go-ldap) refuses to bind %s with an "
                             "empty password (ldap: empty password not allowed by the client)" % (VAR, bind_dn))
    tls = p["tls"] or default_tls(addr)

    try:
        connection = connect(host, port, tls, p["ca_certificate"] or "", p["timeout"],
                             ca_data=p["ca_certificate_content"] or "")
    except LdapError as exc:
        module.fail_json(msg=_connect_failure(exc, addr, host, tls), tls=tls)

    found = {}
    ambiguous = {}
    with connection:
        if bind_dn:
            try:
                connection.bind(bind_dn, bind_password)
            except LdapError as exc:
                module.fail_json(msg=_bind_failure(exc, addr, bind_dn, tls), tls=tls)
        for account in p["accounts"]:
            search_filter = account_filter(p["filter"], account)
            try:
                entries = connection.search(p["base"], search_filter, ["1.1"], size_limit=2)
            except LdapError as exc:
                module.fail_json(msg=_search_failure(exc, addr, p["base"], search_filter, bind_dn, tls), tls=tls)
            if entries:
                found[account] = entries[0][0]
            if len(entries) > 1:
                ambiguous[account] = [dn for dn, _attributes in entries]
    module.exit_json(changed=False, found=found, ambiguous=ambiguous, searched=len(p["accounts"]), tls=tls)


if __name__ == "__main__":
    main()
