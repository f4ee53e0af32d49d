"""What a folder of kept trails says: each verified, summed up per matrix column.

A trail whose manifest says its run's attacker wrote the store (`expected: tampered`) and
that fails is that attack caught, reported as such; any other failure is a broken trail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import keep

START = "lab-start"


def verdict(report: dict[str, Any], expected: str) -> str:
    if report["ok"]:
        return "verified"
    return "tampered (expected)" if expected == "tampered" else "broken"


def summarise(root: Path, tick: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Verify every kept trail under `root`; per column: trails, records, verified, broken."""
    trails: list[dict[str, Any]] = []
    columns: dict[str, dict[str, int]] = {}
    found = keep.find(root) if root.is_dir() else []
    for number, path in enumerate(found, start=1):
        about = keep.about(path)
        report = keep.check(path).as_dict()
        expected = str(about.get("expected", "intact"))
        entry = {"path": str(path.relative_to(root)), "column": about.get("column"),
                 "attack": about.get("attack"), "expected": expected,
                 "verdict": verdict(report, expected), "records": report["records"],
                 "chained": report["chained"], "checkpoints": report["checkpoints"],
                 "first_bad": report["first_bad"], "problem": report["problem"]}
        trails.append(entry)
        column = columns.setdefault(entry["column"] or START, {
            "trails": 0, "records": 0, "chained": 0, "verified": 0, "broken": 0,
            "tampered_expected": 0})
        column["trails"] += 1
        column["records"] += entry["records"]
        column["chained"] += entry["chained"]
        key = {"verified": "verified", "broken": "broken"}.get(entry["verdict"],
                                                              "tampered_expected")
        column[key] += 1
        if tick is not None:
            tick(number, len(found))
    broken = [t for t in trails if t["verdict"] == "broken"]
    return {"root": str(root), "ok": not broken, "trails": trails, "columns": columns,
            "broken": broken, "bytes": sum(f.stat().st_size for f in root.rglob("*")
                                           if f.is_file()) if root.is_dir() else 0}


def lines(summary: dict[str, Any]) -> list[str]:
    """One line per column, then one per broken trail (naming its first bad record)."""
    out = []
    for column_id, c in summary["columns"].items():
        extra = f", {c['tampered_expected']} tampered by their attacker (expected)" \
            if c["tampered_expected"] else ""
        out.append(f"{column_id}: {c['trails']} trail(s), {c['records']} records "
                   f"({c['chained']} chained), {c['verified']} verified, "
                   f"{c['broken']} broken{extra}")
    for t in summary["broken"]:
        out.append(f"BROKEN {t['path']}: record {t['first_bad']}: {t['problem']}")
    return out
