"""The benchmark's rows, ratios and targets, printed as a table and written as JSON and Markdown.

Every figure is from one run: each row's rate as a share of a bare endpoint of the same
server, as a share of the raw ES256 verification rate, its server CPU per request in ES256
verifications beside the signature operations it performs (its crypto floor), and every
issue-18 target as measured / target / met (the matrix's from its last measured run).
Figures are printed, never asserted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .bench_machine import cpu_set
from .bench_startup import TARGET_S as STARTUP_TARGET_S
from .bench_startup import StartupTiming
from .bench_targets import all_targets, floor_json, met_text
from .bench_wrk import Measurement


@dataclass(frozen=True)
class Row:
    id: str
    server: str
    what: str
    bare: str | None = None     # the row of the same server's bare endpoint


ROWS: tuple[Row, ...] = (
    Row("bank-bare", "bank", "GET / (bare: a redirect, no token)"),
    Row("bank-bearer", "bank", "GET /accounts, bearer token", "bank-bare"),
    Row("bank-dpop", "bank", "GET /accounts, DPoP-bound token, fresh proof, jti written",
        "bank-bare"),
    Row("bank-dpop-capture", "bank + capture",
        "GET /accounts, DPoP-bound token, through mitmproxy as `fapi-lab up` runs it"),
    Row("bank-bearer-ab", "bank", "GET /accounts, bearer token (the mTLS baseline)",
        "bank-bare"),
    Row("bank-mtls", "bank", "GET /accounts, mTLS-bound token, client certificate",
        "bank-bare"),
    Row("as-bare", "lab AS", "GET /jwks (bare)"),
    Row("as-token-bearer", "lab AS", "POST /token client credentials, private_key_jwt, bearer",
        "as-bare"),
    Row("as-token-dpop", "lab AS", "POST /token client credentials, private_key_jwt, DPoP",
        "as-bare"),
    Row("op-bare", "oidc-provider", "GET /jwks (bare)"),
    Row("op-token-bearer", "oidc-provider",
        "POST /token client credentials, private_key_jwt, bearer", "op-bare"),
    Row("op-token-dpop", "oidc-provider", "POST /token client credentials, private_key_jwt, DPoP",
        "op-bare"),
)
BY_ID = {row.id: row for row in ROWS}


@dataclass
class BenchResult:
    settings: dict[str, Any]
    machine: dict[str, Any]
    crypto: dict[str, float]
    measurements: dict[str, Measurement]
    startup: list[StartupTiming] = field(default_factory=list)
    matrix: list[dict[str, Any]] = field(default_factory=list)   # bench_matrix.targets

    def rate(self, row_id: str) -> float | None:
        found = self.measurements.get(row_id)
        return found.rate if found else None

    def ratio(self, row_id: str, baseline: str | None) -> float | None:
        mine, base = self.rate(row_id), self.rate(baseline) if baseline else None
        return mine / base if mine is not None and base else None

    def cpu_ratio(self, row_id: str, baseline: str | None) -> float | None:
        """The same ratio from server CPU per request (capacity): baseline's cost / this one's."""
        mine = self.measurements.get(row_id)
        base = self.measurements.get(baseline) if baseline else None
        if mine is None or base is None or not mine.cpu_us or base.cpu_us is None:
            return None
        return base.cpu_us / mine.cpu_us

    def row_json(self, row: Row) -> dict[str, Any]:
        found = self.measurements[row.id]
        verify = self.crypto.get("verify_per_s") or 0.0
        cpu_verifies = found.cpu_us * verify / 1e6 if found.cpu_us is not None else None
        return {"server": row.server, "what": row.what, **found.to_json(),
                "of_bare": _round(self.ratio(row.id, row.bare)),
                "of_bare_by_cpu": _round(self.cpu_ratio(row.id, row.bare)),
                "of_es256_verify": _round(found.rate / verify if verify else None),
                "cpu_in_es256_verifies": _round(cpu_verifies, 1),
                **floor_json(row.id, found, self.crypto)}

    def targets(self) -> list[dict[str, Any]]:
        """Every issue-18 target: rows of this run, start-up, the matrix's last run."""
        server_cpus = len(cpu_set(str(self.settings.get("server_cpus") or ""))) \
            or int(self.machine.get("cpus") or 1)
        return all_targets(self.measurements, [t.to_json() for t in self.startup],
                           self.matrix, server_cpus)

    def to_json(self) -> dict[str, Any]:
        return {"settings": self.settings, "machine": self.machine, "crypto": self.crypto,
                "rows": {row.id: self.row_json(row) for row in ROWS
                         if row.id in self.measurements},
                "targets": self.targets(),
                "startup": [timing.to_json() for timing in self.startup]}


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _num(value: float | None, fmt: str = ",.0f") -> str:
    return "–" if value is None else format(value, fmt)


def _cells(result: BenchResult, row: Row) -> list[str]:
    data = result.row_json(row)
    latency = data["latency_ms"]
    flag = " (material ran out)" if data["material_ran_out"] else ""
    ops = data["signature_ops"]
    cpu = _num(data["cpu_us_per_request"])
    if data.get("capture_cpu_s") is not None and data["requests"]:
        cpu += f" (capture {data['capture_cpu_s'] / data['requests'] * 1e6:,.0f})"
    return [row.id, row.what, data["generator"], _num(data["rate"]),
            _num(latency.get("p50"), ".1f"), _num(latency.get("p99"), ".1f"),
            f"{data['failed']}{flag}", _pct(data["server_busy"]),
            cpu, _pct(data["of_bare"]),
            _pct(data["of_bare_by_cpu"]), _pct(data["of_es256_verify"]),
            _num(data["cpu_in_es256_verifies"], ".1f"), f"{ops['verify']} v + {ops['sign']} s",
            _num(data["floor_us"]), _num(data["x_floor"], ".1f")]


