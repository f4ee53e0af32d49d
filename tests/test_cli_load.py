"""`fapi-lab load`: on its own gunicorn-served lab (the default) and on the one `fapi-lab up`
runs (--running); files written, no failures, the running lab's switches put back.

Figures are printed, never asserted against thresholds: only their sanity is checked.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from lab.cli import load as cli_load
from lab.config import LabConfig
from lab.load import prepare
from tests.test_cli import UpProcess, start_up


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpProcess]:
    running = start_up(tmp_path_factory.mktemp("load-lab"), "--no-dashboard")
    yield running
    code, out = running.stop()
    assert code == 0, out


def load(up: UpProcess, out: Path, *args: str, duration: int = 4) -> dict[str, Any]:
    """Run `fapi-lab load` briefly; it must succeed. Returns results.json."""
    result = up.run("load", *args, "--duration", str(duration), "--users", "2", "--out",
                    str(out), timeout=240)
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    data: dict[str, Any] = json.loads((out / "results.json").read_text())
    data["stdout"] = result.stdout
    return data


def rows_without_failures(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = {row["workload"]: row for row in data["workloads"]}
    for row in rows.values():
        assert row["failures"] == 0, row
        assert row["requests"] > 0 and row["rps"] > 0, row
        assert 0 < row["p50"] <= row["p95"] <= row["p99"], row
    return rows


def steps(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["step"]: step for step in row["steps"]}


def test_bearer_dpop_and_linking_flows_run_without_failures_and_are_compared(
        up: UpProcess, tmp_path: Path) -> None:
    before = up.json("status")
    out = tmp_path / "results"
    data = load(up, out, "-w", "bearer", "-w", "dpop", "-w", "flow", "-w", "flow-plain")
    # By default the run had a private lab of its own, served by gunicorn.
    assert data["serving"]["server"].startswith("gunicorn") and data["serving"]["workers"] >= 1
    assert "private lab: gunicorn" in data["stdout"]
    rows = rows_without_failures(data)
    assert set(rows) == {"bearer", "dpop", "flow", "flow-plain"}
    assert data["profile"] == "fapi2-security" and not data["skipped"]
    for name in rows:
        assert any(line.startswith(name) and "req/s" in line
                   for line in data["stdout"].splitlines()), data["stdout"]

    # Each step of a linking is its own row: PAR only in `flow`; the second factor in both.
    flow, plain = steps(rows["flow"]), steps(rows["flow-plain"])
    for named in (flow, plain):
        assert {"GET /authorize", "POST /login", "POST /mfa", "GET /consent", "POST /consent",
                "POST /token", "GET /accounts", "GET /accounts/{id}/balances"} <= set(named)
        assert all(step["failures"] == 0 for step in named.values())
    assert "POST /par" in flow and "POST /par" not in plain
    for name in ("flow", "flow-plain"):
        linkings = rows[name]["linkings"]
        assert linkings["completed"] > 0 and linkings["per_s"] > 0, linkings
        assert 0 < linkings["p50"] <= linkings["p95"], linkings

    compared = {row["comparison"]: row for row in data["comparisons"]}
    assert set(compared) == {"DPoP vs bearer", "PAR flow vs plain flow"}
    assert compared["DPoP vs bearer"]["unit"] == "req/s"
    assert compared["PAR flow vs plain flow"]["unit"] == "linkings/s"
    assert all(row["rate_ratio"] > 0 for row in compared.values())
    assert "PAR flow vs plain flow" in data["stdout"]
    markdown = (out / "results.md").read_text()
    assert "| flow-plain |" in markdown and "### flow: per step" in markdown
    assert (out / "results.svg").read_text().startswith("<svg")

    after = up.json("status")
    assert after["profile"] == before["profile"]
    assert sorted(after["enabled_controls"]) == sorted(before["enabled_controls"])


def test_legacy_profile_runs_and_is_recorded_and_the_labs_profile_comes_back(
        up: UpProcess, tmp_path: Path) -> None:
    before = up.json("status")
    out = tmp_path / "legacy"
    data = load(up, out, "--running", "--profile", "legacy", "-w", "flow-plain", "-w", "bearer")
    assert data["serving"]["server"].startswith("werkzeug"), data["serving"]
    assert "development server" in data["stdout"]   # said, since its figures mean less
    rows = rows_without_failures(data)
    assert set(rows) == {"flow-plain", "bearer"}
    assert data["profile"] == "legacy"
    assert "`legacy`" in (out / "results.md").read_text()
    # legacy asks for no second factor: the flow signs in with the password alone.
    assert "POST /mfa" not in steps(rows["flow-plain"])
    assert "POST /token" in steps(rows["flow-plain"])

    after = up.json("status")
    assert after["profile"] == before["profile"] != "legacy"
    assert sorted(after["enabled_controls"]) == sorted(before["enabled_controls"])


def test_token_issuance_by_private_key_jwt_and_by_secret_is_compared(
        up: UpProcess, tmp_path: Path) -> None:
    before = up.json("status")
    data = load(up, tmp_path / "token", "-w", "token", "-w", "token-secret")
    rows = rows_without_failures(data)
    assert set(rows) == {"token", "token-secret"}
    # One client per workload, authenticated its own way; every token a client credentials one.
    assert [s["step"] for s in rows["token"]["steps"]
            if "(use_dpop_nonce)" not in s["step"]] == \
        ["POST /token (client_credentials, private_key_jwt)"]
    assert [s["step"] for s in rows["token-secret"]["steps"]
            if "(use_dpop_nonce)" not in s["step"]] == \
        ["POST /token (client_credentials, client_secret_post)"]
    [comparison] = data["comparisons"]
    assert comparison["comparison"] == "private_key_jwt vs client_secret"
    assert comparison["unit"] == "req/s" and comparison["rate_ratio"] > 0
    assert "private_key_jwt vs client_secret" in data["stdout"]
    # The secret workload switched private_key_jwt_only off for itself only.
    after = up.json("status")
    assert sorted(after["enabled_controls"]) == sorted(before["enabled_controls"])
    assert "private_key_jwt_only" in after["enabled_controls"]


def test_a_workload_the_lab_refuses_is_skipped_with_its_reason_and_the_rest_run(
        up: UpProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = prepare.material

    def refusing(config: LabConfig, store: Any, workload: str, users: int,
                 *args: Any, **kwargs: Any) -> dict[str, Any]:
        if workload == "token":
            raise prepare.PrepareError("the AS does not offer the client_credentials grant")
        return real(config, store, workload, users, *args, **kwargs)

    monkeypatch.setattr(prepare, "material", refusing)
    out = tmp_path / "skip"
    args = argparse.Namespace(profile="oauth2", workload=["token", "bearer"], users=1,
                              duration=2, out=out, running=True, workers=1, locust_workers=0)
    console = Console(record=True, width=200)
    code = cli_load.run_load(LabConfig(data_dir=up.data_dir), args, console)
    printed = console.export_text()
    assert code == 1, printed
    assert "token: skipped under oauth2: the AS does not offer the client_credentials grant" \
        in printed
    data = json.loads((out / "results.json").read_text())
    assert [row["workload"] for row in data["workloads"]] == ["bearer"]
    assert data["skipped"] == {"token": "the AS does not offer the client_credentials grant"}
    assert "Skipped `token` under `oauth2`" in (out / "results.md").read_text()


def test_an_unknown_profile_is_a_usage_error(up: UpProcess, tmp_path: Path) -> None:
    result = up.run("load", "--profile", "fapi9", "--out", str(tmp_path))
    assert result.returncode == 2 and "--profile" in result.stderr


def test_load_refuses_out_of_bounds_users(up: UpProcess, tmp_path: Path) -> None:
    result = up.run("load", "--users", "500", "--out", str(tmp_path))
    assert result.returncode == 2 and "--users" in result.stderr


def test_locust_distributed_mode_runs_a_master_and_local_workers(
        up: UpProcess, tmp_path: Path) -> None:
    data = load(up, tmp_path / "distributed", "-w", "bearer", "-w", "dpop",
                "--locust-workers", "2")
    # The master runs no users itself: requests counted means its two workers sent them.
    rows = rows_without_failures(data)
    assert set(rows) == {"bearer", "dpop"} and data["locust_workers"] == 2


def test_stateful_workloads_refuse_distributed_mode(up: UpProcess, tmp_path: Path) -> None:
    result = up.run("load", "-w", "flow", "--locust-workers", "2", "--out", str(tmp_path))
    assert result.returncode == 2 and "without --locust-workers" in result.stderr


def test_running_needs_a_running_lab(tmp_path: Path) -> None:
    args = argparse.Namespace(profile="fapi2-security", workload=["bearer"], users=1,
                              duration=1, out=tmp_path, running=True, workers=1,
                              locust_workers=0)
    with pytest.raises(cli_load.CliError, match="no lab is running"):
        cli_load.run_load(LabConfig(data_dir=tmp_path / "none"), args, Console())


def test_an_as_key_rotation_under_load_fails_no_request(up: UpProcess, tmp_path: Path) -> None:
    """Issue 16: bearer, DPoP and token workloads on the private lab's gunicorn workers, the AS
    key rotated after each workload's first 20 requests: no request fails, before or after,
    and requests with tokens signed by the new key succeed too (the key signs 12 s after it
    is published, and Locust spends a few of its seconds starting: hence 22 s a workload)."""
    out = tmp_path / "results"
    data = load(up, out, "-w", "bearer", "-w", "dpop", "-w", "token", "--rotate-keys-after",
                "20", duration=22)
    assert data["rotate_keys_after"] == 20
    rows = rows_without_failures(data)
    kids = set()
    for name in ("bearer", "dpop", "token"):
        rotation = rows[name]["rotation"]
        assert rotation["rotated"] is True, rotation
        assert rotation["requests_before"] >= 20 and rotation["requests_after"] > 0, rotation
        assert rotation["failures_before"] == rotation["failures_after"] == 0, rotation
        assert rotation["new_key_requests"] > 0, ("the new key's tokens were used", rotation)
        assert rotation["new_kid"] != rotation["old_kid"]
        kids.add(rotation["new_kid"])
        assert any("(new key)" in step for step in steps(rows[name])), rows[name]["steps"]
    assert len(kids) == 3, "one rotation per workload"
    assert "key rotated after" in data["stdout"]
    assert "AS key rotation during the run" in (out / "results.md").read_text()


def test_rotation_needs_a_sane_request_count(up: UpProcess, tmp_path: Path) -> None:
    result = up.run("load", "-w", "bearer", "--rotate-keys-after", "0", "--out", str(tmp_path))
    assert result.returncode == 2 and "--rotate-keys-after" in result.stdout + result.stderr


def test_plain_rar_and_step_up_payments_are_measured_and_compared_to_the_plain_one(
        up: UpProcess, tmp_path: Path) -> None:
    """The running lab (so its clock can be checked): the payment workloads age their grants
    by advancing the lab clock, and put it back."""
    before = up.json("status")
    out = tmp_path / "payments"
    data = load(up, out, "--running", "-w", "payment", "-w", "payment-rar",
                "-w", "payment-stepup")
    rows = rows_without_failures(data)
    assert set(rows) == {"payment", "payment-rar", "payment-stepup"}
    kinds = {"payment": "plain", "payment-rar": "rar", "payment-stepup": "stepup"}
    for name, kind in kinds.items():
        paid = rows[name]["payments"]
        assert paid["kind"] == kind and paid["completed"] > 0 and paid["per_s"] > 0, paid
        assert 0 < paid["p50"] <= paid["p95"], paid
    assert data["stdout"].count("whole payment p50") == 3, data["stdout"]

    # Each kind's requests are named apart; the challenge is its own row, not a failure.
    plain, rar, stepup = (set(steps(rows[n])) for n in kinds)
    assert {"POST /token refresh (plain)", "POST /payments (plain)"} == \
        {s for s in plain if "use_dpop_nonce" not in s}
    assert {"POST /par (rar)", "POST /login (rar)", "POST /mfa (rar)", "POST /consent (rar)",
            "POST /token (rar)", "POST /payments (rar)"} <= rar
    assert {"POST /token refresh (step-up)", "POST /payments 401 (step-up)",
            "POST /par (step-up)", "POST /mfa (step-up)", "POST /token (step-up)",
            "POST /payments retry (step-up)"} <= stepup

    compared = {row["comparison"]: row for row in data["comparisons"]}
    assert set(compared) == {"RAR payment vs plain payment", "step-up payment vs plain payment"}
    for label, row in compared.items():
        assert row["baseline"] == "payment" and row["unit"] == "payments/s", row
        assert row["rate_ratio"] > 0 and row["p50_ratio"] > 0 and row["p95_ratio"] > 0, row
        assert any(line.strip().startswith(label) and "p95 ratio" in line
                   for line in data["stdout"].splitlines()), data["stdout"]
    markdown = (out / "results.md").read_text()
    assert "| payment-stepup | stepup |" in markdown and "| p95 ratio |" in markdown

    after = up.json("status")
    assert after["clock_offset"] == before["clock_offset"]
    assert sorted(after["enabled_controls"]) == sorted(before["enabled_controls"])
