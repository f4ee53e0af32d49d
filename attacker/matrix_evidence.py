"""What a matrix cell keeps of its run as evidence: the story, bounded in size.

The full matrix has about 1,400 runs of about 10 steps each, so every text is clipped and
absent fields are left out rather than written as null.
"""

from __future__ import annotations

import json
from typing import Any

from .outcome import Outcome

TEXT_LIMIT = 300      # characters kept of a step text, reason, refusal body or stolen data
STEP_LIMIT = 40       # steps kept per run (the longest stories have about 25)


def _clip(value: Any, limit: int = TEXT_LIMIT) -> Any:
    if value is None or isinstance(value, (int, float, bool)):
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                          default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def evidence_of(outcome: Outcome) -> dict[str, Any]:
    """The run's story in a bounded size: steps, captured legs read, refusal, events."""
    refusal = None
    if outcome.refusal:
        refusal = _present({k: _clip(v) for k, v in outcome.refusal.items() if v != ""})
    return {
        "steps": [_present({"actor": s.actor, "text": _clip(s.text), "method": s.method,
                            "url": _clip(s.url, 200), "status": s.status,
                            "error": _clip(s.error)}) for s in outcome.steps[:STEP_LIMIT]],
        "steps_total": len(outcome.steps),
        "captured": [_present({"capture_id": c.get("capture_id"), "leg": c.get("leg"),
                               "method": c.get("method"), "url": _clip(c.get("url"), 200),
                               "status": c.get("status")})
                     for c in outcome.captured[:STEP_LIMIT]],
        "refusal": refusal,
        "events": [_present({"control": e.control, "kind": e.kind, "reason": _clip(e.reason),
                             "error": e.error, "endpoint": e.endpoint, "counted": e.counted})
                   for e in outcome.events[:STEP_LIMIT]],
        "stolen": _clip(outcome.stolen),
    }


def _present(fields: dict[str, Any]) -> dict[str, Any]:
    """Absent rather than null: the full matrix has ~1,400 runs of ~10 steps each."""
    return {k: v for k, v in fields.items() if v is not None}