FLOOR_NOTE = ("sig ops: the ES256 verifications (v) and signatures (s) one request performs on "
              "the server, counted from the code path; floor: their cost at this run's one-core "
              "ES256 rates; × floor: the row's server CPU per request over it. bank-dpop-capture's "
              "CPU counts the bank's gunicorn and the capture (mitmproxy runs in the lab's own "
              "process, as under `fapi-lab up`; its share in brackets).")
HEADERS = ("row", "what", "generator", "req/s", "p50 ms", "p99 ms", "failed", "server busy",
           "CPU µs/req", "of bare", "of bare (CPU)", "of ES256 verify/s", "CPU = ES256 verifies",
           "sig ops (verify + sign)", "floor µs", "× floor")
TARGET_HEADERS = ("target", "measured", "target", "met", "from")


def _target_cells(target: dict[str, Any]) -> list[str]:
    return [target["target"], target["measured_text"], target["target_text"], met_text(target),
            target["source"]]


STARTUP_HEADERS = ("command", "median s", "min s", "max s", "CPU s (median)", "runs", "target",
                   "")


def _startup_cells(timing: dict[str, Any]) -> list[str]:
    failed = [code for code in timing["exit_codes"] if code]
    met = f"FAILED (exit {failed})" if failed else "met" if timing["met"] else "MISSED"
    return [timing["command"], f"{timing['median_s']:.2f}", f"{timing['min_s']:.2f}",
            f"{timing['max_s']:.2f}", f"{timing['cpu_median_s']:.2f}", str(timing["runs"]),
            f"< {timing['target_s']:g} s", met]


def print_tables(result: BenchResult, console: Console) -> None:
    crypto = result.crypto
    console.print(f"ES256 in cryptography, one core: {crypto['verify_per_s']:,.0f} verify/s, "
                  f"{crypto['sign_per_s']:,.0f} sign/s per CPU second "
                  f"({crypto.get('verify_per_wall_s', 0):,.0f} / "
                  f"{crypto.get('sign_per_wall_s', 0):,.0f} per wall second)")
    table = Table(*HEADERS, title="Rates (one run)")
    for row in ROWS:
        if row.id in result.measurements:
            table.add_row(*_cells(result, row))
    console.print(table)
    targets = Table(*TARGET_HEADERS, title="Issue 18 targets: measured / target / met")
    for target in result.targets():
        targets.add_row(*_target_cells(target))
    console.print(targets)
    console.print(FLOOR_NOTE, highlight=False)
    startup = Table(*STARTUP_HEADERS, title=f"CLI start-up, whole process (issue 18 target: "
                    f"under {STARTUP_TARGET_S:g} s; met: by the median)")
    for timing in result.startup:
        startup.add_row(*_startup_cells(timing.to_json()))
    console.print(startup)
    console.print(f"start-up: {result.machine.get('bytecode', '')}", highlight=False)


def _md_table(headers: tuple[str, ...] | list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in r) + " |" for r in rows]
    return "\n".join(lines)


def markdown(result: BenchResult) -> str:
    settings, machine, crypto = result.settings, result.machine, result.crypto
    rows = [_cells(result, row) for row in ROWS if row.id in result.measurements]
    targets = [_target_cells(t) for t in result.targets()]
    return "\n\n".join([
        "# fapi-lab benchmark",
        f"Command: `{settings['command']}`",
        f"Machine: {machine['cpu']}, {machine['cpus']} CPUs, {machine['system']}; load "
        f"average {machine['load_before']} before, {machine['load_after']} after.",
        f"Server CPUs {settings['server_cpus']}, generator CPUs {settings['client_cpus']}; "
        f"gunicorn {settings['workers']} workers × {settings['threads']} threads; "
        f"{settings['connections']} connections; {settings['duration']} s per row.",
        f"ES256 (cryptography {machine['cryptography']}, one core): "
        f"{crypto['verify_per_s']:,.0f} verify/s, {crypto['sign_per_s']:,.0f} sign/s per CPU "
        f"second ({crypto.get('verify_per_wall_s', 0):,.0f} / "
        f"{crypto.get('sign_per_wall_s', 0):,.0f} per wall second).",
        "## Rates\n\n" + _md_table(HEADERS, rows),
        "## Issue 18 targets: measured / target / met\n\n"
        + _md_table(TARGET_HEADERS, targets),
        FLOOR_NOTE,
        f"## CLI start-up, whole process (target: under {STARTUP_TARGET_S:g} s, by the median)"
        "\n\n" + _md_table(STARTUP_HEADERS, [_startup_cells(t.to_json())
                                            for t in result.startup])
        + f"\n\n{machine.get('bytecode', '')}.",
        "Tools: " + ", ".join(f"{k} {v}" for k, v in machine["tools"].items()) + ".",
    ]) + "\n"


def write(out: Path, result: BenchResult) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "benchmark.json", out / "benchmark.md"
    json_path.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    md_path.write_text(markdown(result))
    return [json_path, md_path]
