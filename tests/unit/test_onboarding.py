"""Onboarding's checks (_docker_auth.onboarding): each refusal names the item and the fix."""

import os

import pytest
import yaml

from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.access import access_matrix
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.acl import failure_message
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.onboarding import (
    OnboardingError,
    check_ci_confinement,
    check_files,
    check_groups,
    check_name,
    ci_acl_entries,
    ci_sample_repository,
    known_groups,
)
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.authz import authorize

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE_ACL = os.path.join(REPO, "inventory.example", "group_vars", "registry_servers", "acl.yml")
USERS = [{"name": "admin"}, {"name": "firstuser", "groups": ["first_user_group"]}]
ACL = [{"match": {"account": "admin"}, "actions": ["*"]},
       {"match": {"name": "publicrepos/*", "labels": {"group": "first_user_group"}}, "actions": ["pull", "push"]},
       {"match": {"name": "publicrepos/*", "labels": {"group": "release"}}, "actions": ["pull"]},
       {"match": {"name": "publicrepos/*"}, "actions": ["pull"]}]


def refusal(check, *args):
    with pytest.raises(OnboardingError) as raised:
        check(*args)
    return str(raised.value)


@pytest.mark.parametrize("name, kind, message", [
    ("", "human", "Cannot onboard (no user given): give -e user=NAME. Nothing was changed."),
    ("firstuser", "human", "Cannot onboard firstuser: that user exists already. Nothing was changed."),
    ("builder", "ci", "Cannot onboard builder: a CI account is named ci-PROJECT. Nothing was changed."),
    ("ci-", "ci", "Cannot onboard ci-: a CI account is named ci-PROJECT. Nothing was changed."),
])
def test_names_onboarding_refuses(name, kind, message):
    assert refusal(check_name, name, kind, USERS) == message


@pytest.mark.parametrize("name, kind", [("alice", "human"), ("ci-web", "ci"), ("ci-web", "human")])
def test_names_onboarding_takes(name, kind):
    check_name(name, kind, USERS)


def test_known_groups_are_the_users_and_those_the_acl_names_each_once():
    users = USERS + [{"name": "bob", "groups": ["first_user_group", "ops"]}, {"name": "carol", "groups": None}]
    assert known_groups(users, ACL + ["not an entry", {"match": None}]) == ["first_user_group", "ops", "release"]


def test_an_unknown_group_is_refused_with_the_known_ones_and_how_to_start_one():
    message = refusal(check_groups, ["release", "no_such_group", "no_such_group"], USERS, ACL, False)
    assert message == (
        "Unknown group(s) no_such_group: no user is in them and no ACL entry names them (known: first_user_group, "
        "release). Check the spelling; to start a new group on purpose, set sovereign_registry_docker_auth_user_new_groups "
        "(-e user_new_groups=true).")
    assert "(known: none)" in refusal(check_groups, ["x"], [], [], False)


def test_a_new_group_on_purpose_and_known_groups_pass():
    check_groups(["no_such_group"], USERS, ACL, True)
    check_groups(["first_user_group", "release"], USERS, ACL, False)


def test_the_files_onboarding_writes_must_exist(tmp_path):
    users_file, vault = tmp_path / "users.yml", tmp_path / "vault-pass"
    users_file.write_text("---\n")
    for missing in ((str(users_file), ""), (str(users_file), str(tmp_path / "none")), (str(tmp_path / "none"), str(users_file))):
        message = refusal(check_files, *missing)
        assert message.startswith("Onboarding writes the user, with its password vault-encrypted, into %s" % missing[0])
        assert message.endswith("(the file you give --vault-password-file). Nothing was changed.")
    vault.write_text("secret\n")
    check_files(str(users_file), str(vault))


def ci_matrix(acl, name="ci-api"):
    return access_matrix(acl, USERS + [{"name": name}], True, [ci_sample_repository(name[len("ci-"):])])


def test_ci_acl_entries_confine_a_ci_account_to_its_project():
    acl = [ACL[0]] + ci_acl_entries() + ACL[1:] + [{"match": {"account": "/.+/", "name": "${account}/*"}, "actions": ["*"]}]
    check_ci_confinement("ci-api", "api", ci_matrix(acl))
    grant = authorize(acl, {"account": "ci-api", "labels": {}, "type": "repository", "name": "api/app/x",
                            "service": "", "actions": ["pull", "push"]})
    assert grant == ([], 2)  # one level only, as the name glob says: the catch-all CI entry decides


def test_a_ci_account_the_acl_lets_push_elsewhere_is_refused_with_the_entries_to_add():
    acl = [{"match": {"account": "/^ci-(.+)$/", "name": "${account:1}/*"}, "actions": ["pull", "push"]},
           {"match": {"account": "/.+/", "name": "publicrepos/*"}, "actions": ["pull", "push"]}]
    assert refusal(check_ci_confinement, "ci-api", "api", ci_matrix(acl)) == (
        "The ACL does not confine ci-api to api/*: it may pull,push there, and beyond what anyone may do elsewhere: "
        "publicrepos/*: pull,push; Put these entries before the entries for logged-in users: "
        '{match: {account: "/^ci-(.+)$/", name: "${account:1}/*"}, actions: [pull, push]} and '
        '{match: {account: "/^ci-/"}, actions: []}. Nothing was changed.')


def test_a_ci_account_that_cannot_push_its_project_is_refused():
    message = refusal(check_ci_confinement, "ci-api", "api", ci_matrix(ACL))
    assert message.startswith("The ACL does not confine ci-api to api/*: it may nothing there. Put these entries")


def test_the_example_acl_confines_ci_accounts_with_the_entries_onboarding_proposes():
    with open(EXAMPLE_ACL, encoding="utf-8") as stream:
        acl = yaml.safe_load(stream)["sovereign_registry_docker_auth_acl"]
    ci_entries = [{"match": entry["match"], "actions": entry["actions"]} for entry in acl
                  if "ci-" in str(entry["match"].get("account", ""))]
    assert ci_entries == ci_acl_entries()
    check_ci_confinement("ci-web", "web", ci_matrix(acl, "ci-web"))


def test_failure_message_lists_the_errors_or_else_the_warnings():
    error = {"level": "error", "where": "users[2].name", "message": "'Bad:Name' cannot be a docker_auth account here"}
    warning = {"level": "warning", "where": "acl[1]", "message": "can never match"}
    assert failure_message([error], [warning]) == (
        "docker_auth users/ACL: 1 error(s), 1 warning(s): users[2].name: 'Bad:Name' cannot be a docker_auth account here")
    assert failure_message([], [warning, warning]) == (
        "docker_auth users/ACL: 0 error(s), 2 warning(s): acl[1]: can never match; acl[1]: can never match")
