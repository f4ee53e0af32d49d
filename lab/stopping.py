"""Ctrl-C and SIGTERM as a request to stop, not an exception raised wherever the code is.

A KeyboardInterrupt can land inside a server's start-up or an HTTPS read and leave things
half-done (a running.json, a child process, a loop that goes on). Held signals only set a
flag; the main thread looks at it and shuts down in order.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """Whether, and by which signal, stopping was asked for."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signum = 0

    def _handler(self, signum: int, _frame: object) -> None:
        self.signum = self.signum or signum
        self._event.set()

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """True once stopping was asked for, waiting at most `timeout` seconds."""
        return self._event.wait(timeout)


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
