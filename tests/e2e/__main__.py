"""python3 -m e2e COMMAND ...: run one check of the library and print its result as JSON.

Passwords come from files (--password-file), never from the command line.
A command whose check found a failure still prints its result, and exits 1
only where it says so (conformance-compare); the scenario asserts on the
JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable, Dict, List

try:
    import ansible_collections.sovereign.registry  # noqa: F401  pylint: disable=unused-import
except ImportError:
    # On the controller: the collection as scripts/bootstrap links it in.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                    ".cache", "collections"))

# pylint: disable=wrong-import-position
from e2e import api, bench, burst, conformance, docker_cli, faults, hardening, images, load, loops, ports, scaleout  # noqa: E402
from e2e.stack import Stack, read_secret  # noqa: E402

Handler = Callable[[argparse.Namespace], Any]


def _password(args: argparse.Namespace) -> str:
    return read_secret(args.password_file) if args.password_file else ""


def _stack(args: argparse.Namespace) -> Stack:
    return Stack(args.domain, args.ca, getattr(args, "address", None))


def _write(path: str, result: Any) -> Dict[str, str]:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return {"written": path}


def _token(args: argparse.Namespace) -> Any:
    headers = dict(header.split(":", 1) for header in args.header)
    answer = _stack(args).token(args.scope, args.user, _password(args) if args.user else None,
                                headers={k.strip(): v.strip() for k, v in headers.items()})
    summary = answer.summary()
    if args.with_token:
        summary["token"] = answer.token
    return summary


def _loop(args: argparse.Namespace) -> Any:
    user = None if args.mode == "anonymous-pull" else args.user
    result = loops.client_loop(_stack(args), args.mode, args.repository, user, _password(args) if user else None,
                               args.stop_file, args.max_seconds, args.interval, args.phase_file)
    return _write(args.out, result)


def _nodes(args: argparse.Namespace) -> Dict[str, Stack]:
    return scaleout.nodes_of(args.domain, args.ca, args.nodes)


def _compare(args: argparse.Namespace) -> Any:
    report = conformance.compare(args.bare, *args.stack)
    if not report["ok"]:
        print(json.dumps(report, indent=1, sort_keys=True))
        sys.exit(1)
    return report


def _kid(args: argparse.Namespace) -> Any:
    # Needs the cryptography library, which only the controller and the registry servers have.
    from e2e import keys  # pylint: disable=import-outside-toplevel

    if args.token:
        return {"kid": keys.token_kid(args.token)}
    return {"kid": keys.certificate_kid(args.certificate, args.kind)}


def _bench(args: argparse.Namespace) -> Any:
    numbers = [float(value) for value in args.numbers]
    if args.measure == "data":
        return bench.data(int(numbers[0]), int(numbers[1]))
    if args.measure == "bigblob":
        return bench.bigblob(int(numbers[0]))
    if args.measure == "image":
        return bench.image(int(numbers[0]))
    if args.measure == "mirror":
        return bench.mirror(int(numbers[0]), int(numbers[1]))
    if args.measure == "browse":
        return bench.browse(int(numbers[0]), int(numbers[1]), int(numbers[2]))
    return bench.tokens(numbers[0], int(numbers[1]))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python3 -m e2e", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = top.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Handler, summary: str, stack: bool = False, user: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=summary, description=summary)
        if stack:
            p.add_argument("domain")
            p.add_argument("ca", help="the CA file that TLS is verified with")
        if user:
            p.add_argument("--user")
            p.add_argument("--password-file")
        p.set_defaults(handler=handler)
        return p

    p = command("token", _token, "ask the token endpoint; status, granted access, kid, headers", stack=True, user=True)
    p.add_argument("--address", help="connect here instead of the name's address (TLS still checks the name)")
    p.add_argument("--scope", action="append", default=[])
    p.add_argument("--header", action="append", default=[], help="NAME: VALUE, sent on top")
    p.add_argument("--with-token", action="store_true", help="the token itself too, for a check that uses it later")

    p = command("push-images", lambda a: images.push_images(a.registry, a.spec, a.username, a.password_file, a.ca),
                "push test images through the registry API (a spec file of images)")
    images.add_arguments(p)

    p = command("verify-images", lambda a: images.verify_images(a.registry, a.spec, a.username, a.password_file, a.ca),
                "pull every image push-images printed (a file of it), each manifest's and blob's bytes hashed")
    images.add_arguments(p)

    p = command("loop", _loop, "a registry client in a loop, counted per phase; writes OUT", stack=True, user=True)
    p.add_argument("mode", choices=loops.MODES)
    p.add_argument("repository")
    p.add_argument("--stop-file", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--max-seconds", type=float, default=600)
    p.add_argument("--interval", type=float, default=0.5)
    p.add_argument("--phase-file")

    p = command("docker-pull-loop", lambda a: loops.docker_pull_loop(a.image, a.stop_file, a.interval, a.phase_file),
                "docker pull and docker rmi of IMAGE until STOP_FILE exists")
    p.add_argument("image")
    p.add_argument("stop_file")
    p.add_argument("--interval", type=float, default=0, help="seconds from one pull's start to the next's, at least")
    p.add_argument("--phase-file", help="each pull counted in the phase this file names when it begins")

    p = command("docker-push-loop", lambda a: faults.docker_push_loop(a.repository, a.stop_file, a.workdir, a.interval,
                                                                      a.phase_file),
                "docker build and push of a new small image to REPOSITORY (HOST/NAME) until STOP_FILE exists")
    p.add_argument("repository")
    p.add_argument("stop_file")
    p.add_argument("workdir")
    p.add_argument("--interval", type=float, default=0, help="seconds from one push's start to the next's, at least")
    p.add_argument("--phase-file", help="each push counted in the phase this file names when it begins")

    p = command("fault-table", lambda a: faults.table(a.timeline, a.loops),
                "one row per fault of TIMELINE (JSON lines) from the loops' results (JSON files): requests, failed "
                "pulls, logins and pushes, pushes that succeeded on a retry, recovery")
    p.add_argument("timeline")
    p.add_argument("loops", nargs="+", metavar="KIND=FILE", help="pull=, push= or api= and a loop's result file")

    p = command("audit-missing", lambda a: faults.audit_missing(a.trail, a.pushed),
                "the pushes of PUSHED (JSON: {host/repository:tag: digest}) with no push event in the audit TRAIL")
    p.add_argument("trail")
    p.add_argument("pushed")

    p = command("reads-loop", lambda a: loops.reads_loop(_stack(a), a.repository, a.tag, a.count, a.stop_file, a.user,
                                                         _password(a)),
                "rounds of COUNT clients at once (a token and the manifest) until STOP_FILE exists", stack=True, user=True)
    p.add_argument("--address")
    for name in ("repository", "tag"):
        p.add_argument(name)
    p.add_argument("count", type=int)
    p.add_argument("stop_file")

    for name, handler, summary in (
            ("split-upload", lambda a: scaleout.split_upload(_nodes(a), a.repository, a.user, _password(a)),
             "one blob upload whose requests go to the nodes in turn, read back through each"),
            ("pull-each", lambda a: scaleout.pull_each(_nodes(a), a.repository, a.tag, a.user, _password(a)),
             "the image's manifest and blobs through each node"),
            ("delete-everywhere", lambda a: scaleout.delete_everywhere(_nodes(a), a.repository, a.tag, a.user, _password(a)),
             "the manifest read through every node, deleted through the first, asked for again"),
            ("writes-refused", lambda a: scaleout.writes_refused(_nodes(a), a.repository, a.seconds, a.user, _password(a)),
             "start uploads on each node until each refuses (pushes refused)")):
        p = command(name, handler, summary, stack=True, user=True)
        p.add_argument("repository")
        if name in ("pull-each", "delete-everywhere"):
            p.add_argument("tag")
        if name == "writes-refused":
            p.add_argument("seconds", type=float)
        p.add_argument("nodes", nargs="+", metavar="NODE=ADDRESS")

    p = command("guesses", lambda a: burst.guesses(a.domain, a.ca, a.accounts.split(","), a.seconds, a.clients,
                                                   a.source, (a.user, _password(a)) if a.user else None, a.newcomer),
                "wrong passwords for ACCOUNTS (comma-separated) for SECONDS from CLIENTS clients at once, from each --source "
                "address in turn; the real --user logs in meanwhile", stack=True, user=True)
    p.add_argument("accounts")
    p.add_argument("seconds", type=float)
    p.add_argument("clients", type=int)
    p.add_argument("--source", action="append", required=True, help="a local address to connect from (repeat)")
    p.add_argument("--newcomer", help="a local address the real user also logs in from, one it never used before")

    p = command("login-timing", lambda a: burst.timing(a.domain, a.ca, a.account, a.rounds, a.source),
                "wrong passwords for ACCOUNT and logins as names that are no account, alternately: medians",
                stack=True)
    p.add_argument("account")
    p.add_argument("rounds", type=int)
    p.add_argument("--source", action="append", required=True, help="a local address to connect from (repeat)")

    p = command("fleet", lambda a: load.fleet(
        {"anonymous": Stack(a.domain).token_url([a.anonymous_scope]), "ci": Stack(a.domain).token_url([a.scope])},
        ["--cacert", a.ca], a.seconds, a.clients, {"anonymous": (None, None), "ci": (a.user, _password(a))}, a.workdir),
        "anonymous token requests for --anonymous-scope and the --user's for SCOPE, at once, CLIENTS of each, at full "
        "speed, a new TLS connection each", stack=True, user=True)
    p.add_argument("scope")
    p.add_argument("seconds", type=float)
    p.add_argument("clients", type=int)
    p.add_argument("--anonymous-scope", required=True)
    p.add_argument("--workdir", default="/var/tmp/sovereign-fleet")

    p = command("token-load", lambda a: load.token_load(Stack(a.domain).token_url([a.scope]), ["--cacert", a.ca], a.seconds,
                                                        a.clients, a.user, _password(a) if a.user else None, False, a.workdir),
                "token requests for SCOPE at full speed, CLIENTS at once, a new TLS connection each", stack=True, user=True)
    p.add_argument("scope")
    p.add_argument("seconds", type=float)
    p.add_argument("clients", type=int)
    p.add_argument("--workdir", default="/var/tmp/sovereign-token-load")

    p = command("catalog", lambda a: api.catalog(_stack(a)), "the catalog without a token and with an anonymous one",
                stack=True)

    for name, handler, summary in (
            ("config-blob", lambda a: api.config_blob(_stack(a), a.repository, a.tag, a.user, _password(a)),
             "the image's config blob through the stack: digest, bytes checked, headers"),
            ("delete-tagged", lambda a: api.delete_tagged(_stack(a), a.repository, a.tag, a.user, _password(a)),
             "delete the manifest a tag points to, by digest; then ask for it again")):
        p = command(name, handler, summary, stack=True, user=True)
        p.add_argument("repository")
        p.add_argument("tag")

    p = command("oversize", lambda a: hardening.oversize(_stack(a), a.max_scopes, a.max_scope_length),
                "token requests no client sends, and an ordinary one afterwards: their statuses", stack=True)
    p.add_argument("max_scopes", type=int)
    p.add_argument("max_scope_length", type=int)

    p = command("forged-address", lambda a: hardening.forged_address(_stack(a), a.forged),
                "requests with a forged client address; what push tokens grant from it and from the real one",
                stack=True)
    p.add_argument("forged")

    p = command("docker-fill", lambda a: docker_cli.fill(a.registry, a.repository, a.dir, a.size_mb, a.max),
                "docker build and push images of random data until a push is refused")
    p.add_argument("registry")
    p.add_argument("repository")
    p.add_argument("dir")
    p.add_argument("--size-mb", type=int, default=20)
    p.add_argument("--max", type=int, default=40)

    p = command("docker-pull", lambda a: docker_cli.pull(json.load(open(a.refs, encoding="utf-8"))),
                "docker pull of each reference in a JSON file; the digests docker printed")
    p.add_argument("refs")

    p = command("docker-push", lambda a: docker_cli.push(a.ref), "docker push of a local image")
    p.add_argument("ref")

    p = command("conformance-compare", _compare, "the stack runs of the OCI conformance suite against the bare run")
    p.add_argument("bare")
    p.add_argument("stack", nargs="+")

    p = command("open-ports", lambda a: ports.open_ports(a.host), "the TCP ports of HOST that accept a connection")
    p.add_argument("host")

    p = command("kid", _kid, "the key id of a certificate (thumbprint or libtrust), or of a token (--token)")
    p.add_argument("certificate", nargs="?")
    p.add_argument("kind", nargs="?", choices=["thumbprint", "libtrust"])
    p.add_argument("--token")

    p = command("bench", _bench, "one measurement of the benchmark, on the registry server")
    p.add_argument("measure", choices=["data", "bigblob", "image", "mirror", "tokens", "browse"])
    p.add_argument("numbers", nargs="+")
    return top


def main(argv: List[str]) -> int:
    args = parser().parse_args(argv)
    print(json.dumps(args.handler(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
