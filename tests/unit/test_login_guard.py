"""The login guard's rules: free failures, doubling waits, known pairs, guesses in flight, the decoy, addresses."""

import asyncio
import base64
import importlib.util
import json
import os
import sys

import pytest

PATH = os.path.join(os.path.dirname(__file__), "..", "..", "roles", "docker_auth", "files", "sovereign-registry-login-guard.py")
SPEC = importlib.util.spec_from_file_location("login_guard", PATH)
guard_module = importlib.util.module_from_spec(SPEC)
# dataclasses look the module up by name.
sys.modules["login_guard"] = guard_module
SPEC.loader.exec_module(guard_module)

SETTINGS = guard_module.settings_of(json.dumps({
    "check_port": 1, "feed_port": 2, "accounts_file": "-", "pair_failures": 5, "account_failures": 20,
    "address_failures": 20, "first_wait": "1", "max_wait": "900", "forget_seconds": 3600, "remember_seconds": 86400,
    "max_hold_seconds": 5, "max_keys": 1000}))


@pytest.fixture(name="guard")
def fixture_guard():
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield guard_module.Guard(SETTINGS)
    loop.close()


def guess(guard, account, address, now, status=401):
    """One guess judged, and answered STATUS when it passed; its verdict."""
    verdict = guard.verdict(account, address, now)
    if verdict[0] == "pass":
        guard.let_through(account, address, now)
        guard.answered(status, account, address, now)
    return verdict


def test_settings_come_as_numbers():
    assert SETTINGS["first_wait"] == 1.0 and SETTINGS["pair_failures"] == 5


def test_waits_double_from_the_free_failures_up_to_the_ceiling():
    assert [guard_module.wait_after(n, 5, SETTINGS) for n in (0, 4, 5, 6, 7, 30)] == [0, 0, 1, 2, 4, 900]


def test_one_address_gets_the_pairs_free_failures_then_waits(guard):
    verdicts = [guess(guard, "admin", "10.0.0.9", 100.0)[0] for _attempt in range(8)]
    assert verdicts == ["pass"] * 5 + ["throttle"] * 3
    assert guess(guard, "admin", "10.0.0.9", 100.5) == ("throttle", 0.5)
    # The wait ends: one guess, then twice as long.
    assert guess(guard, "admin", "10.0.0.9", 101.0)[0] == "pass"
    assert guess(guard, "admin", "10.0.0.9", 102.9)[0] == "throttle"
    assert guess(guard, "admin", "10.0.0.9", 103.0)[0] == "pass"


def test_many_addresses_are_bounded_by_the_accounts_count(guard):
    passed = sum(guess(guard, "admin", "10.1.%d.1" % n, 100.0)[0] == "pass" for n in range(100))
    assert passed == 20


def test_one_address_across_accounts_is_bounded_by_the_addresses_count(guard):
    passed = sum(guess(guard, "name-%d" % n, "10.0.0.8", 100.0)[0] == "pass" for n in range(100))
    assert passed == 20


def test_a_known_pair_logs_in_while_the_account_is_under_attack(guard):
    guess(guard, "admin", "10.0.0.1", 50.0, status=200)
    for n in range(100):
        guess(guard, "admin", "10.1.%d.1" % n, 100.0)
    assert guard.verdict("admin", "10.0.0.1", 100.0) == ("pass", 0.0)
    assert guard.verdict("admin", "10.9.9.9", 100.0)[0] == "throttle"


def test_a_known_pairs_failures_count_on_the_pair_only(guard):
    guess(guard, "ci-app", "10.0.0.1", 50.0, status=200)
    for _attempt in range(30):
        guess(guard, "ci-app", "10.0.0.1", 100.0)
    assert guard.verdict("other", "10.0.0.1", 100.0) == ("pass", 0.0)
    assert guard.verdict("ci-app", "10.0.0.2", 100.0) == ("pass", 0.0)


def test_a_success_forgets_the_pairs_failures(guard):
    for _attempt in range(4):
        guess(guard, "admin", "10.0.0.9", 100.0)
    guess(guard, "admin", "10.0.0.9", 100.0, status=200)
    assert ("pair", "admin", "10.0.0.9") not in guard.counts


