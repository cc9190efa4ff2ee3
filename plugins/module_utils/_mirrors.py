# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Note that this module util is **PRIVATE** to the collection. It can have breaking changes at any time.
# Do not use this from other collections or standalone plugins/modules!
"""Pull-through mirrors: the inventory's list of upstreams, checked, completed and turned into ACL entries.

Pure Python, no Ansible import. A mirror entry is
{name, url, upstream, username, password, ttl, anonymous, pull_accounts,
pull_groups, plain_http}; ``mirror_errors`` names every mistake (one
function per rule), ``mirror_settings`` completes the entries with what the
roles derive (host name, token service, loopback port, container), and
``mirror_acl`` gives the docker_auth ACL entries that go before the site's.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.users import LABEL_VALUE

MIRROR_KEYS = ("name", "url", "upstream", "username", "password", "ttl", "anonymous", "pull_accounts", "pull_groups",
               "plain_http")
# One DNS label: the mirror's host name is NAME.<domain>.
MIRROR_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# The registry API is served at the root of the upstream: no path.
MIRROR_URL = re.compile(r"^(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?/?$")
# What clients call the upstream (docker.io, quay.io, registry.internal:5000): a host name, maybe a port.
UPSTREAM_NAME = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")
# A Go duration as the registry's proxy.ttl takes it; 0 keeps cached content for ever.
GO_DURATION = re.compile(r"^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$")
# Docker's registry-mirrors setting mirrors this upstream only, and its
# registry API lives on another host name than the one clients use.
DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1." + DOCKER_HUB
FIX = "see ansible-doc -t role sovereign.registry.mirror"

Rule = Callable[[Mapping[str, Any], str], Optional[str]]


def _label(index: int, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, Mapping) else None
    return "sovereign_registry_mirrors[%d]%s" % (index, " (%s)" % name if isinstance(name, str) and name else "")


def upstream_of(url: str) -> str:
    """What clients call the registry at URL: its host[:port], Docker Hub's API host as docker.io."""
    match = MIRROR_URL.match(url)
    if not match:
        return ""
    host = match.group("host").lower()
    if host == DOCKER_HUB_API and not match.group("port"):
        return DOCKER_HUB
    return host + (":" + match.group("port") if match.group("port") else "")


def _unknown_keys(entry: Mapping[str, Any], label: str) -> Optional[str]:
    unknown = sorted(str(key) for key in entry if key not in MIRROR_KEYS)
    if unknown:
        return "%s: unknown key(s) %s; the keys are %s" % (label, ", ".join(unknown), ", ".join(MIRROR_KEYS))
    return None


def _name(entry: Mapping[str, Any], label: str) -> Optional[str]:
    if not isinstance(entry.get("name"), str) or not MIRROR_NAME.match(entry["name"]):
        return ("%s: name must be one DNS label (lower-case letters, digits and '-', at most 63), the first part of "
                "the mirror's host name NAME.<domain>, for example hub" % label)
    return None


def _url(entry: Mapping[str, Any], label: str) -> Optional[str]:
    url = entry.get("url")
    if not isinstance(url, str) or not MIRROR_URL.match(url):
        return ("%s: url must be the upstream registry's https://host[:port], without a path (got %r)"
                % (label, url))
    if url.startswith("http://") and entry.get("plain_http") is not True:
        return ("%s: url %s is plain HTTP: the upstream's password and its images would travel unprotected. Use "
                "https://, or set plain_http: true for an upstream on a network you trust" % (label, url))
    return None


def _upstream(entry: Mapping[str, Any], label: str) -> Optional[str]:
    upstream = entry.get("upstream")
    if upstream is not None and (not isinstance(upstream, str) or not UPSTREAM_NAME.match(upstream)):
        return ("%s: upstream must be the registry name clients pull from, host[:port] (docker.io, "
                "registry.example.org:5000), got %r" % (label, upstream))
    return None


def _credentials(entry: Mapping[str, Any], label: str) -> Optional[str]:
    username, password = entry.get("username", ""), entry.get("password", "")
    if not isinstance(username, str) or not isinstance(password, str) or bool(username) != bool(password):
        return "%s: give both username and password (from ansible-vault) for the upstream, or neither" % label
    return None


def _ttl(entry: Mapping[str, Any], label: str) -> Optional[str]:
    ttl = entry.get("ttl")
    if ttl is not None and (not isinstance(ttl, str) or not GO_DURATION.match(ttl)):
        return ("%s: ttl must be a duration such as 168h or 30m (0: keep cached content for ever), got %r"
                % (label, ttl))
    return None


def _name_lists(entry: Mapping[str, Any], label: str) -> Optional[str]:
    for key in ("pull_accounts", "pull_groups"):
        value = entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            return "%s: %s must be a list of names" % (label, key)
    return None


def _group_names(entry: Mapping[str, Any], label: str) -> Optional[str]:
    groups = entry.get("pull_groups", [])
    if isinstance(groups, list) and any(isinstance(group, str) and not LABEL_VALUE.match(group) for group in groups):
        return "%s: pull_groups are group names (letters, digits, '_', '.', '-')" % label
    return None


