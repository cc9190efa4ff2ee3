"""docker_auth 1.14.0 ACL semantics (authz/acl.go), rule by rule."""

import pytest

from ansible_collections.sovereign.registry.plugins.module_utils._go import BadPattern
from ansible_collections.sovereign.registry.plugins.module_utils._go import path_match as go_path_match
from ansible_collections.sovereign.registry.plugins.module_utils._go import quote_meta as go_quote_meta
from ansible_collections.sovereign.registry.plugins.module_utils._go import replace as go_replace
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.authz import authorize, match_string

TUTORIAL_ACL = [
    {"match": {"account": "", "name": "publicrepos/*"}, "actions": ["pull"], "comment": "public"},
    {"match": {"name": "publicrepos/*", "labels": {"group": "first_user_group"}}, "actions": ["pull", "push"]},
    {"match": {"account": "admin"}, "actions": ["*"]},
    {"match": {"name": "${labels:group}-shared/*"}, "actions": ["push", "pull"]},
    {"match": {"account": "/.+/", "name": "${account}/*"}, "actions": ["*"]},
]
FIRST = {"group": ["first_user_group"]}


def ask(acl, account="", name="x", actions=("pull",), labels=None, **kw):
    req = dict(account=account, name=name, actions=list(actions), labels=labels or {}, **kw)
    return authorize(acl, req)


# --- Go primitives ----------------------------------------------------------

@pytest.mark.parametrize("pattern,name,expected", [
    ("a/*", "a/b", True),
    ("a/*", "a/b/c", False),          # * does not cross /
    ("a/*", "a/", True),
    ("*", "", True),
    ("*/b", "a/b", True),
    ("a?c", "abc", True),
    ("a?c", "a/c", False),            # ? does not match /
    ("[a-c]x", "bx", True),
    ("[^a-c]x", "bx", False),
    ("a\\*", "a*", True),
    ("a\\*", "ab", False),
    ("a*b*c", "aXbYc", True),
    ("a*b", "a/b", False),
    ("publicrepos/*", "publicrepos", False),
])
def test_go_path_match(pattern, name, expected):
    assert go_path_match(pattern, name) is expected


@pytest.mark.parametrize("pattern", ["[", "[a-", "a[]", "\\", "[a-b"])
def test_go_path_match_bad_pattern(pattern):
    with pytest.raises(BadPattern):
        go_path_match(pattern, "abc")


def test_bad_pattern_is_reported_even_after_an_early_mismatch():
    # Go checks the rest of the pattern before answering false.
    with pytest.raises(BadPattern):
        go_path_match("x*[", "abc")


def test_quote_meta_is_gos():
    assert go_quote_meta("a.b+c*d?e(f)g|h[i]j{k}l^m$n\\o-p/q") == "a\\.b\\+c\\*d\\?e\\(f\\)g\\|h\\[i\\]j\\{k\\}l\\^m\\$n\\\\o-p/q"


def test_replacer_earliest_argument_wins_and_no_rescan():
    assert go_replace("${a}${ab}", [("${a}", "1"), ("${ab}", "2")]) == "1${ab}".replace("${ab}", "2")
    assert go_replace("xx", [("x", "xx")]) == "xxxx"
    assert go_replace("${name:1}", [("${name}", "N"), ("${name:1}", "C")]) == "C"


# --- matching rules -----------------------------------------------------------

def test_first_matching_entry_wins():
    acl = [{"match": {"account": "bob"}, "actions": ["pull"]}, {"match": {"account": "bob"}, "actions": ["*"]}]
    assert ask(acl, "bob", actions=["pull", "push"]) == (["pull"], 0)


def test_no_match_grants_nothing():
    assert ask([{"match": {"account": "bob"}, "actions": ["*"]}], "alice") == ([], None)


def test_star_alone_grants_what_was_asked():
    acl = [{"match": {}, "actions": ["*"]}]
    assert ask(acl, actions=["push", "pull", "delete"]) == (["delete", "pull", "push"], 0)


def test_star_next_to_others_is_literal():
    acl = [{"match": {}, "actions": ["*", "pull"]}]
    assert ask(acl, actions=["push", "pull"]) == (["pull"], 0)
    assert ask(acl, actions=["*"]) == (["*"], 0)


def test_intersection_with_requested_actions():
    acl = [{"match": {}, "actions": ["pull", "push"]}]
    assert ask(acl, actions=["delete", "pull"]) == (["pull"], 0)


def test_regex_is_unanchored_re2():
    acl = [{"match": {"name": "/ci/"}, "actions": ["pull"]}]
    assert ask(acl, name="circleci/x")[0] == ["pull"]
    assert ask([{"match": {"name": "/^ci$/"}, "actions": ["pull"]}], name="circleci")[0] == []


def test_regex_that_does_not_compile_matches_nothing():
    assert not match_string("/(?!x)/", "abc", [])


def test_two_char_slashes_is_a_glob():
    assert match_string("//", "//", []) and not match_string("//", "x", [])


