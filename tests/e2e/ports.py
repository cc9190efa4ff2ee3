"""The TCP ports of a host that accept a connection from here.

Tries every port from 1 to 65535; a port counts as open when the TCP
handshake completes. Run from a test host other than HOST, it tells what the
rest of the network can reach.
"""

from __future__ import annotations

import selectors
import socket
import time
from typing import Any, Dict, List

BATCH = 512


def open_ports(host: str) -> Dict[str, Any]:
    address = socket.gethostbyname(host)
    selector = selectors.DefaultSelector()
    found: List[int] = []
    for first in range(1, 65536, BATCH):
        pending: Dict[int, socket.socket] = {}
        for port in range(first, min(first + BATCH, 65536)):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.connect_ex((address, port))
            selector.register(sock, selectors.EVENT_WRITE, port)
            pending[port] = sock
        # Refusals arrive at once on a LAN; a dropped SYN is given two seconds.
        deadline = time.time() + 2
        while pending and time.time() < deadline:
            for key, _events in selector.select(timeout=max(0.0, deadline - time.time())):
                sock = pending.pop(key.data)
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    found.append(key.data)
                selector.unregister(sock)
                sock.close()
        for sock in pending.values():
            selector.unregister(sock)
            sock.close()
    return {"host": host, "address": address, "open": sorted(found)}
