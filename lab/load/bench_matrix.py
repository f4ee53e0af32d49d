"""The matrix targets from the last measured `fapi-lab matrix` run, never from a constant.

The benchmark cannot run a matrix (the full one took about 25 minutes), so it reads the
matrix.json files of earlier runs: in the directories it is given (`--matrix DIR`), the
dashboard's (`$FAPI_LAB_MATRIX_DIR`, else `matrix/` in the lab's data directory, which its
estimate reads) and `fapi-lab matrix`'s default `./matrix-results`. A run counts for a target
only when it ran every attack of the catalog: the full-matrix target needs a run with the
control columns, the profile-columns target a `--profiles-only` run. Its wall time is
matrix.json's `seconds.total`, its CPU `seconds.cpu` (else the sum of the cells'
`cpu_seconds`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .bench_targets import MATRIX_TARGETS_S

RESULTS_FILE = "matrix.json"
LABELS = {"full": "full matrix (every attack × every column)",
          "profiles": "matrix profile columns (every attack × every profile)"}


def _run(path: Path, catalog: int) -> dict[str, Any] | None:
    """What one matrix.json says of itself; None when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        modified = path.stat().st_mtime
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), dict):
        return None
    kinds = {c.get("kind") for c in data.get("columns", []) if isinstance(c, dict)}
    found = data.get("seconds")
    seconds: dict[str, Any] = found if isinstance(found, dict) else {}
    cells = [cell for row in data["cells"].values() if isinstance(row, dict)
             for cell in row.values() if isinstance(cell, dict)]
    cpu = seconds.get("cpu")
    if not isinstance(cpu, (int, float)):
        measured = [c["cpu_seconds"] for c in cells
                    if isinstance(c.get("cpu_seconds"), (int, float)) and c["cpu_seconds"]]
        cpu = round(sum(measured), 1) if measured else None
    attacks = len(data.get("attacks", []))
    return {"path": str(path), "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                     time.gmtime(modified)),
            "modified": modified, "kind": "full" if "control" in kinds else "profiles",
            "attacks": attacks, "catalog": catalog, "complete": attacks >= catalog > 0,
            "columns": len(data.get("columns", [])), "wall_s": seconds.get("total"),
            "cpu_s": cpu}


def find_runs(directories: list[Path], catalog: int) -> list[dict[str, Any]]:
    """Every matrix.json in these directories, newest first."""
    runs = []
    for directory in dict.fromkeys(d.expanduser().resolve() for d in directories):
        found = _run(directory / RESULTS_FILE, catalog)
        if found is not None:
            runs.append(found)
    return sorted(runs, key=lambda r: r["modified"], reverse=True)


def _describe(run: dict[str, Any]) -> str:
    cpu = "CPU not recorded" if run["cpu_s"] is None else f"CPU {run['cpu_s']:,.0f} s"
    kind = "full" if run["kind"] == "full" else "profile-only"
    return (f"{run['path']} ({run['date']}, {kind}, {run['attacks']} of {run['catalog']} "
            f"attacks × {run['columns']} columns, wall {run['wall_s']} s, {cpu})")


def targets(directories: list[Path], catalog: int) -> list[dict[str, Any]]:
    """The two matrix targets, each from the newest complete run of its kind."""
    runs = find_runs(directories, catalog)
    searched = ", ".join(str(d) for d in directories)
    out = []
    for kind, limit in MATRIX_TARGETS_S.items():
        complete = [r for r in runs if r["kind"] == kind and r["complete"]
                    and isinstance(r["wall_s"], (int, float))]
        entry: dict[str, Any] = {"kind": "matrix", "target": LABELS[kind], "at_most_s": limit,
                                 "target_text": f"< {limit:g} s", "run": None}
        if complete:
            run = complete[0]
            entry.update(measured=run["wall_s"], run=run, why="",
                         measured_text=f"{run['wall_s']:,.0f} s wall"
                         + (f", {run['cpu_s']:,.0f} s CPU" if run["cpu_s"] else ""),
                         met=run["wall_s"] < limit, source="last run: " + _describe(run))
        else:
            partial = [r for r in runs if r["kind"] == kind]
            why = "no matrix run found" if not partial else \
                "no run of every attack; the newest is " + _describe(partial[0])
            entry.update(measured=None, measured_text="–", met=None, why=why,
                         source=f"searched {searched}")
        out.append(entry)
    return out
