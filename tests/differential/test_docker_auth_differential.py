"""Differential test: the simulator against the real docker_auth 1.14.0.

Generates users (with labels) and ACLs covering globs, regexes,
placeholders, labels, capture groups, IPs and services; runs the real
cesanta/docker_auth:1.14.0 container with them; asks it for tokens for
generated requests; decodes each token's access claim and checks that
the simulator (_docker_auth_authz.authorize) grants exactly the same actions.

Directory people too: docker_auth's ``ldap_auth`` asks a fake LDAP server
(in this process, plain TCP on 127.0.0.1) for people the static users do not
know, and turns attributes of their entries into labels (``parse_cn``,
``lower_case``). The simulator gets their labels from
directory_labels (beside this file), never written by hand, so each decision
checks the label mapping and the ACL; the labels docker_auth logs with each
token are compared with directory_labels' directly. The container shares the
host's network (``--network host``) so that it reaches the fake server on
127.0.0.1, which nothing outside this host (no other container) can reach.

Needs Docker Engine and the image cesanta/docker_auth:1.14.0 (scripts/test
makes it available or reports this suite as blocked).
"""

import collections
import http.client as http_client
import datetime
import json
import os
import random
import re
import socket
import socketserver
import subprocess
import threading
import time

import bcrypt
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from e2e.stack import ask_token, token_url
from e2e.transport import Http
from ansible_collections.sovereign.registry.plugins.module_utils._ldap import ber, messages
from ansible_collections.sovereign.registry.plugins.module_utils._ldap import filter as ldap_filter
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.authz import authorize
from ansible_collections.sovereign.registry.plugins.module_utils._docker_auth.users import LABEL_VALUE
from ansible_collections.sovereign.registry.tests.differential.directory_labels import (
    DirectoryLabelError,
    directory_labels,
)

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
        # Only values a repository name can hold: a label kept as a whole DN is never aimed at.
        values = [v for v in labels.get(key) or [] if LABEL_VALUE.match(v)] or LABEL_POOL[key]
        name = name.replace("${labels:%s}" % key, rng.choice(values))
    name = name.replace("[a-c]", rng.choice("abcd")).replace("?", rng.choice("ax"))
    while "*" in name:
        name = name.replace("*", rng.choice(SEGMENTS), 1)
    return name


def make_requests(rng, users, acl, count, anonymous=True):
    out = []
    for _attempt in range(count):
        user = rng.choice(users + [None, None]) if anonymous else rng.choice(users)
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


# --- directory people ---------------------------------------------------------------------------------------------

DIRECTORY_ACCOUNTS = ["dora", "erin.l", "frank", "hana-k"]
DIRECTORY_REQUESTS_PER_ROUND = 100
BASE = "dc=example,dc=org"
BIND_DN = "cn=registry-reader,ou=services,dc=example,dc=org"
LDAP_FILTER = "(&(objectClass=inetOrgPerson)(uid=${account}))"
# memberOf values in the forms directories write them; their cn is dev, ops or qa in some case.
GROUP_DNS = [
    "cn=Dev,ou=groups,dc=example,dc=org",
    "CN=Ops,OU=Groups,DC=corp",
    "cn=QA,ou=groups,dc=example,dc=org",
    "uid=svc,cn=dev,ou=groups,dc=example,dc=org",  # the first RDN is not the cn
    "cn=OPS+uid=x,ou=groups,dc=example,dc=org",  # a multi-valued RDN
    " cn = qa , ou = groups ",  # spaces go-ldap drops
    # Escapes: hex (d) and a comma in another RDN. Not hex for an upper-case letter: lower-casing the DN first
    # (team's lower_case when team shares memberOf) would keep it, the order of the two would matter.
    "cn=\\64ev,ou=R\\, D,dc=example,dc=org",
    "cn=#04036f7073,ou=groups,dc=corp",  # a BER value: an OCTET STRING "ops" (lower-case, as above)
    "ou=qa,dc=example,dc=org",  # no cn: kept whole
]
TEAM_VALUES = {"ou": ["web", "Web", "api", "API"], "departmentNumber": ["web", "api", "WEB", "Api"]}
# (group lower_case, team's attribute, team lower_case); the rounds draw one each. With memberOf for team too, the
# two labels share memberOf's value list in docker_auth: team gets cns, and both are lower-cased when either is.
LABEL_MAP_VARIANTS = [
    (True, "ou", False),
    (False, "departmentNumber", True),
    (True, "departmentNumber", False),
    (True, "memberOf", False),
    (False, "ou", False),
    (False, "memberOf", True),
]
# A person whose memberOf holds a plain name: parse_cn makes docker_auth panic, directory_labels raises.
TRAP = {"name": "gus", "memberOf": ["cn=dev,ou=groups,dc=example,dc=org", "Engineering"]}
TRAP_REQUESTS_PER_ROUND = 3


