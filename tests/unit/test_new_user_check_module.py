"""docker_auth_new_user_check through ansible itself: onboarding's one check, with the messages molecule's users
scenario expects (molecule/users/tasks/bad_inputs.yml)."""

import os

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(REPO, "inventory.example", "group_vars", "registry_servers", "acl.yml"), encoding="utf-8") as _stream:
    EXAMPLE_ACL = yaml.safe_load(_stream)["sovereign_registry_docker_auth_acl"]
USERS = [{"name": "admin", "password": "never-shown-0123"},
         {"name": "firstuser", "password": "never-shown-4567", "groups": ["first_user_group"]}]


@pytest.fixture
def onboarding_files(tmp_path):
    users_file, vault = tmp_path / "users.yml", tmp_path / "vault-pass"
    users_file.write_text("---\nsovereign_registry_docker_auth_users: []\n")
    vault.write_text("vault secret\n")
    return {"users_file": str(users_file), "vault_password_file": str(vault)}


def new_user(onboarding_files, **options):
    return dict(dict(onboarding_files, users=USERS, acl=EXAMPLE_ACL), **options)


@pytest.mark.parametrize("options, message", [
    ({"name": "firstuser"}, "Cannot onboard firstuser: that user exists already. Nothing was changed."),
    ({"name": "Bad:Name"}, "users[2].name: 'Bad:Name' cannot be a docker_auth account here"),
    ({"name": "emptypw", "password": ""}, "user_password for emptypw is empty: set a password"),
    ({"name": "longpw", "password": "p" * 80}, "80 bytes long in UTF-8; bcrypt only uses the first 72 bytes"),
    ({"name": "weakpw", "password": "password1234"}, "user_password for weakpw is guessable"),
    ({"name": "grouped", "groups": ["no_such_group"]}, "Unknown group(s) no_such_group: no user is in them"),
    ({"name": "builder", "kind": "ci"}, "Cannot onboard builder: a CI account is named ci-PROJECT."),
    ({"name": "ci-api", "kind": "ci", "acl": [
        {"match": {"account": "/^ci-(.+)$/", "name": "${account:1}/*"}, "actions": ["pull", "push"]},
        {"match": {"account": "/.+/", "name": "publicrepos/*"}, "actions": ["pull", "push"]}]},
     "The ACL does not confine ci-api to api/*: it may pull,push there, and beyond what anyone may do elsewhere: "
     "publicrepos/*: pull,push;"),
])
def test_bad_new_users_are_refused_with_the_item_and_the_fix(run_module, onboarding_files, options, message):
    proc, result = run_module("docker_auth_new_user_check", new_user(onboarding_files, **options))
    assert proc.returncode != 0 and result["failed"]
    assert message in result["msg"]
    assert "never-shown" not in proc.stdout + proc.stderr


def test_onboarding_needs_the_users_file_and_the_vault_password_file(run_module, onboarding_files):
    options = new_user(onboarding_files, name="alice", vault_password_file="")
    proc, result = run_module("docker_auth_new_user_check", options)
    assert proc.returncode != 0
    assert result["msg"].startswith("Onboarding writes the user, with its password vault-encrypted, into %s"
                                    % onboarding_files["users_file"])


def test_a_ci_account_gets_its_project_and_what_it_may_do(run_module, onboarding_files):
    secret = "w7Kp2XqL9vRt4MzN8bYc3HdJ6fGs1TaE"
    proc, result = run_module("docker_auth_new_user_check",
                              new_user(onboarding_files, name="ci-web", kind="ci", password=secret))
    assert proc.returncode == 0, result.get("msg")
    assert result["changed"] is False and result["project"] == "web"
    assert result["rights"]["web/example"] == ["pull", "push"]
    assert result["rights"]["publicrepos/*"] == ["pull"]
    assert secret not in proc.stdout + proc.stderr


def test_a_person_in_a_known_group_or_a_new_one_on_purpose(run_module, onboarding_files):
    proc, result = run_module("docker_auth_new_user_check", new_user(onboarding_files, name="alice", groups=["first_user_group"]))
    assert proc.returncode == 0, result.get("msg")
    assert result["project"] is None
    assert result["rights"]["alice/*"] == ["delete", "pull", "push"]
    assert result["rights"]["publicrepos/*"] == ["pull", "push"]
    proc, result = run_module("docker_auth_new_user_check",
                              new_user(onboarding_files, name="bob", groups=["platform"], new_groups=True))
    assert proc.returncode == 0, result.get("msg")
