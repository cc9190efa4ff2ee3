"""Clients in a loop while something happens to the stack: counted per phase, every failure kept.

``client_loop`` is a registry client that starts anew each iteration (a new
connection and a new token, as a docker client does) and pulls a manifest,
pulls anonymously, pushes a small new image, or logs in (a token without
scope, as ``docker login`` asks). ``docker_pull_loop`` runs the
docker CLI itself. ``reads_loop`` sends rounds of clients at once. Each runs
until its stop file exists or its time is up.
"""

from __future__ import annotations

import collections
import os
import subprocess
import threading
import time
from typing import Any, Dict, List, Optional

from e2e import docker_cli
from e2e.images import Pusher
from e2e.stack import ACCEPT_MANIFEST, Stack

MODES = ("user-pull", "anonymous-pull", "push", "login")
# The phase between faults (molecule/faults).
CALM = "calm"


def phase_of(phase_file: Optional[str]) -> str:
    """The phase the scenario wrote last (rotation: before, during, after...); one phase without a file."""
    if not phase_file:
        return "all"
    try:
        with open(phase_file, encoding="utf-8") as handle:
            return handle.read().strip() or "setup"
    except OSError:
        return "setup"


def counted_phase(began: str, ended: str) -> str:
    """The phase a request counts in: the one it began in; but one that began in the calm between faults and
    ended in a fault counts in that fault (the fault struck while it was under way)."""
    return ended if began == CALM else began


def client_loop(stack: Stack, mode: str, repository: str, user: Optional[str], password: Optional[str],
                stop_file: str, max_seconds: float, interval: float, phase_file: Optional[str] = None) -> Dict[str, Any]:
    """{phase: {total, failed, errors}}; an iteration starts INTERVAL s after the one before at the earliest,
    so that a loop stays under nginx's token rate limit."""
    counts: Dict[str, Dict[str, Any]] = collections.defaultdict(lambda: {"total": 0, "failed": 0, "errors": []})
    credentials = (None, None) if mode == "anonymous-pull" else (user, password)
    deadline = time.time() + max_seconds
    number = 0
    while not os.path.exists(stop_file) and time.time() < deadline:
        began = phase_of(phase_file)
        number += 1
        started = time.time()
        error = None
        try:
            client = stack.registry(*credentials)
            if mode == "login":
                answer = stack.token([], user, password)
                if answer.status != 200:
                    raise OSError("login as %s: HTTP %d" % (user, answer.status))
            elif mode == "push":
                Pusher(client).image(repository, "loop-%d" % number, "loop-%d-%d" % (os.getpid(), number), 1024,
                                     "2026-01-01T00:00:00Z")
            else:
                client.call("GET", "/v2/%s/manifests/1" % repository, "repository:%s:pull" % repository,
                            {"Accept": ACCEPT_MANIFEST})
        except Exception as exc:  # pylint: disable=broad-except  # every failure counts, whatever it is
            error = str(exc)[:200]
        phase = counted_phase(began, phase_of(phase_file))
        counts[phase]["total"] += 1
        if error is not None:
            counts[phase]["failed"] += 1
            if len(counts[phase]["errors"]) < 20:
                counts[phase]["errors"].append("%.3f %s" % (time.time(), error))
        time.sleep(max(0.0, started + interval - time.time()))
    return dict(counts)


def docker_pull_loop(image: str, stop_file: str, interval: float = 0, phase_file: Optional[str] = None) -> Dict[str, Any]:
    """docker pull, docker rmi, again (a pull starting INTERVAL s after the one before at the earliest), until
    STOP_FILE exists: pulls, failures (began, seconds), layer retries, and each pull's [phase, ok, layer retries]
    (the phase PHASE_FILE named when it began)."""
    pulls, failed, retries, errors, each = 0, [], 0, [], []
    started = time.time()
    while not os.path.exists(stop_file):
        time.sleep(max(0.0, started + pulls * interval - time.time()))
        phase = phase_of(phase_file)
        began = time.time()
        proc = subprocess.run(["docker", "pull", image], capture_output=True, text=True, check=False)
        phase = counted_phase(phase, phase_of(phase_file))
        pulls += 1
        retried = docker_cli.retries(proc.stdout + proc.stderr)
        retries += retried
        each.append([phase, proc.returncode == 0, retried])
        if proc.returncode != 0:
            failed.append([began, time.time() - began])
            errors.append("%.1f s (%s): %s" % (began - started, phase, proc.stderr.strip()[-300:]))
        subprocess.run(["docker", "image", "rm", image], capture_output=True, check=False)
    return {"pulls": pulls, "failed": failed, "layer_retries": retries, "seconds": round(time.time() - started, 1),
            "errors": errors[:5], "each": each}


def reads_at_once(stack: Stack, repository: str, tag: str, count: int, user: str, password: str) -> List[List[Any]]:
    """COUNT clients at once, each a token and a HEAD of the manifest: [token status, manifest status, seconds]."""
    results: List[List[Any]] = [[] for _client in range(count)]

    def one(index: int) -> None:
        began = time.time()
        try:
            answer = stack.token(["repository:%s:pull" % repository], user, password)
            status = None
            if answer.token:
                status = stack.request("HEAD", "/v2/%s/manifests/%s" % (repository, tag),
                                       {"Authorization": "Bearer " + answer.token, "Accept": ACCEPT_MANIFEST})[0]
            results[index] = [answer.status, status, round(time.time() - began, 1)]
        except Exception as error:  # pylint: disable=broad-except  # a read that failed in any way counts
            results[index] = [str(error), None, round(time.time() - began, 1)]

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def reads_loop(stack: Stack, repository: str, tag: str, count: int, stop_file: str, user: str,
               password: str) -> Dict[str, Any]:
    """Rounds of reads_at_once until STOP_FILE exists."""
    reads: List[List[Any]] = []
    while not os.path.exists(stop_file):
        reads.extend(reads_at_once(stack, repository, tag, count, user, password))
    return {"rounds": len(reads) // count, "reads": reads}
