"""Child processes that die with the process that started them, even when it is `kill -9`ed.

`fapi-lab up` starts Streamlit and a gunicorn master (in its own session, so Ctrl-C in a
terminal reaches only `up`). A SIGKILL gives `up` no chance to stop them: they kept serving
on the lab's ports and the next `up` failed. On Linux the kernel can send a signal to a
process when its parent dies (prctl PR_SET_PDEATHSIG); the setting survives exec, so a tiny
Python prelude sets it and then execs the real command under the same pid. (A preexec_fn
would do the same, but it runs between fork and exec in a process that already has threads,
which the subprocess docs warn can deadlock.) gunicorn's workers already exit when their
master does. Elsewhere the command runs as is.
"""

from __future__ import annotations

import os
import sys

PR_SET_PDEATHSIG = 1

_PRELUDE = f"""\
import ctypes, os, signal, sys
parent = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl({PR_SET_PDEATHSIG}, int(signal.SIGTERM), 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_PDEATHSIG) failed: " + os.strerror(ctypes.get_errno()))
if os.getppid() != parent:  # the parent died before the signal was armed
    sys.exit(1)
os.execvp(sys.argv[2], sys.argv[2:])
"""


def dying_with_parent(argv: list[str]) -> list[str]:
    """`argv`, run so that it receives SIGTERM when this process dies (Linux).

    The signal follows the *thread* that starts the child: start it from a thread that
    lives as long as the child should (the main thread, for `fapi-lab up`).
    """
    if not sys.platform.startswith("linux"):
        return list(argv)
    return [sys.executable, "-c", _PRELUDE, str(os.getpid()), *argv]
