"""The metrics endpoints of a registry server (_metrics): one list for nginx's locations and Prometheus' targets."""

from ansible_collections.sovereign.registry.plugins.module_utils._metrics import metrics_targets


def test_every_endpoint_with_the_exporters_and_the_audit_trail():
    targets = metrics_targets(2, 5050, 5200, 5300, 9100, 9113)
    assert [(t["path"], t["port"], t["component"], t["instance"]) for t in targets] == [
        ("/metrics/registry/1", 5050, "registry", "1"),
        ("/metrics/registry/2", 5051, "registry", "2"),
        ("/metrics/login-guard", 5200, "login_guard", "1"),
        ("/metrics/audit", 5300, "audit", "1"),
        ("/metrics/node", 9100, "node", "1"),
        ("/metrics/nginx", 9113, "nginx", "1"),
    ]


def test_what_is_off_has_no_endpoint_and_ports_may_come_as_strings():
    targets = metrics_targets("3", "6000", "5200")
    assert [t["path"] for t in targets] == [
        "/metrics/registry/1", "/metrics/registry/2", "/metrics/registry/3", "/metrics/login-guard"]
    assert targets[2]["port"] == 6002
