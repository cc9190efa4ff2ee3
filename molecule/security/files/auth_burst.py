"""Guess a password in a burst, then log in with the right one once the limit has passed.

  auth_burst.py DOMAIN CA USER PASSWORD_FILE COUNT CLIENTS

COUNT token requests with a wrong password from CLIENTS parallel clients,
each on new connections, as a password-guessing client would: in parallel,
so that the guesses come faster than the rate limit however slowly the
token server answers (one after the other, each waits for a bcrypt
verification). Then,
after waiting for the rate limit, one with the right password. Prints JSON:
the status of each guess in the order they were answered, how many were
answered before the first 429, the headers of the first 429, and the status
of the right login and how long after the burst it was tried. The limit
is a token bucket: the guesses that reach the token server (`accepted`,
every answer but 429) are at most the burst plus the rate times the seconds
the guesses ran, plus one.
"""

import json
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
import urllib.error
import urllib.request
from base64 import b64encode

domain, ca, user, password_file, count, clients = sys.argv[1:7]
context = ssl.create_default_context(cafile=ca)
url = "https://%s/auth/auth?service=%s&account=%s" % (domain, domain, user)


def token(password):
    request = urllib.request.Request(url, headers={
        "Authorization": "Basic " + b64encode(("%s:%s" % (user, password)).encode()).decode()})
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as answer:
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


statuses, first_429 = [], {}
lock = threading.Lock()
started = time.time()


def guess(attempt):
    status, headers = token("wrong-guess-%d" % attempt)
    with lock:
        statuses.append(status)
        if status == 429 and not first_429:
            first_429.update(headers=headers, seconds=time.time() - started)


with ThreadPoolExecutor(max_workers=int(clients)) as pool:
    list(pool.map(guess, range(int(count))))
burst_seconds = time.time() - started
waited = 0
while True:
    status, _headers = token(open(password_file).read().strip())
    if status != 429 or waited > 120:
        break
    time.sleep(1)
    waited += 1
print(json.dumps({"statuses": statuses, "accepted": len(statuses) - statuses.count(429),
                  "count_429": statuses.count(429), "first_429_headers": first_429.get("headers"),
                  "burst_seconds": round(burst_seconds, 1),
                  "first_429_seconds": round(first_429["seconds"], 2) if first_429 else None, "clients": int(clients),
                  "right_password_status": status,
                  "waited_seconds": waited}))
