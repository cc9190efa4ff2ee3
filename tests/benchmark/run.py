"""The benchmark: one run, one test host, every figure next to its anchor.

  python tests/benchmark/run.py [--smoke [--deployment NAME]] [--output FILE]

Brings up a test host (tests/testhosts), deploys the installed collection
to it with the demo's settings plus a CI account and N generated users,
and measures, all in this run:

- converge: a fresh converge (images from the controller's archives), an
  idempotent rerun (0 changed), and reruns with 10, 100 and 500 users;
- data path: a blob pushed and pulled straight to a registry instance, through
  the stack's nginx, and served by nginx itself over TLS (the TLS limit);
  a multi-GB layer through the stack with nginx's temporary files sampled;
- mirror: a blob of the upstream pulled through the pull-through mirror,
  cold and warm, against the same pull straight from the upstream (basic
  auth, plain HTTP on the test network), with the test settings of the
  mirrors (molecule/resources/vars/mirrors.yml) and an upstream test host;
- token path: tokens per second for a person (bcrypt cost 10), a CI account
  (its generated secret at cost 4), with reused connections, and anonymous,
  against the bcrypt bound measured on this machine;
- repository browser: its API listing 1,000 repositories of 20 tags each for
  the CI account (who may pull them all), a person and anonymous, and one
  repository's view, against one login of the same account.

Prints a table of ratios and writes it (Markdown) to FILE (default
docs/benchmarks.md; with --smoke, .cache/benchmark/smoke.md). --smoke runs
every step with small sizes and short durations: it proves the benchmark
still works, and its figures mean nothing. With --deployment, the smoke run
measures on that running test deployment (scripts/test's shared one)
instead of deploying its own: no converge rows, the demo's admin standing
in for the CI account and firstuser for the person, and the deployment left
as it was. A benchmark never fails on a slow machine; it fails only when a
step does not work.

The measurements on the server are the test library's (tests/e2e/bench.py),
which this script puts on the server first.
"""

import argparse
import datetime
import json
import os
import platform
import secrets
import statistics
import string
import subprocess
import sys
import tarfile
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAME = "benchmark"
STATE = os.path.join(REPO, ".cache", "benchmark")
TESTHOSTS = [sys.executable, os.path.join(REPO, "tests", "testhosts", "testhosts.py")]
# The internal CA on a registry server (the certs role's default).
SERVER_CA = "/etc/sovereign-registry/tls/ca.crt"

FULL = {"blob_mb": 1024, "rounds": 5, "big_mb": 5120, "layer_mb": 100, "mirror_mb": 256, "token_seconds": 15, "clients": 20,
        "users": [10, 100, 500], "browse": [1000, 20]}
SMOKE = {"blob_mb": 8, "rounds": 1, "big_mb": 16, "layer_mb": 2, "mirror_mb": 4, "token_seconds": 2, "clients": 4, "users": [10],
         "browse": [20, 5]}
# The mirrors' test settings (an upstream test host, a docker.io mirror "hub" of it).
MIRRORS = os.path.join(REPO, "molecule", "resources", "vars", "mirrors.yml")
UPSTREAM_PLAY = os.path.join(REPO, "molecule", "resources", "upstream.yml")


def log(message):
    print("benchmark: " + message, file=sys.stderr, flush=True)


def secret():
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _character in range(32))


def credentials():
    """The bench accounts' passwords, made once per checkout and kept 0600."""
    path = os.path.join(STATE, "credentials.json")
    if not os.path.exists(path):
        os.makedirs(STATE, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            # The human's password is one a person could choose; the CI
            # account's is what onboarding generates.
            json.dump({"admin": secret()[:24], "firstuser": secret()[:24], "seconduser": secret()[:24],
                       "human": secret()[:24], "ci-bench": secret(), "seed": secret()}, handle)
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def users(creds, count):
    """The demo's accounts, the bench accounts, and generated people up to COUNT users in all."""
    base = [{"name": "admin", "password": creds["admin"]},
            {"name": "firstuser", "password": creds["firstuser"], "groups": ["first_user_group"]},
            {"name": "seconduser", "password": creds["seconduser"]},
            {"name": "human", "password": creds["human"]},
            {"name": "ci-bench", "password": creds["ci-bench"]}]
    extra = [{"name": "person-%03d" % number, "password": "%s-%03d" % (creds["seed"][:20], number)}
             for number in range(max(count - len(base), 0))]
    return base + extra


def converge(inventory, creds, count, playbook="sovereign.registry.site", **extra):
    """Run site.yml (or PLAYBOOK) as a user would; return (seconds, changed tasks)."""
    # The defaults users get: the login guard and nginx's flood ceiling per address.
    settings = {"sovereign_registry_docker_auth_users": users(creds, count), **extra}
    path = os.path.join(STATE, "settings.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(settings, handle)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, ".cache", "test-collections"),
               ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
               ANSIBLE_FORCE_COLOR="0")
    started = time.perf_counter()
    proc = subprocess.run(["ansible-playbook", "-i", inventory, "-e", "@" + path, playbook],
                          env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-6000:] + proc.stderr[-3000:])
        raise SystemExit("benchmark: %s failed with %d users" % (playbook, count))
    recap = [line for line in proc.stdout.splitlines() if " changed=" in line and " ok=" in line]
    changed = sum(int(line.split(" changed=")[1].split()[0]) for line in recap)
    return seconds, changed


