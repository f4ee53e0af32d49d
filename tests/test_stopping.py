"""lab.stopping: a held signal only sets a flag, and wait() sees it."""

from __future__ import annotations

import os
import signal
import threading

from lab.stopping import held_signals


def test_a_signal_during_wait_is_seen_and_nothing_is_raised() -> None:
    # What was there before (a background job inherits SIGINT ignored; a terminal, Python's
    # default handler) must come back.
    before = signal.getsignal(signal.SIGINT)
    with held_signals() as stop:
        assert not stop.wait(0.1) and not stop.requested
        # Sent while the main thread waits: the handler runs inside wait(), which used to
        # hold an Event's lock there (the handler then deadlocked on it).
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        assert stop.wait(10)
        os.kill(os.getpid(), signal.SIGTERM)
    assert stop.requested and stop.signum == signal.SIGINT
    assert signal.getsignal(signal.SIGINT) is before
