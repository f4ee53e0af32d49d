"""A free TCP port on loopback, for the lab's private servers and the tests' labs."""

from __future__ import annotations

import socket


def free_loopback_port() -> int:
    """A port nobody listens on right now (the kernel's choice; free until someone binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def listener(port: int) -> tuple[int, str] | None:
    """(pid, command line) of the process listening on TCP `port`, when psutil can tell (on
    Linux, for this user's own processes without root); None otherwise."""
    import psutil

    try:
        connections = psutil.net_connections(kind="inet")
    except (psutil.Error, OSError):
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port \
                and conn.pid:
            try:
                process = psutil.Process(conn.pid)
                command = " ".join(process.cmdline()) or process.name()
            except psutil.Error:
                command = "?"
            return conn.pid, command if len(command) <= 90 else command[:87] + "..."
    return None
