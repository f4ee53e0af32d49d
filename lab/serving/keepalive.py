"""Keep-alive for the in-process apps behind the capture proxy.

Werkzeug's development server answers every request with `Connection: close`, then reads
whatever is left on the socket for 10 ms (its way to let a client see a 413). Behind
mitmproxy that cost a new upstream TCP + TLS connection per request: 201 connections for
201 GETs on one kept-alive client session, and about three times the time per request of
the same lab under gunicorn (loadtests/capture_keepalive.py, docs/performance.md).

This handler keeps the connection open when it can tell where the request ends: HTTP/1.1,
no `Connection: close`, no chunked body, a Content-Length within the proxy's own body bound.
After the response it reads what the app left unread of that body, and only that, so the next
request starts where it should; Werkzeug's own drain is handed an empty stream. Anything else
is closed after the response, as before. The client certificate and address still come per
request from the proxy's headers (lab.web.proxy_headers), and mitmproxy keeps one upstream
connection per client connection, so a kept connection never carries two clients.
"""

from __future__ import annotations

import io
from typing import Any

from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream

from lab.web import limits


class KeepAliveHandler(WSGIRequestHandler):
    """Werkzeug's request handler, with HTTP/1.1 keep-alive where the request's end is known."""

    _body: LimitedStream | None = None   # this request's body, when the connection is kept
    # Headers and body go out in separate writes: without TCP_NODELAY the body of a kept-alive
    # response waits for the peer's delayed ACK (about 40 ms).
    disable_nagle_algorithm = True

    def make_environ(self) -> Any:
        environ = super().make_environ()
        self._body = None
        if self.close_connection or "wsgi.input_terminated" in environ:  # closing, or chunked
            return environ
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return environ
        if not 0 <= length <= limits.MAX_PROXY_BODY:
            return environ
        self._body = LimitedStream(self.rfile, length)  # type: ignore[arg-type]
        environ["wsgi.input"] = self._body
        # Werkzeug's drain after the response reads this empty stream, not the socket, where
        # the next request may already wait. run_wsgi puts the socket's stream back.
        self.rfile = io.BytesIO()
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if self._body is not None and keyword.lower() == "connection" \
                and value.lower() == "close":
            return
        super().send_header(keyword, value)

    def run_wsgi(self) -> None:
        socket_stream = self.rfile
        try:
            super().run_wsgi()
        finally:
            self.rfile = socket_stream
        body, self._body = self._body, None
        if body is None:
            self.close_connection = True
            return
        try:
            body.exhaust()   # the rest of this request's body, at most MAX_PROXY_BODY
        except (OSError, ValueError):
            self.close_connection = True