def library_tar():
    """The test library and the collection's module_utils it is built on, as a tar for /root/sovereign-e2e."""
    path = os.path.join(STATE, "e2e.tar")
    with tarfile.open(path, "w") as tar:
        tar.add(os.path.join(REPO, "tests", "e2e"), "e2e", filter=lambda info: None if "__pycache__" in info.name else info)
        tar.add(os.path.join(REPO, "plugins", "module_utils"), "ansible_collections/sovereign/registry/plugins/module_utils",
                filter=lambda info: None if "__pycache__" in info.name else info)
    return path


def put_library(deployment):
    with open(library_tar(), "rb") as handle:
        proc = subprocess.run(TESTHOSTS + ["ssh", deployment, "server",
                                           "rm -rf /root/sovereign-e2e && mkdir -m 700 /root/sovereign-e2e && "
                                           "tar -x -C /root/sovereign-e2e"], stdin=handle, capture_output=True, check=False)
    if proc.returncode != 0:
        raise SystemExit("benchmark: putting the test library on the server failed: %s" % proc.stderr[-2000:])


def on_server(deployment, accounts, domain, *args, env_extra=None):
    """One measurement of tests/e2e/bench.py on the server; its figures."""
    env = "BENCH_DOMAIN=%s BENCH_CA=%s BENCH_USER=%s BENCH_PASSWORD=%s BENCH_HUMAN_USER=%s BENCH_HUMAN_PASSWORD=%s" % (
        domain, SERVER_CA, accounts["ci"][0], accounts["ci"][1], accounts["human"][0], accounts["human"][1])
    env += "".join(" %s=%s" % item for item in (env_extra or {}).items())
    command = "%s PYTHONPATH=/root/sovereign-e2e python3 -m e2e bench %s" % (env, " ".join(str(a) for a in args))
    proc = subprocess.run(TESTHOSTS + ["ssh", deployment, "server", command], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit("benchmark: on the server, %s failed: %s" % (args[0], proc.stderr[-3000:]))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bcrypt_bound(cost, rounds):
    """Tokens per second all cores can verify at COST (the bound of a password's token path)."""
    import bcrypt

    hashed = bcrypt.hashpw(b"correct horse battery", bcrypt.gensalt(cost))
    times = []
    for _round in range(rounds):
        started = time.perf_counter()
        bcrypt.checkpw(b"correct horse battery", hashed)
        times.append(time.perf_counter() - started)
    return (os.cpu_count() or 1) / statistics.median(times), statistics.median(times) * 1000


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "")
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return "%d cores, %s, %.0f GiB, %s %s" % (
        os.cpu_count() or 0, model or platform.processor(), memory, platform.system(), platform.release())


def median(values):
    return statistics.median(values) if values else 0.0


