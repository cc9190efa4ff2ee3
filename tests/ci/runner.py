"""How scripts/test runs the table of suites (tests/ci/suites.py): lanes, shared deployments, the summary.

Lanes run at once, each its suites in table order; a lane's output goes to
.cache/test-logs/LANE.log and is shown whole once every lane is done, and a
line per suite is printed as it ends. A suite that needs a shared deployment
gets it from the deployment's first suite in its lane (which creates it); the
deployment is removed after the lane's last suite that needs it. When the
creating suite fails, the suites on that deployment fail without running.

The run ends with every suite's result, a table of wall times and their
share of the total, a "why" line per failed suite (the error that stopped
it, on one line: the end of a long output is sometimes all one gets to
see), and "N passed, N failed".
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import threading
import time
from typing import Dict, List, Optional, Sequence, TextIO, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOGS = os.path.join(REPO, ".cache", "test-logs")
# The lane that runs first, alone, and the one that runs after every other.
SETUP, LAST = "setup", "last"


@dataclasses.dataclass(frozen=True)
class Suite:
    """One proof: KEY (short, for the tables), NAME (what it proves), and the bash COMMAND that runs it.

    VERSIONS: the registry versions it runs for (None: once, version-free);
    with ONCE, only for the first of them that the run tests. DEPLOYMENT: the
    shared deployment it runs on, if any; CREATES: it is the suite that
    creates that deployment. LANE: where it runs; "{version}" in any of the
    texts is the version. NEEDS_SETUP: false for a suite that needs neither
    the images, nor the installed collection, nor the test host image (a
    run of only such suites skips the setup)."""

    key: str
    name: str
    command: str
    lane: str
    versions: Optional[Tuple[str, ...]] = None
    deployment: Optional[str] = None
    creates: bool = False
    once: bool = False
    needs_setup: bool = True


@dataclasses.dataclass(frozen=True)
class Job:
    """A suite for one version (or none)."""

    suite: Suite
    version: str

    def text(self, value: str) -> str:
        return value.replace("{version}", self.version)

    @property
    def key(self) -> str:
        return self.text(self.suite.key)

    @property
    def name(self) -> str:
        return self.text(self.suite.name)

    @property
    def lane(self) -> str:
        return self.text(self.suite.lane)

    @property
    def deployment(self) -> Optional[str]:
        return self.text(self.suite.deployment) if self.suite.deployment else None


@dataclasses.dataclass
class Result:
    job: Job
    passed: bool
    seconds: float
    why: str = ""


def jobs(table: Sequence[Suite], versions: Sequence[str]) -> List[Job]:
    """Every suite for every version it runs for that this run tests, in table order."""
    found = []
    for suite in table:
        chosen = [v for v in suite.versions if v in versions] if suite.versions is not None else [""]
        for version in chosen[:1] if suite.once else chosen:
            found.append(Job(suite, version))
    return found


def why_failed(output: str) -> str:
    """The last error in a failed suite's output (the Ansible task that stopped the play, pytest's FAILED line,
    a traceback; else the last line that says error), without a task result's bookkeeping, on one line."""
    lines = [re.sub(r"^ *│ ?", "", re.sub(r"\x1b\[[0-9;]*m", "", line)) for line in output.splitlines()]
    last = error = None
    for number, line in enumerate(lines):
        if re.search(r"fatal: |FAILED!|^FAILED |Traceback", line):
            last = number
        if re.search(r"(?i)error", line):
            error = number
    start = last if last is not None else error
    if start is None:
        return "no error line found; see the lane's log above"
    bookkeeping = re.compile(r"^ *(- |(cmd|start|end|delta|changed|rc|stdout_lines|stderr_lines|invocation):)")
    kept = [line for line in lines[start:start + 60] if not bookkeeping.match(line)][:30]
    return re.sub(r"\s+", " ", " ".join(kept)).strip()[:1500]


