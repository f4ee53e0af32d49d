"""`fapi-lab load` against a lab started by `fapi-lab up`: files written, no failures.

Figures are printed, never asserted against thresholds: only their sanity is checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_cli import UpProcess, start_up


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpProcess]:
    running = start_up(tmp_path_factory.mktemp("load-lab"))
    yield running
    code, out = running.stop()
    assert code == 0, out


def test_load_bearer_and_dpop_writes_results_and_restores_controls(up: UpProcess,
                                                                   tmp_path: Path) -> None:
    before = up.json("status")
    out = tmp_path / "results"
    result = up.run("load", "--workload", "bearer", "--workload", "dpop", "--duration", "5",
                    "--users", "2", "--out", str(out), timeout=180)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for name in ("bearer", "dpop"):
        assert any(line.startswith(name) and "req/s" in line for line in lines), result.stdout
    assert any("DPoP vs bearer" in line for line in lines), result.stdout

    data = json.loads((out / "results.json").read_text())
    rows = {row["workload"]: row for row in data["workloads"]}
    assert set(rows) == {"bearer", "dpop"}
    for row in rows.values():
        assert row["failures"] == 0, row
        assert row["requests"] > 0 and row["rps"] > 0, row
        assert 0 < row["p50"] <= row["p95"] <= row["p99"], row
    [comparison] = data["comparisons"]
    assert comparison["comparison"] == "DPoP vs bearer" and comparison["rps_ratio"] > 0
    assert "| dpop |" in (out / "results.md").read_text()
    assert (out / "results.svg").read_text().startswith("<svg")

    after = up.json("status")
    assert after["profile"] == before["profile"]
    assert sorted(after["enabled_controls"]) == sorted(before["enabled_controls"])


def test_load_refuses_out_of_bounds_users(up: UpProcess, tmp_path: Path) -> None:
    result = up.run("load", "--users", "500", "--out", str(tmp_path))
    assert result.returncode == 2 and "--users" in result.stderr