def report(sizes, figures, smoke):
    d, b, t, c = figures["data"], figures["bigblob"], figures["tokens"], figures["converge"]
    push_direct, push_stack = median(d["push_direct"]), median(d["push_stack"])
    pull_direct, pull_stack, tls = median(d["pull_direct"]), median(d["pull_stack"]), median(d["pull_tls_limit"])
    rows = [
        ("pull through the stack vs the TLS limit", "%.0f MB/s" % pull_stack, "%.0f MB/s (nginx serving the file over TLS)" % tls,
         pull_stack / tls, ">= 0.8"),
        ("push through the stack vs straight to an instance", "%.0f MB/s" % push_stack, "%.0f MB/s (HTTP to 127.0.0.1:5000)" % push_direct,
         push_stack / push_direct, ">= 0.95"),
        ("pull straight from an instance (for reference)", "%.0f MB/s" % pull_direct, "%.0f MB/s (the TLS limit)" % tls,
         pull_direct / tls, ""),
        ("tokens/s, CI account, %d clients, new TLS connection each" % t["clients"], "%.1f/s" % t["ci"]["per_second"],
         "%.1f/s (person, bcrypt cost 10)" % t["human"]["per_second"], t["ci"]["per_second"] / max(t["human"]["per_second"], 1e-9),
         ">= 10"),
        # Both kinds of account on kept-open connections (HTTP keep-alive), as
        # clients that keep them can. The docker CLI does not: each of its
        # requests came on a new connection (nginx's $connection_requests 1).
        ("tokens/s, CI account, %d clients, connections reused (HTTP keep-alive)" % t["clients"],
         "%.1f/s" % t["ci_reused"]["per_second"], "%.1f/s (person, bcrypt cost 10, connections reused)" % t["human_reused"]["per_second"],
         t["ci_reused"]["per_second"] / max(t["human_reused"]["per_second"], 1e-9), ">= 10"),
        ("tokens/s, CI account, %d clients, reused connections vs a new one each" % t["clients"], "%.1f/s" % t["ci_reused"]["per_second"],
         "%.1f/s (new connection each)" % t["ci"]["per_second"], t["ci_reused"]["per_second"] / max(t["ci"]["per_second"], 1e-9), ""),
        ("tokens/s, one address, anonymous, %d clients, defaults (login guard, ceiling per address)" % t["clients"],
         "%.1f/s" % t["anonymous"]["per_second"], "%.1f/s (nginx without the guard and the ceiling)" % t["anonymous_unguarded"]["per_second"],
         t["anonymous"]["per_second"] / max(t["anonymous_unguarded"]["per_second"], 1e-9), ">= 0.9"),
        ("tokens/s, one address, CI account, %d clients, defaults (login guard, ceiling per address)" % t["clients"],
         "%.1f/s" % t["ci"]["per_second"], "%.1f/s (nginx without the guard and the ceiling)" % t["ci_unguarded"]["per_second"],
         t["ci"]["per_second"] / max(t["ci_unguarded"]["per_second"], 1e-9), ">= 0.9"),
        ("tokens/s, person, %d clients" % t["clients"], "%.1f/s" % t["human"]["per_second"],
         "%.1f/s (bcrypt bound: %d cores / %.1f ms)" % (figures["bcrypt_bound"], os.cpu_count() or 0, figures["bcrypt_ms"]),
         t["human"]["per_second"] / figures["bcrypt_bound"], ""),
    ]
    # Rows that need converges of the benchmark's own host (not in a smoke run on a shared deployment).
    if figures.get("tokens_no_keepalive"):
        rows.insert(6, ("tokens/s, CI account, %d clients, nginx keeping connections to docker_auth open" % t["clients"],
                        "%.1f/s" % t["ci"]["per_second"],
                        "%.1f/s (a connection per request)" % figures["tokens_no_keepalive"]["ci"]["per_second"],
                        t["ci"]["per_second"] / max(figures["tokens_no_keepalive"]["ci"]["per_second"], 1e-9), ""))
    m = figures.get("mirror")
    if m:
        rows += [
            # Bounded by the fetch and the mirror writing its cache as it sends: for reference.
            ("pull through the mirror, cold (fetched from the upstream and written to its cache meanwhile), vs "
             "straight from the upstream", "%.0f MB/s" % median(m["cold"]),
             "%.0f MB/s (the upstream, basic auth, HTTP)" % median(m["direct"]), median(m["cold"]) / median(m["direct"]), ""),
            ("pull through the mirror, warm (from its cache), vs straight from the upstream",
             "%.0f MB/s" % median(m["warm"]), "%.0f MB/s (the upstream, basic auth, HTTP)" % median(m["direct"]),
             median(m["warm"]) / median(m["direct"]), ">= 0.8"),
        ]
    w = figures.get("browse")
    if w:
        login = median(w["seconds"]["login"])
        for label, who in (("list_ci", "the CI account, who may pull them all"), ("list_human", "a person"),
                           ("list_anonymous", "anonymous")):
            rows.append(("repository browser: the list of %d repositories of %d tags, as %s (%d shown)" % (
                w["repositories"], w["tags"], who, w["shown"][label]), "%.0f ms" % (median(w["seconds"][label]) * 1000),
                "%.0f ms (one login: a token request of the CI account)" % (login * 1000),
                median(w["seconds"][label]) / login, "< 1 s" if label == "list_ci" else ""))
        rows.append(("repository browser: one repository's %d tags (digest, size, created, retention, pushers)"
                     % w["shown"]["repository_tags"], "%.0f ms" % (median(w["seconds"]["repository"]) * 1000),
                     "%.0f ms (one login)" % (login * 1000), median(w["seconds"]["repository"]) / login, ""))
    if c:
        rows.append(("converge rerun, %d users" % sizes["users"][-1], "%.1f s" % c["reruns"][-1][1],
                     "%.1f s (%d users)" % (c["reruns"][0][1], c["reruns"][0][0]), c["reruns"][-1][1] / c["reruns"][0][1], "<= 3"))
    lines = [
        "# Benchmarks" + (" (smoke run: small sizes, figures mean nothing)" if smoke else ""),
        "",
        "Made by `scripts/benchmark` on %s (%s), registry %s, one test host: %s." % (
            datetime.date.today().isoformat(), "smoke" if smoke else "full", figures["registry"], figures["machine"]),
        figures.get("accounts_note", ""),
        "Every figure is compared with an anchor measured in the same run; medians of %d interleaved rounds." % sizes["rounds"],
        "",
        "| what | measured | anchor | ratio | wanted |",
        "|---|---|---|---|---|",
    ]
    lines += ["| %s | %s | %s | %.2fx | %s |" % row for row in rows]
    lines += [
        "",
        "## Data path",
        "",
        "A random blob of %d MiB, monolithic upload and download with curl and one bearer token, on the server:" % d["size_mb"],
        "",
        "| path | push MB/s | pull MB/s |",
        "|---|---|---|",
        "| straight to a registry instance (HTTP, loopback) | %s | %s |" % (
            " / ".join("%.0f" % v for v in d["push_direct"]), " / ".join("%.0f" % v for v in d["pull_direct"])),
        "| through the stack's nginx (TLS) | %s | %s |" % (
            " / ".join("%.0f" % v for v in d["push_stack"]), " / ".join("%.0f" % v for v in d["pull_stack"])),
        "| nginx serving the same file itself over TLS (the TLS limit) | - | %s |" % (
            " / ".join("%.0f" % v for v in d["pull_tls_limit"])),
        "",
        "A %d MiB layer through the stack: push %.0f MB/s, pull %.0f MB/s; nginx's temporary files (/var/lib/nginx) "
        "peaked at %d bytes over %d samples." % (
            b["size_mb"], b["push_stack"], b["pull_stack"], b["nginx_temp_max_bytes"], b["nginx_temp_samples"]),
        "",
        "`docker push` and `docker pull` of an image of 5 layers of %d MiB (seconds; warm: every layer already there):"
        % figures["image"]["layer_mb"],
        "",
        "| path | push cold | push warm | pull cold | pull warm |",
        "|---|---|---|---|---|",
    ]
    for path, label in (("direct", "to a bare registry of the same image (no auth, HTTP on loopback)"), ("stack", "through the stack")):
        i = figures["image"][path]
        lines.append("| %s | %.1f | %.1f | %.1f | %.1f |" % (label, i["push_cold"], i["push_warm"], i["pull_cold"], i["pull_warm"]))
    if m:
        lines += [
            "",
            "A new random blob of %d MiB on the upstream test host each round, pulled with curl on the server: straight "
            "from the upstream (plain HTTP with basic auth, over the test network), then through the docker.io mirror "
            "(`hub`, TLS, an anonymous token) twice, cold and warm (MB/s per round):" % m["size_mb"],
            "",
            "| path | MB/s |",
            "|---|---|",
            "| straight from the upstream | %s |" % " / ".join("%.0f" % v for v in m["direct"]),
            "| through the mirror, cold | %s |" % " / ".join("%.0f" % v for v in m["cold"]),
            "| through the mirror, warm | %s |" % " / ".join("%.0f" % v for v in m["warm"]),
        ]
    lines += [
        "",
        "## Token path",
        "",
        "Token requests for `repository:bench/blob:pull`, at least %.0f s each, from curl's parallel mode on the server "
        "(it shares the server's cores; its CPU time per request is in the last column), all from one address (127.0.0.1), "
        "with the defaults: the login guard and nginx's ceiling per address. The last two rows: nginx without either, "
        "the anchor of the defaults:" % t["seconds"],
        "",
        "| account | clients | connections | tokens/s | p50 ms | p99 ms | failures | load generator CPU ms/request |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, who, conn in (("human_1_client", "person (cost 10)", "new each"), ("human", "person (cost 10)", "new each"),
                             ("human_reused", "person (cost 10)", "reused"),
                             ("ci", "CI account (cost 4)", "new each"), ("ci_reused", "CI account (cost 4)", "reused"),
                             ("anonymous", "anonymous", "new each"),
                             ("ci_unguarded", "CI account (cost 4), without the guard and the ceiling", "new each"),
                             ("anonymous_unguarded", "anonymous, without the guard and the ceiling", "new each")):
        r = t[label]
        lines.append("| %s | %d | %s | %.1f | %.0f | %.0f | %d | %.1f |" % (
            who, 1 if label == "human_1_client" else t["clients"], conn, r["per_second"], r["p50_ms"], r["p99_ms"],
            r["failures"], r["client_cpu_ms"]))
    lines += [
        "",
        "bcrypt on this machine: %.1f ms per verification at cost 10, so %d cores verify at most %.1f passwords a second."
        % (figures["bcrypt_ms"], os.cpu_count() or 0, figures["bcrypt_bound"]),
    ]
    if c:
        lines += [
            "",
            "## Converge",
            "",
            "`site.yml` from this machine over SSH to the test host:",
            "",
            "| run | seconds | changed |",
            "|---|---|---|",
            "| fresh converge (images from the controller's archives) | %.1f | %d |" % tuple(c["fresh"]),
            "| rerun, nothing to do | %.1f | %d |" % tuple(c["idempotent"]),
        ]
        lines += ["| rerun with %d users | %.1f | %d |" % tuple(r) for r in c["reruns"]]
    return "\n".join(lines) + "\n"


