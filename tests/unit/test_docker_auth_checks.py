"""Every rule of docker_auth_acl_check: each mistake has its own message."""

import re

import pytest
import yaml

from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.access import access_matrix
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.acl import check

USERS = [{"name": "admin"}, {"name": "firstuser", "groups": ["first_user_group"]}, {"name": "seconduser"}]
OK_ENTRY = {"match": {"account": "admin"}, "actions": ["*"]}


def findings(acl, users=None, anonymous=True, level=None):
    return [(f["where"], f["message"]) for f in check(acl, USERS if users is None else users, anonymous)
            if level is None or f["level"] == level]


def only(acl, where, fragment, level="error", users=None):
    """The ACL gives this one finding at this level, and no other."""
    found = findings(acl, users, level=level)
    assert len(found) == 1 and found[0][0] == where and fragment in found[0][1], found


# --- errors -----------------------------------------------------------------

def test_require_account_is_refused_with_the_fix():
    only([{"match": {"account": "admin"}, "actions": ["*"], "require_account": True}],
         "acl[0].require_account", 'put account: "/.+/" into match')


def test_unknown_entry_key():
    only([dict(OK_ENTRY, acction=["pull"])], "acl[0].acction", "docker_auth silently ignores unknown keys")


def test_unknown_match_key():
    only([{"match": {"user": "admin"}, "actions": ["*"]}], "acl[0].match.user", "unknown match key")


def test_missing_match():
    only([{"actions": ["*"]}], "acl[0].match", "docker_auth crashes on an entry without match")


def test_missing_actions():
    only([{"match": {"account": "admin"}}], "acl[0].actions", "missing or not a list")


def test_unknown_action():
    only([{"match": {}, "actions": ["read"]}], "acl[0].actions", "unknown action 'read'")


def test_star_with_other_actions():
    only([{"match": {}, "actions": ["*", "pull"]}], "acl[0].actions", "only when it is the only element")


def test_regex_re2_refuses():
    only([{"match": {"name": "/(a)\\1/"}, "actions": ["pull"]}], "acl[0].match.name", "RE2 (the engine")


def test_regex_python_accepts_but_re2_refuses_lookbehind():
    only([{"match": {"account": "/(?<=x)y/"}, "actions": ["pull"]}], "acl[0].match.account", "RE2")


def test_malformed_glob():
    only([{"match": {"name": "repo[a-"}, "actions": ["pull"]}], "acl[0].match.name", "not a valid glob")


def test_bad_ip():
    only([{"match": {"ip": "300.1.1.1"}, "actions": ["pull"]}], "acl[0].match.ip", "neither an IP address nor a CIDR")


def test_unknown_placeholder():
    only([{"match": {"name": "${user}/*"}, "actions": ["pull"]}], "acl[0].match.name", "unknown placeholder ${user}")


def test_capture_group_of_glob_field():
    only([{"match": {"account": "ci-*", "name": "${account:1}/*"}, "actions": ["pull"]}],
         "acl[0].match.name", "match.account, which is not a /regex/")


def test_capture_group_out_of_range():
    only([{"match": {"account": "/^ci-(.+)$/", "name": "${account:2}/*"}, "actions": ["pull"]}],
         "acl[0].match.name", "has 1 capture group(s)")


def test_capture_group_swallowed_by_earlier_placeholder():
    only([{"match": {"account": "/^ci-(.+)$/", "name": "${service}/${account:1}"}, "actions": ["pull"]}],
         "acl[0].match.name", "never expanded")


def test_label_placeholder_inside_match_labels():
    only([{"match": {"labels": {"group": "${labels:team}"}}, "actions": ["pull"]}],
         "acl[0].match.labels.group", "not expanded inside match.labels")


@pytest.mark.parametrize("name", ["First", "a:b", "", "a..b", "x" * 65, "-a"])
def test_user_names_docker_auth_cannot_take(name):
    messages = findings([OK_ENTRY], [{"name": name}], level="error")
    assert any(w == "users[0].name" for w, _message in messages), messages


def test_label_value_with_glob_syntax():
    only([OK_ENTRY], "users[0].groups", "unescaped", users=[{"name": "u", "groups": ["dev*"]}])


def test_duplicate_user():
    only([OK_ENTRY], "users[1].name", "defined twice", users=[{"name": "u"}, {"name": "u"}])


