"""Run the bcrypt_hash module through ansible itself: arguments, no_log, idempotence."""


def test_new_hash_then_unchanged(run_module):
    proc, first = run_module("bcrypt_hash", {"password": "correct horse battery", "cost": 4})
    assert proc.returncode == 0 and first["changed"] is True
    assert first["hash"].startswith("$2y$04$")
    proc, second = run_module("bcrypt_hash", {"password": "correct horse battery", "current_hash": first["hash"], "cost": 4})
    assert proc.returncode == 0 and second["changed"] is False
    assert second["hash"] == first["hash"]
    assert "correct horse battery" not in proc.stdout + proc.stderr


def test_over_long_password_fails_with_message_and_no_secret(run_module):
    secret = "x" * 80
    proc, result = run_module("bcrypt_hash", {"password": secret})
    assert proc.returncode != 0
    assert result["failed"] is True
    assert "80 bytes" in result["msg"] and "at most 72" in result["msg"]
    assert secret not in proc.stdout + proc.stderr
