"""Token requests at full speed: curl's parallel mode, the load generator of the benchmark and the security scenario."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence, Tuple


def token_load(url: str, curl_args: Sequence[str], seconds: float, clients: int, user: Optional[str],
               password: Optional[str], reuse: bool, workdir: str) -> Dict[str, Any]:
    """GET URL (a token request) from CLIENTS at once, as USER or anonymously, for at least SECONDS.

    Batches of 25 requests per client until SECONDS have passed. A new
    connection each unless REUSE: the server closes it after the answer
    (Connection: close) and no TLS session is resumed, as a docker client
    does on a new connection. Returns the successful requests per second,
    every status seen (``codes``), latencies of the successful ones and the
    load generator's own CPU time per request.
    """
    batch = clients * 25
    os.makedirs(workdir, mode=0o700, exist_ok=True)
    config = os.path.join(workdir, "token-requests")
    fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        # The password in a 0600 file, not on a command line that ps shows.
        if user:
            handle.write('user = "%s:%s"\n' % (user, password))
        if not reuse:
            handle.write('no-sessionid\nheader = "Connection: close"\n')
        handle.write('url = "%s"\noutput = /dev/null\n' % url * batch)
    latencies: List[float] = []
    codes: Dict[str, int] = {}
    before = os.times()
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < seconds:
            out = subprocess.run(["curl", "-sS", *curl_args, "--parallel", "--parallel-max", str(clients),
                                  "--parallel-immediate", "-K", config, "-w", "%{http_code} %{time_total}\n"],
                                 check=False, capture_output=True, text=True).stdout
            for line in out.splitlines():
                code, request_seconds = line.split()
                codes[code] = codes.get(code, 0) + 1
                if code == "200":
                    latencies.append(float(request_seconds))
    finally:
        os.unlink(config)
    took = time.perf_counter() - started
    after = os.times()
    if not latencies:
        raise SystemExit("no token request of %s succeeded: HTTP %s" % (user or "anonymous", codes))
    latencies.sort()
    client_cpu = (after.children_user + after.children_system) - (before.children_user + before.children_system)
    return {"per_second": len(latencies) / took, "requests": len(latencies), "failures": sum(codes.values()) - len(latencies),
            "codes": codes, "seconds": took,
            "p50_ms": 1000 * statistics.median(latencies), "p99_ms": 1000 * latencies[max(int(len(latencies) * 0.99) - 1, 0)],
            "client_cpu_ms": 1000 * client_cpu / sum(codes.values())}


def fleet(url_of: Dict[str, str], curl_args: Sequence[str], seconds: float, clients: int,
          credentials: Dict[str, Tuple[Optional[str], Optional[str]]], workdir: str) -> Dict[str, Any]:
    """Several kinds of token requests at once from this one address, CLIENTS of each kind, for SECONDS:
    URL_OF and CREDENTIALS per kind (user and password, or None for anonymous). Each kind's figures."""
    with ThreadPoolExecutor(max_workers=len(url_of)) as pool:
        running = {kind: pool.submit(token_load, url, curl_args, seconds, clients, credentials[kind][0],
                                     credentials[kind][1], False, os.path.join(workdir, kind))
                   for kind, url in url_of.items()}
        return {kind: future.result() for kind, future in running.items()}