def test_account_placeholder_is_regex_quoted():
    acl = [{"match": {"account": "/.+/", "name": "/^${account}-tools$/"}, "actions": ["pull"]}]
    assert ask(acl, "a.b", name="a.b-tools")[0] == ["pull"]
    assert ask(acl, "a.b", name="aXb-tools")[0] == []   # the dot was quoted


def test_quoted_placeholder_in_glob_still_matches_literally():
    acl = [{"match": {"name": "${account}/*"}, "actions": ["pull"]}]
    assert ask(acl, "first.user", name="first.user/app")[0] == ["pull"]


def test_capture_group_from_regex_field():
    acl = [{"match": {"account": "/^ci-(.+)$/", "name": "${account:1}/*"}, "actions": ["pull", "push"]}]
    assert ask(acl, "ci-web", name="web/app", actions=["pull", "push"])[0] == ["pull", "push"]
    assert ask(acl, "ci-web", name="api/app", actions=["pull"])[0] == []


def test_capture_group_after_another_placeholder_is_never_expanded():
    # docker_auth's lazy \$\{(.+?):(\d+)\} swallows "${service}/${account" as the field name.
    acl = [{"match": {"account": "/^ci-(.+)$/", "name": "${service}/${account:1}"}, "actions": ["pull"]}]
    assert ask(acl, "ci-web", name="reg/web", service="reg")[0] == []


def test_capture_group_of_non_regex_field_is_not_expanded():
    acl = [{"match": {"account": "ci-web", "name": "${account:1}"}, "actions": ["pull"]}]
    assert ask(acl, "ci-web", name="web")[0] == []
    assert ask(acl, "ci-web", name="${account:1}")[0] == ["pull"]


def test_label_placeholder_tries_every_value():
    acl = [{"match": {"name": "${labels:group}-shared/*"}, "actions": ["pull"]}]
    labels = {"group": ["a", "b", "c"]}
    assert ask(acl, "u", name="b-shared/x", labels=labels)[0] == ["pull"]
    assert ask(acl, "u", name="d-shared/x", labels=labels)[0] == []


def test_label_placeholders_combine_as_cartesian_product():
    acl = [{"match": {"name": "${labels:team}/${labels:env}/*"}, "actions": ["pull"]}]
    labels = {"team": ["web", "api"], "env": ["dev", "prod"]}
    assert ask(acl, "u", name="api/prod/x", labels=labels)[0] == ["pull"]


def test_label_values_are_substituted_raw():
    acl = [{"match": {"name": "/^${labels:group}$/"}, "actions": ["pull"]}]
    assert ask(acl, "u", name="aXb", labels={"group": ["a.b"]})[0] == ["pull"]


def test_match_labels_needs_one_matching_value():
    acl = [{"match": {"labels": {"group": "admins"}}, "actions": ["*"]}]
    assert ask(acl, "u", labels={"group": ["devs", "admins"]})[0] == ["pull"]
    assert ask(acl, "u", labels={"group": ["devs"]})[0] == []
    assert ask(acl, "u")[0] == []


def test_ip_and_cidr():
    acl = [{"match": {"ip": "10.0.0.0/8"}, "actions": ["pull"]}, {"match": {"ip": "192.0.2.7"}, "actions": ["push"]}]
    assert ask(acl, ip="10.1.2.3", actions=["pull", "push"])[0] == ["pull"]
    assert ask(acl, ip="192.0.2.7", actions=["pull", "push"])[0] == ["push"]
    assert ask(acl, ip="192.0.2.8")[0] == []
    assert ask(acl, ip="")[0] == []


def test_type_and_service():
    acl = [{"match": {"type": "registry", "name": "catalog"}, "actions": ["*"]},
           {"match": {"service": "other.example"}, "actions": ["pull"]}]
    assert ask(acl, type="registry", name="catalog", actions=["*"])[0] == ["*"]
    assert ask(acl, name="x", service="other.example")[0] == ["pull"]
    assert ask(acl, name="x", service="reg.example")[0] == []


# --- the tutorial's ACL ----------------------------------------------------------

@pytest.mark.parametrize("account,labels,name,actions,granted,entry", [
    ("", {}, "publicrepos/x", ["pull", "push"], ["pull"], 0),
    ("", {}, "publicrepos/a/b", ["pull"], [], None),
    ("", {}, "firstuser/x", ["pull"], [], None),
    ("firstuser", FIRST, "publicrepos/x", ["pull", "push"], ["pull", "push"], 1),
    ("firstuser", FIRST, "first_user_group-shared/x", ["pull", "push"], ["pull", "push"], 3),
    ("firstuser", FIRST, "firstuser/x", ["delete", "pull", "push"], ["delete", "pull", "push"], 4),
    ("firstuser", FIRST, "admin/x", ["pull"], [], None),
    ("admin", {}, "anything/deep/x", ["delete", "pull", "push"], ["delete", "pull", "push"], 2),
    ("seconduser", {}, "publicrepos/x", ["pull"], [], None),   # less than anonymous
])
def test_tutorial_acl(account, labels, name, actions, granted, entry):
    assert ask(TUTORIAL_ACL, account, name=name, actions=actions, labels=labels) == (granted, entry)
