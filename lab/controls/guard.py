"""guard(id): how an enforcement point asks the registry and records what it refused.

    PKCE = guard("pkce_required")          # module level: this module enforces it
    if PKCE.on() and not challenge:
        raise PKCE.refuse(InvalidRequestError(...), reason="no code_challenge")

`refuse()` records a ControlFired event for the current request and returns the
error, so the `raise` stays at the call site.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from lab import context

from . import catalog, events
from .registry import Registry, merged_params

E = TypeVar("E", bound=BaseException)

_traces: list[set[str]] = []
_traces_lock = threading.Lock()


@contextmanager
def consult_trace() -> Iterator[set[str]]:
    """Collect the ids of every control some enforcement point asked about meanwhile.

    The matrix uses it: a control that no enforcement point consulted during a run cannot
    have changed that run (every switch is read here; attacks.md §0, the registry is the
    only door).
    """
    seen: set[str] = set()
    with _traces_lock:
        _traces.append(seen)
    try:
        yield seen
    finally:
        with _traces_lock:
            _traces.remove(seen)


def _consulted(control_id: str) -> None:
    if _traces:
        with _traces_lock:
            for seen in _traces:
                seen.add(control_id)


def _error_code(error: BaseException) -> str | None:
    return getattr(error, "error", None) or getattr(error, "code", None) or type(error).__name__


class Guard:
    """One control as seen from one enforcement point."""

    def __init__(self, control_id: str) -> None:
        self.control = catalog.get(control_id)
        self.id = control_id

    def _registry(self) -> Registry:
        return Registry(context.current().store)

    def _cached(self, key: str, read: Any) -> Any:
        """One store read per request for what several guards of the request ask."""
        return context.current().cached(key, read)

    def on(self) -> bool:
        _consulted(self.id)
        return self.id in self._cached("enabled", lambda: self._registry().enabled())

    def records(self) -> bool:
        """Whether the control is on, for code that only keeps evidence (the audit trail's
        writer): keeping it changes no request's outcome, so unlike on() this is not a
        consultation the matrix counts (consult_trace)."""
        return self.id in self._cached("enabled", lambda: self._registry().enabled())

    def param(self, name: str, default: Any = None) -> Any:
        _consulted(self.id)
        # One read of every control's parameters per request, whichever guards ask.
        stored = self._cached("params", lambda: self._registry().stored_params())
        return merged_params(self.id, stored).get(name, default)

    def _record(self, kind: events.EventKind, error: str | None, reason: str) -> None:
        ctx = context.current()
        events.record(ctx.store, events.ControlFired(
            control=self.id, request_id=ctx.request_id, component=ctx.component,
            endpoint=ctx.endpoint, error=error, reason=reason, kind=kind,
        ))

    def refuse(self, error: E, reason: str) -> E:
        """Record that this control refused the current request; return the error to raise."""
        self._record("fired", _error_code(error), reason)
        return error

    def prevented(self, reason: str) -> None:
        """Record that this (preventive) control removed an attack surface in this flow."""
        self._record("prevented", None, reason)

    def alert(self, reason: str) -> None:
        """Record that this (monitoring) control noticed something in the current request
        without refusing it; never counted as a refusal."""
        self._record("alert", None, reason)

    @contextmanager
    def watch(self, reason: str = "") -> Iterator[None]:
        """Attribute an error raised by library code (Authlib, PyJWT) to this control."""
        try:
            yield
        except Exception as error:
            self._record("fired", _error_code(error), reason or str(error) or type(error).__name__)
            raise


def guard(control_id: str) -> Guard:
    return Guard(control_id)


# Checks no switch turns off (an RFC MUST the lab keeps in every profile): their refusals are
# recorded under their own id, so an event never names a control that was off at the time.
BASELINE_CHECKS = {
    "pkce_verification": "RFC 7636 §4.6: a code issued with a code_challenge is redeemed only "
                         "with the matching code_verifier, whatever pkce_required says",
}


class Baseline:
    """One always-on check, recorded like a control's refusal (kind "fired")."""

    def __init__(self, check_id: str) -> None:
        if check_id not in BASELINE_CHECKS:
            raise KeyError(f"{check_id} is not a baseline check")
        self.id = check_id

    def refuse(self, error: E, reason: str) -> E:
        ctx = context.current()
        events.record(ctx.store, events.ControlFired(
            control=self.id, request_id=ctx.request_id, component=ctx.component,
            endpoint=ctx.endpoint, error=_error_code(error), reason=reason))
        return error
