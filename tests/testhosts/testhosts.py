"""Test hosts: small Debian servers in system containers, so that no test converges this machine.

Each test host is a Debian bookworm container with systemd as PID 1, sshd,
and its own Docker Engine (Docker in Docker), on a Docker network of its
deployment, reachable over SSH with a key made for that deployment. The
scenarios deploy to them exactly as a user deploys to servers: Ansible over
SSH, with the collection installed from its tarball.

  testhosts.py image                      build the image once (cached by a hash of its inputs)
  testhosts.py up NAME HOST:GROUP[,GROUP] ... [--domain D] [--vars FILE ...] [--plain]
                                          start the hosts of deployment NAME, write its inventory
                                          (the demo's settings, each FILE's on top); --plain: hosts
                                          without systemd (only sshd runs, Docker Engine stopped)
  testhosts.py share NAME ALIAS           let scenario deployment ALIAS use NAME's hosts
  testhosts.py ssh NAME HOST [COMMAND]    a shell (or a command) on a test host
  testhosts.py kill NAME HOST             kill a test host hard (a node dying): docker kill
  testhosts.py start NAME HOST            start a killed test host again, wait until it booted
  testhosts.py reboot NAME HOST           shut a test host down cleanly (as a reboot after a kernel
                                          update does) and start it again, wait until it booted
  testhosts.py cut NAME HOST              cut a test host's network (no clean stop: its packets
                                          go nowhere); mend NAME HOST joins it again, same address
  testhosts.py replace NAME HOST          destroy a test host, disks and all, and start a fresh one in
                                          its place (same name and address)
  testhosts.py list                       the test hosts and networks of this checkout
  testhosts.py down NAME | --all          remove the hosts, their volumes and network (an
                                          alias: only the alias)

The hosts get nearly every capability and a writable /proc/sys (systemd and
dockerd need them): fine for throwaway CI machines, not for anything else.
Only containers carrying this harness's label are ever removed.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import inspect
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, Iterator, List

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
IMAGE_DIR = os.path.join(HERE, "image")
STATE = os.path.join(REPO, ".cache", "testhosts")
LABEL = "sovereign.registry.testhost"
# Test hosts belong to the checkout that made them: `down --all` and the
# names never touch another checkout's (a second run on the same machine).
OWNER = hashlib.sha256(REPO.encode()).hexdigest()[:6]
OWNER_LABEL = LABEL + ".owner"
IMAGE = "sovereign-testhost"
# Networks of test deployments are /24s taken from here, skipping any in use.
SUBNETS = ipaddress.IPv4Network("10.231.0.0/16")
RUN_FLAGS = [
    # --privileged fails where dockerd itself lacks CAP_SYS_RESOURCE; this is
    # everything else, and what systemd and an inner dockerd need.
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--cgroupns=private", "--tmpfs", "/run:rw,exec,mode=755", "--tmpfs", "/run/lock",
    # overlay2 works on a volume, not on the container's own overlay (dockerd
    # would silently fall back to vfs). Removed with the host (rm -v).
    "--mount", "type=volume,target=/var/lib/docker",
]
SSH_OPTIONS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
               "-o", "ConnectTimeout=2", "-o", "BatchMode=yes"]


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(args), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise SystemExit("%s failed (%d): %s%s" % (" ".join(args[:4]), proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc


def log(message: str) -> None:
    print("testhosts: " + message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------- image

def packages() -> List[str]:
    with open(os.path.join(IMAGE_DIR, "packages"), encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("#")]


def image_tag() -> str:
    """The image's tag: a hash of every input (the files in image/ and the build recipe below)."""
    digest = hashlib.sha256(inspect.getsource(build_image).encode())
    for name in sorted(os.listdir(IMAGE_DIR)):
        with open(os.path.join(IMAGE_DIR, name), "rb") as handle:
            digest.update(name.encode() + b"\0" + handle.read())
    return "%s:%s" % (IMAGE, digest.hexdigest()[:16])


