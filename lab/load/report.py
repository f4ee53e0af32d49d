"""Locust's final statistics → one result per workload; JSON, Markdown and an SVG chart."""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lab.admin.describe import serving_text

from . import rotation_report
from .workloads import COMPARISONS


@dataclass(frozen=True)
class Step:
    """One named request of a workload (a flow's PAR, login, token, ...)."""

    step: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float


@dataclass(frozen=True)
class Linkings:
    """Whole linking flows (loadtests/flow.py): completed, per second, latency start to end."""

    completed: int
    per_s: float
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0


@dataclass(frozen=True)
class Payments:
    """Whole payments (loadtests/payment.py), first request to the bank's 201: completed, per
    second, latency; `kind` is plain, rar or stepup."""

    kind: str
    completed: int
    per_s: float
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0


@dataclass(frozen=True)
class Result:
    workload: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    steps: tuple[Step, ...] = ()
    exceptions: int = 0     # tasks that raised: counted in failures too
    linkings: Linkings | None = None
    rotation: dict[str, Any] | None = None   # --rotate-keys-after: before/after figures
    payments: Payments | None = None

    def line(self) -> str:
        text = (f"{self.workload:<12} {self.rps:8.1f} req/s   p50 {self.p50:6.1f} ms   "
                f"p95 {self.p95:6.1f} ms   p99 {self.p99:6.1f} ms   "
                f"failures {self.failures}/{self.requests}")
        if self.linkings:
            text += (f"\n{'':<12} {self.linkings.per_s:8.1f} linkings/s   whole linking p50 "
                     f"{self.linkings.p50:6.1f} ms   p95 {self.linkings.p95:6.1f} ms   "
                     f"completed {self.linkings.completed}")
        if self.rotation:
            text += "\n" + rotation_report.line(self.workload, self.rotation)
        if self.payments:
            text += (f"\n{'':<12} {self.payments.per_s:8.1f} payments/s   whole payment p50 "
                     f"{self.payments.p50:6.1f} ms   p95 {self.payments.p95:6.1f} ms   "
                     f"completed {self.payments.completed}")
        return text

    def rate(self) -> tuple[float, float, float, str]:
        """(throughput, p50, p95, unit) a comparison uses: a flow counts whole linkings or
        payments, since flows compared send different numbers of requests and their req/s
        would not compare."""
        if self.linkings:
            return self.linkings.per_s, self.linkings.p50, self.linkings.p95, "linkings/s"
        if self.payments:
            return self.payments.per_s, self.payments.p50, self.payments.p95, "payments/s"
        return self.rps, self.p50, self.p95, "req/s"

    def step_lines(self) -> list[str]:
        """One line per named request, for workloads of several steps."""
        if len(self.steps) < 2:
            return []
        return [f"    {s.step:<38} p50 {s.p50:6.1f} ms   p95 {s.p95:6.1f} ms   "
                f"failures {s.failures}/{s.requests}" for s in self.steps]


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _figures(row: dict[str, Any]) -> tuple[int, int, float, float, float, float]:
    return (int(_number(row.get("requests"))), int(_number(row.get("failures"))),
            _number(row.get("rps")), _number(row.get("p50")), _number(row.get("p95")),
            _number(row.get("p99")))


def summary_path(prefix: Path) -> Path:
    return Path(f"{prefix}_summary.json")


def read_stats(workload: str, prefix: Path) -> Result:
    """<prefix>_summary.json, written by loadtests/common.py from Locust's final statistics:
    the totals, one Step per named request, and the whole linkings of a flow."""
    raw = json.loads(summary_path(prefix).read_text())
    if not isinstance(raw, dict) or not isinstance(raw.get("total"), dict):
        raise ValueError(f"no statistics in {summary_path(prefix)}")
    steps = tuple(Step(_step_name(row), *_figures(row)) for row in raw.get("steps") or [])
    count, failures, rps, p50, p95, p99 = _figures(raw["total"])
    # A task that raised stopped its flow part-way: Locust keeps those apart; here they fail.
    raised = int(_number(raw.get("exceptions")))
    return Result(workload, count, failures + raised, rps, p50, p95, p99, steps=steps,
                  exceptions=raised, linkings=_linkings(raw.get("linkings")),
                  rotation=rotation_report.figures(raw.get("rotation"), raw.get("steps") or []),
                  payments=_payments(raw.get("payments")))


def _linkings(raw: Any) -> Linkings | None:
    if not isinstance(raw, dict):
        return None
    return Linkings(int(_number(raw.get("completed"))), _number(raw.get("per_s")),
                    *(_number(raw.get(k)) for k in ("p50", "p95", "p99")))


def _payments(raw: Any) -> Payments | None:
    if not isinstance(raw, dict):
        return None
    return Payments(str(raw.get("kind") or ""), int(_number(raw.get("completed"))),
                    _number(raw.get("per_s")),
                    *(_number(raw.get(k)) for k in ("p50", "p95", "p99")))


def _step_name(row: dict[str, Any]) -> str:
    """"GET /authorize": the method, then Locust's name unless that names the method already."""
    kind, name = str(row.get("type") or ""), str(row.get("name") or "")
    return name if name.startswith(f"{kind} ") else f"{kind} {name}".strip()


