"""Retention rules and plans: registry_retention's module_utils, and its bad-input refusals."""

import datetime

import pytest

from ansible_collections.sovereign.registry.plugins.module_utils._registry.client import (
    DOCKER_LIST, OCI_MANIFEST, parse_challenge, parse_time)
from ansible_collections.sovereign.registry.plugins.module_utils._registry.retention import RetentionError, plan, validate_rules

NOW = datetime.datetime(2026, 11, 27, 12, 0, tzinfo=datetime.timezone.utc)


def days_ago(days):
    return NOW - datetime.timedelta(days=days)


def image(digest, days, layers=(), size=100, children=(), platforms=()):
    """What describe() returns for a tag."""
    blobs = {digest: 10}
    blobs.update({layer: size for layer in layers})
    for child in children:
        blobs[child] = 10
    return dict(digest=digest, media_type=DOCKER_LIST if children else OCI_MANIFEST,
                created=None if days is None else days_ago(days), children=list(children), blobs=blobs,
                platforms=list(platforms))


def rules(*given):
    return validate_rules(list(given))


def deleted_tags(decided):
    return sorted("%s:%s" % (e["repository"], t) for e in decided["deleted"] for t in e["tags"])


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("rule, fragment", [
    ({"repository": "a/[b", "keep_last": 1}, "rule 1: repository 'a/[b' is not a valid glob"),
    ({"repository": "a/*", "tags": "pr-[", "keep_last": 1}, "tags 'pr-[' is not a valid glob"),
    ({"repository": "a/*", "keep_last": -1}, "keep_last must be a whole number of 0 or more, not -1"),
    ({"repository": "a/*", "older_than_days": -3}, "older_than_days must be a whole number of 0 or more, not -3"),
    ({"repository": "a/*", "keep_last": "5"}, "keep_last must be a whole number"),
    ({"repository": "a/*", "keep_last": True}, "keep_last must be a whole number"),
    ({"repository": "a/*", "tags": "pr-*"}, "deletes every tag it matches; set keep_last or older_than_days"),
    ({"repository": "a/*", "keep_last": 2, "keeplast": 3}, "unknown key(s) keeplast"),
    ({"tags": "*", "keep_last": 2}, "repository must be a non-empty glob"),
    ({"repository": "a/*", "keep_last": 1, "allow_delete_all": "yes"}, "allow_delete_all must be true or false"),
])
def test_bad_rules_are_refused_with_the_rule_and_the_fix(rule, fragment):
    with pytest.raises(RetentionError) as error:
        validate_rules([rule])
    assert fragment in str(error.value)


def test_every_mistake_is_reported_at_once():
    with pytest.raises(RetentionError) as error:
        validate_rules([{"repository": "a/*", "keep_last": 1}, {"repository": "[", "keep_last": -1}])
    assert "rule 2: repository '['" in str(error.value) and "rule 2: keep_last" in str(error.value)


def test_no_rules_at_all_is_refused():
    with pytest.raises(RetentionError, match="at least one retention rule"):
        validate_rules([])


def test_a_rule_may_delete_everything_it_matches_when_it_says_so():
    assert validate_rules([{"repository": "tmp/*", "allow_delete_all": True}])[0]["keep_last"] == 0


# ------------------------------------------------------------------- the plan


def test_keep_last_keeps_the_newest_and_age_decides_the_rest():
    images = {"publicrepos/app": {
        "pr-1": image("sha256:p1", 30, ["sha256:l1"]),
        "pr-2": image("sha256:p2", 20, ["sha256:l2"]),
        "pr-3": image("sha256:p3", 10, ["sha256:l3"]),
        "pr-4": image("sha256:p4", 1, ["sha256:l4"]),
        "v1.0": image("sha256:v1", 400, ["sha256:l9"]),
    }}
    decided = plan(rules({"repository": "publicrepos/*", "tags": "pr-*", "keep_last": 1, "older_than_days": 14}),
                   images, NOW)
    # pr-4 is the newest (kept by keep_last), pr-3 is younger than 14 days,
    # v1.0 matches no rule: kept whatever its age.
    assert deleted_tags(decided) == ["publicrepos/app:pr-1", "publicrepos/app:pr-2"]
    assert decided["kept"] == 3
    assert decided["bytes_freed"] == 2 * (10 + 100)


