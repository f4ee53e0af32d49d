"""The WSGI app a gunicorn worker serves: its app(s), chosen by the port a request came in on.

The lab runs one gunicorn for the AS and one for the bank: the bank fetches the AS's
keys over HTTPS, and a bank worker whose threads all waited on a fetch served by that
same worker would starve itself. The listening port (SERVER_PORT, from the socket
gunicorn accepted on) says which app answers. The client certificate is put where
Werkzeug's development server puts it (SSL_CLIENT_CERT, PEM), so the apps do not know
which server runs them.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Iterable
from typing import Any

from .worker import current_socket

WORKER_HEADER = "X-Lab-Worker"
WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


def client_certificate_pem() -> str | None:
    sock = current_socket()
    if not isinstance(sock, ssl.SSLSocket):
        return None
    try:
        der = sock.getpeercert(binary_form=True)
    except (ValueError, OSError):
        return None
    return ssl.DER_cert_to_PEM_cert(der) if der else None


class PortDispatch:
    """Route each request to the app that owns the port it arrived on."""

    def __init__(self, apps_by_port: dict[int, WsgiApp]) -> None:
        self.apps_by_port = apps_by_port
        self.pid = str(os.getpid())   # built in the worker, after the fork

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            app = self.apps_by_port[int(environ.get("SERVER_PORT", 0))]
        except (KeyError, ValueError):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no lab app on this port\n"]
        environ.pop("SSL_CLIENT_CERT", None)
        cert = client_certificate_pem()
        if cert:
            environ["SSL_CLIENT_CERT"] = cert

        def start_with_worker(status: str, headers: list[tuple[str, str]],
                              exc_info: Any = None) -> Any:
            # Which process answered: load spread over workers is visible from outside.
            return start_response(status, [*headers, (WORKER_HEADER, self.pid)], exc_info)

        return app(environ, start_with_worker)
