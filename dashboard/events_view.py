"""The events feed as table rows: newest first, bounded, and readable without the spec."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SHOWN = 200
KEPT = 2000
PAGE = 1000
KIND_WORDS = {"fired": "refused", "prevented": "prevented", "watched": "watched",
              "alert": "alerted"}


def rows(events: list[dict[str, Any]], *, control: str | None = None,
         newest: int = SHOWN) -> list[dict[str, Any]]:
    """The newest `newest` events (of one control, if given), newest first."""
    chosen = [e for e in events if control is None or e.get("control") == control]
    return [{
        "#": e.get("id"),
        "time (UTC)": str(e.get("time", ""))[11:19],
        "control": e.get("control"),
        "what": KIND_WORDS.get(str(e.get("kind")), e.get("kind")),
        "error": e.get("error") or "",
        "where": f"{e.get('component') or ''} {e.get('endpoint') or ''}".strip(),
        "reason": e.get("reason") or "",
        "request": e.get("request_id") or "",
    } for e in reversed(chosen[-newest:])]


@dataclass
class Feed:
    """What a browser tab has seen: pulls only events newer than the last one, keeps KEPT."""

    events: list[dict[str, Any]] = field(default_factory=list)
    last_id: int = 0
    total: int = 0

    def pull(self, fetch: Callable[..., dict[str, Any]]) -> None:
        while True:
            page = fetch(since=self.last_id, limit=PAGE)
            found = list(page.get("events") or [])
            self.events.extend(found)
            self.total += len(found)
            self.last_id = int(page.get("last_id") or self.last_id)
            del self.events[:-KEPT]
            if len(found) < PAGE:
                return


def headline(total: int, shown: list[dict[str, Any]]) -> str:
    if not total:
        return "No control has fired yet. Run an attack, or click through FinLens with a " \
               "control on, and its refusals appear here."
    return f"{total} event(s) in this lab; showing the newest {len(shown)}."