def test_guesses_in_flight_count_and_the_next_ones_wait(guard):
    for _attempt in range(5):
        assert guard.verdict("admin", "10.0.0.9", 100.0)[0] == "pass"
        guard.let_through("admin", "10.0.0.9", 100.0)
    assert guard.verdict("admin", "10.0.0.9", 100.0) == ("wait", 0.0)
    # A login among them: the pair is known, the others pass.
    guard.answered(200, "admin", "10.0.0.9", 100.1)
    assert guard.verdict("admin", "10.0.0.9", 100.1) == ("pass", 0.0)


def test_an_answer_that_never_came_is_forgotten(guard):
    guard.let_through("admin", "10.0.0.9", 100.0)
    guard.sweep(100.0 + guard_module.IN_FLIGHT_SECONDS + 1)
    assert guard.pending == {} and all(count.in_flight == 0 for count in guard.counts.values())


def test_quiet_counts_are_forgotten(guard):
    for _attempt in range(7):
        guess(guard, "admin", "10.0.0.9", 100.0)
    guard.sweep(100.0 + SETTINGS["forget_seconds"] + 1)
    assert guard.counts == {}
    assert guard.verdict("admin", "10.0.0.9", 100.0 + SETTINGS["forget_seconds"] + 1) == ("pass", 0.0)


@pytest.mark.parametrize("given, key", [
    ("192.0.2.7", "192.0.2.7"), ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"), ("::ffff:192.0.2.7", "192.0.2.7"),
    ("not an address", "not an address")])
def test_address_keys(given, key):
    assert guard_module.address_key(given) == key


def test_basic_account():
    basic = "Basic " + base64.b64encode(b"alice:pa:ss").decode()
    assert guard_module.basic_account(basic) == "alice"
    assert guard_module.basic_account("Bearer abc") is None
    assert guard_module.basic_account("Basic !!!") is None


def test_the_decoy_stands_in_for_names_that_are_no_account(tmp_path):
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps({"accounts": ["admin"], "decoy": "no such account"}))
    accounts = guard_module.Accounts(str(path))
    assert accounts.stand_in("admin", "/auth/auth?account=admin&service=r", 10.0) == {}
    stand_in = accounts.stand_in("nobody", "/auth/auth?account=nobody&service=r&scope=x", 10.0)
    assert stand_in["X-Login-Uri"] == "/auth/auth?service=r&scope=x"
    assert base64.b64decode(stand_in["X-Login-Authorization"].split()[1]) == b"no such account:-"
    path.write_text(json.dumps({"accounts": ["admin"], "decoy": None}))
    os.utime(path, (20.0, 20.0))
    assert accounts.stand_in("nobody", "/auth/auth", 12.0) == {}


def test_an_unreadable_accounts_file_keeps_what_was_read(tmp_path):
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps({"accounts": ["admin"], "decoy": "no such account"}))
    accounts = guard_module.Accounts(str(path))
    accounts.refresh(10.0)
    path.write_text("{not json")
    os.utime(path, (20.0, 20.0))
    assert accounts.stand_in("nobody", "/auth/auth", 12.0)["X-Login-Uri"] == "/auth/auth"
    assert accounts.names == frozenset(["admin"])


def test_metrics_count_verdicts_and_answers_per_outcome_never_per_account(guard):
    guard.answered(200, "alice", "10.0.0.1", 1.0)
    guard.answered(401, "mallory", "10.0.0.2", 2.0)
    guard.answered(401, "mallory", "10.0.0.2", 3.0)
    guard.verdicts["throttled"] += 1
    text = guard_module.metrics_text(guard, [True, False])
    assert 'sovereign_registry_login_guard_answers_total{outcome="login"} 1' in text
    assert 'sovereign_registry_login_guard_answers_total{outcome="wrong_password"} 2' in text
    assert 'sovereign_registry_login_guard_verdicts_total{verdict="throttled"} 1' in text
    assert 'sovereign_registry_docker_auth_up{docker_auth_instance="1"} 1' in text
    assert 'sovereign_registry_docker_auth_up{docker_auth_instance="2"} 0' in text
    assert "alice" not in text and "mallory" not in text and "10.0.0" not in text


def test_an_instance_is_up_when_it_accepts_a_connection():
    async def probe():
        server = await asyncio.start_server(lambda reader, writer: writer.close(), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        listening = await guard_module.accepts(port)
        server.close()
        await server.wait_closed()
        return listening, await guard_module.accepts(port)
    assert asyncio.run(probe()) == (True, False)
