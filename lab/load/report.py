"""Locust's CSV statistics → one result per workload; JSON, Markdown and an SVG chart."""

from __future__ import annotations

import csv
import html
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .workloads import COMPARISONS


@dataclass(frozen=True)
class Result:
    workload: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float

    def line(self) -> str:
        return (f"{self.workload:<8} {self.rps:8.1f} req/s   p50 {self.p50:6.1f} ms   "
                f"p95 {self.p95:6.1f} ms   p99 {self.p99:6.1f} ms   "
                f"failures {self.failures}/{self.requests}")


def _number(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def read_stats(workload: str, csv_prefix: Path) -> Result:
    """The "Aggregated" row of Locust's <prefix>_stats.csv."""
    path = Path(f"{csv_prefix}_stats.csv")
    with path.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("Name") == "Aggregated"]
    if not rows:
        raise ValueError(f"no aggregated statistics in {path}")
    row = rows[0]
    return Result(workload, int(_number(row["Request Count"])),
                  int(_number(row["Failure Count"])), _number(row["Requests/s"]),
                  _number(row["50%"]), _number(row["95%"]), _number(row["99%"]))


def comparisons(results: dict[str, Result]) -> list[dict[str, Any]]:
    rows = []
    for label, subject, baseline in COMPARISONS:
        if subject in results and baseline in results and results[baseline].rps > 0:
            s, b = results[subject], results[baseline]
            rows.append({"comparison": label, "subject": subject, "baseline": baseline,
                         "rps_ratio": round(s.rps / b.rps, 3),
                         "p50_ratio": round(s.p50 / b.p50, 3) if b.p50 else None})
    return rows


def comparison_lines(rows: list[dict[str, Any]]) -> list[str]:
    return [f"{r['comparison']:<16} req/s ratio {r['rps_ratio']:.2f}   p50 ratio "
            f"{'-' if r['p50_ratio'] is None else format(r['p50_ratio'], '.2f')}" for r in rows]


def write(out: Path, results: dict[str, Result], meta: dict[str, Any]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rows = comparisons(results)
    data = {**meta, "workloads": [asdict(r) for r in results.values()], "comparisons": rows}
    (out / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    md = ["# fapi-lab load", "",
          f"users {meta['users']}, {meta['duration']} s per workload, base profile "
          f"`{meta['profile']}`, Locust {meta['locust']}", "",
          "| workload | req/s | p50 ms | p95 ms | p99 ms | failures | requests |",
          "|---|---:|---:|---:|---:|---:|---:|"]
    md += [f"| {r.workload} | {r.rps:.1f} | {r.p50:.1f} | {r.p95:.1f} | {r.p99:.1f} | "
           f"{r.failures} | {r.requests} |" for r in results.values()]
    if rows:
        md += ["", "| comparison | req/s ratio | p50 ratio |", "|---|---:|---:|"]
        md += [f"| {r['comparison']} | {r['rps_ratio']:.2f} | "
               f"{'-' if r['p50_ratio'] is None else format(r['p50_ratio'], '.2f')} |"
               for r in rows]
    (out / "results.md").write_text("\n".join(md) + "\n")
    (out / "results.svg").write_text(svg_chart(list(results.values())))
    return [out / "results.json", out / "results.md", out / "results.svg"]


def svg_chart(results: list[Result]) -> str:
    """A horizontal bar chart of req/s per workload, with p50/p95 as text (no dependencies)."""
    width, bar_h, gap, left, top = 640, 26, 12, 90, 40
    height = top + len(results) * (bar_h + gap) + 20
    peak = max((r.rps for r in results), default=0.0) or 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="13">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             '<text x="10" y="24" font-weight="bold">fapi-lab load: requests per second</text>']
    for i, r in enumerate(results):
        y = top + i * (bar_h + gap)
        w = max(1.0, (width - left - 200) * r.rps / peak)
        label = html.escape(r.workload)
        parts += [f'<text x="10" y="{y + 18}">{label}</text>',
                  f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#3b73b9"/>',
                  f'<text x="{left + w + 6:.1f}" y="{y + 18}">{r.rps:.0f}/s · p50 {r.p50:.0f} '
                  f'ms · p95 {r.p95:.0f} ms</text>']
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
