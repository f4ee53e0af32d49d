"""Admin route for the audit trail (docs/audit.md): its newest records and the verifier's
verdict, for the dashboard's "Audit trail" page (the dashboard reads the lab only here).

Read-only: it runs `lab.audit.verify.verify`, as `fapi-lab audit verify` does, never
`check()`, whose refusal of a broken trail is an event of the verifier's own run (an
attack's, attributed to its request): looking at the trail must not fire audit_chain.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, jsonify, request

from lab.audit import trail, verify
from lab.store.base import Store

from .changes import int_arg

SHOWN = 50          # records the page shows by default
AROUND = 5          # records shown on each side of the first bad one


def _json(payload: object) -> Response:
    response = jsonify(payload)
    response.headers["Cache-Control"] = "no-store"
    return response


def _row(record: trail.Record) -> dict[str, Any]:
    """A record as JSON, whatever a tampered row holds (bytes, odd types: shown as text)."""
    row: dict[str, Any] = json.loads(json.dumps({**record.as_dict(),
                                                 "unreadable": record.unreadable},
                                                default=repr))
    return row


def add_routes(bp: Blueprint, store: Store) -> None:
    @bp.get("/audit")
    def audit_trail() -> Response:
        """GET /admin/audit?limit=N: {switched_on, count, verify, records, around}: the newest
        N records (oldest first), the report, and the records around the first bad one."""
        limit = int_arg("limit", request.args.get("limit"), SHOWN, 1, 1000)
        report = verify.verify(store, store.data_dir)
        around: list[dict[str, Any]] = []
        if report.first_bad is not None:
            # a tail cut off: the records before the cut (the bad one is past the head)
            anchor = min(report.first_bad, (report.head or 0) + 1)
            since = max(anchor - AROUND - 1, 0)
            around = [_row(r) for r in trail.records(store, since=since,
                                                     limit=2 * AROUND + 1)]
        return _json({"switched_on": verify.switched_on(store), "count": trail.count(store),
                      "verify": report.as_dict(),
                      "records": [_row(r) for r in trail.recent(store, limit)],
                      "around": around})