class Run:
    """One run of the table: lanes in threads, results as they come."""

    def __init__(self, table: Sequence[Suite], versions: Sequence[str], console: TextIO = sys.stdout) -> None:
        self.jobs = jobs(table, versions)
        self.versions = list(versions)
        self.console = console
        self.results: Dict[Job, Result] = {}
        self.lock = threading.Lock()
        self.started = time.time()
        os.makedirs(LOGS, exist_ok=True)

    def env(self, job: Job) -> Dict[str, str]:
        env = dict(os.environ, SOVEREIGN_TEST_VERSIONS=" ".join(self.versions), SOVEREIGN_TEST_FIRST_VERSION=self.versions[0])
        if job.version:
            env["SOVEREIGN_REGISTRY_VERSION"] = job.version
        if job.deployment:
            env["SOVEREIGN_TEST_SHARED"] = job.deployment
        return env

    def run_job(self, job: Job, log: TextIO, refused: str = "") -> Result:
        log.write("\n==> %s\n" % job.name)
        log.flush()
        started = time.time()
        if refused:
            log.write(refused + "\n")
            result = Result(job, False, 0.0, refused)
        else:
            command = "source tests/ci/commands.sh && " + job.text(job.suite.command)
            # Straight into the lane's log, so that a running suite can be watched there.
            log.flush()
            start = os.lseek(log.fileno(), 0, os.SEEK_CUR)
            proc = subprocess.run(["bash", "-c", command], cwd=REPO, env=self.env(job), stdin=subprocess.DEVNULL,
                                  stdout=log, stderr=subprocess.STDOUT, check=False)
            log.flush()
            why = ""
            if proc.returncode != 0:
                with open(log.name, "rb") as written:
                    written.seek(start)
                    why = why_failed(written.read().decode("utf-8", "replace"))
            result = Result(job, proc.returncode == 0, time.time() - started, why)
        with self.lock:
            self.results[job] = result
            self.console.write("%s [%s] %s\n" % (time.strftime("%H:%M:%S", time.gmtime()), job.lane, line(result)))
            self.console.flush()
        return result

    def lane(self, name: str, lane_jobs: List[Job], log: TextIO) -> None:
        """Run a lane's jobs in order; a shared deployment lives from its creating job to its last user."""
        broken: Dict[str, str] = {}
        last_user = {job.deployment: job for job in lane_jobs if job.deployment}
        for job in lane_jobs:
            refused = broken.get(job.deployment or "", "")
            result = self.run_job(job, log, refused)
            if job.suite.creates and not result.passed and job.deployment:
                broken[job.deployment] = "not run: its deployment %s did not come up (%s)" % (job.deployment, job.key)
            if job.deployment and last_user[job.deployment] is job:
                subprocess.run(["python3", "tests/testhosts/testhosts.py", "down", job.deployment], cwd=REPO,
                               stdout=log, stderr=subprocess.STDOUT, check=False)
        log.write("\n(lane %s finished)\n" % name)

    def run(self) -> None:
        """The lane SETUP first, alone (what every lane needs); then the other lanes at once; then the lane LAST."""
        lanes: Dict[str, List[Job]] = {}
        for job in self.jobs:
            lanes.setdefault(job.lane, []).append(job)
        with open(os.path.join(LOGS, SETUP + ".log"), "w", encoding="utf-8") as log:
            for job in lanes.pop(SETUP, []):
                if not self.run_job(job, log).passed:
                    break
        with open(os.path.join(LOGS, SETUP + ".log"), encoding="utf-8") as handle:
            self.console.write(handle.read())
        if not all(result.passed for result in self.results.values()):
            return
        last = lanes.pop(LAST, [])
        threads = []
        for name, lane_jobs in lanes.items():
            handle = open(os.path.join(LOGS, name + ".log"), "w", encoding="utf-8")  # pylint: disable=consider-using-with
            thread = threading.Thread(target=self._lane_closing, args=(name, lane_jobs, handle))
            thread.start()
            threads.append((name, thread))
        for name, thread in threads:
            thread.join()
        for name, _thread in threads:
            with open(os.path.join(LOGS, name + ".log"), encoding="utf-8") as handle:
                self.console.write("\n======== lane %s ========\n" % name)
                self.console.write(handle.read())
        with open(os.path.join(LOGS, LAST + ".log"), "w", encoding="utf-8") as log:
            for job in last:
                self.run_job(job, log)
        with open(os.path.join(LOGS, LAST + ".log"), encoding="utf-8") as handle:
            self.console.write(handle.read())

    def _lane_closing(self, name: str, lane_jobs: List[Job], handle: TextIO) -> None:
        with handle:
            self.lane(name, lane_jobs, handle)

    def summary(self) -> bool:
        ordered = [self.results[job] for job in self.jobs if job in self.results]
        missing = [job for job in self.jobs if job not in self.results]
        out = self.console
        out.write("\n")
        for result in ordered:
            out.write(line(result) + "\n")
        for job in missing:
            out.write("FAIL     %s: not run (an earlier step failed)\n" % job.name)
        wall = time.time() - self.started
        out.write("\n" + timing_table(ordered, wall) + "\n")
        whys = [r for r in ordered if not r.passed]
        if whys:
            out.write("\n" + "".join("why: %s: %s\n" % (r.job.name, r.why) for r in whys))
        passed = sum(r.passed for r in ordered)
        failed = len(ordered) - passed + len(missing)
        out.write("\n%d passed, %d failed\n" % (passed, failed))
        return failed == 0


def line(result: Result) -> str:
    if result.passed:
        return "PASS     %s (%ds)" % (result.job.name, result.seconds)
    return "FAIL     %s (%ds)" % (result.job.name, result.seconds)


def minutes(seconds: float) -> str:
    return "%dm%02ds" % (seconds // 60, seconds % 60)


def timing_table(results: Sequence[Result], wall: float) -> str:
    """Each suite's wall time and its share of all suites' time; the lanes' sums; the total wall time."""
    width = max([len(r.job.key) for r in results] + [5])
    spent = max(sum(r.seconds for r in results), 1)
    rows = ["%-*s  %-14s %8s %6s" % (width, "suite", "lane", "wall", "share")]
    for result in results:
        share = 100 * result.seconds / spent
        rows.append("%-*s  %-14s %8s %5.1f%%" % (width, result.job.key, result.job.lane, minutes(result.seconds), share))
    lanes: Dict[str, float] = {}
    for result in results:
        lanes[result.job.lane] = lanes.get(result.job.lane, 0) + result.seconds
    rows.append("lanes: " + ", ".join("%s %s" % (k, minutes(v)) for k, v in lanes.items()) + "; all suites %s" % minutes(spent))
    rows.append("total wall time: %s" % minutes(wall))
    return "\n".join(rows)
