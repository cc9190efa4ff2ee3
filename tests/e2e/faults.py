"""Faults under load (molecule/faults): a docker push loop, the fault table, and pushes missing from the audit trail.

The scenario runs client loops (loops.py) and this push loop on the client
test host, writes the fault it injects into their phase file, and notes each
fault in a timeline (one JSON line each: fault, injected, recovered,
recovery). ``table`` then counts, per fault, what every client saw in it.
"""

from __future__ import annotations

import glob
import json
import os
import time
from typing import Any, Dict, List, Set, Tuple

from e2e.docker_cli import build_random, docker, push
from e2e.loops import CALM, counted_phase, phase_of

COLUMNS = ("requests", "failed_pulls", "failed_logins", "failed_pushes", "pushes_retried")


def docker_push_loop(repository: str, stop_file: str, workdir: str, interval: float,
                     phase_file: str | None) -> Dict[str, Any]:
    """docker build of a new image (its own 256 KiB of random data) and docker push to REPOSITORY (HOST/NAME),
    tags p1, p2, ..., until STOP_FILE exists. Each push: phase, ok, the digest docker printed, its layer retries;
    PUSHED: {reference: digest} of every push docker said succeeded."""
    context = os.path.join(workdir, "push-loop")
    pushes: List[Dict[str, Any]] = []
    pushed: Dict[str, str] = {}
    started = time.time()
    while not os.path.exists(stop_file):
        time.sleep(max(0.0, started + len(pushes) * interval - time.time()))
        ref = "%s:p%d" % (repository, len(pushes) + 1)
        build_random(ref, context, 256 * 1024)
        phase = phase_of(phase_file)
        began = time.time()
        result = push(ref)
        phase = counted_phase(phase, phase_of(phase_file))
        pushes.append({"phase": phase, "ref": ref, "ok": result["rc"] == 0 and bool(result["digest"]),
                       "digest": result["digest"], "retries": result["retries"], "seconds": round(time.time() - began, 1),
                       "error": "" if result["rc"] == 0 else result["output"][-300:]})
        if pushes[-1]["ok"]:
            pushed[ref] = result["digest"]
        docker("image", "rm", ref)
    return {"pushes": pushes, "pushed": pushed}


def _load(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _counted(loops: List[str]) -> Tuple[Dict[str, Dict[str, int]], Dict[str, List[str]]]:
    """{phase: {column: count}} and {phase: [first errors]} from the loops' results (KIND=FILE)."""
    rows: Dict[str, Dict[str, int]] = {}
    errors: Dict[str, List[str]] = {}

    def row(phase: str) -> Dict[str, int]:
        return rows.setdefault(phase, dict.fromkeys(COLUMNS, 0))

    for spec in loops:
        kind, path = spec.split("=", 1)
        result = _load(path)
        if kind == "pull":  # loops.docker_pull_loop
            for phase, ok, _retries in result["each"]:
                row(phase)["requests"] += 1
                row(phase)["failed_pulls"] += 0 if ok else 1
            for error in result["errors"]:
                errors.setdefault(error.split("(", 1)[-1].split(")", 1)[0], []).append("docker pull: " + error)
        elif kind == "push":  # docker_push_loop
            for each in result["pushes"]:
                row(each["phase"])["requests"] += 1
                row(each["phase"])["failed_pushes"] += 0 if each["ok"] else 1
                row(each["phase"])["pushes_retried"] += 1 if each["ok"] and each["retries"] else 0
                if not each["ok"]:
                    errors.setdefault(each["phase"], []).append("docker push %s: %s" % (each["ref"], each["error"]))
        else:  # loops.client_loop: api-pull= or api-login=
            column = "failed_logins" if kind == "api-login" else "failed_pulls"
            for phase, counts in result.items():
                row(phase)["requests"] += counts["total"]
                row(phase)[column] += counts["failed"]
                errors.setdefault(phase, []).extend("%s: %s" % (kind, error) for error in counts["errors"][:3])
    return rows, errors


def table(timeline: str, loops: List[str]) -> Dict[str, Any]:
    """One row per fault of TIMELINE, in its order, and one for the calm between faults: what the clients saw
    while the phase named the fault, and its recovery (seconds from the fault until the part answered again)."""
    with open(timeline, encoding="utf-8") as handle:
        faults = [json.loads(line) for line in handle if line.strip()]
    counted, errors = _counted(loops)
    rows = []
    for fault in faults + [{"fault": CALM, "recovery": None, "note": "between the faults"}]:
        rows.append(dict(counted.get(fault["fault"], dict.fromkeys(COLUMNS, 0)), fault=fault["fault"],
                         recovery=fault["recovery"], note=fault.get("note", ""),
                         errors=errors.get(fault["fault"], [])[:5]))
    head = "| fault | requests | failed pulls | failed logins | failed pushes | pushes ok on retry | recovery (s) |"
    lines = [head, "|" + " --- |" * 7]
    for row in rows:
        lines.append("| %s | %d | %d | %d | %d | %d | %s |" % (
            row["fault"], row["requests"], row["failed_pulls"], row["failed_logins"], row["failed_pushes"],
            row["pushes_retried"], "-" if row["recovery"] is None else "%.1f" % row["recovery"]))
    return {"rows": {row["fault"]: row for row in rows}, "text": "\n".join(lines)}


def audit_missing(trail: str, pushed: str) -> Dict[str, Any]:
    """The pushes of PUSHED ({host/repository:tag: digest}) that have no push event in the audit TRAIL (and its
    weekly rotations), and how many push events it holds."""
    events: Set[Tuple[str, str, str]] = set()
    for path in sorted(glob.glob(trail + "*")):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                event = json.loads(line)
                if event.get("event") == "push":
                    events.add((event["repository"], event["tag"], event["digest"]))
    wanted = _load(pushed)
    missing = sorted(ref for ref, digest in wanted.items()
                     if (ref.split("/", 1)[1].rsplit(":", 1)[0], ref.rsplit(":", 1)[1], digest) not in events)
    return {"pushes": len(wanted), "push_events": len(events), "missing": missing}
