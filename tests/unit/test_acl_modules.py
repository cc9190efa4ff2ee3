"""sovereign_registry_docker_auth_acl and docker_auth_access through ansible itself."""

TUTORIAL_USERS = [{"name": "admin", "password": "never-shown-0123"},
                  {"name": "firstuser", "password": "never-shown-4567", "groups": ["first_user_group"]}]
ACL = [
    {"match": {"account": "", "name": "publicrepos/*"}, "actions": ["pull"], "comment": "public"},
    {"match": {"name": "publicrepos/*", "labels": {"group": "first_user_group"}}, "actions": ["pull", "push"],
     "comment": "group push"},
]


def test_acl_module_fails_on_require_account_and_names_the_fix(run_module):
    acl = ACL + [{"match": {"account": "admin"}, "actions": ["*"], "require_account": True}]
    proc, result = run_module("docker_auth_acl", {"users": TUTORIAL_USERS, "acl": acl})
    assert proc.returncode != 0 and result["failed"]
    assert result["errors"][0]["where"] == "acl[2].require_account"
    assert 'account: "/.+/"' in result["msg"]
    assert "never-shown" not in proc.stdout + proc.stderr


def test_acl_module_refuses_public_repositories_that_logged_in_users_cannot_pull(run_module):
    proc, result = run_module("docker_auth_acl", {"users": TUTORIAL_USERS, "acl": ACL})
    assert proc.returncode != 0 and result["failed"]
    assert [e["where"] for e in result["errors"]] == ["acl (publicrepos/*)"]
    assert "admin may nothing, any other user may nothing" in result["msg"]


def test_acl_module_passes_with_warnings(run_module):
    proc, result = run_module("docker_auth_acl", {"users": TUTORIAL_USERS, "acl": ACL, "anonymous_inversion": "warning"})
    assert proc.returncode == 0 and result["changed"] is False
    assert result["errors"] == []
    assert any("less than an anonymous client" in w["message"] for w in result["warnings_found"])


def test_acl_module_can_fail_on_warnings(run_module):
    proc, result = run_module("docker_auth_acl", {"users": TUTORIAL_USERS, "acl": ACL, "anonymous_inversion": "warning",
                                                  "fail_on_warnings": True})
    assert proc.returncode != 0 and "warning(s)" in result["msg"]


def test_access_module_answers_with_the_deciding_entry(run_module):
    proc, result = run_module("docker_auth_access", {"users": TUTORIAL_USERS, "acl": ACL, "requests": [
        {"account": "firstuser", "name": "publicrepos/tool", "actions": ["pull", "push"]},
        {"account": "", "name": "publicrepos/tool", "actions": ["pull", "push"]},
        {"account": "admin", "name": "publicrepos/tool", "actions": ["pull"]},
    ]})
    assert proc.returncode == 0
    answers = [(r["granted"], r["entry_index"], r["entry_comment"]) for r in result["results"]]
    assert answers == [(["pull", "push"], 1, "group push"), (["pull"], 0, "public"), ([], None, None)]
    assert "never-shown" not in proc.stdout


def test_access_module_renders_the_report(run_module):
    proc, result = run_module("docker_auth_access", {"users": TUTORIAL_USERS, "acl": ACL, "report": "markdown"})
    assert proc.returncode == 0
    assert "| `publicrepos/*` | `publicrepos/example` | pull<br>acl[0] |" in result["report"]
