"""What every lab Flask app shares: its cookie, request ids, the request context, errors."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Request, Response, abort, g, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from lab import context
from lab.store.base import Store

from .errors import register_error_handlers
from .limits import MAX_BODY, MAX_HEADER, ChunkedBodyLimit, header_bytes
from .proxy_headers import SECRET_CONFIG_KEY, ProxyTrust
from .request_id import HEADER, accept_incoming, new_request_id

_ID_ENVIRON = "HTTP_" + HEADER.upper().replace("-", "_")
STATIC = Path(__file__).resolve().parent / "static"
# One icon per origin, served by the lab itself: without it every page view logs a 404, and a
# browser must never fetch one from anywhere else. The AS and the bank are both HonestBank.
ICONS = {"as": "honestbank.svg", "bank": "honestbank.svg", "tpp": "finlens.svg"}


class LabJSONProvider(DefaultJSONProvider):
    """JSON nested deeper than Python's parser goes raises RecursionError, which Flask does not
    treat as a decode error (a 500); here it is one, so get_json() answers 400 as for any
    malformed body."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


class LabSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with the serializer built once per key set: Flask builds
    a new one at every request, cookie or not (about 5% of a bare request's CPU). It holds
    no per-request state; a changed secret key or fallback list builds a new one."""

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        found = self._serializers.get(keys)
        if found is None:
            if len(self._serializers) > 8:
                self._serializers.clear()   # bounded whatever keys come and go
            found = self._serializers[keys] = super().get_signing_serializer(app)
        return found

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """No Cookie header, no cookie to parse: a new empty session, as Flask's own path ends
        (API calls, the benchmark's and the attacker's, never send one)."""
        if not request.environ.get("HTTP_COOKIE") and app.secret_key:
            return self.session_class()
        return super().open_session(app, request)


class _SyncCache:
    """Flask's `ensure_sync`, answered once per function: Flask asks `inspect` whether each
    hook and view is a coroutine function at every call (five times a bare request, about 5%
    of its CPU in the app). The functions are the app's registered ones, a bounded set."""

    def __init__(self, ensure_sync: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
        self._ensure_sync = ensure_sync
        self._seen: dict[Callable[..., Any], Callable[..., Any]] = {}

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return self._seen[func]
        except (KeyError, TypeError):   # TypeError: an unhashable callable, asked each time
            found = self._ensure_sync(func)
        if len(self._seen) < 1024:
            with contextlib.suppress(TypeError):
                self._seen[func] = found
        return found


def app_secret(data_dir: Path, component: str) -> bytes:
    """A per-app session secret kept in the data directory (never in git)."""
    path = data_dir / "secrets" / f"{component}.session-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def init_lab_app(app: Flask, *, component: str, store: Store, data_dir: Path) -> None:
    """Cookies ignore ports, so each app on 127.0.0.1 gets its own session cookie name."""
    app.secret_key = app_secret(data_dir, component)
    app.json = LabJSONProvider(app)
    app.session_interface = LabSessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME=f"fapi_lab_{component}",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=MAX_BODY,
    )
    app.extensions["lab_store"] = store
    icon = (STATIC / ICONS.get(component, "honestbank.svg")).read_bytes()

    def favicon() -> Response:
        return Response(icon, mimetype="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})

    app.add_url_rule("/favicon.ico", "lab_favicon", favicon)
    app.add_url_rule("/favicon.svg", "lab_favicon_svg", favicon)
    # The capture proxy's client certificate and address, believed only with its secret.
    app.wsgi_app = ProxyTrust(  # type: ignore[method-assign]
        ChunkedBodyLimit(app.wsgi_app), lambda: app.config.get(SECRET_CONFIG_KEY))
    app.extensions["lab_component"] = component

    app.ensure_sync = _SyncCache(app.ensure_sync)  # type: ignore[method-assign]

    @app.before_request
    def _bind() -> None:
        # The request and g once each: every read through Flask's proxies costs a lookup.
        req, here = request._get_current_object(), g._get_current_object()  # type: ignore[attr-defined]
        environ = req.environ
        here.request_id = request_id = (accept_incoming(environ.get(_ID_ENVIRON))
                                        or new_request_id(component))
        here._lab_ctx_token = context.set_context(context.RequestContext(
            store=store, component=component, request_id=request_id,
            endpoint=f"{req.method} {req.path}", switches={},
        ))
        # Before any view reads the body: a declared length over the limit is refused unread
        # (a chunked body is cut off at MAX_CONTENT_LENGTH by Werkzeug as it is read).
        if header_bytes(environ) > MAX_HEADER:
            abort(431)
        if (req.content_length or 0) > MAX_BODY:
            abort(413)

    @app.after_request
    def _stamp(response: Response) -> Response:
        response.headers[HEADER] = getattr(g, "request_id", "")
        return response

    @app.teardown_request
    def _unbind(_exc: BaseException | None) -> None:
        token = g.pop("_lab_ctx_token", None)
        if token is not None:
            context.reset_context(token)

    register_error_handlers(app)