@pytest.mark.parametrize("cost", [3, 32, "10", True])
def test_bcrypt_cost_out_of_range_is_refused(cost):
    only([OK_ENTRY], "users[0].bcrypt_cost", "cost must be a whole number from 4 to 31",
         users=[{"name": "u", "bcrypt_cost": cost}])


def test_bcrypt_cost_in_range_is_taken():
    assert findings([OK_ENTRY], [{"name": "u", "bcrypt_cost": 12}], level="error") == []


# --- warnings ---------------------------------------------------------------

def test_shadowed_entry():
    acl = [{"match": {"account": "/.*/"}, "actions": ["pull"], "comment": "all"},
           {"match": {"account": "admin"}, "actions": ["*"]}]
    only(acl, "acl[1]", "can never match: acl[0] (all)", level="warning")


def test_identical_earlier_entry_shadows():
    acl = [{"match": {"name": "a/b"}, "actions": ["pull"]}, {"match": {"name": "a/b", "account": "x"}, "actions": ["*"]}]
    only(acl, "acl[1]", "can never match: acl[0]", level="warning")


def test_label_placeholder_nobody_has():
    only([{"match": {"name": "${labels:team}-shared"}, "actions": ["pull"]}], "acl[0].match.name",
         "no user has the label 'team'", level="warning")


def test_group_nobody_is_in():
    only([{"match": {"labels": {"group": "admins"}}, "actions": ["*"]}], "acl[0].match.labels.group",
         "no user is in group 'admins'", level="warning")


# --- people of a directory (LDAP) -------------------------------------------

DIRECTORY = {"labels": ["group"], "identities": [{"name": "alice", "groups": ["devs"]}]}


def directory_findings(acl, directory, level=None):
    return [(f["where"], f["message"]) for f in check(acl, USERS, True, directory=directory)
            if level is None or f["level"] == level]


def test_a_label_the_directory_gives_is_not_warned_about():
    acl = [{"match": {"name": "${labels:group}-shared"}, "actions": ["pull", "push"]},
           {"match": {"labels": {"group": "platform"}}, "actions": ["pull"]}]
    assert directory_findings(acl, {"labels": ["group"]}, level="warning") == []
    # Without the directory, both are warnings (no static user is in a group the patterns could use).
    assert [w for w, _m in directory_findings(acl, None, level="warning")] == ["acl[1].match.labels.group"]


def test_a_label_no_source_gives_is_still_a_warning():
    found = directory_findings([{"match": {"name": "${labels:team}-shared"}, "actions": ["pull"]}],
                               {"labels": ["group"]}, level="warning")
    assert found == [("acl[0].match.name",
                      "${labels:team}: no user has the label 'team' and the directory gives none, so this never matches")]


def test_an_identity_named_as_a_static_user_is_refused_and_why():
    found = directory_findings([OK_ENTRY], {"identities": [{"name": "firstuser", "groups": ["devs"]}]}, level="error")
    assert len(found) == 1 and found[0][0] == "directory.identities[0].name"
    assert "docker_auth tries static users first" in found[0][1] and "rename or remove the static account" in found[0][1]


def test_identities_count_as_users_in_the_group_checks_and_the_matrix():
    acl = [{"match": {"labels": {"group": "devs"}}, "actions": ["pull"]}]
    assert directory_findings(acl, {"identities": DIRECTORY["identities"]}, level="warning") == []
    matrix = access_matrix(acl, USERS + DIRECTORY["identities"], True, ["app"])
    assert "alice" in matrix["identities"]


def test_unanchored_regex():
    only([{"match": {"account": "/ci/"}, "actions": ["pull"]}], "acl[0].match.account", "'circleci'", level="warning")


def test_one_level_glob():
    only([{"match": {"name": "team/*"}, "actions": ["pull"]}], "acl[0].match.name", "team/a/b does not", level="warning")


def test_push_without_pull():
    only([{"match": {"account": "admin"}, "actions": ["push"]}], "acl[0].actions", "push without pull", level="warning")


TUTORIAL_PUBLIC = {"match": {"account": "", "name": "publicrepos/*"}, "actions": ["pull"]}


def inversion(acl, users=None, **kwargs):
    return [f for f in check(acl, USERS if users is None else users, True, **kwargs) if f["where"].startswith("acl (")]


