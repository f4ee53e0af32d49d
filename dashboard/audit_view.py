"""The audit trail page's logic as plain data: the verifier's verdict in words, and the
records as rows with the place where the chain breaks marked (docs/audit.md).

The page reads GET /admin/audit: the newest records, the records around the first bad one,
and the report of the same verifier `fapi-lab audit verify` runs.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

BREAKS = "✗ breaks here"
MISSING = "✗ missing"
AFTER = "after the break"
CHAINED = "chained"
UNCHAINED = "no hash"
WHAT_WIDTH = 110


@dataclass(frozen=True)
class Verdict:
    tone: str                    # success | error | warning | info (a Streamlit alert)
    headline: str
    details: list[str] = field(default_factory=list)


def verdict(payload: dict[str, Any]) -> Verdict:
    """What the verifier says, in one line a room can read, and its notes."""
    report = payload["verify"]
    notes = [str(n) for n in report.get("notes") or []]
    if not report["ok"]:
        bad = report.get("first_bad")
        where = f"record #{bad}" if bad is not None else "its signed checkpoints"
        return Verdict("error", f"The trail breaks at {where}.", [str(report["problem"]), *notes])
    if not payload["switched_on"]:
        return Verdict("warning", "audit_chain is off: records are kept without hashes, so "
                       "nothing can tell an edited trail from an intact one.", notes)
    if not report["records"]:
        return Verdict("info", "The trail is empty: nothing has happened since it started.",
                       notes)
    return Verdict("success", f"The trail is intact: {report['chained']} chained records up "
                   f"to #{report['head']}, {report['checkpoints']} signed checkpoints.", notes)


def metrics(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for the figures above the table."""
    report = payload["verify"]
    records = payload.get("records") or []
    newest = records[-1]["seq"] if records else None
    return [("Records", str(payload["count"])),
            ("Chained" if report["ok"] else "Chained before the break", str(report["chained"])),
            ("Signed checkpoints", str(report["checkpoints"])),
            ("Newest", f"#{newest}" if newest is not None else "—")]


def _when(ts: Any) -> str:
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        return str(ts)
    try:
        return time.strftime("%m-%d %H:%M:%S", time.localtime(ts))   # fits one line
    except (OverflowError, OSError, ValueError):
        return str(ts)


def what(data: Any) -> str:
    """The record's data in one line: key=value pairs, cut to fit a projected table."""
    if data in ({}, [], ""):
        return "(empty)"
    if isinstance(data, dict):
        text = ", ".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}"
                         for k, v in data.items())
    else:
        text = data if isinstance(data, str) else json.dumps(data)
    return text if len(text) <= WHAT_WIDTH else text[:WHAT_WIDTH - 1] + "…"


def _link(record: dict[str, Any], first_bad: int | None) -> str:
    if first_bad is not None and record["seq"] == first_bad:
        return BREAKS
    if first_bad is not None and record["seq"] > first_bad:
        return AFTER
    return UNCHAINED if record.get("hash") is None else CHAINED


def rows(records: list[dict[str, Any]], report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per record, oldest first; a record the verifier names but the store no longer
    has (deleted, or cut from the end) shows as a row of its own, where it should be."""
    first_bad = report.get("first_bad") if not report["ok"] else None
    out = [{"#": r["seq"], "time": _when(r.get("ts")), "kind": str(r.get("kind")),
            "by": r.get("component") or "—", "what": what(r.get("data")),
            "link": _link(r, first_bad)} for r in records]
    seqs = {r["seq"] for r in records}
    if first_bad is not None and first_bad not in seqs and records \
            and records[0]["seq"] <= first_bad:
        gap = {"#": first_bad, "time": "", "kind": "", "by": "",
               "what": "(no longer in the store)", "link": MISSING}
        at = next((i for i, r in enumerate(out) if r["#"] > first_bad), len(out))
        out.insert(at, gap)
    return out
