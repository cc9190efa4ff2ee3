"""Guess a password in a burst, then log in with the right one once the limit has passed.

COUNT token requests with a wrong password from CLIENTS parallel clients,
each on a new connection, as a password-guessing client would: in parallel,
so that the guesses come faster than the rate limit however slowly the
token server answers (one after the other, each waits for a bcrypt
verification). Then, after waiting for the rate limit, one with the right
password. The limit is a token bucket: the guesses that reach the token
server (``accepted``, every answer but 429) are at most the burst plus the
rate times the seconds the guesses ran, plus one.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

from e2e.stack import Stack


def auth_burst(stack: Stack, user: str, password: str, count: int, clients: int) -> Dict[str, Any]:
    """The status of each guess in the order they were answered, how many were answered before the first 429,
    the headers of the first 429, and the status of the right login and how long after the burst it was tried."""
    statuses: List[int] = []
    first_429: Dict[str, Any] = {}
    lock = threading.Lock()
    started = time.time()

    def guess(attempt: int) -> None:
        answer = stack.token([], user, "wrong-guess-%d" % attempt, account=user)
        with lock:
            statuses.append(answer.status)
            if answer.status == 429 and not first_429:
                first_429.update(headers=answer.headers, seconds=time.time() - started)

    with ThreadPoolExecutor(max_workers=clients) as pool:
        list(pool.map(guess, range(count)))
    burst_seconds = time.time() - started
    waited = 0
    while True:
        status = stack.token([], user, password, account=user).status
        if status != 429 or waited > 120:
            break
        time.sleep(1)
        waited += 1
    return {"statuses": statuses, "accepted": len(statuses) - statuses.count(429),
            "count_429": statuses.count(429), "first_429_headers": first_429.get("headers"),
            "burst_seconds": round(burst_seconds, 1),
            "first_429_seconds": round(first_429["seconds"], 2) if first_429 else None, "clients": clients,
            "right_password_status": status, "waited_seconds": waited}