def make_label_maps(rng):
    """group from memberOf's cn, team from ou, departmentNumber or memberOf too (then shared), each lower-cased
    or not; dept (no ACL entry uses it, docker_auth's log shows it) misspells its attribute: the directory answers
    departmentNumber or ou, docker_auth looks for the name as written and finds no values."""
    group_lower, team_attribute, team_lower = rng.choice(LABEL_MAP_VARIANTS)
    return {
        "group": {"attribute": "memberOf", "parse_cn": True, "lower_case": group_lower},
        "team": {"attribute": team_attribute, "parse_cn": False, "lower_case": team_lower},
        "dept": {"attribute": rng.choice(["departmentnumber", "OU"]), "lower_case": rng.random() < 0.5},
    }


def _person(account, password, attributes, label_maps):
    attributes = dict(attributes, objectClass=["top", "person", "inetOrgPerson"], uid=[account])
    person = {"name": account, "password": password, "dn": "uid=%s,ou=people,%s" % (account, BASE),
              "attributes": attributes}
    try:
        person["labels"] = directory_labels(attributes, label_maps)
    except DirectoryLabelError as exc:
        person["labels"], person["refused"] = None, str(exc)
    return person


def make_directory_people(rng, label_maps):
    people = []
    for account in rng.sample(DIRECTORY_ACCOUNTS, rng.randint(2, 3)):
        # Everyone is in a group or more; ou and departmentNumber may be missing (a label with no values).
        attributes = {"memberOf": rng.sample(GROUP_DNS, rng.randint(1, 3))}
        for attribute, values in TEAM_VALUES.items():
            chosen = rng.sample(values, rng.randint(0, 2))
            if chosen:
                attributes[attribute] = chosen
        person = _person(account, "ldap-%s-%d" % (account, rng.randint(0, 9999)), attributes, label_maps)
        # docker_auth applies the maps of a shared attribute in Go's random order: these values commute.
        assert person["labels"] == directory_labels(attributes, dict(reversed(list(label_maps.items()))))
        people.append(person)
    return people


