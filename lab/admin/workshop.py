"""Workshop progress, kept in the lab: per exercise, whether it was set up, run and checked.

The dashboard's own (browser-session) state is gone after a reload or in a second tab, and
its only way on, "Set up this exercise", would undo the switch the participant just
flipped. Kept here, next to the switches, progress survives both and follows the lab.
"""

from __future__ import annotations

import json
import time
from typing import Any

from lab.store.base import Store

from .changes import AdminInputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS workshop (
    exercise INTEGER PRIMARY KEY,
    record TEXT NOT NULL,
    updated REAL NOT NULL
);
"""

STEPS = ("setup", "ran", "checked")      # in order: each needs the one before it
MAX_EXERCISE = 999
MAX_RESULT = 16 * 1024                   # a result's JSON text, in characters


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def progress(store: Store) -> dict[str, Any]:
    """Every exercise's record, newest first in `order` (where the participant last was)."""
    rows = store.query("SELECT exercise, record, updated FROM workshop ORDER BY updated DESC")
    return {"exercises": {str(r["exercise"]): {**json.loads(r["record"]),
                                                "updated": r["updated"]} for r in rows},
            "order": [int(r["exercise"]) for r in rows]}


def _checked_body(number: int, body: Any) -> tuple[str, dict[str, Any]]:
    if not 1 <= number <= MAX_EXERCISE:
        raise AdminInputError(f"exercise numbers run from 1 to {MAX_EXERCISE}, not {number}")
    if not isinstance(body, dict) or body.get("step") not in STEPS:
        raise AdminInputError(f'send {{"step": one of {", ".join(STEPS)}, "result": {{...}}}}')
    result = body.get("result", {})
    if not isinstance(result, dict):
        raise AdminInputError("result is a JSON object")
    if len(json.dumps(result)) > MAX_RESULT:
        raise AdminInputError(f"result is longer than {MAX_RESULT} characters", status=413,
                              error="too_large")
    return str(body["step"]), result


def record(store: Store, number: int, body: Any) -> dict[str, Any]:
    """Record one step's result; setting up again starts the exercise over (ran, checked go)."""
    step, result = _checked_body(number, body)
    with store.transaction():
        row = store.query_one("SELECT record FROM workshop WHERE exercise = ?", (number,))
        kept: dict[str, Any] = json.loads(row["record"]) if row else {}
        before = STEPS[STEPS.index(step) - 1] if step != "setup" else None
        if before is not None and before not in kept:
            raise AdminInputError(f"exercise {number}: do step {before!r} before {step!r}",
                                  status=409, error="out_of_order")
        if step == "setup":
            kept = {}
        kept[step] = result
        store.execute("INSERT INTO workshop (exercise, record, updated) VALUES (?, ?, ?) "
                      "ON CONFLICT(exercise) DO UPDATE SET record = excluded.record, "
                      "updated = excluded.updated",
                      (number, json.dumps(kept), time.time()))
    return {**kept, "exercise": number}
