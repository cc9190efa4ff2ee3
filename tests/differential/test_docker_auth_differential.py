"""Differential test: the simulator against the real docker_auth 1.14.0.

Generates users (with labels) and ACLs covering globs, regexes,
placeholders, labels, capture groups, IPs and services; runs the real
cesanta/docker_auth:1.14.0 container with them; asks it for tokens for
generated requests; decodes each token's access claim and checks that
the simulator (_docker_auth_authz.authorize) grants exactly the same actions.

Needs Docker Engine and the image cesanta/docker_auth:1.14.0 (scripts/test
makes it available or reports this suite as blocked).
"""

import base64
import collections
import datetime
import json
import os
import random
import socket
import subprocess
import time

import bcrypt
import pytest
import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth_authz import authorize

IMAGE = os.environ.get("SOVEREIGN_DOCKER_AUTH_IMAGE", "cesanta/docker_auth:1.14.0")
ROUNDS = [11, 22, 33, 44, 55]
REQUESTS_PER_ROUND = 200

ACCOUNTS = ["alice", "bob", "ci-web", "ci-api", "carol.dev"]
LABEL_POOL = {"group": ["dev", "ops", "qa"], "team": ["web", "api"]}
SEGMENTS = ["web", "api", "dev", "ops", "qa", "lib", "ci", "circleci", "alice", "bob", "x", "dev-shared", "ops-shared"]
SERVICES = ["reg.example", "other.example"]
IPS = ["127.0.0.1", "10.1.2.3", "192.0.2.5", "203.0.113.9"]

FIELD_CHOICES = {
    "account": [None, "alice", "bob", "/^ci-(.+)$/", "/ci/", "/.+/", "ci-*", "", "/^(alice|bob)$/"],
    "name": [None, "${account}/*", "${labels:group}-shared/*", "/^${labels:team}/.+$/", "web/*", "*",
             "*/*", "/^(web|api)/(.+)$/", "lib/?pi", "[a-c]*/x", "/ci/", "${service}/*", "*/${labels:group}"],
    "type": [None, "repository", "registry"],
    "service": [None, "reg.example", "/example/"],
    "ip": [None, "127.0.0.1", "10.0.0.0/8", "192.0.2.0/24"],
}
LABEL_MATCHES = [None, {"group": "dev"}, {"group": "/^o/"}, {"team": "w*"}, {"group": "qa", "team": "api"}]
ACTION_CHOICES = [["*"], ["pull"], ["pull", "push"], ["push"], ["delete", "pull"], ["*", "pull"], ["delete", "pull", "push"]]


def make_users(rng):
    users = []
    for account in ACCOUNTS:
        labels = {}
        for key, values in LABEL_POOL.items():
            chosen = sorted(rng.sample(values, rng.randint(0, len(values))))
            if chosen:
                labels[key] = chosen
        users.append({"name": account, "password": "pw-%s-%d" % (account, rng.randint(0, 9999)), "labels": labels})
    return users


