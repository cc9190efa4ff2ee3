"""Checks of the scale-out scenario, run on the docker client test host.

  scaleout_check.py split-upload DOMAIN CA REPOSITORY NODE=ADDRESS ...
      one blob upload whose requests (POST, PATCHes, PUT) go to the nodes in
      turn, then the blob read back through every node
  scaleout_check.py pull-each DOMAIN CA REPOSITORY TAG NODE=ADDRESS ...
      the image's manifest and every blob, through each node, digests checked
  scaleout_check.py pull-loop IMAGE STOP_FILE
      docker pull, docker rmi, again, until STOP_FILE exists
  scaleout_check.py reads-loop DOMAIN CA REPOSITORY TAG COUNT STOP_FILE BALANCER=ADDRESS
      rounds of COUNT clients at once, each a token and the manifest through
      the balancer, until STOP_FILE exists; for each read, the two statuses
      and the seconds taken
  scaleout_check.py writes-refused DOMAIN CA REPOSITORY SECONDS NODE=ADDRESS ...
      starts an upload (POST) on every node in turn until each has refused
      one (403, pushes refused) or SECONDS have passed; for each node, when
      it first refused
  scaleout_check.py delete-everywhere DOMAIN CA REPOSITORY TAG NODE=ADDRESS ...
      the image's manifest read by digest through every node (so that a
      cache of each node knows it), deleted through the first, then asked
      for through every node again

The account's name and password come in SCALEOUT_USER and SCALEOUT_PASSWORD.
A node is addressed by name resolution to its address (curl --resolve), so
that TLS still checks the registry's name. Prints one JSON document.
"""

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

ACCEPT = ",".join([
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])


class Node:
    def __init__(self, domain, ca, name, address):
        self.domain, self.ca, self.name, self.address = domain, ca, name, address

    def curl(self, *args, body=None):
        """One request to this node; returns (status, headers, body)."""
        command = ["curl", "-sS", "--cacert", self.ca, "--resolve", "%s:443:%s" % (self.domain, self.address),
                   "-D", "-", "-o", "-", *args]
        proc = subprocess.run(command, input=body, capture_output=True, check=False)
        if proc.returncode != 0:
            raise SystemExit("curl to %s (%s) failed: %s" % (self.name, self.address, proc.stderr.decode()[-500:]))
        head, _sep, rest = proc.stdout.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _s, v in (line.partition(":") for line in lines[1:])}
        return status, headers, rest

    def url(self, path):
        return "https://%s%s" % (self.domain, path)


def token(node, scope):
    query = urllib.parse.urlencode({"service": node.domain, "scope": scope})
    user = "%s:%s" % (os.environ["SCALEOUT_USER"], os.environ["SCALEOUT_PASSWORD"])
    # The password goes to curl in its config on stdin, not on the command line.
    status, _headers, body = node.curl("-K", "-", node.url("/auth/auth?" + query), body=('user = "%s"\n' % user).encode())
    if status != 200:
        raise SystemExit("token from %s: HTTP %d" % (node.name, status))
    return json.loads(body)["token"]


def nodes_of(domain, ca, specs):
    return [Node(domain, ca, *spec.split("=", 1)) for spec in specs]


def path_of(location):
    parts = urllib.parse.urlsplit(location)
    return parts.path + ("?" + parts.query if parts.query else "")


def split_upload(domain, ca, repository, specs):
    nodes = nodes_of(domain, ca, specs)
    bearer = "Authorization: Bearer " + token(nodes[0], "repository:%s:pull,push" % repository)
    chunks = [os.urandom(1 << 20) for _chunk in range(3)]
    digest = "sha256:" + hashlib.sha256(b"".join(chunks)).hexdigest()
    parts = {node.name: [] for node in nodes}
    turn = iter(range(100))

    def next_node():
        return nodes[next(turn) % len(nodes)]

    node = next_node()
    status, headers, _body = node.curl("-X", "POST", "-H", bearer, node.url("/v2/%s/blobs/uploads/" % repository))
    if status != 202:
        raise SystemExit("POST on %s: HTTP %d" % (node.name, status))
    parts[node.name].append("POST")
    location, offset = path_of(headers["location"]), 0
    for chunk in chunks:
        node = next_node()
        status, headers, body = node.curl(
            "-X", "PATCH", "-H", bearer, "-H", "Content-Type: application/octet-stream",
            "-H", "Content-Range: %d-%d" % (offset, offset + len(chunk) - 1), "--data-binary", "@-", node.url(location),
            body=chunk)
        if status != 202:
            raise SystemExit("PATCH on %s: HTTP %d %s" % (node.name, status, body[:300]))
        parts[node.name].append("PATCH")
        location, offset = path_of(headers["location"]), offset + len(chunk)
    node = next_node()
    separator = "&" if "?" in location else "?"
    status, _headers, body = node.curl("-X", "PUT", "-H", bearer, node.url(location + separator + "digest=" + digest))
    if status != 201:
        raise SystemExit("PUT on %s: HTTP %d %s" % (node.name, status, body[:300]))
    parts[node.name].append("PUT")
    read_back = {}
    for node in nodes:
        status, _headers, body = node.curl("-H", bearer, node.url("/v2/%s/blobs/%s" % (repository, digest)))
        read_back[node.name] = status == 200 and "sha256:" + hashlib.sha256(body).hexdigest() == digest
    return {"digest": digest, "bytes": offset, "parts": parts, "read_back": read_back}


