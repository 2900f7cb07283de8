"""Run a command with memory-deny-write-execute set, as systemd's MemoryDenyWriteExecute=yes
does: `python mdwe_exec.py PROGRAM ARGS...`. Linux's PR_SET_MDWE (6.3 and later) refuses any
mapping that is, or becomes, both writable and executable, and is kept across exec, so the
program runs under it from its first instruction. Exits 3 when the kernel lacks it."""

from __future__ import annotations

import ctypes
import os
import sys

PR_SET_MDWE = 65
PR_GET_MDWE = 66
PR_MDWE_REFUSE_EXEC_GAIN = 1

libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    print(f"PR_SET_MDWE: {os.strerror(ctypes.get_errno())}", file=sys.stderr)
    raise SystemExit(3)
assert libc.prctl(PR_GET_MDWE, 0, 0, 0, 0) == PR_MDWE_REFUSE_EXEC_GAIN
os.execv(sys.argv[1], sys.argv[1:])  # noqa: S606 (the command is the test's own)