def _switches(entry: Mapping[str, Any], label: str) -> Optional[str]:
    for key in ("anonymous", "plain_http"):
        if not isinstance(entry.get(key, False), bool):
            return "%s: %s must be true or false" % (label, key)
    return None


def _someone_may_pull(entry: Mapping[str, Any], label: str) -> Optional[str]:
    if not entry.get("anonymous") and not entry.get("pull_accounts") and not entry.get("pull_groups"):
        return ("%s: nobody may pull through this mirror: give pull_accounts (account names, globs or /regex/), "
                "pull_groups, or anonymous: true" % label)
    return None


ENTRY_RULES: Sequence[Rule] = (
    _unknown_keys, _name, _url, _upstream, _credentials, _ttl, _name_lists, _group_names, _switches, _someone_may_pull,
)


def _unique(mirrors: Sequence[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], str], what: str) -> List[str]:
    seen: Dict[str, int] = {}
    errors = []
    for index, entry in enumerate(mirrors):
        value = key(entry)
        if value and value in seen:
            errors.append("%s: %s %s is that of sovereign_registry_mirrors[%d] too; each mirror needs its own"
                          % (_label(index, entry), what, value, seen[value]))
        seen.setdefault(value, index)
    return errors


def mirror_errors(mirrors: Any, registry_version: str = "3") -> List[str]:
    """One message per mistake in the list of mirrors, each naming the entry and the fix; none when it is right."""
    if not isinstance(mirrors, list):
        return ["sovereign_registry_mirrors must be a list of mirrors (%s)" % FIX]
    errors = []
    for index, entry in enumerate(mirrors):
        if not isinstance(entry, Mapping):
            errors.append("%s: must be a mapping with name and url (%s)" % (_label(index, entry), FIX))
            continue
        errors += [error for error in (rule(entry, _label(index, entry)) for rule in ENTRY_RULES) if error]
    if errors:
        return errors
    errors += _unique(mirrors, lambda entry: entry["name"], "name")
    errors += _unique(mirrors, lambda entry: entry.get("upstream") or upstream_of(entry["url"]), "upstream")
    if mirrors and int(str(registry_version).split(".", 1)[0] or 0) < 3:
        errors.append("sovereign_registry_mirrors needs registry 3 (sovereign_registry_version is %s): registry 2.8 "
                      "ignores the cache's ttl and sends the upstream's password to any token realm the upstream "
                      "names. Upgrade to 3, or leave sovereign_registry_mirrors empty" % registry_version)
    return errors


def mirror_settings(mirrors: Sequence[Mapping[str, Any]], domain: str, first_port: int, ttl: str) -> List[Dict[str, Any]]:
    """The mirrors (already checked) with their defaults and what the roles derive from them."""
    settings = []
    for index, entry in enumerate(mirrors):
        host = "%s.%s" % (entry["name"], domain)
        settings.append({
            "name": entry["name"],
            "url": entry["url"].rstrip("/"),
            "upstream": entry.get("upstream") or upstream_of(entry["url"]),
            "username": entry.get("username", ""),
            "password": entry.get("password", ""),
            "ttl": entry.get("ttl", ttl),
            "anonymous": entry.get("anonymous", False),
            "pull_accounts": list(entry.get("pull_accounts", [])),
            "pull_groups": list(entry.get("pull_groups", [])),
            "plain_http": entry.get("plain_http", False),
            # Clients reach it at https://HOST; its tokens are for the service HOST.
            "host": host,
            "service": host,
            "port": int(first_port) + index,
        })
    return settings


def mirror_acl(settings: Sequence[Mapping[str, Any]], site_anonymous: bool) -> List[Dict[str, Any]]:
    """docker_auth ACL entries for the mirrors, to go before the site's: the first match decides."""
    acl: List[Dict[str, Any]] = []
    for mirror in settings:
        service = mirror["service"]
        if mirror["anonymous"]:
            acl.append({"match": {"service": service}, "actions": ["pull"],
                        "comment": "Mirror %s: everyone pulls, anonymous clients too" % mirror["name"]})
        for account in mirror["pull_accounts"]:
            acl.append({"match": {"service": service, "account": account}, "actions": ["pull"],
                        "comment": "Mirror %s: pull for %s" % (mirror["name"], account)})
        for group in mirror["pull_groups"]:
            acl.append({"match": {"service": service, "labels": {"group": group}}, "actions": ["pull"],
                        "comment": "Mirror %s: pull for group %s" % (mirror["name"], group)})
        # The site's entries below are for the private registry: none of
        # them may give anything on a mirror.
        acl.append({"match": {"service": service}, "actions": [],
                    "comment": "Mirror %s: nothing else" % mirror["name"]})
    if not site_anonymous and any(mirror["anonymous"] for mirror in settings):
        acl.append({"match": {"account": ""}, "actions": [],
                    "comment": "Anonymous clients get the anonymous mirrors only"})
    return acl