def domain_of(inventory):
    with open(os.path.join(inventory, "group_vars", "all", "main.yml"), encoding="utf-8") as handle:
        return next(line.split(":", 1)[1].strip().strip("'\"") for line in handle if line.startswith("sovereign_registry_domain:"))


def mirror_of(inventory, figures):
    """How the server reaches the upstream and the docker.io mirror of the deployment's test settings (none:
    registry 2 has no mirrors)."""
    if figures["registry"].startswith("2."):
        return None
    with open(MIRRORS, encoding="utf-8") as handle:
        settings = yaml.safe_load(handle)
    with open(os.path.join(inventory, "group_vars", "all", "zz_testhosts.yml"), encoding="utf-8") as handle:
        demo_credentials = json.load(handle)["demo_credentials_dir"]
    with open(os.path.join(demo_credentials, "upstream-password"), encoding="utf-8") as handle:
        password = handle.read().strip()
    hub = next(upstream for upstream in settings["__test_upstreams"] if upstream["name"] == "hub")
    return {"BENCH_UPSTREAM": "http://upstream:%d" % hub["port"], "BENCH_UPSTREAM_USER": settings["test_upstream_username"],
            "BENCH_UPSTREAM_PASSWORD": password, "BENCH_MIRROR": "hub.%s" % domain_of(inventory)}


