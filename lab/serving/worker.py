"""A gunicorn gthread worker that lets the app see the TLS connection it serves.

gunicorn's environ carries neither the client certificate nor the socket, and the lab
needs the certificate for mutual TLS (RFC 8705). This worker keeps the connection's
socket in a thread-local while the request runs (gthread serves one request per thread
at a time); `lab.serving.site` reads it. It also hands gunicorn one cached TLS context
per process (lab.serving.tls) instead of a new one per connection.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

_current = threading.local()


def current_socket() -> socket.socket | None:
    """The socket of the connection this thread is serving, if a lab worker serves it."""
    return getattr(_current, "sock", None)


class LabThreadWorker(ThreadWorker):
    """gthread with the connection's socket visible to the WSGI app."""

    def handle_request(self, req: Any, conn: Any) -> Any:
        _current.sock = conn.sock
        try:
            return super().handle_request(req, conn)
        finally:
            _current.sock = None