def test_logged_in_accounts_that_get_less_than_anonymous_are_an_error_naming_them_and_the_fix():
    found = inversion([TUTORIAL_PUBLIC])
    assert [(f["level"], f["where"]) for f in found] == [("error", "acl (publicrepos/*)")]
    assert found[0]["message"] == (
        "logged-in accounts get less than an anonymous client on publicrepos/*: anonymous may pull; admin may "
        "nothing, firstuser may nothing, seconduser may nothing, any other user may nothing. A client that has "
        "logged in (docker login, a CI job) never falls back to the anonymous rules. Add at the end the entry "
        '{match: {account: "/.+/", name: "publicrepos/*"}, actions: [pull]}, or set anonymous_inversion: '
        "warning to accept it")


def test_inversion_names_only_the_accounts_affected_and_where_the_entry_goes():
    acl = [{"match": {"account": "admin"}, "actions": ["*"]}, TUTORIAL_PUBLIC,
           {"match": {"name": "publicrepos/*", "labels": {"group": "first_user_group"}}, "actions": ["pull", "push"]},
           {"match": {"account": "/^ci-/"}, "actions": [], "comment": "CI accounts get nothing else"}]
    users = USERS + [{"name": "ci-web"}]
    message = inversion(acl, users)[0]["message"]
    assert "; seconduser may nothing, ci-web may nothing, any other user may nothing." in message
    assert "admin may" not in message and "firstuser may" not in message
    assert "Add before acl[3] (CI accounts get nothing else) the entry" in message


def test_the_suggested_entry_removes_the_inversion_and_changes_no_other_right():
    acl = [{"match": {"account": "admin"}, "actions": ["*"]}, TUTORIAL_PUBLIC,
           {"match": {"name": "publicrepos/*", "labels": {"group": "first_user_group"}}, "actions": ["pull", "push"]},
           {"match": {"account": "/^ci-/"}, "actions": []}]
    users = USERS + [{"name": "ci-web"}]
    message = inversion(acl, users)[0]["message"]
    entry = yaml.safe_load(re.search(r"the entry (\{.*\}), or set", message).group(1))
    fixed = acl[:3] + [entry] + acl[3:]
    assert inversion(fixed, users) == []
    before, after = access_matrix(acl, users, True), access_matrix(fixed, users, True)
    for row_before, row_after in zip(before["rows"], after["rows"]):
        for who in ("anonymous", "admin", "firstuser"):
            assert row_before["cells"][who]["actions"] == row_after["cells"][who]["actions"]


def test_inversion_can_be_accepted_as_a_warning():
    found = inversion([TUTORIAL_PUBLIC], anonymous_inversion="warning")
    assert [(f["level"], f["where"]) for f in found] == [("warning", "acl (publicrepos/*)")]


def test_inversion_is_found_for_a_future_user_without_groups():
    acl = [TUTORIAL_PUBLIC,
           {"match": {"name": "publicrepos/*", "labels": {"group": "first_user_group"}}, "actions": ["pull", "push"]}]
    users = [{"name": "firstuser", "groups": ["first_user_group"]}]
    found = inversion(acl, users)
    assert len(found) == 1 and "; any other user may nothing." in found[0]["message"]


def test_no_inversion_when_authenticated_users_are_covered():
    acl = [{"match": {"name": "publicrepos/*"}, "actions": ["pull"]}]
    assert not [f for f in findings(acl) if "anonymous" in f[1]]


def test_clean_acl_has_no_findings():
    acl = [{"match": {"account": "admin"}, "actions": ["*"]},
           {"match": {"account": "/^.+$/", "name": "/^${account}/.+$/"}, "actions": ["*"]}]
    assert findings(acl, anonymous=False) == []


def test_access_matrix_rows_expand_placeholders_per_user():
    acl = [{"match": {"account": "/.+/", "name": "${account}/*"}, "actions": ["*"]}]
    matrix = access_matrix(acl, USERS, True)
    labels = [r["label"] for r in matrix["rows"]]
    assert labels == ["admin/*", "firstuser/*", "seconduser/*", "otheruser/*", "any other repository"]
    assert matrix["identities"] == ["anonymous", "admin", "firstuser", "seconduser", "any other user"]
    assert matrix["rows"][1]["cells"]["firstuser"]["actions"] == ["delete", "pull", "push"]
    assert matrix["rows"][1]["cells"]["seconduser"]["actions"] == []
