"""site.yml, gc.yml, backup.yml and restore.yml refuse bad input before any host is touched.

Each case runs the real playbook, by its collection name, against a test
deployment where the stack runs (scripts/test gives the Molecule default
scenario's, in SOVEREIGN_TEST_DEPLOYMENT) with one mistake given as extra
vars, and checks: the run fails, the message names the item and the fix, no
secret is printed, and nothing on the registry server changed (the stack's
directories and nginx site are as before, file by file).

The checks written in Python (the ACL and the users: docker_auth_acl; the
passwords: bcrypt_hash; the mirrors; the retention rules) have every message
unit-tested (tests/unit/test_docker_auth_checks.py, test_passwords.py,
test_mirrors.py, test_retention.py);
here one or two mistakes for each prove the playbook runs it before any
change. The checks in the roles' validate.yml are proved here.
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
from helpers import Target, run_ansible, testhosts  # noqa: E402

WATCHED = ["/etc/sovereign-registry", "/var/lib/sovereign-registry", "/etc/nginx/conf.d/sovereign-registry.conf"]

GOOD_USERS = [
    {"name": "admin", "password": "admin-password-0123"},
    {"name": "firstuser", "password": "first-password-0123", "groups": ["first_user_group"]},
]
GOOD_ACL = [{"match": {"account": "admin"}, "actions": ["*"], "comment": "admin"}]

CASES = {
    "variable under its name before 0.2.0": (
        {"docker_auth_token_expiration": 300},
        "docker_auth_token_expiration is now sovereign_registry_docker_auth_token_expiration: rename it in the inventory",
    ),
    "docker_auth setting under its name before it said its role": (
        {"sovereign_registry_auth_port": 5200},
        "sovereign_registry_auth_port is now sovereign_registry_docker_auth_port: rename it in the inventory",
    ),
    "group of the registry hosts as a variable": (
        {"sovereign_registry_hosts": "registry_servers"},
        "sovereign_registry_hosts is no longer read: every playbook runs on the inventory group registry_servers",
    ),
    "nginx setting of the wrong type, checked before the first role changes anything": (
        {"sovereign_registry_nginx_auth_burst": "lots"},
        "argument sovereign_registry_nginx_auth_burst is of type str and we were unable to convert to int",
    ),
    "domain with scheme": (
        {"sovereign_registry_domain": "https://registry.example.org"},
        "sovereign_registry_domain=\"https://registry.example.org\" is not a lower-case DNS name",
    ),
    "domain with upper case": (
        {"sovereign_registry_domain": "Registry.Example.org"},
        "is not a lower-case DNS name",
    ),
    "registry version 4": (
        {"sovereign_registry_version": "4.0.0"},
        "is not a supported distribution release",
    ),
    "tutorial require_account key": (
        {"sovereign_registry_docker_auth_acl": [{"match": {"account": "admin"}, "actions": ["*"], "require_account": True}]},
        "acl[0].require_account: unknown key: docker_auth ignores it, so it does nothing; to require a login put account",
    ),
    "the example inventory's password, unedited": (
        {"sovereign_registry_docker_auth_users": [{"name": "admin", "password": "change-me-admin-0123456789"}]},
        "sovereign_registry_docker_auth_users[0] (admin) password is an example published with this collection "
        "(inventory.example): anyone can read it; make one with openssl rand -base64 24",
    ),
    "user without password": (
        {"sovereign_registry_docker_auth_users": [{"name": "admin"}]},
        "sovereign_registry_docker_auth_users[0] (admin) password is missing: set one, from ansible-vault",
    ),
    "a user named as the repository browser's account": (
        {"sovereign_registry_docker_auth_users": GOOD_USERS + [{"name": "sovereign-browser", "password": "browser-pass-0123-x"}],
         "sovereign_registry_docker_auth_acl": GOOD_ACL},
        "sovereign_registry_docker_auth_users has a user named sovereign-browser, the account of the repository browser "
        "(sovereign_registry_browser_account). Rename the user, or set sovereign_registry_browser_account to another name",
    ),
    "repository browser installed outside /usr": (
        {"sovereign_registry_browser_script": "/opt/sovereign/browser.py"},
        "sovereign_registry_browser_script=\"/opt/sovereign/browser.py\": the service's container runs it with the host's "
        "Python from /usr",
    ),
    "nobody to let in": (
        {"sovereign_registry_docker_auth_users": [], "sovereign_registry_docker_auth_anonymous": False},
        "docker_auth would refuse to start",
    ),
    "tutorial's public repositories that logged-in users cannot pull": (
        {"sovereign_registry_docker_auth_acl": [
            {"match": {"account": "", "name": "publicrepos/*"}, "actions": ["pull"]},
            {"match": {"account": "admin"}, "actions": ["*"]}]},
        "acl (publicrepos/*): logged-in accounts get less than an anonymous client on publicrepos/*: anonymous may "
        "pull; firstuser may nothing, any other user may nothing. A client that has logged in (docker login, a CI job) "
        "never falls back to the anonymous rules. Add at the end the entry "
        '{match: {account: "/.+/", name: "publicrepos/*"}, actions: [pull]}',
    ),
    "s3 without bucket": (
        {"sovereign_registry_registry_storage_driver": "s3"},
        "with s3, set sovereign_registry_registry_s3.bucket",
    ),
    "redis address without a port": (
        {"sovereign_registry_registry_redis_addr": "redis.internal"},
        "sovereign_registry_registry_redis_addr must be host:port, for example redis.internal:6379",
    ),
    "short http secret": (
        {"sovereign_registry_registry_http_secret": "tooshort"},
        "sovereign_registry_registry_http_secret is shorter than 32 characters",
    ),
    "registry metrics ports overlapping the instances' ports": (
        {"sovereign_registry_registry_metrics_port": 5001},
        "instances' metrics ports that overlap their registry ports, from sovereign_registry_registry_port (5000) on",
    ),
    "disk guard resumes below its threshold": (
        {"sovereign_registry_registry_disk_guard_min_free_mb": 4096, "sovereign_registry_registry_disk_guard_resume_free_mb": 1024},
        "sovereign_registry_registry_disk_guard_resume_free_mb (1024) at least as large",
    ),
    "garbage collection schedule systemd cannot read": (
        {"sovereign_registry_registry_gc_timer_enabled": True, "sovereign_registry_registry_gc_timer_schedule": "Sunday 25:00"},
        "sovereign_registry_registry_gc_timer_schedule \"Sunday 25:00\" is not a systemd OnCalendar expression",
    ),
    "mirror nobody may pull through, its upstream password never printed": (
        {"sovereign_registry_mirrors": [{"name": "hub", "url": "https://upstream.example", "username": "robot",
                                         "password": "upstream-password-0123"}]},
        "sovereign_registry_mirrors[0] (hub): nobody may pull through this mirror: give pull_accounts",
    ),
    "monitoring host given by name": (
        {"sovereign_registry_metrics_allow": ["monitor1.example.org"]},
        'sovereign_registry_metrics_allow: "monitor1.example.org" is not an IP address or CIDR range',
    ),
    "refusal message nginx cannot quote": (
        {"sovereign_registry_nginx_refusal_storage_low_message": "disk full, call $ADMIN"},
        "may not contain a single quote, a $ or a backslash",
    ),
}

# gc.yml: bad retention rules and a missing password fail before anything is
# deleted or changed (the module checks the rules before any request).
GC_CASES = {
    "variable under its name before 0.2.0": (
        {"docker_auth_token_expiration": 300},
        "docker_auth_token_expiration is now sovereign_registry_docker_auth_token_expiration: rename it in the inventory",
    ),
    "rule that deletes every tag": (
        {"sovereign_registry_registry_retention_rules": [{"repository": "publicrepos/*", "tags": "*"}]},
        "rule 1: with neither keep_last nor older_than_days it deletes every tag it matches",
    ),
    "retention while deletes are disabled": (
        {"sovereign_registry_registry_retention_rules": [{"repository": "publicrepos/*", "keep_last": 3}],
         "sovereign_registry_registry_delete_enabled": False},
        "sovereign_registry_registry_delete_enabled is false, so the registry refuses every delete",
    ),
    "retention user without password": (
        {"sovereign_registry_registry_retention_rules": [{"repository": "publicrepos/*", "keep_last": 3}],
         "sovereign_registry_registry_retention_username": "nobody"},
        "Retention runs as nobody, who has no password",
    ),
}


# backup.yml and restore.yml: settings that would lose backups, and a restore
# onto the running registry, refused before restic is even installed.
BACKUP_SECRET = "backup-password-never-printed"
BACKUP = {"sovereign_registry_backup_repository": "/srv/sovereign-backup", "sovereign_registry_backup_password": BACKUP_SECRET}
BACKUP_CASES = {
    "no backup repository": (
        {"sovereign_registry_backup_repository": "", "sovereign_registry_backup_password": BACKUP_SECRET},
        "Set sovereign_registry_backup_repository (a restic repository",
    ),
    "negative retention, which restic 0.14 takes as delete": (
        dict(BACKUP, sovereign_registry_backup_keep_daily=-1),
        "sovereign_registry_backup_keep_daily is -1: each sovereign_registry_backup_keep_* must be a whole number, 0 or more",
    ),
}
RESTORE_CASES = {
    "restore onto the running registry": (
        BACKUP,
        "has a registry already",
    ),
}


@pytest.fixture(scope="module")
def server():
    name = os.environ.get("SOVEREIGN_TEST_DEPLOYMENT", "")
    inventory = os.path.join(testhosts.state_dir(name), "inventory")
    if not name or not os.path.isdir(inventory):
        raise RuntimeError("set SOVEREIGN_TEST_DEPLOYMENT to a test deployment where the stack runs "
                           "(scripts/test uses the Molecule default scenario's)")
    return Target(name, inventory, host="server")


# What each playbook prints once it starts changing things: it must not
# appear when the input is bad.
FIRST_CHANGE = {"site.yml": "TASK [sovereign.registry.docker_engine", "gc.yml": "Collect garbage",
                "backup.yml": "Install restic", "restore.yml": "Install restic"}
ALL_CASES = {("site.yml", name): case for name, case in CASES.items()}
ALL_CASES.update({("gc.yml", name): case for name, case in GC_CASES.items()})
ALL_CASES.update({("backup.yml", name): case for name, case in BACKUP_CASES.items()})
ALL_CASES.update({("restore.yml", name): case for name, case in RESTORE_CASES.items()})


@pytest.mark.parametrize("playbook, case", sorted(ALL_CASES))
def test_bad_input_fails_before_the_host_is_touched(playbook, case, server, tmp_path):
    overrides, message = ALL_CASES[(playbook, case)]
    extra = {"sovereign_registry_docker_auth_users": GOOD_USERS, "sovereign_registry_docker_auth_acl": GOOD_ACL}
    extra.update(overrides)
    before = server.snapshot(*WATCHED)
    assert before and not any(line.startswith("absent") for line in before), "the stack is not deployed: %s" % before
    proc = run_ansible(["ansible-playbook", "sovereign.registry." + playbook.split(".")[0]], extra, server.inventory)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert message in " ".join(output.split()), output[-3000:]
    for entry in extra.get("sovereign_registry_docker_auth_users", []) + extra.get("sovereign_registry_mirrors", []):
        if entry.get("password"):
            assert entry["password"] not in output
    assert BACKUP_SECRET not in output
    # site.yml: no role ran, they only start after every check passed;
    # gc.yml: retention stopped before deleting, and no collection ran;
    # backup.yml and restore.yml: restic not even installed.
    assert FIRST_CHANGE[playbook] not in output
    assert server.snapshot(*WATCHED) == before
