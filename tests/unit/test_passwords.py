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
    assert hb.ensure_hash("correct horse battery", current, cost=12) == (current, False)


def test_current_hash_of_another_password_is_replaced():
    current = hb.hash_password("old password 1234", FAST)
    new, changed = hb.ensure_hash("new password 5678", current, FAST)
    assert changed
    assert new != current
    assert hb.verify_password("new password 5678", new)


@pytest.mark.parametrize("current", [None, "", "not-a-hash", "$1$abc$def"])
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
