"""The pull-through mirrors' rules (_mirrors): each mistake named with its entry, the settings every role derives,
and the ACL entries that keep a mirror's rights apart from the private registry's."""

import pytest

from ansible_collections.sovereign.registry.plugins.module_utils._mirrors import (
    mirror_acl,
    mirror_errors,
    mirror_settings,
    upstream_of,
)

HUB = {"name": "hub", "url": "https://registry-1.docker.io", "anonymous": True}
TEAM = {"name": "quay", "url": "https://quay.example.org:8443", "username": "robot", "password": "s3cret",
        "pull_accounts": ["alice", "/^ci-/"], "pull_groups": ["builders"], "ttl": "24h"}


def test_a_right_list_has_no_mistake():
    assert not mirror_errors([HUB, TEAM], "3.1.1")
    assert not mirror_errors([], "2.8")


@pytest.mark.parametrize("change, words", [
    ({"nmae": "x"}, "unknown key(s) nmae"),
    ({"name": "Hub"}, "one DNS label"),
    ({"name": "a.b"}, "one DNS label"),
    ({"url": "https://example.org/v2"}, "without a path"),
    ({"url": "ftp://example.org"}, "https://host[:port]"),
    ({"url": "http://example.org"}, "plain_http: true"),
    ({"username": "robot"}, "both username and password"),
    ({"ttl": "7d"}, "ttl must be a duration"),
    ({"anonymous": "yes"}, "anonymous must be true or false"),
    ({"anonymous": False}, "nobody may pull"),
    ({"pull_groups": ["a b"]}, "pull_groups are group names"),
    ({"upstream": "Docker.IO/x"}, "upstream must be the registry name"),
])
def test_each_mistake_is_named_with_its_entry(change, words):
    errors = mirror_errors([dict(HUB, **change)], "3.1.1")
    assert len(errors) == 1 and words in errors[0] and errors[0].startswith("sovereign_registry_mirrors[0]")


def test_plain_http_when_asked_for():
    assert not mirror_errors([dict(HUB, url="http://upstream:5000", plain_http=True)], "3.1.1")


def test_names_and_upstreams_are_unique():
    errors = mirror_errors([HUB, dict(TEAM, name="hub"), dict(TEAM, name="other", upstream="docker.io")], "3")
    assert len(errors) == 2
    assert "name hub is that of sovereign_registry_mirrors[0]" in errors[0]
    assert "upstream docker.io is that of sovereign_registry_mirrors[0]" in errors[1]


def test_registry_2_is_refused():
    errors = mirror_errors([HUB], "2.8")
    assert len(errors) == 1 and "needs registry 3" in errors[0]


def test_not_a_list():
    assert "must be a list" in mirror_errors({"name": "hub"})[0]


@pytest.mark.parametrize("url, upstream", [
    ("https://registry-1.docker.io", "docker.io"),
    ("https://registry-1.docker.io:443", "registry-1.docker.io:443"),
    ("https://Quay.example.org:8443/", "quay.example.org:8443"),
    ("http://upstream:5000", "upstream:5000"),
])
def test_the_upstream_clients_name(url, upstream):
    assert upstream_of(url) == upstream


def test_settings_derive_host_service_port_and_defaults():
    hub, team = mirror_settings([HUB, TEAM], "registry.example.org", 5400, "168h")
    assert (hub["host"], hub["service"], hub["port"], hub["ttl"], hub["upstream"]) == (
        "hub.registry.example.org", "hub.registry.example.org", 5400, "168h", "docker.io")
    assert (team["port"], team["ttl"], team["username"], team["upstream"]) == (5401, "24h", "robot", "quay.example.org:8443")


def decide(acl, service, account, labels=None):
    """docker_auth's first match for a pull, as far as these entries use its matches."""
    for entry in acl:
        match = entry["match"]
        if "service" in match and match["service"] != service:
            continue
        if "account" in match and match["account"] != account:
            continue
        if "labels" in match and match["labels"]["group"] not in (labels or []):
            continue
        return entry["actions"]
    return None


def test_acl_keeps_each_mirror_to_its_rights():
    settings = mirror_settings([HUB, dict(TEAM, pull_accounts=["alice"])], "r.example", 5400, "168h")
    acl = mirror_acl(settings, site_anonymous=False)
    assert decide(acl, "hub.r.example", "") == ["pull"]
    assert decide(acl, "quay.r.example", "alice") == ["pull"]
    assert decide(acl, "quay.r.example", "bob", ["builders"]) == ["pull"]
    assert decide(acl, "quay.r.example", "bob") == []
    assert decide(acl, "quay.r.example", "") == []
    # The site is not anonymous: anonymous clients get nothing of it.
    assert decide(acl, "r.example", "") == []
    # Everyone else on the site: the site's own ACL decides.
    assert decide(acl, "r.example", "alice") is None


def test_acl_leaves_an_anonymous_site_to_its_own_entries():
    acl = mirror_acl(mirror_settings([HUB], "r.example", 5400, "168h"), site_anonymous=True)
    assert decide(acl, "r.example", "") is None
