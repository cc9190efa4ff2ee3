import pytest

from ansible_collections.sovereign.registry.plugins.module_utils import _passwords as hb

# bcrypt cost 4 keeps the tests fast; the default is checked separately.
FAST = 4


def test_hash_is_htpasswd_style_and_verifies():
    hashed = hb.hash_password("correct horse battery", FAST)
    assert hashed.startswith("$2y$04$")
    assert len(hashed) == 60
    assert hb.verify_password("correct horse battery", hashed)
    assert not hb.verify_password("correct horse batterY", hashed)


def test_default_cost_is_ten():
    assert hb.DEFAULT_COST == 10
    assert hb.hash_password("correct horse battery").startswith("$2y$10$")


def test_current_hash_that_verifies_is_kept():
    current = hb.hash_password("correct horse battery", FAST)
    assert hb.ensure_hash("correct horse battery", current, cost=FAST) == (current, False)


def test_current_hash_of_another_cost_is_made_again_with_the_wanted_one():
    current = hb.hash_password("correct horse battery", 5)
    new, changed = hb.ensure_hash("correct horse battery", current, cost=FAST)
    assert changed and new.startswith("$2y$04$") and hb.verify_password("correct horse battery", new)


@pytest.mark.parametrize("hashed, cost", [("$2y$10$" + "a" * 53, 10), ("$2b$04$" + "a" * 53, 4), ("plain", None), (None, None)])
def test_hash_cost_reads_the_cost_field(hashed, cost):
    assert hb.hash_cost(hashed) == cost


@pytest.mark.parametrize("ci_account, password, own, expected", [
    (False, "x" * 40, None, 10),             # a person: the human cost, whatever the length
    (True, "x" * 32, None, 4),               # a CI account with a generated secret
    (True, "x" * 31, None, 10),              # a CI account with a password someone chose
    (True, "x" * 40, 6, 6),                  # the account's own cost wins
    (False, "x" * 12, 12, 12),
])
def test_cost_for_fits_the_secret(ci_account, password, own, expected):
    assert hb.cost_for(ci_account, password, human_cost=10, ci_cost=4, own_cost=own) == expected


def test_ensure_hashes_keeps_matching_hashes_and_makes_the_others_in_order():
    kept = hb.hash_password("correct horse battery", FAST)
    items = [
        {"name": "a", "password": "correct horse battery", "current_hash": kept, "cost": FAST},
        {"name": "b", "password": "another password 1", "current_hash": kept, "cost": FAST},
        {"name": "c", "password": "a third password 2", "cost": 5},
    ]
    results = hb.ensure_hashes(items, min_length=12, workers=2)
    assert [r["changed"] for r in results] == [False, True, True]
    assert results[0]["hash"] == kept
    assert hb.verify_password("another password 1", results[1]["hash"])
    assert results[2]["hash"].startswith("$2y$05$")


def test_ensure_hashes_checks_every_rule_before_hashing_and_names_the_item():
    items = [{"name": "users[0] (a) password", "password": "long enough pw", "cost": FAST},
             {"name": "users[1] (b) password", "password": "short", "cost": FAST}]
    with pytest.raises(hb.PasswordError, match=r"users\[1\] \(b\) password has 5 characters"):
        hb.ensure_hashes(items, min_length=12)
    with pytest.raises(ValueError, match=r"users\[0\] \(a\) password: bcrypt cost must be"):
        hb.ensure_hashes([dict(items[0], cost=40)], min_length=12)


def test_current_hash_of_another_password_is_replaced():
    current = hb.hash_password("old password 1234", FAST)
    new, changed = hb.ensure_hash("new password 5678", current, FAST)
    assert changed
    assert new != current
    assert hb.verify_password("new password 5678", new)


@pytest.mark.parametrize("current", [None, "", "not-a-hash", "$1$abc$def", "$2y$04$abc"])
def test_missing_or_foreign_current_hash_gives_new_hash(current):
    new, changed = hb.ensure_hash("correct horse battery", current, FAST)
    assert changed and hb.verify_password("correct horse battery", new)


