"""The rules of _docker_auth.users a role reaches through a module or filter: the user-name and label-name grammars,
the CI-account convention and the shape of a directory's label map."""

import pytest

from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.users import (
    ci_project,
    is_label_key,
    is_user_name,
    label_map_errors,
    user_errors,
)


@pytest.mark.parametrize("name", ["alice", "ci-web", "a.b_c-d", "x1", "x" * 64])
def test_user_names_of_the_grammar(name):
    assert is_user_name(name)


@pytest.mark.parametrize("name", ["", "Alice", "a:b", "a..b", "-a", "a-", "x" * 65, None, 7])
def test_user_names_out_of_the_grammar(name):
    assert not is_user_name(name)


def test_the_users_check_uses_the_grammar():
    assert [where for where, _fix in user_errors([{"name": "a:b"}, {"name": "ok"}])] == ["users[0].name"]


@pytest.mark.parametrize("key, expected", [("group", True), ("Team.Name_1-x", True), ("", False), ("a b", False),
                                           ("a:b", False), ("gr*up", False), (None, False)])
def test_label_key_grammar(key, expected):
    assert is_label_key(key) is expected


def test_the_users_check_uses_the_label_key_grammar():
    errors = user_errors([{"name": "u", "labels": {"a b": ["x"], "team": ["web"]}}])
    assert errors == [("users[0].labels.a b", "label names may hold letters, digits, '_', '.', '-' only")]


@pytest.mark.parametrize("account, project", [
    ("ci-web", "web"),
    ("ci-my.app", "my.app"),
    ("ci-a-b", "a-b"),
    ("circle", None),        # ci- is a prefix with its dash
    ("ci-", None),           # no project
    ("ci-Web", None),        # not a user name
    ("web-ci-x", None),
    ("ci-" + "x" * 62, None),  # 65 characters: not a user name
    (None, None),
])
def test_ci_project_is_the_ci_convention(account, project):
    assert ci_project(account) == project


def test_the_default_label_map_is_right():
    assert label_map_errors({"group": {"attribute": "memberOf", "parse_cn": True, "lower_case": True}}) == []
    assert label_map_errors({}) == []


@pytest.mark.parametrize("label_map, error", [
    ([], "must be a mapping {LABEL: {attribute: ATTRIBUTE"),
    ({"team": "ou"}, "team: must be a mapping {attribute: ATTRIBUTE"),
    ({"team": {"parse_cn": True}}, "team: attribute is missing"),
    ({"team": {"attribute": ""}}, "team: attribute is missing"),
    ({"team": {"attribute": "ou", "lowercase": True}}, "team: unknown keys lowercase; docker_auth reads attribute, parse_cn, lower_case"),
    ({"my team": {"attribute": "ou"}}, "'my team': label names may hold letters, digits"),
])
def test_label_map_mistakes_are_named(label_map, error):
    errors = label_map_errors(label_map)
    assert len(errors) == 1 and errors[0].startswith(error), errors
