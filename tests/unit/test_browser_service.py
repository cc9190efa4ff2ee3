"""The repository browser's service: its batches of scopes and its reading of the viewer (no network here)."""

import base64
import importlib.util
import os

import pytest

PATH = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "browser", "files", "sovereign-registry-browser.py")
SPEC = importlib.util.spec_from_file_location("browser_service", PATH)
service = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(service)


def test_batches_keep_every_name_in_order_and_each_token_one_line_of_the_log():
    names = ["bench/browse-%04d" % number for number in range(1000)] + ["x" * 255]
    groups = service.batches(names)
    assert [name for group in groups for name in group] == names
    for group in groups:
        # What docker_auth's log line of the token takes: each name twice, asked and granted, and their JSON.
        assert sum(2 * len(name) + service.SCOPE_LINE_BYTES for name in group) <= service.BATCH_LINE_BYTES
    # Not one per name: 113 names of 17 characters each, so 1,000 names cost 9 password checks.
    assert len(groups) == 9


def test_no_names_is_one_empty_batch_the_viewer_still_is_checked_with():
    assert service.batches([]) == [[]]


def test_the_viewer_is_anonymous_or_named_by_basic_authorization():
    assert service.Viewer(None, "10.0.0.5").name is None
    basic = "Basic " + base64.b64encode(b"firstuser:pass:word").decode()
    assert service.Viewer(basic, "10.0.0.5").name == "firstuser"
    with pytest.raises(service.Refused) as refused:
        service.Viewer("Basic not-base64!", "10.0.0.5")
    assert refused.value.status == 400


@pytest.mark.parametrize("name, valid", [
    ("publicrepos/app", True), ("first_user_group-shared/tool", True), ("a/b.c/d__e", True),
    ("Upper/case", False), ("double//slash", False), ("-start", False), ("end-", False), ("", False)])
def test_repository_names_outside_the_registry_grammar_cannot_exist(name, valid):
    assert bool(service.REPOSITORY_NAME.match(name)) is valid
