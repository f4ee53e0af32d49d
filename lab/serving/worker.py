"""A gunicorn gthread worker that lets the app see the TLS connection it serves.

gunicorn's environ carries neither the client certificate nor the socket, and the lab
needs the certificate for mutual TLS (RFC 8705). This worker keeps the connection's
socket in a thread-local while the request runs (gthread serves one request per thread
at a time); `lab.serving.site` reads it. It also hands gunicorn one cached TLS context
per process (lab.serving.tls) instead of a new one per connection, and sends each response
in one write (OneWrite) where gunicorn makes two: the head, then the body.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

_current = threading.local()
# Above this much held back, OneWrite sends at once: a lab response is a few KiB at most,
# a larger one (none today) still streams rather than being held whole in memory.
FLUSH_AT = 64 * 1024


def current_socket() -> socket.socket | None:
    """The socket of the connection this thread is serving, if a lab worker serves it."""
    return getattr(_current, "sock", None)


class OneWrite:
    """The connection's socket as gunicorn's response writer sees it during one request:
    what it `sendall`s is held and sent together when the request ends. gunicorn writes the
    head and the body separately, which over TLS is two records, two encryptions and two
    system calls for every response; held together it is one. Everything else (shutdown,
    close, getpeercert) goes to the socket itself; `sendfile` sends what is held first."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._held: list[bytes] = []
        self._size = 0

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        self._held.append(bytes(data))
        self._size += len(data)
        if self._size >= FLUSH_AT:
            self.flush()

    def sendfile(self, *args: Any, **kwargs: Any) -> Any:
        self.flush()
        return self._sock.sendfile(*args, **kwargs)

    def flush(self) -> None:
        if self._held:
            data = b"".join(self._held)
            self._held.clear()
            self._size = 0
            self._sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class LabThreadWorker(ThreadWorker):
    """gthread with the connection's socket visible to the WSGI app, one write per response."""

    def handle_request(self, req: Any, conn: Any) -> Any:
        sock = conn.sock
        writer = OneWrite(sock)
        _current.sock, conn.sock = sock, writer
        try:
            return super().handle_request(req, conn)
        finally:
            conn.sock = sock
            _current.sock = None
            # A failed send ends the connection as it would have without the holding;
            # gunicorn closes it when the next read fails.
            with contextlib.suppress(OSError):
                writer.flush()
