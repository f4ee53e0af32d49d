"""Per-request context that protocol code reads without importing Flask.

The web layer binds the store, request id, component and endpoint at the start
of each request; guards and the clock read them here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from lab.store.base import Store


@dataclass(frozen=True)
class RequestContext:
    store: Store
    component: str
    request_id: str | None = None
    endpoint: str | None = None
    # Switches read once per web request and shared by every guard it meets (None: read live).
    switches: dict[str, Any] | None = None

    def cached(self, key: str, read: Callable[[], Any]) -> Any:
        """What several readers of one web request ask (switches, parameters, the clock
        offset), read from the store once; read live outside a web request."""
        if self.switches is None:
            return read()
        if key not in self.switches:
            self.switches[key] = read()
        return self.switches[key]

    def forget(self, key: str) -> None:
        """The request changed what `key` holds: its next read goes to the store."""
        if self.switches is not None:
            self.switches.pop(key, None)


_current: ContextVar[RequestContext | None] = ContextVar("lab_request_context", default=None)


def current() -> RequestContext:
    ctx = _current.get()
    if ctx is None:
        raise RuntimeError("no lab request context bound (call lab.context.bind first)")
    return ctx


def current_or_none() -> RequestContext | None:
    return _current.get()


def set_context(ctx: RequestContext | None) -> object:
    return _current.set(ctx)


def reset_context(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


@contextmanager
def bound(store: Store, component: str, request_id: str | None = None,
          endpoint: str | None = None) -> Iterator[RequestContext]:
    """Bind a context for code running outside a web request (CLI, tests, workers)."""
    ctx = RequestContext(store, component, request_id, endpoint)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
