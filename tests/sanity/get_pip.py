"""ansible-test's pip bootstrap, for machines that reach the package index but not ci-files.testing.ansible.com.

ansible-test runs `get-pip.py` from that host to put pip into each virtual
environment it makes; scripts/test puts this file where ansible-test caches
it. It installs pip from the interpreter's own ensurepip, then the pinned
packages ansible-test asks for from the package index.
"""
import subprocess
import sys

options = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install"] + options)