def build_image(tag: str) -> None:
    """mmdebstrap a minimal bookworm with the packages, import it, and add what docker import cannot set."""
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="testhost-image-") as tmp:
        rootfs = os.path.join(tmp, "rootfs.tar")
        run("mmdebstrap", "--variant=minbase", "--quiet",
            # merged /usr without pulling perl (usrmerge) in
            "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
            "--include=" + ",".join(packages()),
            # each host gets its machine-id and SSH host keys when it boots
            "--customize-hook=rm -f \"$1\"/etc/ssh/ssh_host_*; : > \"$1\"/etc/machine-id",
            "--customize-hook=rm -rf \"$1\"/var/lib/apt/lists/* \"$1\"/var/cache/apt/*.bin",
            "bookworm", rootfs)
        base = tag.replace(IMAGE, IMAGE + "-rootfs")
        run("docker", "import", rootfs, base)
    run("docker", "build", "--quiet", "--build-arg", "BASE=" + base, "--label", "%s.image=%s" % (LABEL, tag),
        "-t", tag, IMAGE_DIR)
    run("docker", "rmi", base)
    log("built %s in %.0f s" % (tag, time.time() - started))


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """Serialise the image build and the choice of a subnet between the test
    runs on this machine (scripts/test starts deployments in parallel, and
    other checkouts may be testing too)."""
    with open(os.path.join(tempfile.gettempdir(), "sovereign-testhosts.lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_image() -> str:
    tag = image_tag()
    with exclusive():
        if run("docker", "image", "inspect", tag, check=False).returncode != 0:
            if not shutil.which("mmdebstrap"):
                raise SystemExit("mmdebstrap is missing: apt-get install mmdebstrap (scripts/bootstrap does)")
            build_image(tag)
    return tag


# ------------------------------------------------------------------ hosts

def demo_domain() -> str:
    import yaml  # the controller's virtualenv has it (ansible needs it)
    with open(os.path.join(REPO, "demo", "group_vars", "all", "main.yml"), encoding="utf-8") as handle:
        domain: str = yaml.safe_load(handle)["sovereign_registry_domain"]
    return domain


def state_dir(name: str) -> str:
    return os.path.join(STATE, name)


def free_subnet() -> ipaddress.IPv4Network:
    used = []
    for network in run("docker", "network", "ls", "-q").stdout.split():
        for config in json.loads(run("docker", "network", "inspect", network).stdout)[0]["IPAM"]["Config"] or []:
            if config.get("Subnet"):
                used.append(ipaddress.ip_network(config["Subnet"]))
    for subnet in SUBNETS.subnets(new_prefix=24):
        if not any(subnet.overlaps(other) for other in used):
            return subnet
    raise SystemExit("no free /24 left in %s" % SUBNETS)


def container(name: str, host: str) -> str:
    return "sovereign-test-%s-%s-%s" % (OWNER, name, host)


def ssh(key: str, address: str, command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run("ssh", "-i", key, *SSH_OPTIONS, "root@" + address, command, check=check)


# Every test host's systemd, logind, dbus and containerd hold inotify
# instances (5 on a bare host), docker_auth and others more once the stack
# runs, and the containers share one user (root), so one pool with this
# machine's own: the kernel's default of 128 ran out in a full test run (44
# in use before the first host, 15 and more hosts at once). A booting host
# then came up "degraded" (a path unit failed); a service inside would fail
# to watch its files.
INOTIFY_INSTANCES = "/proc/sys/fs/inotify/max_user_instances"
INOTIFY_INSTANCES_NEEDED = 1024


def ensure_inotify_instances() -> None:
    with open(INOTIFY_INSTANCES, encoding="ascii") as handle:
        current = int(handle.read())
    if current >= INOTIFY_INSTANCES_NEEDED:
        return
    try:
        with open(INOTIFY_INSTANCES, "w", encoding="ascii") as handle:
            handle.write(str(INOTIFY_INSTANCES_NEEDED))
    except OSError as exc:
        raise SystemExit("fs.inotify.max_user_instances is %d, too few for the test hosts (5 and more each), and "
                         "cannot be raised here (%s): run sysctl -w fs.inotify.max_user_instances=%d as root"
                         % (current, exc, INOTIFY_INSTANCES_NEEDED)) from exc
    log("raised fs.inotify.max_user_instances from %d to %d (until the next boot): the test hosts share one pool, "
        "5 and more each" % (current, INOTIFY_INSTANCES_NEEDED))


def up(name: str, hosts: Dict[str, List[str]], domain: str, settings: List[str] | None = None, plain: bool = False) -> str:
    """Start the hosts of a deployment; return its inventory directory."""
    if run("docker", "ps", "-aq", *selector(name)).stdout.strip():
        raise SystemExit("test deployment %s exists already: testhosts.py down %s first" % (name, name))
    started = time.time()
    ensure_inotify_instances()
    tag = ensure_image()
    directory = state_dir(name)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, mode=0o700)
    key = os.path.join(directory, "id_ed25519")
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sovereign-test-" + name, "-f", key)
    network = "sovereign-test-%s-%s" % (OWNER, name)
    labels = ["--label", "%s=%s" % (LABEL, name), "--label", "%s=%s" % (OWNER_LABEL, OWNER)]
    with exclusive():
        subnet = free_subnet()
        run("docker", "network", "create", *labels, "--subnet", str(subnet), network)
    addresses = {host: str(subnet.network_address + 10 + i) for i, host in enumerate(hosts)}
    # Clients find the registry by its name, as they would through DNS: the
    # load balancer if there is one, else the (first) registry server.
    front = [host for host, groups in hosts.items() if "registry_loadbalancers" in groups]
    front += [host for host, groups in hosts.items() if "registry_servers" in groups]
    extra_hosts = ["--add-host=%s:%s" % (host, address) for host, address in addresses.items()]
    if front and domain:
        extra_hosts.append("--add-host=%s:%s" % (domain, addresses[front[0]]))
    for host, address in addresses.items():
        run("docker", "run", "-d", "--name", container(name, host), "--hostname", host,
            *labels, "--network", network, "--ip", address, *RUN_FLAGS, *extra_hosts,
            "-e", "TESTHOST_INIT=" + ("plain" if plain else "systemd"),
            "-v", "%s.pub:/root/.ssh/authorized_keys:ro" % key, tag)
    for host, address in addresses.items():
        wait_ready(key, host, address, plain)
    write_inventory(name, hosts, addresses, key, settings)
    listing = ", ".join("%s %s" % item for item in addresses.items())
    log("%s: %d host(s) ready in %.1f s: %s" % (name, len(hosts), time.time() - started, listing))
    return os.path.join(directory, "inventory")


def wait_ready(key: str, host: str, address: str, plain: bool = False) -> None:
    deadline = time.time() + 90
    while time.time() < deadline:
        if ssh(key, address, "true", check=False).returncode == 0:
            break
        time.sleep(0.3)
    else:
        raise SystemExit("test host %s (%s) never answered over SSH" % (host, address))
    if plain:
        return
    # ssh itself may fail once while the host boots (exit 255, nothing on
    # stdout): ask again; only the host's own answer decides.
    while True:
        answer = ssh(key, address, "systemctl is-system-running --wait; systemctl --failed --no-legend", check=False)
        if answer.returncode != 255 or time.time() > deadline:
            break
        time.sleep(1)
    if not answer.stdout.startswith("running"):
        raise SystemExit("test host %s did not boot cleanly: %s%s" % (host, answer.stdout, answer.stderr.strip()[-300:]))


def write_inventory(name: str, hosts: Dict[str, List[str]], addresses: Dict[str, str], key: str,
                    settings: List[str] | None) -> None:
    inventory = os.path.join(state_dir(name), "inventory")
    # The demo's settings (users, ACL, domain); only the hosts differ.
    shutil.copytree(os.path.join(REPO, "demo", "group_vars"), os.path.join(inventory, "group_vars"))
    groups: Dict[str, Dict[str, Dict[str, Dict[str, str]]]] = {}
    for host, host_groups in hosts.items():
        for group in host_groups:
            groups.setdefault(group, {"hosts": {}})["hosts"][host] = {"ansible_host": addresses[host]}
    data = {"all": {"children": groups, "vars": {
        "ansible_user": "root",
        "ansible_ssh_private_key_file": key,
        "ansible_ssh_common_args": " ".join(SSH_OPTIONS[:6]),
        "ansible_ssh_pipelining": True,
        "ansible_python_interpreter": "/usr/bin/python3",
        "sovereign_test_deployment": name,
    }}}
    with open(os.path.join(inventory, "hosts.yml"), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
    # group_vars/all/*.yml load in name order, so this comes last: the demo
    # passwords of this deployment stay with it (not in the user's home), and
    # the images come from the archives the controller built, as they come
    # to an air-gapped site.
    with open(os.path.join(inventory, "group_vars", "all", "zz_testhosts.yml"), "w", encoding="utf-8") as handle:
        json.dump({"demo_credentials_dir": os.path.join(state_dir(name), "credentials", "demo"),
                   "sovereign_registry_credentials_dir": os.path.join(state_dir(name), "credentials", "onboarded"),
                   "sovereign_registry_images_controller_archive_dir": os.path.join(REPO, ".cache", "images"),
                   "sovereign_registry_images_source": "archive"}, handle)
    # A scenario's own settings, for every playbook run against the
    # deployment, the ones a scenario runs inside its checks too.
    for number, path in enumerate(settings or []):
        shutil.copyfile(path, os.path.join(inventory, "group_vars", "all", "zz_scenario_%d.yml" % number))


def selector(name: str | None) -> List[str]:
    """docker --filter arguments for this checkout's test hosts of NAME, or all of them."""
    found = ["--filter", "label=%s=%s" % (OWNER_LABEL, OWNER)]
    return found + (["--filter", "label=%s=%s" % (LABEL, name)] if name else [])


def share(name: str, alias: str) -> None:
    """Let the scenario that would deploy ALIAS run against NAME's deployment instead."""
    if not os.path.isdir(state_dir(name)):
        raise SystemExit("no test deployment %s to share" % name)
    if os.path.lexists(state_dir(alias)):
        raise SystemExit("test deployment %s exists already" % alias)
    os.symlink(name, state_dir(alias))


def down(name: str | None) -> None:
    if name and os.path.islink(state_dir(name)):
        target = os.readlink(state_dir(name))
        os.unlink(state_dir(name))
        log("%s no longer shares the test hosts of %s" % (name, target))
        return
    containers = run("docker", "ps", "-aq", *selector(name)).stdout.split()
    if containers:
        run("docker", "rm", "-f", "-v", *containers)
    for network in run("docker", "network", "ls", "-q", *selector(name)).stdout.split():
        run("docker", "network", "rm", network)
    if name:
        shutil.rmtree(state_dir(name), ignore_errors=True)
    else:
        shutil.rmtree(STATE, ignore_errors=True)
    log("removed %d test host(s) of %s" % (len(containers), name or "every deployment"))


def address_of(name: str, host: str) -> str:
    with open(os.path.join(state_dir(name), "inventory", "hosts.yml"), encoding="utf-8") as handle:
        groups = json.load(handle)["all"]["children"].values()
    address: str = next(g["hosts"][host]["ansible_host"] for g in groups if host in g["hosts"])
    return address


def real_name(name: str) -> str:
    """The deployment whose hosts NAME names (a shared deployment's alias: the one it shares)."""
    return os.path.basename(os.readlink(state_dir(name))) if os.path.islink(state_dir(name)) else name


def power(command: str, name: str, host: str) -> None:
    """Kill a test host hard (no shutdown: its services get no word), or start it again and wait for its boot;
    pause one (every process frozen: its connections open, nothing answered), or let it go on."""
    real = real_name(name)
    run("docker", command, container(real, host))
    if command == "start":
        started = time.time()
        wait_ready(os.path.join(state_dir(name), "id_ed25519"), host, address_of(name, host))
        log("%s: %s booted again in %.1f s" % (name, host, time.time() - started))
    else:
        log("%s: %s %s" % (name, host, {"kill": "killed", "pause": "frozen", "unpause": "going on"}[command]))


def reboot(name: str, host: str) -> None:
    """A clean reboot: systemd shuts the host down (the image's stop signal, SIGRTMIN+3), then it boots again."""
    real = real_name(name)
    started = time.time()
    run("docker", "stop", "--time", "120", container(real, host))
    log("%s: %s shut down in %.1f s" % (name, host, time.time() - started))
    power("start", name, host)


def network(name: str, host: str, connect: bool) -> None:
    """Cut a test host off its deployment's network, or join it again at its address."""
    real = real_name(name)
    net = "sovereign-test-%s-%s" % (OWNER, real)
    if connect:
        run("docker", "network", "connect", "--ip", address_of(name, host), net, container(real, host))
    else:
        run("docker", "network", "disconnect", "--force", net, container(real, host))
    log("%s: %s %s" % (name, host, "on the network again" if connect else "cut off the network"))


def replace(name: str, host: str) -> None:
    """Destroy a test host, its disks too (a server lost), and start a fresh one in its place: same name, address,
    network and SSH key, nothing of the old one's."""
    real = real_name(name)
    old = json.loads(run("docker", "inspect", container(real, host)).stdout)[0]
    network = next(iter(old["NetworkSettings"]["Networks"]))
    started = time.time()
    run("docker", "rm", "-f", "-v", container(real, host))
    labels = ["--label", "%s=%s" % (LABEL, real), "--label", "%s=%s" % (OWNER_LABEL, OWNER)]
    extra_hosts = ["--add-host=" + entry for entry in old["HostConfig"]["ExtraHosts"] or []]
    address = address_of(name, host)
    key = os.path.join(state_dir(name), "id_ed25519")
    plain = "TESTHOST_INIT=plain" in old["Config"]["Env"]
    run("docker", "run", "-d", "--name", container(real, host), "--hostname", host, *labels, "--network", network,
        "--ip", address, *RUN_FLAGS, *extra_hosts, "-e", "TESTHOST_INIT=" + ("plain" if plain else "systemd"),
        "-v", "%s.pub:/root/.ssh/authorized_keys:ro" % key, old["Config"]["Image"])
    wait_ready(key, host, address, plain)
    log("%s: %s destroyed and a fresh host started in its place in %.1f s" % (name, host, time.time() - started))


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("image")
    p_up = sub.add_parser("up")
    p_up.add_argument("name")
    p_up.add_argument("hosts", nargs="+", help="HOST:GROUP[,GROUP]")
    p_up.add_argument("--domain", default=demo_domain())
    p_up.add_argument("--vars", action="append", help="a YAML file of settings on top of the demo's (several: in order)")
    p_up.add_argument("--plain", action="store_true", help="hosts without systemd: only sshd runs")
    p_down = sub.add_parser("down")
    p_down.add_argument("name", nargs="?")
    p_down.add_argument("--all", action="store_true")
    p_ssh = sub.add_parser("ssh")
    p_ssh.add_argument("name")
    p_ssh.add_argument("host")
    p_ssh.add_argument("remote", nargs=argparse.REMAINDER)
    for command in ("kill", "start", "pause", "unpause", "replace", "reboot", "cut", "mend"):
        p_power = sub.add_parser(command)
        p_power.add_argument("name")
        p_power.add_argument("host")
    sub.add_parser("list")
    p_share = sub.add_parser("share")
    p_share.add_argument("name")
    p_share.add_argument("alias")
    args = parser.parse_args(argv)
    if args.command == "image":
        print(ensure_image())
    elif args.command == "up":
        hosts = {spec.split(":")[0]: spec.split(":")[1].split(",") for spec in args.hosts}
        print(up(args.name, hosts, args.domain, args.vars, args.plain))
    elif args.command == "down":
        if not args.name and not args.all:
            parser.error("down needs NAME or --all")
        down(None if args.all else args.name)
    elif args.command == "list":
        containers = run("docker", "ps", "-a", *selector(None), "--format", "{{.Names}}").stdout.split()
        networks = run("docker", "network", "ls", *selector(None), "--format", "{{.Name}}").stdout.split()
        for line in containers + networks:
            print(line)
    elif args.command in ("kill", "start", "pause", "unpause"):
        power(args.command, args.name, args.host)
    elif args.command == "replace":
        replace(args.name, args.host)
    elif args.command == "reboot":
        reboot(args.name, args.host)
    elif args.command in ("cut", "mend"):
        network(args.name, args.host, args.command == "mend")
    elif args.command == "ssh":
        address = address_of(args.name, args.host)
        os.execvp("ssh", ["ssh", "-i", os.path.join(state_dir(args.name), "id_ed25519"), *SSH_OPTIONS,
                          "root@" + address, *args.remote])
    else:
        share(args.name, args.alias)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
