"""Guess a password in a burst, then log in with the right one once the limit has passed.

  auth_burst.py DOMAIN CA USER PASSWORD_FILE COUNT

COUNT token requests with a wrong password, one after the other on new
connections, as a password-guessing client would; then, after waiting for
the rate limit, one with the right password. Prints JSON: the status of each
guess, how many came before the first 429, the headers of the first 429, and
the status of the right login and how long after the burst it was tried.
The limit refills while the guesses run, so the number answered before the
first 429 is the burst plus the rate times the seconds until then.
"""

import json
import ssl
import sys
import time
import urllib.error
import urllib.request
from base64 import b64encode

domain, ca, user, password_file, count = sys.argv[1:6]
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


statuses, first_429_headers, first_429_seconds = [], None, None
started = time.time()
for attempt in range(int(count)):
    status, headers = token("wrong-guess-%d" % attempt)
    statuses.append(status)
    if status == 429 and first_429_headers is None:
        first_429_headers, first_429_seconds = headers, time.time() - started
burst_seconds = time.time() - started
waited = 0
while True:
    status, _headers = token(open(password_file).read().strip())
    if status != 429 or waited > 120:
        break
    time.sleep(1)
    waited += 1
print(json.dumps({"statuses": statuses, "before_first_429": statuses.index(429) if 429 in statuses else len(statuses),
                  "count_429": statuses.count(429), "first_429_headers": first_429_headers,
                  "burst_seconds": round(burst_seconds, 1),
                  "first_429_seconds": None if first_429_seconds is None else round(first_429_seconds, 2), "right_password_status": status,
                  "waited_seconds": waited}))
