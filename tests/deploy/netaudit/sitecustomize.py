"""Loaded by every Python process started with this directory on PYTHONPATH (the scanner run by
tests/deploy/scanner.py, and any process it spawns): refuses and records every name lookup and
every network connection, so a test can assert that a tool made none. Imports nothing of ours:
it runs inside another program's interpreter."""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

_LOG = os.environ.get("NETAUDIT_LOG", "")
_LOOKUPS = {
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyname_ex",
    "socket.gethostbyaddr",
    "socket.getnameinfo",
}


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event in _LOOKUPS:
        what = repr(args[:2])
    elif event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
        if args[0].family == socket.AF_UNIX:  # a local pipe between processes, not the network
            return
        what = repr(args[1:])
    else:
        return
    # Before the lookup or the connection happens: raising here means nothing left the process.
    with open(_LOG, "a", encoding="utf-8") as log:
        log.write(f"{event} {what}\n")
    raise OSError(f"network use refused by the test ({event})")


if _LOG:
    sys.addaudithook(_hook)
