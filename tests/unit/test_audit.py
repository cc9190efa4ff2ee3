"""The audit trail's reading of docker_auth's log lines and of registry notifications."""

import importlib.util
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC = importlib.util.spec_from_file_location(
    "audit", os.path.join(REPO, "roles", "audit", "files", "sovereign-registry-audit.py"))
audit = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(audit)

WHEN = "2026-11-29T02:03:04+00:00"
# As docker_auth 1.14.0 logs them (glog prefix included).
TOKEN = ('I1129 02:03:04.123456       1 server.go:424] New token for {firstuser:***@203.0.113.7 '
         '[{repository  publicrepos/app [pull push]} {repository  firstuser/x [pull]}]} '
         'map[group:[first_user_group]]: {"iss":"my-docker-auth","sub":"firstuser","aud":"registry.sovereign.test",'
         '"exp":1,"nbf":0,"iat":0,"jti":"x","access":[{"type":"repository","name":"publicrepos/app",'
         '"actions":["pull","push"]},{"type":"repository","name":"firstuser/x","actions":["pull"]}]}')
LOGIN = ('I1129 02:03:04.123456       1 server.go:424] New token for {admin:***@203.0.113.8 []} map[]: '
         '{"iss":"my-docker-auth","sub":"admin","access":[]}')
ANONYMOUS = ('I1129 02:03:04.123456       1 server.go:424] New token for {:@203.0.113.9 [{repository  publicrepos/app '
             '[pull]}]} map[]: {"sub":"","access":[{"type":"repository","name":"publicrepos/app","actions":["pull"]}]}')
FAILED = "W1129 02:03:04.123456       1 server.go:493] Auth failed: {admin:***@203.0.113.10 []}"


def test_a_token_for_a_named_account_with_its_scopes_and_what_was_granted():
    assert audit.auth_event(TOKEN, WHEN) == {
        "time": WHEN, "event": "token", "user": "firstuser", "client": "203.0.113.7",
        "scopes": ["repository:publicrepos/app:pull,push", "repository:firstuser/x:pull"],
        "granted": ["repository:publicrepos/app:pull,push", "repository:firstuser/x:pull"]}


def test_a_login_is_a_token_without_scope():
    assert audit.auth_event(LOGIN, WHEN) == {"time": WHEN, "event": "login", "user": "admin", "client": "203.0.113.8",
                                             "scopes": [], "granted": []}


def test_anonymous_tokens_are_not_recorded_and_failures_are():
    assert audit.auth_event(ANONYMOUS, WHEN) is None
    assert audit.auth_event(FAILED, WHEN) == {"time": WHEN, "event": "login_failed", "user": "admin",
                                              "client": "203.0.113.10", "scopes": []}
    assert audit.auth_event("I1129 server.go:100] Config ok, restarting server", WHEN) is None


def test_manifest_pushes_and_deletes_are_recorded_layers_and_pulls_are_not():
    envelope = {"events": [
        {"action": "push", "timestamp": WHEN, "actor": {"name": "firstuser"},
         "request": {"addr": "203.0.113.7:41234", "id": "r1"},
         "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": "publicrepos/app",
                    "tag": "v1", "digest": "sha256:aa"}},
        {"action": "push", "timestamp": WHEN, "actor": {"name": "firstuser"}, "request": {"addr": "203.0.113.7:1"},
         "target": {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "repository": "publicrepos/app"}},
        {"action": "pull", "timestamp": WHEN, "actor": {"name": "firstuser"}, "request": {"addr": "203.0.113.7:1"},
         "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "repository": "publicrepos/app"}},
        {"action": "delete", "timestamp": WHEN, "actor": {"name": "admin"}, "request": {"addr": "[2001:db8::1]:443"},
         "target": {"repository": "publicrepos/app", "digest": "sha256:aa"}},
    ]}
    assert [(e["event"], e["user"], e["client"], e["repository"], e["tag"], e["digest"])
            for e in audit.registry_events(envelope)] == [
        ("push", "firstuser", "203.0.113.7", "publicrepos/app", "v1", "sha256:aa"),
        ("delete", "admin", "2001:db8::1", "publicrepos/app", "", "sha256:aa")]
