"""The access report: content, HTML, and the committed tutorial example."""

import os

import yaml

from ansible_collections.sovereign.registry.plugins.module_utils import access_report
from ansible_collections.sovereign.registry.plugins.module_utils.docker_auth_acl_check import access_matrix, check

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(REPO, "docs", "examples", "tutorial")


def tutorial():
    data = {}
    for name in ("vars.yml", "users.yml"):
        with open(os.path.join(REPO, "inventory.example", "group_vars", "registry_servers", name)) as f:
            data.update(yaml.safe_load(f))
    users = [{k: v for k, v in u.items() if k != "password"} for u in data["docker_auth_users"]]
    return data["docker_auth_acl"], users


def render(fmt):
    acl, users = tutorial()
    render_fn = access_report.markdown if fmt == "md" else access_report.html_page
    return render_fn(access_matrix(acl, users, True), check(acl, users, True), "Registry access: registry.example.org")


def test_committed_example_is_what_the_code_renders_now():
    for fmt in ("md", "html"):
        with open(os.path.join(EXAMPLE, "access-report.%s" % fmt), encoding="utf-8") as f:
            assert f.read() == render(fmt), "regenerate with: ansible-playbook -i inventory.example playbooks/access_report.yml -e access_report_dir=$PWD/docs/examples/tutorial"


def test_tutorial_report_shows_the_anonymous_inversion():
    md = render("md")
    assert "| `publicrepos/*` | `publicrepos/example` | pull<br>acl[0] |" in md
    assert "⚠ —<br>no entry" in md
    assert "any other user gets less than an anonymous client" in md


def test_html_is_self_contained_and_escaped():
    page = render("html")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "${labels:group}-shared/*" in page
    assert 'class="flag"' in page
