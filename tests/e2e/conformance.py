"""Compare OCI conformance results test by test: the stack must pass what the bare registry passes.

A test name can repeat in one run, and the order of repeated tests and the
random sizes differ between runs, so what is compared is how many times each
name passed. The report holds the totals of each run and every test the bare
registry passes more often than a stack run.
"""

from __future__ import annotations

import collections
import os
import xml.etree.ElementTree as ET
from typing import Any, Dict

Counts = Dict[str, "collections.Counter[str]"]
# A bare run that passed almost nothing would make the comparison empty.
BARE_PASSED_AT_LEAST = 500


def results(path: str) -> Counts:
    counts: Counts = collections.defaultdict(collections.Counter)
    for case in ET.parse(path).getroot().iter("testcase"):
        counts[case.get("name") or ""][case.get("status") or ""] += 1
    return counts


def totals(counts: Counts) -> Dict[str, int]:
    return dict(sum(counts.values(), collections.Counter()))


def compare(bare_path: str, *stack_paths: str) -> Dict[str, Any]:
    """{bare, stack, regressions, ok}: ok when no stack run lost a test and the bare run passed enough."""
    bare = results(bare_path)
    report: Dict[str, Any] = {"bare": totals(bare), "stack": {}, "regressions": {}}
    for path in stack_paths:
        name = os.path.basename(path).rsplit(".", 1)[0]
        stack = results(path)
        report["stack"][name] = totals(stack)
        lost = {test: {"bare": dict(counts), "stack": dict(stack.get(test, {}))}
                for test, counts in sorted(bare.items())
                if stack.get(test, collections.Counter())["passed"] < counts["passed"]}
        if lost:
            report["regressions"][name] = lost
    report["ok"] = not report["regressions"] and report["bare"].get("passed", 0) >= BARE_PASSED_AT_LEAST
    return report
