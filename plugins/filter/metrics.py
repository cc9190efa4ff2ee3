# -*- coding: utf-8 -*-
# Copyright: sovereign.registry contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter of the metrics: the endpoints of a registry server, for nginx and for Prometheus."""

from __future__ import annotations

from typing import Any, Callable, Dict

from ansible_collections.sovereign.registry.plugins.module_utils._metrics import metrics_targets


class FilterModule:
    """sovereign.registry.metrics_targets"""

    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"metrics_targets": metrics_targets}
