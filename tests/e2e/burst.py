"""Password guessing against the login guard, the real user meanwhile, and the time a wrong login takes.

``guesses``: wrong passwords for SECONDS, CLIENTS at once, each on a new
connection, round-robin over the client host's SOURCES addresses and the
ACCOUNTS guessed, as a botnet would: in parallel, so that the guesses come
faster than the token server answers. Every answer but 429 reached
docker_auth (``accepted``). Meanwhile, every half second, the real user logs
in from the host's own address (and from a NEWCOMER address, which never
logged in to the account): most of those logins come while the guesses are
being refused. The guessing goes on past SECONDS until the real user has
logged in REAL_LOGINS times (on a loaded machine a login can take a second),
so that every one of those logins meets the attack.

``timing``: wrong passwords for a known account and logins of names that are
no account, alternately, one at a time on a new connection each: their
medians, their fastest answers and whether the answers are the same. The
fastest answer of each kind is the one least slowed by whatever else runs
(a CI machine's other lanes stretch single answers threefold); a name
answered without a password check costs only the connection and the
request (45 ms against 119 ms with a password check, on the machine where
this was written).
"""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence, Tuple

from e2e.stack import Stack

REAL_LOGINS = 5


def guesses(domain: str, ca: str, accounts: Sequence[str], seconds: float, clients: int, sources: Sequence[str],
            real: Optional[Tuple[str, str]] = None, newcomer: Optional[str] = None) -> Dict[str, Any]:
    """The answers to the guesses, and the real user's logins (REAL: account and password) while they ran."""
    statuses: List[int] = []
    retry_after: List[int] = []
    first_429: Dict[str, Any] = {}
    lock = threading.Lock()
    done = threading.Event()
    started = time.time()

    attempts = itertools.count()

    def guess(attempt: int) -> None:
        stack = Stack(domain, ca, source=sources[attempt % len(sources)])
        account = accounts[attempt % len(accounts)]
        answer = stack.token([], account, "wrong-guess-%d" % attempt, account=account)
        with lock:
            statuses.append(answer.status)
            if answer.status == 429:
                retry_after.append(int(answer.headers.get("retry-after", "0")))
                if not first_429:
                    first_429.update(headers=answer.headers, body=answer.body.decode("utf-8", "replace"),
                                     seconds=time.time() - started)

    real_statuses: List[int] = []
    newcomer_statuses: List[int] = []

    def real_user() -> None:
        while real is not None:
            real_statuses.append(Stack(domain, ca).token([], real[0], real[1], account=real[0]).status)
            if newcomer:
                newcomer_statuses.append(Stack(domain, ca, source=newcomer).token([], real[0], real[1], account=real[0]).status)
            if done.wait(0.5):
                return

    def attacking() -> bool:
        elapsed = time.time() - started
        # Bounded, so that a real user who never gets an answer ends the burst too.
        waiting_for_real_user = real is not None and len(real_statuses) < REAL_LOGINS and elapsed < 4 * seconds
        return elapsed < seconds or waiting_for_real_user

    def guesser() -> None:
        while attacking():
            guess(next(attempts))

    watcher = threading.Thread(target=real_user)
    watcher.start()

    with ThreadPoolExecutor(max_workers=clients) as pool:
        for running in [pool.submit(guesser) for _client in range(clients)]:
            running.result()
    took = time.time() - started
    done.set()
    watcher.join()
    return {"accepted": len(statuses) - statuses.count(429), "count_429": statuses.count(429),
            "other": sorted({status for status in statuses if status not in (401, 429)}),
            "guesses": len(statuses), "seconds": round(took, 2), "clients": clients, "addresses": len(sources), "accounts": len(accounts),
            "max_retry_after": max(retry_after, default=0),
            "first_429_seconds": round(first_429["seconds"], 2) if first_429 else None,
            "first_429_headers": first_429.get("headers"), "first_429_body": first_429.get("body"),
            "real_statuses": real_statuses, "newcomer_statuses": newcomer_statuses}


def timing(domain: str, ca: str, account: str, rounds: int, sources: Sequence[str]) -> Dict[str, Any]:
    """ROUNDS of: a wrong password for ACCOUNT, then a login as a name that is no account, from SOURCES in turn."""
    known: List[float] = []
    unknown: List[float] = []
    answers = set()
    for number in range(rounds):
        stack = Stack(domain, ca, source=sources[number % len(sources)])
        for account_name, seconds in ((account, known), ("nobody-%d-%d" % (int(time.time()), number), unknown)):
            answer = stack.token([], account_name, "wrong-timing-%d" % number, account=account_name)
            seconds.append(answer.seconds)
            answers.add((answer.status, answer.body))
    known_ms = 1000 * statistics.median(known)
    unknown_ms = 1000 * statistics.median(unknown)
    return {"rounds": rounds, "known_median_ms": round(known_ms, 1), "unknown_median_ms": round(unknown_ms, 1),
            "ratio": round(unknown_ms / known_ms, 3),
            "known_fastest_ms": round(1000 * min(known), 1), "unknown_fastest_ms": round(1000 * min(unknown), 1),
            "fastest_ratio": round(min(unknown) / min(known), 3),
            "known_ms": [round(1000 * s) for s in known], "unknown_ms": [round(1000 * s) for s in unknown],
            "answers": sorted([status, body.decode("utf-8", "replace")] for status, body in answers)}