class FakeDirectory(socketserver.ThreadingTCPServer):
    """An LDAP server on 127.0.0.1: simple binds, subtree searches with and/or/not/equality/present filters.

    Binds succeed for the read-only bind DN with its password and for a person's DN with theirs
    (invalidCredentials otherwise); a search answers the entries the filter matches, with the requested
    attributes (names compared without case) under the names the directory spells them, as OpenLDAP does.
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, bind_password, people):
        self.bind_password = bind_password
        self.people = people
        self.operations = collections.Counter()
        self.errors = []
        super().__init__(("127.0.0.1", 0), _DirectorySession)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()
        self.thread.join(5)


def _result(tag, code, diagnostic=""):
    return ber.encode_sequence([ber.encode_enumerated(code), ber.encode_octet_string(""),
                                ber.encode_octet_string(diagnostic)], tag)


def _values(entry, attribute):
    """(name as the directory spells it, values) of an attribute, the name compared without case."""
    for name, values in entry.items():
        if name.lower() == attribute.lower():
            return name, values
    return None, []


def _matches(element, entry):
    tag, content = element
    if tag in (ldap_filter.FILTER_AND, ldap_filter.FILTER_OR):
        results = [_matches(child, entry) for child in ber.decode_elements(content)]
        return all(results) if tag == ldap_filter.FILTER_AND else any(results)
    if tag == ldap_filter.FILTER_NOT:
        return not _matches(ber.decode_elements(content)[0], entry)
    if tag == ldap_filter.FILTER_PRESENT:
        return _values(entry, content.decode())[0] is not None
    if tag == ldap_filter.FILTER_EQUALITY:
        (_t, attribute), (_v, value) = ber.decode_elements(content)
        return value.decode().lower() in [v.lower() for v in _values(entry, attribute.decode())[1]]
    raise ValueError("filter choice 0x%02x is not served here" % tag)


class _DirectorySession(socketserver.BaseRequestHandler):
    def handle(self):
        server = self.server
        buffer = b""
        try:
            while True:
                size = ber.tlv_size(buffer)
                while size is None or len(buffer) < size:
                    chunk = self.request.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                    size = ber.tlv_size(buffer)
                (_tag, content, _end), buffer = ber.decode_tlv(buffer[:size]), buffer[size:]
                (_t, raw_id), (op_tag, op) = ber.decode_elements(content)[:2]
                message_id = ber.decode_integer(raw_id)
                server.operations[op_tag] += 1
                if op_tag == messages.OP_UNBIND_REQUEST:
                    return
                if op_tag == messages.OP_BIND_REQUEST:
                    _version, (_n, dn), (_a, password) = ber.decode_elements(op)
                    dn, password = dn.decode(), password.decode()
                    known = {BIND_DN: server.bind_password}
                    known.update((p["dn"], p["password"]) for p in server.people)
                    ok = password != "" and known.get(dn) == password
                    answer = _result(messages.OP_BIND_RESPONSE, 0 if ok else messages.INVALID_CREDENTIALS)
                    self.request.sendall(ber.encode_sequence([ber.encode_integer(message_id), answer]))
                elif op_tag == messages.OP_SEARCH_REQUEST:
                    self.request.sendall(self._search(message_id, op))
                else:
                    server.errors.append("operation 0x%02x is not served here" % op_tag)
                    return
        except (OSError, ValueError, ber.LdapError) as exc:
            server.errors.append(repr(exc))

    def _search(self, message_id, op):
        elements = ber.decode_elements(op)
        base = elements[0][1].decode()
        requested = [a[1].decode() for a in ber.decode_elements(elements[7][1])]
        out = b""
        for person in self.server.people if base.lower() == BASE else []:
            if not _matches(elements[6], person["attributes"]):
                continue
            attributes = []
            for attribute in dict.fromkeys(requested):
                name, values = _values(person["attributes"], attribute)
                if name is not None and name not in [a[0] for a in attributes]:
                    attributes.append((name, values))
            entry = ber.encode_sequence([ber.encode_octet_string(person["dn"]), ber.encode_sequence([
                ber.encode_sequence([ber.encode_octet_string(name),
                                     ber.encode_set([ber.encode_octet_string(v) for v in values])])
                for name, values in attributes])], messages.OP_SEARCH_RESULT_ENTRY)
            out += ber.encode_sequence([ber.encode_integer(message_id), entry])
        done = _result(messages.OP_SEARCH_RESULT_DONE, 0)
        return out + ber.encode_sequence([ber.encode_integer(message_id), done])


TOKEN_LOG = re.compile(r"New token for \{(?P<account>[^:]*):")


def logged_labels(logs):
    """{account: [labels of each token]} from docker_auth's "New token for {account:...} map[...]: {claims}" lines."""
    out = collections.defaultdict(list)
    for line in logs.splitlines():
        found = TOKEN_LOG.search(line)
        if not found or ': {"' not in line:
            continue
        head = line[:line.index(': {"')]
        text = head[head.rindex(" map[") + len(" map["):-1]
        out[found.group("account")].append(
            {key: values.split() for key, values in re.findall(r"([^\s:\[\]]+):\[([^\]]*)\]", text)})
    return out