def measure(deployment, accounts, domain, sizes, figures, mirror=None):
    """Every measurement on the server of DEPLOYMENT, into FIGURES."""
    put_library(deployment)
    if mirror:
        log("mirror: %d MiB x %d rounds" % (sizes["mirror_mb"], sizes["rounds"]))
        figures["mirror"] = on_server(deployment, accounts, domain, "mirror", sizes["mirror_mb"], sizes["rounds"],
                                      env_extra=mirror)
    log("data path: %d MiB x %d rounds" % (sizes["blob_mb"], sizes["rounds"]))
    figures["data"] = on_server(deployment, accounts, domain, "data", sizes["blob_mb"], sizes["rounds"])
    log("a %d MiB layer" % sizes["big_mb"])
    figures["bigblob"] = on_server(deployment, accounts, domain, "bigblob", sizes["big_mb"])
    log("docker push and pull of 5 layers of %d MiB" % sizes["layer_mb"])
    figures["image"] = on_server(deployment, accounts, domain, "image", sizes["layer_mb"])
    log("repository browser: %d repositories of %d tags" % tuple(sizes["browse"]))
    figures["browse"] = on_server(deployment, accounts, domain, "browse", sizes["browse"][0], sizes["browse"][1],
                                  sizes["rounds"])
    log("token path: %d clients" % sizes["clients"])
    figures["tokens"] = on_server(deployment, accounts, domain, "tokens", sizes["token_seconds"], sizes["clients"])


