"""Request size limits, the same at every door: the apps (Flask, under Werkzeug or gunicorn)
and the capture proxy in front of them (lab/capture/proxy.py).

No lab request needs more than a few kilobytes (the largest are JAR request objects and
registrations with a JWKS), so the limits are generous for the protocol and small for
memory: one oversized unauthenticated POST must not grow the lab by its size.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

MAX_BODY = 64 * 1024        # bytes of request body an app reads
MAX_HEADER = 32 * 1024      # bytes of request headers, all together
# The proxy buffers whole messages (requests and responses) before passing them on; its
# bound is looser than the apps' so they answer most oversized requests with their own 413.
MAX_PROXY_BODY = 1024 * 1024

TOO_LARGE = (f"The request body is larger than the lab accepts ({MAX_BODY // 1024} KiB); "
             "no lab request needs that much.")
HEADERS_TOO_LARGE = (f"The request headers are larger than the lab accepts "
                     f"({MAX_HEADER // 1024} KiB in all).")


def header_bytes(environ: dict[str, object]) -> int:
    """The size of a WSGI request's headers, as the client sent them (near enough)."""
    return sum(len(key) + len(str(value)) for key, value in environ.items()
               if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH"))


class ChunkedBodyLimit:
    """WSGI middleware for bodies without a Content-Length (chunked transfer coding).

    Werkzeug cuts a declared body off at MAX_CONTENT_LENGTH, but hands a server-terminated
    (chunked) stream to the form parser unbounded. Here such a body is read once, at most
    MAX_BODY + 1 bytes: over the limit it is a 413 before the app runs; otherwise the app
    gets it as an ordinary body with a Content-Length."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("CONTENT_LENGTH") in (None, "") and environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                payload = json.dumps({"error": "request_too_large",
                                      "error_description": TOO_LARGE}).encode()
                start_response("413 Request Entity Too Large", [
                    ("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
                    ("Cache-Control", "no-store"), ("Connection", "close")])
                return [payload]
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            del environ["wsgi.input_terminated"]
        return self.app(environ, start_response)