def test_htpasswd_2b_and_2a_hashes_are_accepted_as_current():
    import bcrypt

    for prefix in (b"2a", b"2b"):
        current = bcrypt.hashpw(b"correct horse battery", bcrypt.gensalt(4, prefix=prefix)).decode()
        assert hb.ensure_hash("correct horse battery", current, FAST) == (current, False)


def test_empty_password_is_refused():
    with pytest.raises(hb.PasswordError, match="empty"):
        hb.hash_password("", FAST)


def test_password_over_72_bytes_is_refused_with_its_size():
    with pytest.raises(hb.PasswordError, match="73 bytes.*at most 72"):
        hb.hash_password("a" * 73, FAST)


def test_72_bytes_is_accepted():
    assert hb.verify_password("a" * 72, hb.hash_password("a" * 72, FAST))


def test_length_counts_utf8_bytes_not_characters():
    # 25 characters, 75 bytes: bcrypt would silently drop the last three bytes.
    with pytest.raises(hb.PasswordError, match="75 bytes"):
        hb.hash_password("€" * 25, FAST)


@pytest.mark.parametrize("cost", [3, 32, "10", True, 10.5])
def test_bad_cost_is_refused(cost):
    with pytest.raises(ValueError, match="cost"):
        hb.hash_password("correct horse battery", cost)


# ---- how guessable a password is ---------------------------------------------------------------------------------

def _published_in(path):
    """The quoted values of the vault file an example inventory ships."""
    import os
    import re
    with open(os.path.join(os.path.dirname(__file__), "..", "..", path), encoding="utf-8") as handle:
        return re.findall(r'^\w+: "([^"]+)"', handle.read(), re.M)


def test_every_example_password_the_collection_publishes_is_refused():
    published = _published_in("inventory.example/group_vars/registry_servers/vault.yml")
    assert published and set(published) <= hb.PUBLISHED_EXAMPLES
    for password in published:
        with pytest.raises(hb.PasswordError, match=r"users\[0\] \(admin\) password is an example published with this "
                                                   r"collection .*openssl rand -base64 24"):
            hb.check_strength(password, "users[0] (admin) password", "admin", 0)


@pytest.mark.parametrize("account, password", [
    ("alice", "password1234"),       # a very common password
    ("alice", "qwertyuiop12"),       # a keyboard row
    ("bob", "aaaaaaaaaaaaaa"),       # a repeat
    ("firstuser", "firstuser123"),   # the account's own name
    ("admin", "registry2024!"),      # the registry's own word and a year
])
def test_a_guessable_password_is_refused_naming_the_account_and_how_to_make_a_good_one(account, password):
    with pytest.raises(hb.PasswordError, match=r"^users\[1\] \(%s\) password is guessable \(zxcvbn: .*score [0-2] of 4, "
                                               r"at least 3 wanted\); make one with openssl rand -base64 24" % account):
        hb.check_strength(password, "users[1] (%s) password" % account, account)


@pytest.mark.parametrize("password", ["Kq7-vesper-Lumen-88", "cobalt ferry whisper lantern orbit"])
def test_a_strong_password_passes(password):
    hb.check_strength(password, "password", "alice")


def test_a_generated_ci_secret_passes():
    import secrets
    import string
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _character in range(hb.CI_SECRET_MIN_LENGTH))
    hb.check_strength(secret, "password", "ci-web")


def test_strength_zero_keeps_only_the_published_examples_out():
    hb.check_strength("password1234", "password", "alice", 0)


def test_ensure_hashes_checks_strength_of_every_item_before_hashing_any():
    items = [{"name": "users[0] (a) password", "account": "a", "password": "Kq7-vesper-Lumen-88", "cost": FAST},
             {"name": "users[1] (b) password", "account": "b", "password": "password1234", "cost": FAST}]
    with pytest.raises(hb.PasswordError, match=r"users\[1\] \(b\) password is guessable"):
        hb.ensure_hashes(items, min_length=12, min_strength=3)
    assert hb.ensure_hashes(items[:1], min_length=12, min_strength=3)[0]["changed"]
