# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a registry server serves metrics from: one place for nginx's locations and Prometheus' targets."""

from __future__ import annotations

from typing import Dict, List, Optional, Union

Target = Dict[str, Union[str, int]]


def metrics_targets(registry_instances: int, registry_metrics_port: int, login_guard_port: int,
                    audit_port: Optional[int] = None, node_exporter_port: Optional[int] = None,
                    nginx_exporter_port: Optional[int] = None) -> List[Target]:
    """Every metrics endpoint of one registry server, on its loopback: the PATH nginx serves it at (under
    /metrics/), the loopback PORT it reads /metrics from, its COMPONENT and which one of them (INSTANCE).
    A port given as None (no audit receiver, no exporters) has no target."""
    targets: List[Target] = [
        {"path": "/metrics/registry/%d" % number, "port": int(registry_metrics_port) + number - 1,
         "component": "registry", "instance": str(number)}
        for number in range(1, int(registry_instances) + 1)]
    targets.append({"path": "/metrics/login-guard", "port": int(login_guard_port), "component": "login_guard",
                    "instance": "1"})
    for component, port in (("audit", audit_port), ("node", node_exporter_port), ("nginx", nginx_exporter_port)):
        if port not in (None, "", 0):
            targets.append({"path": "/metrics/%s" % component, "port": int(port), "component": component,
                            "instance": "1"})
    return targets