def on_own_host(sizes, figures, smoke, keep):
    """Deploy a test host of the benchmark's own, converge it at each size, measure."""
    creds = credentials()
    accounts = {"ci": ("ci-bench", creds["ci-bench"]), "human": ("human", creds["human"])}
    subprocess.run(TESTHOSTS + ["down", NAME], check=False, capture_output=True)
    inventory = subprocess.run(TESTHOSTS + ["up", NAME, "server:registry_servers,docker_clients",
                                            "upstream:upstream_registries", "--vars", MIRRORS], check=True,
                               capture_output=True, text=True).stdout.strip().splitlines()[-1]
    try:
        domain = domain_of(inventory)
        first = sizes["users"][0]
        log("upstream registries for the mirrors")
        converge(inventory, creds, first, playbook=UPSTREAM_PLAY)
        log("fresh converge")
        fresh = converge(inventory, creds, first)
        log("rerun, nothing to do")
        idempotent = converge(inventory, creds, first)
        # The server is also the docker client of the image benchmark.
        converge(inventory, creds, first, playbook="sovereign.registry.trust_ca")
        figures["converge"] = {"fresh": fresh, "idempotent": idempotent, "reruns": [(first,) + idempotent]}
        measure(NAME, accounts, domain, sizes, figures, mirror_of(inventory, figures))
        figures["bcrypt_bound"], figures["bcrypt_ms"] = bcrypt_bound(10, 5 if smoke else 20)
        log("token path without upstream keepalive")
        converge(inventory, creds, first, sovereign_registry_nginx_upstream_keepalive=0)
        figures["tokens_no_keepalive"] = on_server(NAME, accounts, domain, "tokens", sizes["token_seconds"], sizes["clients"])
        for count in sizes["users"][1:]:
            log("%d users: converge, then the timed rerun" % count)
            converge(inventory, creds, count)
            seconds, changed = converge(inventory, creds, count)
            figures["converge"]["reruns"].append((count, seconds, changed))
    finally:
        if not keep:
            subprocess.run(TESTHOSTS + ["down", NAME], check=False, capture_output=True)


def on_shared(deployment, sizes, figures):
    """Measure on a running test deployment with the demo's accounts; no converge."""
    inventory = os.path.join(REPO, ".cache", "testhosts", deployment, "inventory")
    with open(os.path.join(inventory, "group_vars", "all", "zz_testhosts.yml"), encoding="utf-8") as handle:
        demo_credentials = json.load(handle)["demo_credentials_dir"]

    def password(user):
        with open(os.path.join(demo_credentials, user), encoding="utf-8") as handle:
            return handle.read().strip()

    accounts = {"ci": ("admin", password("admin")), "human": ("firstuser", password("firstuser"))}
    figures["accounts_note"] = ("Smoke run on the shared test deployment %s: admin stands for the CI account, firstuser "
                                "for the person; no converge." % deployment)
    measure(deployment, accounts, domain_of(inventory), sizes, figures, mirror_of(inventory, figures))
    figures["bcrypt_bound"], figures["bcrypt_ms"] = bcrypt_bound(10, 5)
    figures["converge"] = None


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--deployment", help="with --smoke: measure on this running test deployment")
    parser.add_argument("--output")
    parser.add_argument("--keep", action="store_true", help="leave the test host up afterwards")
    options = parser.parse_args(argv)
    if options.deployment and not options.smoke:
        parser.error("--deployment is for smoke runs: the benchmark's figures come from a host of its own")
    sizes = SMOKE if options.smoke else FULL
    output = options.output or (os.path.join(STATE, "smoke.md") if options.smoke else os.path.join(REPO, "docs", "benchmarks.md"))
    os.makedirs(STATE, exist_ok=True)
    figures = {"machine": machine(), "registry": os.environ.get("SOVEREIGN_REGISTRY_VERSION", "3.1.1")}
    if options.deployment:
        on_shared(options.deployment, sizes, figures)
    else:
        on_own_host(sizes, figures, options.smoke, options.keep)
    with open(os.path.join(STATE, "figures.json"), "w", encoding="utf-8") as handle:
        json.dump(figures, handle, indent=1)
    text = report(sizes, figures, options.smoke)
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)
    log("written to %s" % os.path.relpath(output, REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
