"""A free TCP port on loopback, for the lab's private servers and the tests' labs."""

from __future__ import annotations

import socket


def free_loopback_port() -> int:
    """A port nobody listens on right now (the kernel's choice; free until someone binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