def pull_each(domain, ca, repository, tag, specs):
    nodes = nodes_of(domain, ca, specs)
    bearer = "Authorization: Bearer " + token(nodes[0], "repository:%s:pull" % repository)
    out = {}
    for node in nodes:
        status, _headers, body = node.curl("-H", bearer, "-H", "Accept: " + ACCEPT,
                                           node.url("/v2/%s/manifests/%s" % (repository, tag)))
        if status != 200:
            out[node.name] = {"manifest": status}
            continue
        manifest = json.loads(body)
        blobs = [manifest["config"]] + manifest["layers"]
        good = 0
        for blob in blobs:
            status, _headers, data = node.curl("-H", bearer, node.url("/v2/%s/blobs/%s" % (repository, blob["digest"])))
            good += status == 200 and "sha256:" + hashlib.sha256(data).hexdigest() == blob["digest"]
        out[node.name] = {"manifest": 200, "blobs": len(blobs), "blobs_good": good}
    return out


def delete_everywhere(domain, ca, repository, tag, specs):
    nodes = nodes_of(domain, ca, specs)
    bearer = "Authorization: Bearer " + token(nodes[0], "repository:%s:pull,delete" % repository)
    accept = "Accept: " + ACCEPT
    status, headers, _body = nodes[-1].curl("-I", "-H", bearer, "-H", accept, nodes[-1].url("/v2/%s/manifests/%s" % (repository, tag)))
    if status != 200:
        raise SystemExit("HEAD of %s:%s on %s: HTTP %d" % (repository, tag, nodes[-1].name, status))
    path = "/v2/%s/manifests/%s" % (repository, headers["docker-content-digest"])

    def everywhere():
        return {node.name: node.curl("-I", "-H", bearer, "-H", accept, node.url(path))[0] for node in nodes}

    before = everywhere()
    deleted = nodes[0].curl("-X", "DELETE", "-H", bearer, nodes[0].url(path))[0]
    return {"digest": headers["docker-content-digest"], "before": before, "deleted_on": nodes[0].name,
            "deleted": deleted, "after": everywhere()}


def reads_at_once(domain, ca, repository, tag, count, spec):
    balancer = nodes_of(domain, ca, [spec])[0]
    results = [None] * int(count)

    def one(index):
        began = time.time()
        try:
            bearer = "Authorization: Bearer " + token(balancer, "repository:%s:pull" % repository)
            status = balancer.curl("-I", "-H", bearer, "-H", "Accept: " + ACCEPT,
                                   balancer.url("/v2/%s/manifests/%s" % (repository, tag)))[0]
            results[index] = [200, status, round(time.time() - began, 1)]
        except SystemExit as error:
            results[index] = [str(error), None, round(time.time() - began, 1)]

    threads = [threading.Thread(target=one, args=(index,)) for index in range(int(count))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def reads_loop(domain, ca, repository, tag, count, stop_file, spec):
    reads = []
    while not os.path.exists(stop_file):
        reads.extend(reads_at_once(domain, ca, repository, tag, count, spec))
    return {"rounds": len(reads) // int(count), "reads": reads}


def writes_refused(domain, ca, repository, seconds, specs):
    nodes = nodes_of(domain, ca, specs)
    bearer = "Authorization: Bearer " + token(nodes[0], "repository:%s:pull,push" % repository)
    started = time.time()
    refused, statuses = {}, {node.name: [] for node in nodes}
    while len(refused) < len(nodes) and time.time() - started < float(seconds):
        for node in nodes:
            if node.name in refused:
                continue
            status, _headers, body = node.curl("-X", "POST", "-H", bearer, node.url("/v2/%s/blobs/uploads/" % repository))
            if not statuses[node.name] or statuses[node.name][-1] != status:
                statuses[node.name].append(status)
            if status == 403 and b"DENIED" in body:
                refused[node.name] = round(time.time() - started, 1)
        time.sleep(0.3)
    return {"refused_after_seconds": refused, "statuses": statuses}


def pull_loop(image, stop_file):
    pulls, failed, retries, errors = 0, [], 0, []
    started = time.time()
    while not os.path.exists(stop_file):
        began = time.time()
        proc = subprocess.run(["docker", "pull", image], capture_output=True, text=True, check=False)
        pulls += 1
        retries += proc.stdout.count("Retrying in") + proc.stderr.count("Retrying in")
        if proc.returncode != 0:
            # When it began (epoch seconds), and how long it ran.
            failed.append([began, time.time() - began])
            errors.append("%.1f s: %s" % (began - started, proc.stderr.strip()[-300:]))
        subprocess.run(["docker", "image", "rm", image], capture_output=True, check=False)
    return {"pulls": pulls, "failed": failed, "layer_retries": retries, "seconds": round(time.time() - started, 1),
            "errors": errors[:5]}


def main(argv):
    command = argv[0]
    if command == "split-upload":
        result = split_upload(argv[1], argv[2], argv[3], argv[4:])
    elif command == "pull-each":
        result = pull_each(argv[1], argv[2], argv[3], argv[4], argv[5:])
    elif command == "pull-loop":
        result = pull_loop(argv[1], argv[2])
    elif command == "reads-loop":
        result = reads_loop(argv[1], argv[2], argv[3], argv[4], argv[5], argv[6], argv[7])
    elif command == "writes-refused":
        result = writes_refused(argv[1], argv[2], argv[3], argv[4], argv[5:])
    elif command == "delete-everywhere":
        result = delete_everywhere(argv[1], argv[2], argv[3], argv[4], argv[5:])
    else:
        raise SystemExit(__doc__)
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
