"""Ctrl-C and SIGTERM as a request to stop, not an exception raised wherever the code is.

A KeyboardInterrupt can land inside a server's start-up or an HTTPS read and leave things
half-done (a running.json, a child process, a loop that goes on). Held signals only set a
flag; the main thread looks at it and shuts down in order.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


POLL = 0.05   # seconds between looks at the flag while waiting


class StopRequest:
    """Whether, and by which signal, stopping was asked for.

    The handler only sets a flag: it runs in the main thread between two bytecodes, and a
    threading.Event.set() there deadlocked when the signal landed while that same thread was
    inside Event.wait() holding the event's lock (`fapi-lab up` then ignored every signal
    but SIGKILL). wait() looks at the flag every POLL seconds instead.
    """

    def __init__(self) -> None:
        self.signum = 0

    def _handler(self, signum: int, _frame: object) -> None:
        self.signum = self.signum or signum

    @property
    def requested(self) -> bool:
        return self.signum != 0

    def wait(self, timeout: float) -> bool:
        """True once stopping was asked for, waiting at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self.requested:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(POLL, left))
        return True


@contextmanager
def held_signals(*signals: signal.Signals) -> Iterator[StopRequest]:
    """Within the block the signals (default SIGINT and SIGTERM) only set the request; the
    old handlers come back after it."""
    stop = StopRequest()
    previous = {sig: signal.signal(sig, stop._handler) for sig in signals or SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
