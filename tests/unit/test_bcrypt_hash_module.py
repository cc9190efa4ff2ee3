"""Run the bcrypt_hash module through ansible itself: arguments, no_log, idempotence."""


def test_new_hash_then_unchanged(run_module):
    proc, first = run_module("bcrypt_hash", {"password": "correct horse battery", "cost": 4})
    assert proc.returncode == 0 and first["changed"] is True
    assert first["hash"].startswith("$2y$04$")
    proc, second = run_module("bcrypt_hash", {"password": "correct horse battery", "current_hash": first["hash"], "cost": 4})
    assert proc.returncode == 0 and second["changed"] is False, second.get("msg")
    assert second["hash"] == first["hash"]
    assert "correct horse battery" not in proc.stdout + proc.stderr


def test_over_long_password_fails_with_message_and_no_secret(run_module):
    secret = "x" * 80
    proc, result = run_module("bcrypt_hash", {"password": secret})
    assert proc.returncode != 0
    assert result["failed"] is True
    assert "80 bytes" in result["msg"] and "at most 72" in result["msg"]
    assert secret not in proc.stdout + proc.stderr


def test_users_in_one_call_each_with_the_cost_its_secret_needs(run_module):
    ci_secret = "C1" * 16
    users = [{"name": "alice", "password": "alice password 1", "groups": ["g"]},
             {"name": "ci-web", "password": ci_secret},
             {"name": "bob", "password": "bob password 12", "bcrypt_cost": 5}]
    args = {"users": users, "name": "users", "cost": 6, "ci_cost": 4, "min_length": 12}
    proc, first = run_module("bcrypt_hash", args)
    assert proc.returncode == 0 and first["changed"] is True, first.get("msg")
    assert [h["cost"] for h in first["hashes"]] == [6, 4, 5]
    assert [h["hash"][:7] for h in first["hashes"]] == ["$2y$06$", "$2y$04$", "$2y$05$"]
    deployed = {u["name"]: {"password": h["hash"]} for u, h in zip(users, first["hashes"])}
    proc, second = run_module("bcrypt_hash", dict(args, deployed_users=deployed))
    assert proc.returncode == 0 and second["changed"] is False, second.get("msg")
    assert second["hashes"] == [dict(h, changed=False) for h in first["hashes"]]
    for secret in ("alice password 1", ci_secret, "bob password 12"):
        assert secret not in proc.stdout + proc.stderr


def test_users_with_a_broken_rule_names_the_user_and_shows_no_secret(run_module):
    users = [{"name": "alice", "password": "alice password 1"}, {"name": "bob", "password": "short"}]
    proc, result = run_module("bcrypt_hash", {"users": users, "name": "users", "min_length": 12, "cost": 4})
    assert proc.returncode != 0
    assert "users[1] (bob) password has 5 characters" in result["msg"]
    assert "alice password 1" not in proc.stdout + proc.stderr


def test_only_an_account_of_the_ci_convention_gets_the_ci_cost(run_module):
    ci_secret = "C1" * 16
    users = [{"name": "ci-web", "password": ci_secret}, {"name": "circleci", "password": ci_secret}]
    proc, result = run_module("bcrypt_hash", {"users": users, "name": "users", "cost": 5, "ci_cost": 4})
    assert proc.returncode == 0, result.get("msg")
    assert [h["cost"] for h in result["hashes"]] == [4, 5]