def comparisons(results: dict[str, Result]) -> list[dict[str, Any]]:
    rows = []
    for label, subject, baseline in COMPARISONS:
        if subject not in results or baseline not in results:
            continue
        (s_rate, s_p50, s_p95, unit), (b_rate, b_p50, b_p95, b_unit) = (
            results[subject].rate(), results[baseline].rate())
        if b_rate <= 0 or unit != b_unit:
            continue
        # rate_ratio and p50_ratio in `unit`; rps_ratio is always plain HTTP requests/s.
        rows.append({"comparison": label, "subject": subject, "baseline": baseline,
                     "unit": unit, "rate_ratio": round(s_rate / b_rate, 3),
                     "rps_ratio": round(results[subject].rps / results[baseline].rps, 3)
                     if results[baseline].rps else None,
                     "p50_ratio": round(s_p50 / b_p50, 3) if b_p50 else None,
                     "p95_ratio": round(s_p95 / b_p95, 3) if b_p95 else None})
    return rows


def _ratio(value: float | None) -> str:
    return "-" if value is None else format(value, ".2f")


def comparison_lines(rows: list[dict[str, Any]]) -> list[str]:
    return [f"{r['comparison']:<32} {r['unit']} ratio {_ratio(r['rate_ratio'])}   p50 ratio "
            f"{_ratio(r['p50_ratio'])}   p95 ratio {_ratio(r.get('p95_ratio'))}" for r in rows]


def _locust_mode(meta: dict[str, Any]) -> str:
    workers = meta.get("locust_workers") or 0
    return f" (distributed: a master and {workers} workers)" if workers else ""


def write(out: Path, results: dict[str, Result], meta: dict[str, Any]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    rows = comparisons(results)
    data = {**meta, "workloads": [asdict(r) for r in results.values()], "comparisons": rows}
    (out / "results.json").write_text(json.dumps(data, indent=2) + "\n")
    md = ["# fapi-lab load", "",
          f"users {meta['users']}, {meta['duration']} s per workload, base profile "
          f"`{meta['profile']}`, Locust {meta['locust']}{_locust_mode(meta)}", "",
          f"served by {serving_text(meta.get('serving'))}", "",
          "| workload | req/s | p50 ms | p95 ms | p99 ms | failures | requests |",
          "|---|---:|---:|---:|---:|---:|---:|"]
    md += [f"| {r.workload} | {r.rps:.1f} | {r.p50:.1f} | {r.p95:.1f} | {r.p99:.1f} | "
           f"{r.failures} | {r.requests} |" for r in results.values()]
    if rows:
        md += ["", "| comparison | unit | throughput ratio | p50 ratio | p95 ratio |",
               "|---|---|---:|---:|---:|"]
        md += [f"| {r['comparison']} | {r['unit']} | {_ratio(r['rate_ratio'])} | "
               f"{_ratio(r['p50_ratio'])} | {_ratio(r.get('p95_ratio'))} |" for r in rows]
    linked = [r for r in results.values() if r.linkings]
    if linked:
        md += ["", "| workload | linkings/s | p50 ms | p95 ms | p99 ms | completed |",
               "|---|---:|---:|---:|---:|---:|"]
        md += [f"| {r.workload} | {k.per_s:.2f} | {k.p50:.1f} | {k.p95:.1f} | {k.p99:.1f} | "
               f"{k.completed} |" for r in linked if (k := r.linkings)]
    paid = [r for r in results.values() if r.payments]
    if paid:
        md += ["", "| workload | kind | payments/s | p50 ms | p95 ms | p99 ms | completed |",
               "|---|---|---:|---:|---:|---:|---:|"]
        md += [f"| {r.workload} | {p.kind} | {p.per_s:.2f} | {p.p50:.1f} | {p.p95:.1f} | "
               f"{p.p99:.1f} | {p.completed} |" for r in paid if (p := r.payments)]
    for name, why in (meta.get("skipped") or {}).items():
        md += ["", f"Skipped `{name}` under `{meta['profile']}`: {why}"]
    md += rotation_report.markdown(list(results.values()))
    md += _step_tables(results)
    (out / "results.md").write_text("\n".join(md) + "\n")
    (out / "results.svg").write_text(svg_chart(list(results.values())))
    return [out / "results.json", out / "results.md", out / "results.svg"]


def _step_tables(results: dict[str, Result]) -> list[str]:
    """Per-step latency for workloads of several steps (the linking flows)."""
    md: list[str] = []
    for r in results.values():
        if len(r.steps) < 2:
            continue
        md += ["", f"### {r.workload}: per step", "",
               "| step | requests | failures | req/s | p50 ms | p95 ms | p99 ms |",
               "|---|---:|---:|---:|---:|---:|---:|"]
        md += [f"| {s.step} | {s.requests} | {s.failures} | {s.rps:.1f} | {s.p50:.1f} | "
               f"{s.p95:.1f} | {s.p99:.1f} |" for s in r.steps]
    return md


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
