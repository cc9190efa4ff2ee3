"""directory_labels (tests/differential): docker_auth 1.14.0's labels from a directory entry (getLabelsFromMap,
getCNFromDN, go-ldap ParseDN).

The expected values were checked against go-ldap v3.0.3's ParseDN (the version docker_auth 1.14.0 is built with);
tests/differential compares the whole path with the real docker_auth.
"""

import pytest

from ansible_collections.sovereign.registry.tests.differential.directory_labels import (
    DirectoryLabelError,
    DnSyntaxError,
    cn_from_dn,
    directory_labels,
    go_lower,
    parse_dn,
)

GROUP = {"group": {"attribute": "memberOf", "parse_cn": True}}


def test_parse_cn_keeps_the_cn_of_a_dn():
    entry = {"memberOf": ["cn=Dev,ou=groups,dc=example,dc=org", "CN=Ops,OU=Groups,DC=corp"]}
    assert directory_labels(entry, GROUP) == {"group": ["Dev", "Ops"]}


def test_without_parse_cn_the_value_is_kept_whole():
    entry = {"memberOf": ["cn=Dev,ou=groups,dc=example,dc=org"]}
    assert directory_labels(entry, {"group": {"attribute": "memberOf"}}) == \
        {"group": ["cn=Dev,ou=groups,dc=example,dc=org"]}


def test_parse_cn_keeps_a_dn_without_cn_and_an_empty_value_whole():
    entry = {"memberOf": ["ou=qa,dc=example,dc=org", "", "x="]}
    assert directory_labels(entry, GROUP) == {"group": ["ou=qa,dc=example,dc=org", "", "x="]}


def test_parse_cn_on_a_value_that_is_not_a_dn_fails_the_login():
    # getCNFromDN dereferences the nil DN that ParseDN returns with its error: docker_auth's handler panics.
    with pytest.raises(DirectoryLabelError, match="'Engineering' is not a DN"):
        directory_labels({"ou": ["Engineering"]}, {"team": {"attribute": "ou", "parse_cn": True}})
    assert directory_labels({"ou": ["Engineering"]}, {"team": {"attribute": "ou"}}) == {"team": ["Engineering"]}


def test_lower_case_after_parse_cn():
    entry = {"memberOf": ["CN=Ops,OU=Groups,DC=corp"], "ou": ["Web"]}
    maps = {"group": {"attribute": "memberOf", "parse_cn": True, "lower_case": True},
            "team": {"attribute": "ou", "lower_case": True}}
    assert directory_labels(entry, maps) == {"group": ["ops"], "team": ["web"]}
    assert directory_labels(entry, {"group": {"attribute": "memberOf", "lower_case": True}}) == \
        {"group": ["cn=ops,ou=groups,dc=corp"]}


def test_lower_case_is_gos():
    assert go_lower("DEV-Ops_1.X") == "dev-ops_1.x"
    assert go_lower("\u0130STANBUL") == "istanbul"  # Python's lower() gives "i\u0307stanbul"
    assert go_lower("\u039f\u03a3") == "\u03bf\u03c3"  # no final sigma
    assert go_lower("A\udcffB") == "a\ufffdb"  # a byte that is not UTF-8


def test_absent_attribute_gives_a_label_without_values():
    # go-ldap's GetAttributeValues returns an empty, non-nil list; getLabelsFromMap keeps the label.
    assert directory_labels({"memberOf": ["cn=dev,dc=x"]}, {"team": {"attribute": "ou"}}) == {"team": []}
    # An attribute the server returns without values is a nil list: no label.
    assert directory_labels({"ou": []}, {"team": {"attribute": "ou"}}) == {}


def test_attribute_names_are_compared_exactly():
    entry = {"memberOf": ["cn=dev,dc=x"]}
    assert directory_labels(entry, {"group": {"attribute": "memberof", "parse_cn": True}}) == {"group": []}


def test_first_cn_wins_even_when_the_first_rdn_is_not_a_cn():
    assert directory_labels({"memberOf": ["uid=x,cn=y,ou=groups,dc=example,dc=org"]}, GROUP) == {"group": ["y"]}
    assert cn_from_dn("ou=a+cn=b,cn=c") == "b"  # multi-valued RDN, in its order
    assert cn_from_dn("cN=mixed,dc=x") == "mixed"


def test_escapes_in_a_cn():
    assert directory_labels({"memberOf": ["cn=R\\, D,ou=groups,dc=example,dc=org"]}, GROUP) == {"group": ["R, D"]}
    assert cn_from_dn("cn=a\\+b\\\"c\\\\d,dc=x") == "a+b\"c\\d"
    assert cn_from_dn("cn=\\44ev\\2c\\20x,dc=x") == "Dev, x"
    assert cn_from_dn("cn=caf\\c3\\a9,dc=x") == "caf\u00e9"
    assert cn_from_dn("cn=#04036f7073,ou=g") == "ops"  # a BER value: its content


def test_spaces_around_separators_are_gos():
    assert parse_dn(" cn = dev , ou = groups ") == [[("cn", "dev")], [("ou", "groups")]]
    assert parse_dn("cn=x\\ ,ou=y") == [[("cn", "x ")], [("ou", "y")]]
    assert parse_dn("cn=a=b") == [[("a", "b")]]  # a second '=' starts the type again
    assert parse_dn("cn=x,ou=") == [[("cn", "x")]]  # an empty last value drops its RDN


@pytest.mark.parametrize("text", ["Dev", "a,b", "=x", "cn=x,=y", "cn=\\zz", "cn=\\4", "cn=#0401", "cn=#zz", "cn=#"])
def test_go_ldap_refuses(text):
    with pytest.raises(DnSyntaxError):
        parse_dn(text)


def test_labels_from_one_attribute_share_their_values():
    # getLabelsFromMap changes the attribute's value list in place: lower_case on one label lower-cases the other.
    entry = {"memberOf": ["CN=Ops,OU=Groups,DC=corp"]}
    maps = {"group": {"attribute": "memberOf", "parse_cn": True},
            "groups_lower": {"attribute": "memberOf", "lower_case": True}}
    assert directory_labels(entry, maps) == {"group": ["ops"], "groups_lower": ["ops"]}
    assert entry == {"memberOf": ["CN=Ops,OU=Groups,DC=corp"]}


def test_a_label_without_attribute_fails_every_login():
    with pytest.raises(DirectoryLabelError, match="missing 'attribute'"):
        directory_labels({"ou": ["x"]}, {"team": {"attribute": "ou"}, "group": {"parse_cn": True}})
