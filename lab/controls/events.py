"""Control-fired events: the measured record of which control refused which request."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from lab import clock
from lab.audit import trail
from lab.store.base import Store

# "alert": a monitoring control noticed something without refusing (token_usage_monitoring).
EventKind = Literal["fired", "prevented", "alert"]


@dataclass(frozen=True)
class ControlFired:
    control: str
    request_id: str | None
    component: str | None
    endpoint: str | None
    error: str | None
    reason: str
    kind: EventKind = "fired"
    ts: float = 0.0
    id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def record(store: Store, event: ControlFired) -> ControlFired:
    ts = event.ts or clock.now(store)
    new_id = store.insert(
        "INSERT INTO events(ts, kind, control, request_id, component, endpoint, error, reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (ts, event.kind, event.control, event.request_id, event.component, event.endpoint,
         event.error, event.reason),
    )
    trail.append(store, "control_fired", {
        "event_id": new_id, "event_kind": event.kind, "control": event.control,
        "endpoint": event.endpoint, "error": event.error, "reason": event.reason})
    return ControlFired(**{**event.as_dict(), "ts": ts, "id": new_id})


def _from_row(row: dict[str, Any]) -> ControlFired:
    return ControlFired(**row)


def list_events(store: Store, *, request_id: str | None = None, control: str | None = None,
                since_id: int = 0, limit: int = 200) -> list[ControlFired]:
    """Newest last. Filter by request id (what did my request cause?) or control."""
    where: list[str] = ["id > ?"]
    params: list[object] = [since_id]
    if request_id:
        where.append("request_id = ?")
        params.append(request_id)
    if control:
        where.append("control = ?")
        params.append(control)
    rows = store.query(
        f"SELECT id, ts, kind, control, request_id, component, endpoint, error, reason "
        f"FROM events WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
        (*params, limit),
    )
    return [_from_row(r) for r in reversed(rows)]


def clear(store: Store) -> None:
    store.execute("DELETE FROM events")
