"""The benchmark's measurements on the registry server itself (tests/benchmark/run.py runs them there).

  data SIZE_MB ROUNDS       pushes and pulls of one blob: straight to an instance, through the
                            stack's nginx, and nginx serving the same file itself (the TLS limit)
  bigblob SIZE_MB           one layer through the stack, nginx's temporary files sampled meanwhile
  image LAYER_MB            docker push and pull of a 5-layer image, cold and warm, through the
                            stack and straight to an instance
  mirror SIZE_MB ROUNDS     pulls of a blob of the upstream (BENCH_UPSTREAM, a registry with basic
                            auth: BENCH_UPSTREAM_USER / BENCH_UPSTREAM_PASSWORD) straight from it, and
                            through the anonymous mirror BENCH_MIRROR of it, cold and warm
  tokens SECONDS CLIENTS    token requests per account kind, new TLS connection each and reused
                            connections
  browse REPOS TAGS ROUNDS  the repository browser's API with REPOS repositories of TAGS tags each
                            (bench/browse-N, seeded straight to an instance): the list as the CI
                            account (who may pull them all), the person and anonymous, and one
                            repository's view, against one login (a token request) of the same account

Credentials come in the environment (BENCH_USER / BENCH_PASSWORD: an account
that may push bench/*; BENCH_HUMAN_USER / BENCH_HUMAN_PASSWORD), the domain
in BENCH_DOMAIN, its CA in BENCH_CA. Transfers and the token load are curl's (its speed is the
measure), the tokens they carry come from ``Stack.token``.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import http.client
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.parse
from typing import Any, Dict, List, Optional, Tuple

from e2e import load
from e2e.stack import Stack, ask_token, token_url

DIRECT = "http://127.0.0.1:5000"
# nginx listens on every address; the name resolves to this host's own.
WORK = "/var/tmp/sovereign-benchmark"
TLS_LIMIT_PORT = 8443
TLS_LIMIT_SITE = "/etc/nginx/conf.d/zz-sovereign-benchmark.conf"
SITE = "/etc/nginx/conf.d/sovereign-registry.conf"


def domain() -> str:
    return os.environ["BENCH_DOMAIN"]


def stack() -> Stack:
    return Stack(domain(), os.environ["BENCH_CA"], "127.0.0.1")


def stack_url() -> str:
    return stack().url("")


def resolve() -> List[str]:
    names = [domain()] + ([os.environ["BENCH_MIRROR"]] if os.environ.get("BENCH_MIRROR") else [])
    return [argument for name in names for argument in ("--resolve", "%s:443:127.0.0.1" % name)]


def curl(*args: str) -> str:
    return subprocess.run(["curl", "-sS", "-k", *resolve(), *args], check=True, capture_output=True, text=True).stdout


def token(scope: str, user: Optional[str] = None, password: Optional[str] = None) -> str:
    """A token for SCOPE as the bench account (or USER), from the stack on this host."""
    user = user or os.environ["BENCH_USER"]
    password = password or os.environ["BENCH_PASSWORD"]
    answer = stack().token([scope], user, password)
    if answer.token is None:
        raise SystemExit("token for %s as %s: HTTP %d" % (scope, user, answer.status))
    return answer.token


def random_file(path: str, size_mb: int) -> str:
    if os.path.exists(path) and os.path.getsize(path) == size_mb << 20:
        return digest_of(path)
    with open(path, "wb") as handle:
        for _megabyte in range(size_mb):
            handle.write(os.urandom(1 << 20))
    return digest_of(path)


def digest_of(path: str) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return "sha256:" + sha.hexdigest()


def push(base: str, repository: str, path: str, digest: str) -> float:
    """A monolithic blob upload; returns MB/s."""
    bearer = "Authorization: Bearer " + token("repository:%s:pull,push" % repository)
    headers = curl("-D", "-", "-o", "/dev/null", "-X", "POST", "-H", bearer, "%s/v2/%s/blobs/uploads/" % (base, repository))
    location = [line.split(":", 1)[1].strip() for line in headers.splitlines() if line.lower().startswith("location:")][0]
    # The registry writes its public URL into Location (http.host): keep
    # only the path, so that a push straight to an instance stays there.
    parts = urllib.parse.urlsplit(location)
    location = base + parts.path + ("?" + parts.query if parts.query else "")
    location += ("&" if "?" in location else "?") + "digest=" + digest
    speed = curl("-o", "/dev/null", "-w", "%{speed_upload} %{http_code}", "-X", "PUT", "-H", bearer,
                 "-H", "Content-Type: application/octet-stream", "-T", path, location).split()
    if speed[1] != "201":
        raise SystemExit("push to %s answered %s" % (base, speed[1]))
    return float(speed[0]) / 1e6


def pull(url: str, bearer: Optional[str] = None, basic: Optional[str] = None) -> float:
    args = ["-o", "/dev/null", "-w", "%{speed_download} %{http_code}"]
    if bearer:
        args += ["-H", "Authorization: Bearer " + bearer]
    if basic:
        args += ["-u", basic]
    speed = curl(*args, url).split()
    if speed[1] != "200":
        raise SystemExit("pull of %s answered %s" % (url, speed[1]))
    return float(speed[0]) / 1e6


def tls_limit_site(on: bool) -> None:
    """A second server on this nginx, same certificate, serving WORK itself: the TLS limit for pulls."""
    if on:
        with open(SITE, encoding="utf-8") as handle:
            lines = [line.strip().rstrip(";").split() for line in handle]
        cert = [line[1] for line in lines if line and line[0] == "ssl_certificate"][0]
        key = [line[1] for line in lines if line and line[0] == "ssl_certificate_key"][0]
        with open(TLS_LIMIT_SITE, "w", encoding="utf-8") as handle:
            handle.write("server {\n listen 127.0.0.1:%d ssl;\n ssl_certificate %s;\n ssl_certificate_key %s;\n"
                         " root %s;\n}\n" % (TLS_LIMIT_PORT, cert, key, WORK))
    elif os.path.exists(TLS_LIMIT_SITE):
        os.unlink(TLS_LIMIT_SITE)
    subprocess.run(["systemctl", "reload", "nginx"], check=True)
    time.sleep(1)


def unguarded_site(on: bool) -> None:
    """nginx without the login guard and the flood ceiling (the lines the template marks '# login guard'), or as deployed."""
    kept = SITE + ".guarded"
    if on:
        shutil.copyfile(SITE, kept)
        with open(kept, encoding="utf-8") as handle:
            lines = handle.readlines()
        marked = [line for line in lines if line.rstrip().endswith("# login guard")]
        if len(marked) != 2:
            raise SystemExit("%s: %d lines marked '# login guard', not 2" % (SITE, len(marked)))
        with open(SITE, "w", encoding="utf-8") as handle:
            handle.writelines(line for line in lines if line not in marked)
    else:
        os.replace(kept, SITE)
    subprocess.run(["systemctl", "reload", "nginx"], check=True)
    time.sleep(1)


def rotated(items: List[Any], number: int) -> List[Any]:
    """ITEMS starting at position NUMBER: each round puts another path first."""
    start = number % len(items)
    return items[start:] + items[:start]


def data(size_mb: int, rounds: int) -> Dict[str, Any]:
    os.makedirs(WORK, exist_ok=True)
    path = os.path.join(WORK, "blob")
    digest = random_file(path, size_mb)
    repository = "bench/blob"
    out: Dict[str, Any] = {"size_mb": size_mb, "push_direct": [], "push_stack": [], "pull_direct": [], "pull_stack": [],
                           "pull_tls_limit": []}
    tls_limit_site(True)
    try:
        for number in range(rounds):
            # Interleaved, so that a drift of the machine hits every path
            # alike, and in a rotated order with the page cache written back
            # before each transfer: otherwise the pull that follows the
            # pushes pays for writing their 2 GiB to disk.
            pushes = [("push_direct", DIRECT), ("push_stack", stack_url())]
            for key, base in rotated(pushes, number):
                os.sync()
                out[key].append(push(base, repository, path, digest))
            bearer = token("repository:%s:pull" % repository)
            pulls = [("pull_direct", "%s/v2/%s/blobs/%s" % (DIRECT, repository, digest), bearer),
                     ("pull_stack", "%s/v2/%s/blobs/%s" % (stack_url(), repository, digest), bearer),
                     ("pull_tls_limit", "https://127.0.0.1:%d/blob" % TLS_LIMIT_PORT, None)]
            for key, url, pull_bearer in rotated(pulls, number):
                os.sync()
                out[key].append(pull(url, pull_bearer))
    finally:
        tls_limit_site(False)
    return out


def mirror(size_mb: int, rounds: int) -> Dict[str, Any]:
    """Each round a new blob on the upstream: pulled straight from it, then through the mirror cold (the mirror
    fetches it from the upstream as it sends it) and warm (from the mirror's cache)."""
    os.makedirs(WORK, exist_ok=True)
    upstream, mirror_host = os.environ["BENCH_UPSTREAM"], os.environ["BENCH_MIRROR"]
    basic = "%s:%s" % (os.environ["BENCH_UPSTREAM_USER"], os.environ["BENCH_UPSTREAM_PASSWORD"])
    repository = "bench/mirror"
    scope = "repository:%s:pull" % repository
    answer = ask_token(stack().http, token_url(stack().url("/auth/auth"), mirror_host, [scope]))
    if answer.token is None:
        raise SystemExit("anonymous token for %s on %s: HTTP %d" % (scope, mirror_host, answer.status))
    out: Dict[str, Any] = {"size_mb": size_mb, "direct": [], "cold": [], "warm": []}
    path = os.path.join(WORK, "mirror-blob")
    for _round in range(rounds):
        # A new blob each round: nothing of it in any cache yet.
        if os.path.exists(path):
            os.remove(path)
        digest = random_file(path, size_mb)
        headers = curl("-D", "-", "-o", "/dev/null", "-u", basic, "-X", "POST", "%s/v2/%s/blobs/uploads/" % (upstream, repository))
        location = [line.split(":", 1)[1].strip() for line in headers.splitlines() if line.lower().startswith("location:")][0]
        location += ("&" if "?" in location else "?") + "digest=" + digest
        curl("-o", "/dev/null", "-u", basic, "-X", "PUT", "-H", "Content-Type: application/octet-stream", "-T", path,
             location)
        os.sync()
        out["direct"].append(pull("%s/v2/%s/blobs/%s" % (upstream, repository, digest), basic=basic))
        for key in ("cold", "warm"):
            os.sync()
            out[key].append(pull("https://%s/v2/%s/blobs/%s" % (mirror_host, repository, digest), answer.token))
    return out


def nginx_temp_bytes() -> int:
    total = 0
    for root, _dirs, files in os.walk("/var/lib/nginx"):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def bigblob(size_mb: int) -> Dict[str, Any]:
    os.makedirs(WORK, exist_ok=True)
    path = os.path.join(WORK, "bigblob")
    digest = random_file(path, size_mb)
    repository = "bench/bigblob"
    samples, done = [], threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(nginx_temp_bytes())
            time.sleep(0.5)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        pushed = push(stack_url(), repository, path, digest)
        pulled = pull("%s/v2/%s/blobs/%s" % (stack_url(), repository, digest), token("repository:%s:pull" % repository))
    finally:
        done.set()
        sampler.join()
        os.unlink(path)
    return {"size_mb": size_mb, "push_stack": pushed, "pull_stack": pulled,
            "nginx_temp_max_bytes": max(samples), "nginx_temp_samples": len(samples)}


def docker(*args: str, stdin: Optional[str] = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(["docker", *args], check=False, capture_output=True, text=True, input=stdin,
                          env=dict(os.environ, DOCKER_BUILDKIT="0"))
    if proc.returncode != 0:
        raise SystemExit("docker %s failed: %s" % (args[0], proc.stderr.strip()[-2000:]))
    return time.perf_counter() - started


def image(layer_mb: int) -> Dict[str, Any]:
    """docker push and pull of a 5-layer image, cold and warm, through the stack and to a bare registry.

    The anchor is a registry container of the same image beside the stack,
    without auth, on loopback: the docker client cannot use a stack instance
    directly (the instances send it on to their public URL). Two images of
    different random layers, so that neither path finds the other's blobs.
    """
    out: Dict[str, Any] = {"layers": 5, "layer_mb": layer_mb}
    password = os.environ["BENCH_PASSWORD"]
    tag = subprocess.run(["docker", "inspect", "--format", "{{.Config.Image}}", "registry-1"], check=True,
                         capture_output=True, text=True).stdout.strip()
    bare = os.path.join(WORK, "bare-registry")
    os.makedirs(bare, exist_ok=True)
    subprocess.run(["docker", "rm", "-f", "sovereign-benchmark-bare"], capture_output=True, check=False)
    docker("run", "-d", "--name", "sovereign-benchmark-bare", "--network", "host", "-e", "REGISTRY_HTTP_ADDR=127.0.0.1:5999",
           "-e", "REGISTRY_HTTP_DEBUG_ADDR=127.0.0.1:5998",
           "-v", bare + ":/var/lib/registry", tag)
    time.sleep(2)
    # The server's docker trusts the internal CA for the push through the
    # stack: as a docker host does after trust_ca.yml, for this run only
    # where it did not before.
    trust = "/etc/docker/certs.d/%s" % domain()
    made_trust = not os.path.exists(trust)
    if made_trust:
        os.makedirs(trust)
        shutil.copyfile(os.environ["BENCH_CA"], os.path.join(trust, "ca.crt"))
    try:
        for path, registry in (("stack", domain()), ("direct", "127.0.0.1:5999")):
            out[path] = image_round(path, registry, layer_mb, password)
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", "sovereign-benchmark-bare"], capture_output=True, check=False)
        subprocess.run(["rm", "-rf", bare], check=False)
        if made_trust:
            shutil.rmtree(trust)
    return out


def image_round(path: str, registry: str, layer_mb: int, password: str) -> Dict[str, float]:
    """Build an image of 5 random layers, push it cold and warm, pull it cold and warm; seconds."""
    context = os.path.join(WORK, "image-" + path)
    os.makedirs(context, exist_ok=True)
    for layer in range(5):
        random_file(os.path.join(context, "layer-%d" % layer), layer_mb)
    with open(os.path.join(context, "Dockerfile"), "w", encoding="utf-8") as handle:
        handle.write("FROM busybox:1.35.0\n" + "".join("COPY layer-%d /layer-%d\n" % (n, n) for n in range(5)))
    reference = "%s/bench/image-%s" % (registry, path)
    docker("build", "-q", "-t", reference + ":cold", context)
    docker("tag", reference + ":cold", reference + ":warm")
    if path == "stack":
        docker("login", "--username", os.environ["BENCH_USER"], "--password-stdin", registry, stdin=password)
    out = {"push_cold": docker("push", reference + ":cold"), "push_warm": docker("push", reference + ":warm")}
    docker("rmi", reference + ":cold", reference + ":warm")
    out["pull_cold"] = docker("pull", reference + ":cold")
    out["pull_warm"] = docker("pull", reference + ":cold")
    docker("rmi", reference + ":cold")
    if path == "stack":
        docker("logout", registry)
    return out


def token_rate(seconds: float, clients: int, user: Optional[str], password: Optional[str],
               reuse: bool) -> Dict[str, Any]:
    """Token requests for pull of one repository, CLIENTS at once, for at least SECONDS (load.token_load), from the
    server itself: the load generator shares its cores with nginx and docker_auth, so its own CPU time per request
    is reported (about 2 ms with a new connection each)."""
    return load.token_load(stack().token_url(["repository:bench/blob:pull"]), ["-k", *resolve()], seconds, clients, user, password,
                           reuse, WORK)


def _seed(repository: str, tags: int) -> None:
    """One layer and config, and a manifest per tag (each with the tag in an annotation), straight to an instance."""
    headers = {"Authorization": "Bearer " + token("repository:%s:pull,push" % repository)}
    connection = http.client.HTTPConnection("127.0.0.1", 5000, timeout=60)

    def call(method: str, path: str, body: bytes = b"", extra: Optional[Dict[str, str]] = None) -> http.client.HTTPResponse:
        connection.request(method, path, body=body or None, headers=dict(headers, **(extra or {})))
        answer = connection.getresponse()
        answer.read()
        return answer

    layer = b"browse benchmark layer"
    config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    for blob in (layer, config):
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        location = call("POST", "/v2/%s/blobs/uploads/" % repository).getheader("Location") or ""
        parts = urllib.parse.urlsplit(location)
        call("PUT", "%s?%s&digest=%s" % (parts.path, parts.query, digest), blob,
             {"Content-Type": "application/octet-stream"})
    for number in range(tags):
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "size": len(config),
                       "digest": "sha256:" + hashlib.sha256(config).hexdigest()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": len(layer),
                        "digest": "sha256:" + hashlib.sha256(layer).hexdigest()}],
            "annotations": {"bench.tag": str(number)}}).encode()
        status = call("PUT", "/v2/%s/manifests/t%d" % (repository, number), manifest,
                      {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}).status
        if status != 201:
            raise SystemExit("seeding %s:t%d answered %d" % (repository, number, status))
    connection.close()