def test_first_matching_rule_decides_a_tag():
    images = {"web/app": {"pr-1": image("sha256:a", 100), "pr-2": image("sha256:b", 90),
                          "main": image("sha256:c", 1)}}
    decided = plan(rules({"repository": "web/*", "tags": "pr-1", "keep_last": 5},
                         {"repository": "*/*", "tags": "pr-*", "older_than_days": 30}), images, NOW)
    assert deleted_tags(decided) == ["web/app:pr-2"]


def test_glob_star_does_not_cross_a_slash():
    images = {"team/sub/app": {"pr-1": image("sha256:a", 100)},
              "team/app": {"pr-1": image("sha256:b", 100), "main": image("sha256:c", 1)}}
    decided = plan(rules({"repository": "team/*", "tags": "pr-*", "older_than_days": 1}), images, NOW)
    assert deleted_tags(decided) == ["team/app:pr-1"]


def test_an_index_goes_with_its_children_children_first():
    index = image("sha256:idx", 60, children=["sha256:amd", "sha256:arm", "sha256:att1", "sha256:att2"],
                  platforms=["linux/amd64", "linux/arm64"])
    images = {"publicrepos/multi": {"pr-9": index, "main": image("sha256:m", 0)}}
    decided = plan(rules({"repository": "publicrepos/*", "tags": "pr-*", "older_than_days": 14}), images, NOW)
    (entry,) = decided["deleted"]
    assert entry["manifests"] == ["sha256:amd", "sha256:arm", "sha256:att1", "sha256:att2", "sha256:idx"]
    assert entry["platforms"] == ["linux/amd64", "linux/arm64"]


def test_a_manifest_a_kept_tag_references_is_never_deleted():
    child = "sha256:amd"
    images = {"publicrepos/app": {
        # pr-1 is the release under another name: same manifest as v1.
        "pr-1": image("sha256:rel", 60, ["sha256:L"]), "v1": image("sha256:rel", 60, ["sha256:L"]),
        # pr-2's platform image is also a child of the kept index "v2".
        "pr-2": image(child, 60, ["sha256:L2"]),
        "v2": image("sha256:idx", 60, children=[child, "sha256:arm"]),
        # pr-3 is an index sharing a child with v2: that child stays.
        "pr-3": image("sha256:idx3", 60, children=[child, "sha256:own"]),
    }}
    decided = plan(rules({"repository": "publicrepos/*", "tags": "pr-*", "older_than_days": 14}), images, NOW)
    assert deleted_tags(decided) == ["publicrepos/app:pr-3"]
    assert decided["deleted"][0]["manifests"] == ["sha256:own", "sha256:idx3"]
    assert sorted((s["tag"], s["kept_tag"]) for s in decided["shared"]) == [("pr-1", "v1"), ("pr-2", "v2")]


def test_layers_shared_with_a_kept_image_anywhere_are_not_counted():
    images = {"a/app": {"pr-1": image("sha256:x", 60, ["sha256:shared", "sha256:own"], size=1000),
                        "main": image("sha256:y", 0)},
              "b/app": {"v1": image("sha256:z", 0, ["sha256:shared"], size=1000)}}
    decided = plan(rules({"repository": "a/*", "tags": "pr-*", "older_than_days": 1}), images, NOW)
    assert decided["bytes_freed"] == 10 + 1000


def test_two_tags_of_one_deleted_manifest_are_one_deletion():
    images = {"a/app": {"pr-1": image("sha256:x", 60), "pr-1b": image("sha256:x", 60), "main": image("sha256:m", 0)}}
    decided = plan(rules({"repository": "a/*", "tags": "pr-*", "older_than_days": 1}), images, NOW)
    assert [e["tags"] for e in decided["deleted"]] == [["pr-1", "pr-1b"]]


def test_images_without_a_creation_time_are_kept_and_listed():
    images = {"a/app": {"pr-1": image("sha256:x", None), "pr-2": image("sha256:y", 60), "main": image("sha256:m", 0)}}
    decided = plan(rules({"repository": "a/*", "tags": "pr-*", "older_than_days": 1}), images, NOW)
    assert deleted_tags(decided) == ["a/app:pr-2"]
    assert decided["unknown_age"] == [{"repository": "a/app", "tag": "pr-1"}]


def test_a_plan_that_empties_a_repository_is_refused_before_anything():
    images = {"a/app": {"pr-1": image("sha256:x", 60), "pr-2": image("sha256:y", 50)},
              "a/other": {"pr-1": image("sha256:z", 60), "main": image("sha256:m", 0)}}
    with pytest.raises(RetentionError) as error:
        plan(rules({"repository": "a/*", "tags": "pr-*", "older_than_days": 14}), images, NOW)
    assert "a/app (rule 1)" in str(error.value) and "a/other" not in str(error.value)
    assert "allow_delete_all: true" in str(error.value)


