"""One error handler per app: OAuth error JSON (no-store) for APIs, a readable page for browsers.

Bad input must give a 4xx with a clear error, never a 500 and never a crash.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from authlib.oauth2.base import OAuth2Error
from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from . import limits
from .templates import render_string

log = logging.getLogger("fapi_lab.web")


class _ServerLog(logging.StreamHandler):  # type: ignore[type-arg]
    """stderr as it is when a record is written (not when the lab started)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        """StreamHandler.__init__ sets it; stderr is looked up per record instead."""


def _ensure_server_log() -> None:
    """The 500 page says "see the server log", so tracebacks must reach stderr whoever else
    configures logging: in capture mode mitmproxy puts its own handler on the root logger,
    which kept them to itself (and Python's last-resort handler then stays silent)."""
    if not any(isinstance(h, _ServerLog) for h in log.handlers):
        handler = _ServerLog()
        handler.setLevel(logging.ERROR)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        log.addHandler(handler)

ERROR_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;color:#222}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}.box{border-left:4px solid #c33;
padding:.5rem 1rem;background:#fff5f5}</style></head>
<body><h1>{{ title }}</h1><div class="box"><p><code>{{ error }}</code></p>
<p>{{ description }}</p></div>
{% if request_id %}<p><small>Request id: <code>{{ request_id }}</code></small></p>{% endif %}
</body></html>"""

HTTP_ERROR_CODES = {
    400: "invalid_request", 401: "invalid_client", 403: "access_denied", 404: "not_found",
    405: "method_not_allowed", 413: "request_too_large", 415: "unsupported_media_type",
    429: "too_many_requests", 431: "request_header_too_large",
}
LIMIT_DESCRIPTIONS = {413: limits.TOO_LARGE, 431: limits.HEADERS_TOO_LARGE}


def wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html" and request.accept_mimetypes["text/html"] > \
        request.accept_mimetypes["application/json"]


def error_response(status: int, error: str, description: str,
                   headers: dict[str, str] | None = None, title: str | None = None) -> Response:
    """Render an error as OAuth JSON, or as a page when a browser asked."""
    from flask import g

    request_id = getattr(g, "request_id", None)
    if wants_html():
        body = render_string(
            ERROR_PAGE, title=title or "Something went wrong", error=error,
            description=description, request_id=request_id)
        response = Response(body, status=status, mimetype="text/html")
    else:
        payload: dict[str, Any] = {"error": error, "error_description": description}
        response = jsonify(payload)
        response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    _ensure_server_log()

    @app.errorhandler(OAuth2Error)
    def _oauth(error: OAuth2Error) -> Response:
        headers = dict(error.get_headers()) if hasattr(error, "get_headers") else {}
        headers.pop("Content-Type", None)
        return error_response(error.status_code or 400, error.error or "invalid_request",
                              error.description or "", headers)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        description = LIMIT_DESCRIPTIONS.get(status) or error.description or error.name
        return error_response(status, HTTP_ERROR_CODES.get(status, "invalid_request"),
                              description, title=error.name)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "server_error", "The lab hit an unexpected error; "
                              "see the server log.", title="Server error")
