"""Docker CLI steps of the storage scenario; each prints JSON.

  fill REGISTRY REPOSITORY DIR --size-mb N --max N
      build and push images of N MB of random data, tags pr-1, pr-2, ...,
      until a push is refused; report every digest pushed and the refusal
      (exit code and what docker printed).
  pull REFS.json
      for each {"ref": digest} forget the local copy, pull it and report the
      digest docker printed (or the error), so that the caller compares.
  push REF
      push a local image, report the exit code, the digest and the output.
"""

import argparse
import json
import os
import re
import subprocess
import sys

DIGEST = re.compile(r"(?:digest|Digest): (sha256:[0-9a-f]{64})")


def docker(*args):
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def push(ref):
    rc, out = docker("push", ref)
    match = DIGEST.search(out)
    return dict(rc=rc, digest=match.group(1) if match else None, output=out.strip()[-600:],
                layer_already_existed="Layer already exists" in out)


def fill(args):
    pushed = {}
    context = os.path.join(args.dir, "fill")
    os.makedirs(context, exist_ok=True)
    with open(os.path.join(context, "Dockerfile"), "w") as handle:
        handle.write("FROM scratch\nCOPY data /data\n")
    for number in range(1, args.max + 1):
        tag = "pr-%d" % number
        ref = "%s/%s:%s" % (args.registry, args.repository, tag)
        with open(os.path.join(context, "data"), "wb") as handle:
            handle.write(os.urandom(args.size_mb * 1024 * 1024))
        rc, out = docker("build", "-q", "-t", ref, context)
        if rc != 0:
            sys.exit("docker build failed: %s" % out)
        result = push(ref)
        if result["rc"] != 0:
            print(json.dumps(dict(pushed=pushed, refused=dict(ref=ref, **result)), indent=1))
            return
        pushed[ref] = result["digest"]
    sys.exit("no push was refused in %d pushes of %d MB" % (args.max, args.size_mb))


def pull(args):
    with open(args.refs) as handle:
        refs = json.load(handle)
    found = {}
    for ref in refs:
        docker("rmi", ref)
        rc, out = docker("pull", ref)
        match = DIGEST.search(out)
        found[ref] = match.group(1) if rc == 0 and match else "error: " + out.strip()[-300:]
    print(json.dumps(found, indent=1))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="step", required=True)
    p_fill = sub.add_parser("fill")
    p_fill.add_argument("registry")
    p_fill.add_argument("repository")
    p_fill.add_argument("dir")
    p_fill.add_argument("--size-mb", type=int, default=20)
    p_fill.add_argument("--max", type=int, default=40)
    p_pull = sub.add_parser("pull")
    p_pull.add_argument("refs")
    p_push = sub.add_parser("push")
    p_push.add_argument("ref")
    args = parser.parse_args()
    if args.step == "fill":
        fill(args)
    elif args.step == "pull":
        pull(args)
    else:
        print(json.dumps(push(args.ref), indent=1))


if __name__ == "__main__":
    main()