def test_allow_delete_all_lets_a_repository_be_emptied():
    images = {"tmp/app": {"pr-1": image("sha256:x", 60), "pr-2": image("sha256:y", 50)}}
    decided = plan(rules({"repository": "tmp/*", "older_than_days": 14, "allow_delete_all": True}), images, NOW)
    assert deleted_tags(decided) == ["tmp/app:pr-1", "tmp/app:pr-2"]


def test_age_is_whole_days_past_the_limit():
    images = {"a/app": {"t14": image("sha256:a", 14), "t15": image("sha256:b", 15), "main": image("sha256:m", 0)}}
    decided = plan(rules({"repository": "a/*", "tags": "t*", "older_than_days": 14}), images, NOW)
    assert deleted_tags(decided) == ["a/app:t15"]


# ---------------------------------------------------------------- small parsers


@pytest.mark.parametrize("text, expected", [
    ("2026-01-02T03:04:05Z", datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)),
    ("2026-01-02T03:04:05.123456789Z", datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.timezone.utc)),
    ("2026-01-02T04:04:05+01:00", datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)),
    ("1970-01-01T00:00:00Z", None),
    ("0001-01-01T00:00:00Z", None),
    ("yesterday", None),
    (None, None),
])
def test_creation_times(text, expected):
    assert parse_time(text) == expected


def test_bearer_challenge():
    assert parse_challenge('Bearer realm="https://r.example/auth/auth",service="r.example",scope="a"') == (
        "bearer", {"realm": "https://r.example/auth/auth", "service": "r.example", "scope": "a"})


# ------------------------------------------------------- the module, bad input


@pytest.mark.parametrize("rule, fragment", [
    ({"repository": "publicrepos/[", "keep_last": 2}, "repository 'publicrepos/[' is not a valid glob"),
    ({"repository": "publicrepos/*", "keep_last": -2}, "keep_last must be a whole number of 0 or more, not -2"),
    ({"repository": "publicrepos/*", "tags": "*"}, "deletes every tag it matches"),
])
def test_module_refuses_bad_rules_before_any_request(run_module, rule, fragment):
    # Nothing listens on port 9: a request would fail with another message.
    proc, result = run_module("registry_retention", {"registry_url": "http://127.0.0.1:9", "rules": [rule],
                                                     "username": "admin", "password": "never-shown-0123"})
    assert proc.returncode != 0 and fragment in result["msg"]
    assert "never-shown" not in proc.stdout + proc.stderr


# -------------------------------------------------------------- the inventory


def test_tags_and_repositories_that_hold_no_image_are_left_out_of_the_inventory():
    """Registry 2.8 still lists the tags of a manifest deleted by its digest (a GET of one answers 404), and
    lists in its catalog a repository that holds only uploaded blobs (its tags/list answers 404)."""
    import json

    from ansible_collections.sovereign.registry.plugins.module_utils._registry.client import Registry
    from ansible_collections.sovereign.registry.plugins.module_utils._registry.retention import inventory

    manifest = json.dumps({"mediaType": OCI_MANIFEST, "config": {"digest": "sha256:c", "size": 5},
                           "layers": [{"digest": "sha256:l", "size": 7}]}).encode()

    def transport(method, url, headers, body):
        path = url.split("://", 1)[1].split("/", 1)[1]
        answers = {
            "v2/_catalog?n=1000": (200, {}, b'{"repositories": ["a/app", "a/blobs-only"]}'),
            "v2/a/blobs-only/tags/list?n=1000": (404, {}, b'{"errors": [{"code": "NAME_UNKNOWN"}]}'),
            "v2/a/app/tags/list?n=1000": (200, {}, b'{"tags": ["gone", "kept"]}'),
            "v2/a/app/manifests/kept": (200, {"docker-content-digest": "sha256:m"}, manifest),
            "v2/a/app/manifests/gone": (404, {}, b'{"errors": [{"code": "MANIFEST_UNKNOWN"}]}'),
        }
        return answers[path]

    found = inventory(Registry("http://registry", transport), [])
    assert list(found["a/app"]) == ["kept"]
    assert found["a/blobs-only"] == {}
    assert found["a/app"]["kept"]["blobs"] == {"sha256:m": len(manifest), "sha256:c": 5, "sha256:l": 7}
