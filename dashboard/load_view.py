"""Load-test results (`fapi-lab load --out DIR`) as chart-ready tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_DIRS = ("load-results",)


@dataclass
class LoadResults:
    directory: Path
    meta: dict[str, Any]
    workloads: list[dict[str, Any]]
    comparisons: list[dict[str, Any]]

    def throughput(self) -> dict[str, list[Any]]:
        return {"workload": [w["workload"] for w in self.workloads],
                "requests/s": [w["rps"] for w in self.workloads]}

    def latency(self) -> dict[str, list[Any]]:
        return {"workload": [w["workload"] for w in self.workloads],
                "p50 ms": [w["p50"] for w in self.workloads],
                "p95 ms": [w["p95"] for w in self.workloads],
                "p99 ms": [w["p99"] for w in self.workloads]}


class NoResultsError(Exception):
    """The folder holds no readable results.json."""


def load(directory: Path) -> LoadResults:
    path = directory / "results.json"
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise NoResultsError(f"no results.json in {directory}: run `fapi-lab load --out "
                             f"{directory}` first") from None
    except (OSError, ValueError) as error:
        raise NoResultsError(f"{path} is not readable JSON ({error})") from None
    workloads = raw.get("workloads") if isinstance(raw, dict) else None
    if not isinstance(workloads, list) or not all(
            isinstance(w, dict) and {"workload", "rps", "p50", "p95", "p99"} <= set(w)
            for w in workloads):
        raise NoResultsError(f"{path} does not look like `fapi-lab load` results")
    meta = {k: v for k, v in raw.items() if k not in ("workloads", "comparisons")}
    return LoadResults(directory, meta, workloads, list(raw.get("comparisons") or []))


def candidates(root: Path, data_dir: Path) -> list[Path]:
    """Folders where results usually are: ./load-results and <data dir>/load-results."""
    seen: list[Path] = []
    for folder in [root / d for d in DEFAULT_DIRS] + [data_dir / d for d in DEFAULT_DIRS]:
        if folder not in seen:
            seen.append(folder)
    return seen
