"""Run the bcrypt_hash module through ansible itself: arguments, no_log, idempotence."""

import json
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_module(args):
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    proc = subprocess.run(
        ["ansible", "localhost", "-m", "sovereign.registry.bcrypt_hash", "-a", json.dumps(args)],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return proc, result


def test_new_hash_then_unchanged():
    proc, first = run_module({"password": "correct horse battery", "cost": 4})
    assert proc.returncode == 0 and first["changed"] is True
    assert first["hash"].startswith("$2y$04$")
    proc, second = run_module({"password": "correct horse battery", "current_hash": first["hash"], "cost": 4})
    assert proc.returncode == 0 and second["changed"] is False
    assert second["hash"] == first["hash"]
    assert "correct horse battery" not in proc.stdout + proc.stderr


def test_over_long_password_fails_with_message_and_no_secret():
    secret = "x" * 80
    proc, result = run_module({"password": secret})
    assert proc.returncode != 0
    assert result["failed"] is True
    assert "80 bytes" in result["msg"] and "at most 72" in result["msg"]
    assert secret not in proc.stdout + proc.stderr