def make_acl(rng):
    acl = []
    for _attempt in range(14):
        match = {}
        for field, choices in FIELD_CHOICES.items():
            if rng.random() < 0.6:
                value = rng.choice(choices)
                if value is not None:
                    match[field] = value
        if rng.random() < 0.25:
            labels = rng.choice(LABEL_MATCHES)
            if labels:
                match["labels"] = labels
        # Capture groups only make sense next to a capturing regex.
        if match.get("account") == "/^ci-(.+)$/" and rng.random() < 0.6:
            match["name"] = rng.choice(["${account:1}/*", "/^${account:1}/.+$/"])
        if match.get("name") == "/^(web|api)/(.+)$/" and rng.random() < 0.5:
            match["account"] = "/^.*${name:1}.*$/"
        acl.append({"match": match, "actions": rng.choice(ACTION_CHOICES)})
    # Always one capture-group and one label-placeholder entry, somewhere.
    for entry in ({"match": {"account": "/^ci-(.+)$/", "name": "${account:1}/*"}, "actions": ["pull", "push"]},
                  {"match": {"name": "${labels:group}-shared/*"}, "actions": ["delete", "pull"]}):
        acl.insert(rng.randint(0, len(acl) // 2), entry)
    acl.append({"match": {"account": "alice"}, "actions": ["pull"]})
    return acl


REGEX_EXAMPLES = {
    "/^(web|api)/(.+)$/": ["web/app", "api/x/y", "weblike/app"],
    "/ci/": ["circleci/tool", "ci/x", "lib/x"],
    "/^${labels:team}/.+$/": ["web/app", "api/app/x", "ops/app"],
    "/^${account:1}/.+$/": ["web/app", "api/x", "ci-web/x"],
}


def _aimed_name(rng, pattern, account, labels, service):
    """A name that the entry's name pattern probably matches for this requester."""
    if pattern is None:
        return None
    if pattern.startswith("/"):
        return rng.choice(REGEX_EXAMPLES.get(pattern, ["x"]))
    name = pattern.replace("${account:1}", account.split("-", 1)[-1] if account else "web")
    name = name.replace("${account}", account or "alice").replace("${service}", service)
    for key in ("group", "team"):
        values = labels.get(key) or LABEL_POOL[key]
        name = name.replace("${labels:%s}" % key, rng.choice(values))
    name = name.replace("[a-c]", rng.choice("abcd")).replace("?", rng.choice("ax"))
    while "*" in name:
        name = name.replace("*", rng.choice(SEGMENTS), 1)
    return name


def make_requests(rng, users, acl, count):
    out = []
    for _attempt in range(count):
        user = rng.choice(users + [None, None])
        account = user["name"] if user else ""
        labels = user["labels"] if user else {}
        service = rng.choice(SERVICES)
        depth = rng.randint(1, 3)
        name = "/".join(rng.choice(SEGMENTS + ([account] if account else [])) for _attempt in range(depth))
        request_type = "registry" if rng.random() < 0.1 else "repository"
        ip = rng.choice(IPS)
        if acl and rng.random() < 0.7:
            # Aim at one entry, so that every kind of condition gets to decide.
            match = rng.choice(acl)["match"]
            name = _aimed_name(rng, match.get("name"), account, labels, service) or name
            if match.get("type") in ("repository", "registry") and rng.random() < 0.8:
                request_type = match["type"]
            if match.get("service") == "reg.example" and rng.random() < 0.8:
                service = "reg.example"
            if match.get("ip") and rng.random() < 0.8:
                ip = {"127.0.0.1": "127.0.0.1", "10.0.0.0/8": "10.1.2.3", "192.0.2.0/24": "192.0.2.5"}[match["ip"]]
        out.append({
            "user": user,
            "account": account,
            "labels": labels,
            "type": request_type,
            "name": name,
            "service": service,
            "ip": ip,
            "actions": sorted(rng.sample(["pull", "push", "delete", "*"], rng.randint(1, 3))),
        })
    return out


def write_config(directory, users, acl):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "differential")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (directory / "token.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
    (directory / "token.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    config = {
        "server": {"addr": ":5001", "path_prefix": "/auth", "real_ip_header": "X-Real-IP"},
        "token": {"issuer": "differential", "expiration": 900, "certificate": "/config/token.crt",
                  "key": "/config/token.key", "disable_legacy_key_id": True},
        "users": {u["name"]: {"password": bcrypt.hashpw(u["password"].encode(), bcrypt.gensalt(4)).decode(),
                              "labels": u["labels"]} for u in users},
        "acl": acl,
    }
    config["users"][""] = {}
    (directory / "auth_config.yml").write_text(yaml.safe_dump(config))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def docker_auth_image():
    proc = subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, check=False)
    if proc.returncode != 0:
        pytest.fail("the image %s is not in the local Docker Engine; scripts/test makes it available" % IMAGE)
    return IMAGE


def run_round(seed, image, directory):
    rng = random.Random(seed)
    users = make_users(rng)
    acl = make_acl(rng)
    write_config(directory, users, acl)
    port = free_port()
    name = "sovereign-differential-%d" % seed
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    subprocess.run(["docker", "run", "-d", "--name", name, "-p", "127.0.0.1:%d:5001" % port,
                    "-v", "%s:/config:ro" % directory, image, "--logtostderr", "/config/auth_config.yml"],
                   check=True, capture_output=True)
    session = requests.Session()
    url = "http://127.0.0.1:%d/auth/auth" % port
    try:
        for _attempt in range(100):
            try:
                session.get(url, headers={"X-Real-IP": "127.0.0.1"}, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        disagreements = []
        compared = 0
        deciding = COVERAGE
        for request in make_requests(rng, users, acl, REQUESTS_PER_ROUND):
            scope = "%s:%s:%s" % (request["type"], request["name"], ",".join(request["actions"]))
            auth = (request["user"]["name"], request["user"]["password"]) if request["user"] else None
            response = session.get(url, params={"service": request["service"], "scope": scope},
                                   headers={"X-Real-IP": request["ip"]}, auth=auth, timeout=10)
            assert response.status_code == 200, (response.status_code, response.text, request)
            payload = response.json()["token"].split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            real = claims["access"][0]["actions"]
            simulated, entry = authorize(acl, request)
            compared += 1
            if entry is not None:
                deciding.update(_features(acl[entry]["match"]))
            if real != simulated:
                disagreements.append({"request": {k: v for k, v in request.items() if k != "user"},
                                      "docker_auth": real, "simulator": simulated, "entry": entry})
        return compared, disagreements, acl
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


COVERAGE = collections.Counter()


def _features(match):
    """Kinds of condition in a deciding entry, to show what the comparison covered."""
    found = set()
    for key, value in match.items():
        text = str(value)
        found.add("regex" if text.startswith("/") else "ip" if key == "ip" else "labels" if key == "labels" else "glob")
        for marker, feature in (("${labels:", "label placeholder"), (":1}", "capture group"),
                                ("${account}", "${account}"), ("${service}", "${service}")):
            if marker in text:
                found.add(feature)
    return found or {"match all"}


def test_simulator_agrees_with_real_docker_auth(docker_auth_image, tmp_path):
    total = 0
    failures = []
    for seed in ROUNDS:
        directory = tmp_path / str(seed)
        directory.mkdir()
        compared, disagreements, acl = run_round(seed, docker_auth_image, directory)
        total += compared
        failures += [dict(d, seed=seed, acl=acl) for d in disagreements]
    agreed = total - len(failures)
    print("\ndifferential: %d requests compared with docker_auth 1.14.0, %d agreed (%.1f%%)"
          % (total, agreed, 100.0 * agreed / total))
    print("deciding entries had: " + ", ".join("%s %d" % kv for kv in sorted(COVERAGE.items())))
    assert total >= 500
    assert not failures, json.dumps(failures[:5], indent=1)
