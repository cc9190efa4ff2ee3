"""Property-based tests of the matcher (hypothesis)."""

import re

from hypothesis import given, settings, strategies as st

from ansible_collections.sovereign.registry.plugins.module_utils._go import path_match as go_path_match, quote_meta as go_quote_meta, re2_compile
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.authz import authorize, match_string

NAME = st.text(alphabet="abc/._-", max_size=12)
GLOB = st.text(alphabet="abc/*?", max_size=10)
ACTIONS = st.lists(st.sampled_from(["pull", "push", "delete", "*"]), max_size=4)
PATTERN = st.one_of(st.none(), GLOB, NAME.map(lambda s: "/%s/" % go_quote_meta(s) if s else None))
ENTRY = st.fixed_dictionaries({
    "match": st.fixed_dictionaries({}, optional={"account": PATTERN, "name": PATTERN}),
    "actions": ACTIONS,
})
REQUEST = st.fixed_dictionaries({
    "account": st.sampled_from(["", "alice", "bob"]),
    "name": NAME,
    "actions": st.lists(st.sampled_from(["pull", "push", "delete"]), min_size=1, max_size=3),
})


def oracle(pattern, name):
    """path.Match for patterns of letters, '/', '*', '?', via an anchored regex."""
    expression = "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(expression, name, re.S) is not None


@settings(max_examples=500)
@given(GLOB, NAME)
def test_glob_agrees_with_regex_oracle(pattern, name):
    assert go_path_match(pattern, name) == oracle(pattern, name)


@given(NAME)
def test_star_never_crosses_a_slash(name):
    assert go_path_match("*", name) == ("/" not in name)


@given(NAME, NAME)
def test_literal_glob_matches_only_itself(pattern, name):
    assert go_path_match(pattern, name) == (pattern == name)
    assert go_path_match(pattern, pattern)


@given(st.text(max_size=20))
def test_quote_meta_makes_any_text_literal_for_re2(text):
    assert re2_compile("^%s$" % go_quote_meta(text)).search(text) is not None


@given(NAME, NAME)
def test_unanchored_regex_is_a_substring_search(needle, haystack):
    if needle:
        assert match_string("/%s/" % go_quote_meta(needle), haystack, []) == (needle in haystack)


@settings(max_examples=300)
@given(st.lists(ENTRY, max_size=5), REQUEST)
def test_grant_is_sorted_subset_of_request(acl, request):
    granted, index = authorize(acl, request)
    assert granted == sorted(granted)
    assert set(granted) <= set(request["actions"])
    assert (index is None) == (granted == [] and all(not _matches(e, request) for e in acl))


def _matches(entry, request):
    return authorize([entry], request)[1] == 0


@settings(max_examples=300)
@given(st.lists(ENTRY, max_size=5), REQUEST, st.lists(ENTRY, max_size=3))
def test_first_match_wins_whatever_follows(acl, request, tail):
    granted, index = authorize(acl, request)
    if index is not None:
        assert authorize(acl + tail, request) == (granted, index)


@given(st.lists(ENTRY, max_size=5), REQUEST)
def test_universal_entry_in_front_grants_the_request(acl, request):
    granted, index = authorize([{"match": {}, "actions": ["*"]}] + acl, request)
    assert (granted, index) == (sorted(request["actions"]), 0)
