"""Compare OCI conformance results test by test: the stack must pass what the bare registry passes.

  compare.py BARE_JUNIT STACK_JUNIT [STACK_JUNIT ...]

A test name can repeat in one run, and the order of repeated tests and the
random sizes differ between runs, so what is compared is how many times each
name passed. Prints JSON: the totals of each run and every test the bare
registry passes more often than a stack run; exits 1 when there is one.
"""

import collections
import json
import os
import sys
import xml.etree.ElementTree as ET


def results(path):
    counts = collections.defaultdict(collections.Counter)
    for case in ET.parse(path).getroot().iter("testcase"):
        counts[case.get("name")][case.get("status")] += 1
    return counts


def totals(counts):
    return dict(sum(counts.values(), collections.Counter()))


def main(bare_path, *stack_paths):
    bare = results(bare_path)
    report = {"bare": totals(bare), "stack": {}, "regressions": {}}
    for path in stack_paths:
        name = os.path.basename(path).rsplit(".", 1)[0]
        stack = results(path)
        report["stack"][name] = totals(stack)
        lost = {test: {"bare": dict(counts), "stack": dict(stack.get(test, {}))}
                for test, counts in sorted(bare.items())
                if stack.get(test, collections.Counter())["passed"] < counts["passed"]}
        if lost:
            report["regressions"][name] = lost
    print(json.dumps(report, indent=1, sort_keys=True))
    # A bare run that passed almost nothing would make the comparison empty.
    return 1 if report["regressions"] or report["bare"].get("passed", 0) < 500 else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
