"""The access report: content, HTML, and the committed tutorial example."""

import os

import yaml

from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth import report as access_report
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.access import access_matrix
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.acl import check

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(REPO, "docs", "examples", "tutorial")


def tutorial():
    data = {}
    for name in ("acl.yml", "users.yml"):
        with open(os.path.join(REPO, "inventory.example", "group_vars", "registry_servers", name)) as f:
            data.update(yaml.safe_load(f))
    users = [{k: v for k, v in u.items() if k != "password"} for u in data["sovereign_registry_docker_auth_users"]]
    return data["sovereign_registry_docker_auth_acl"], users


def render(fmt):
    acl, users = tutorial()
    render_fn = access_report.markdown if fmt == "md" else access_report.html_page
    return render_fn(access_matrix(acl, users, True), check(acl, users, True), "Registry access: registry.example.org")


def test_committed_example_is_what_the_code_renders_now():
    for fmt in ("md", "html"):
        with open(os.path.join(EXAMPLE, "access-report.%s" % fmt), encoding="utf-8") as f:
            assert f.read() == render(fmt), ("regenerate with: ansible-playbook -i inventory.example "
                                             "playbooks/access_report.yml -e access_report_dir=$PWD/docs/examples/tutorial")


def test_example_report_lets_every_account_pull_public_repositories():
    md = render("md")
    assert "| `publicrepos/*` | `publicrepos/example` | pull<br>acl[2] | delete, pull, push<br>acl[0] | pull, push<br>acl[1] | pull<br>acl[2] |" in md
    assert "⚠" not in md.split("|", 1)[1]
    assert "less than an anonymous client on" not in md


# The tutorial's own ACL, which the collection refuses by default.
TUTORIAL_ACL = [
    {"match": {"account": "", "name": "publicrepos/*"}, "actions": ["pull"]},
    {"match": {"name": "publicrepos/*", "labels": {"group": "first_user_group"}}, "actions": ["pull", "push"]},
    {"match": {"account": "admin"}, "actions": ["*"]},
]
TUTORIAL_USERS = [{"name": "admin"}, {"name": "firstuser", "groups": ["first_user_group"]}]


def test_report_marks_the_tutorials_inversion():
    md = access_report.markdown(access_matrix(TUTORIAL_ACL, TUTORIAL_USERS, True), check(TUTORIAL_ACL, TUTORIAL_USERS, True))
    assert "| `publicrepos/*` | `publicrepos/example` | pull<br>acl[0] | delete, pull, push<br>acl[2] | pull, push<br>acl[1] | ⚠ —<br>no entry |" in md
    assert "- **error** `acl (publicrepos/*)`: logged-in accounts get less than an anonymous client" in md


def test_html_is_self_contained_and_escaped():
    acl = TUTORIAL_ACL + [{"match": {"account": "admin", "name": "<b>x</b>"}, "actions": ["pull"], "comment": "<script>"}]
    page = access_report.html_page(access_matrix(acl, TUTORIAL_USERS, True), check(acl, TUTORIAL_USERS, True))
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "<b>x</b>" not in page and "http://" not in page and "https://" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page
    assert 'class="flag"' in page