def _timed(path: str, user: Optional[str], password: Optional[str]) -> Tuple[float, Any]:
    args = ["-w", "\n%{time_total} %{http_code}"] + (["-u", "%s:%s" % (user, password)] if user else [])
    out = curl(*args, "%s%s" % (stack_url(), path))
    body, _newline, figures = out.rpartition("\n")
    seconds, code = figures.split()
    if code != "200":
        raise SystemExit("%s answered %s: %s" % (path, code, body[:300]))
    return float(seconds), json.loads(body)


def browse(repositories: int, tags: int, rounds: int) -> Dict[str, Any]:
    """The repository browser's API at size, each figure the median of ROUNDS interleaved rounds."""
    names = ["bench/browse-%04d" % number for number in range(repositories)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda name: _seed(name, tags), names))
    ci = (os.environ["BENCH_USER"], os.environ["BENCH_PASSWORD"])
    human = (os.environ["BENCH_HUMAN_USER"], os.environ["BENCH_HUMAN_PASSWORD"])
    times: Dict[str, List[float]] = {"login": [], "list_ci": [], "list_human": [], "list_anonymous": [], "repository": []}
    counts: Dict[str, int] = {}
    for _round in range(rounds):
        started = time.monotonic()
        stack().bearer("repository:%s:pull" % names[0], *ci)
        times["login"].append(time.monotonic() - started)
        for label, (user, password) in (("list_ci", ci), ("list_human", human), ("list_anonymous", (None, None))):
            seconds, document = _timed("/browse/api/repositories", user, password)
            times[label].append(seconds)
            counts[label] = len(document["repositories"])
        seconds, document = _timed("/browse/api/repository?name=" + names[-1], *ci)
        times["repository"].append(seconds)
        counts["repository_tags"] = len(document["tags"])
        # Within the API's limit per address (sovereign_registry_nginx_browser_rate), as a person would be.
        time.sleep(1)
    return {"repositories": repositories, "tags": tags, "rounds": rounds, "seconds": times, "shown": counts}


def tokens(seconds: float, clients: int) -> Dict[str, Any]:
    ci = (os.environ["BENCH_USER"], os.environ["BENCH_PASSWORD"])
    human = (os.environ["BENCH_HUMAN_USER"], os.environ["BENCH_HUMAN_PASSWORD"])
    out: Dict[str, Any] = {"clients": clients, "seconds": seconds}
    for label, (user, password), reuse in (("human", human, False), ("human_reused", human, True), ("ci", ci, False),
                                           ("ci_reused", ci, True),
                                           ("anonymous", (None, None), False), ("human_1_client", human, False)):
        out[label] = token_rate(seconds, 1 if label.endswith("1_client") else clients, user, password, reuse)
    # The anchor of the defaults: the same requests with nginx asking no login guard and no ceiling per address.
    unguarded_site(True)
    try:
        for label, (user, password) in (("anonymous_unguarded", (None, None)), ("ci_unguarded", ci)):
            out[label] = token_rate(seconds, clients, user, password, False)
    finally:
        unguarded_site(False)
    return out