def write_config(directory, users, acl, addr=":5001", ldap_auth=None, bind_password=""):
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
        "server": {"addr": addr, "path_prefix": "/auth", "real_ip_header": "X-Real-IP"},
        "token": {"issuer": "differential", "expiration": 900, "certificate": "/config/token.crt",
                  "key": "/config/token.key", "disable_legacy_key_id": True},
        "users": {u["name"]: {"password": bcrypt.hashpw(u["password"].encode(), bcrypt.gensalt(4)).decode(),
                              "labels": u["labels"]} for u in users},
        "acl": acl,
    }
    config["users"][""] = {}
    if ldap_auth:
        config["ldap_auth"] = ldap_auth
        (directory / "ldap-password").write_text(bind_password + "\n")
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


def _uses_labels(match):
    return "labels" in match or any("${labels:" in str(v) for v in match.values())


def run_round(seed, image, directory):
    rng = random.Random(seed)
    users = make_users(rng)
    acl = make_acl(rng)
    requests_ = make_requests(rng, users, acl, REQUESTS_PER_ROUND)
    # The directory's part draws after the static part: the static users, ACL and requests stay as they were.
    label_maps = make_label_maps(rng)
    people = make_directory_people(rng, label_maps)
    trap = _person(TRAP["name"], "ldap-gus-%d" % rng.randint(0, 9999), {"memberOf": TRAP["memberOf"]}, label_maps)
    assert trap["labels"] is None
    # Aimed at the entries on labels more often: that is where the labels from attributes decide.
    aims = acl + [entry for entry in acl if _uses_labels(entry["match"])] * 2
    requests_ += make_requests(rng, people, aims, DIRECTORY_REQUESTS_PER_ROUND, anonymous=False)
    requests_ += make_requests(rng, [dict(trap, labels={})], acl, TRAP_REQUESTS_PER_ROUND, anonymous=False)
    bind_password = "reader-%d" % rng.randint(0, 9999)
    ldap_server = FakeDirectory(bind_password, people + [trap])
    port = free_port()
    write_config(directory, users, acl, addr="127.0.0.1:%d" % port, bind_password=bind_password, ldap_auth={
        "addr": "127.0.0.1:%d" % ldap_server.port, "tls": "none", "base": BASE, "filter": LDAP_FILTER,
        "bind_dn": BIND_DN, "bind_password_file": "/config/ldap-password", "labels": label_maps})
    name = "sovereign-differential-%d" % seed
    subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    stats = collections.Counter()
    try:
        subprocess.run(["docker", "run", "-d", "--name", name, "--network", "host",
                        "-v", "%s:/config:ro" % directory, image, "--logtostderr", "/config/auth_config.yml"],
                       check=True, capture_output=True)
        http = Http(keep_alive=True, timeout=10)
        realm = "http://127.0.0.1:%d/auth/auth" % port
        for _attempt in range(100):
            try:
                ask_token(http, realm, headers={"X-Real-IP": "127.0.0.1"})
                break
            except OSError:
                time.sleep(0.1)
        disagreements = []
        deciding = COVERAGE
        for request in requests_:
            scope = "%s:%s:%s" % (request["type"], request["name"], ",".join(request["actions"]))
            user, password = (request["user"]["name"], request["user"]["password"]) if request["user"] else (None, None)
            url = token_url(realm, request["service"], [scope])
            in_directory = bool(request["user"] and "dn" in request["user"])
            if in_directory and "refused" in request["user"]:
                # directory_labels refuses this person: docker_auth must give no token (its handler panics).
                try:
                    real = "HTTP %d" % ask_token(http, url, user, password, headers={"X-Real-IP": request["ip"]}).status
                except (OSError, http_client.HTTPException):
                    real = "no answer"
                stats["refused"] += 1
                if real != "no answer":
                    disagreements.append({"request": {k: v for k, v in request.items() if k != "user"},
                                          "docker_auth": real, "simulator": request["user"]["refused"]})
                continue
            answer = ask_token(http, url, user, password, headers={"X-Real-IP": request["ip"]})
            assert answer.status == 200, (answer.status, answer.body, request)
            claims = {"access": answer.access}
            real = claims["access"][0]["actions"]
            simulated, entry = authorize(acl, request)
            stats["compared"] += 1
            if in_directory:
                stats["directory"] += 1
                stats["directory with attribute labels"] += any(request["labels"].values())
                if entry is not None and _uses_labels(acl[entry]["match"]):
                    stats["directory decided by a label entry"] += 1
                if authorize(acl, dict(request, labels={}))[0] != simulated:
                    stats["directory decided by their labels"] += 1
            if entry is not None:
                deciding.update(_features(acl[entry]["match"]))
            if real != simulated:
                disagreements.append({"request": {k: v for k, v in request.items() if k != "user"},
                                      "docker_auth": real, "simulator": simulated, "entry": entry})
        # Docker copies the container's output to its log a moment after it is written: read until the last
        # request's lines are there (a refused person's panic is among the last).
        for _attempt in range(50):
            logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, check=False).stderr
            if not stats["refused"] or "nil pointer dereference" in logs:
                break
            time.sleep(0.2)
        logged = logged_labels(logs)
        for person in people:
            for labels in logged.get(person["name"], []):
                stats["label sets compared"] += 1
                if labels != person["labels"]:
                    disagreements.append({"person": person["name"], "attributes": person["attributes"],
                                          "label_maps": label_maps, "docker_auth labels": labels,
                                          "directory_labels": person["labels"]})
        if stats["refused"] and "nil pointer dereference" not in logs:
            disagreements.append({"person": trap["name"], "docker_auth": "no panic in its log"})
        assert not ldap_server.errors, ldap_server.errors
        stats["ldap binds"] = ldap_server.operations[messages.OP_BIND_REQUEST]
        stats["ldap searches"] = ldap_server.operations[messages.OP_SEARCH_REQUEST]
        print("\nround %d: %d requests compared (%d of directory people), %d refused logins, labels %s"
              % (seed, stats["compared"], stats["directory"], stats["refused"], json.dumps(label_maps)))
        return stats, disagreements, acl, label_maps
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        ldap_server.stop()


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
    totals = collections.Counter()
    failures = []
    maps = []
    for seed in ROUNDS:
        directory = tmp_path / str(seed)
        directory.mkdir()
        stats, disagreements, acl, label_maps = run_round(seed, docker_auth_image, directory)
        totals.update(stats)
        maps.append(label_maps)
        failures += [dict(d, seed=seed, acl=acl) for d in disagreements]
    total = totals["compared"]
    agreed = total - len([f for f in failures if "request" in f and "entry" in f])
    print("\ndifferential: %d requests compared with docker_auth 1.14.0, %d agreed (%.1f%%)"
          % (total, agreed, 100.0 * agreed / total))
    print("deciding entries had: " + ", ".join("%s %d" % kv for kv in sorted(COVERAGE.items())))
    print("directory people: %d requests (%d with labels from attributes), %d decided by an entry on labels, "
          "%d decided by their labels (other without them); %d label sets docker_auth logged equal "
          "directory_labels'; %d refused logins (parse_cn on a value that is not a DN) refused by docker_auth too; "
          "fake directory: %d binds, %d searches"
          % (totals["directory"], totals["directory with attribute labels"],
             totals["directory decided by a label entry"], totals["directory decided by their labels"],
             totals["label sets compared"] - len([f for f in failures if "docker_auth labels" in f]),
             totals["refused"] - len([f for f in failures if "person" not in f and "entry" not in f]),
             totals["ldap binds"], totals["ldap searches"]))
    assert total >= 500
    # The rounds' label maps lower-case and keep the case, take team from ou, departmentNumber and memberOf.
    assert {m[k]["lower_case"] for m in maps for k in ("group", "team")} == {True, False}
    assert {m["team"]["attribute"] for m in maps} == {"ou", "departmentNumber", "memberOf"}
    assert totals["directory decided by their labels"] >= 20
    assert totals["label sets compared"] == totals["directory"]
    assert not failures, json.dumps(failures[:5], indent=1)
