"""The matrix: how a measured cell is compared with the catalog, and a real run's three files."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from attacker import lookup, matrix
from attacker.attacks import Attack
from attacker.outcome import FiredEvent, Outcome
from lab.cli import main


def _attack(**kw: Any) -> Attack:
    base: dict[str, Any] = {"id": "at-replay-bearer", "attacker": "A5", "legs": ("resource",),
                            "title": "t", "blocked_by": ("dpop_bound_tokens", "mtls_bound_tokens"),
                            "victim": "prior", "premise": "p", "goal": "g",
                            "run": lambda ctx: None}
    base.update(kw)
    return Attack(**base)


def _outcome(status: str, *fired: str, by: str = "attacker") -> Outcome:
    events = [FiredEvent(c, "fired", "e", "r", "GET /x", "id", by=by) for c in fired]
    return Outcome("at-replay-bearer", status, "s", events=events)  # type: ignore[arg-type]


def _column(column_id: str) -> matrix.Column:
    return next(c for c in matrix.columns() if c.id == column_id)


def test_a_catalog_blocker_that_fires_agrees() -> None:
    cell = matrix.judge(_attack(), _column("fapi2-security"),
                        _outcome("blocked", "dpop_bound_tokens"))
    assert (cell.expected_status, cell.verdict) == ("blocked", "agrees")
    assert cell.expected_blockers == ["dpop_bound_tokens"]


def test_success_where_the_catalog_expects_a_block_is_a_mismatch() -> None:
    cell = matrix.judge(_attack(), _column("dpop_bound_tokens"), _outcome("succeeded"))
    assert cell.verdict == "mismatch"
    assert "catalog expects blocked (by dpop_bound_tokens), measured succeeded" \
        in cell.explanation


def test_blocked_by_a_control_the_catalog_does_not_name_is_a_mismatch() -> None:
    cell = matrix.judge(_attack(), _column("fapi2-security"), _outcome("blocked", "aud_check"))
    assert cell.verdict == "mismatch"


def test_not_alone_explains_a_catalog_blocker_that_does_not_block_alone() -> None:
    attack = _attack(not_alone={"mtls_bound_tokens": "needs sender_constraint=mtls"})
    cell = matrix.judge(attack, _column("mtls_bound_tokens"), _outcome("succeeded"))
    assert (cell.expected_status, cell.verdict) == ("succeeded", "explained")
    assert "sender_constraint=mtls" in cell.explanation


def test_a_control_refusing_the_victims_own_flow_is_its_own_outcome_never_blocked() -> None:
    outcome = _outcome("victim-failed", "pkce_required", by="victim")
    outcome.summary = "the switch broke FinLens's own flow, so the attack never ran: …"
    cell = matrix.judge(_attack(), _column("pkce_required"), outcome)
    assert (cell.status, cell.verdict) == ("victim-failed", "explained")
    assert cell.fired == ["pkce_required"]
    assert "FinLens's own flow" in cell.explanation


def test_fapi2_not_blocking_is_expected_when_the_catalog_says_so() -> None:
    attack = _attack(fapi2_blocks=False, why_not="§6.5")
    cell = matrix.judge(attack, _column("fapi2-security"), _outcome("succeeded"))
    assert cell.expected_status == "succeeded"
    assert cell.verdict in ("agrees", "explained")


def test_message_signing_leaves_open_what_fapi2_does_unless_a_control_it_adds_blocks() -> None:
    """MS builds on fapi2-security (profiles.BUILDS_ON): as an overlay, it blocks what FAPI 2.0
    leaves open only through the controls it adds (jar_required here)."""
    open_attack = _attack(blocked_by=("dpop_nonce",), fapi2_blocks=False, why_not="§6.2")
    cell = matrix.judge(open_attack, _column("fapi2-message-signing"), _outcome("succeeded"))
    assert (cell.expected_status, cell.verdict) == ("succeeded", "explained")
    closed = _attack(blocked_by=("jar_required",), fapi2_blocks=False, why_not="§6")
    cell = matrix.judge(closed, _column("fapi2-message-signing"),
                        _outcome("blocked", "jar_required"))
    assert (cell.expected_status, cell.verdict) == ("blocked", "agrees")


def test_open_in_explains_a_profile_whose_blockers_do_not_stop_the_attack() -> None:
    attack = _attack(blocked_by=("client_assertion_aud_check",),
                     open_in={"fapi1-advanced": "F1 lets the aud be the token endpoint"})
    cell = matrix.judge(attack, _column("fapi1-advanced"), _outcome("succeeded"))
    assert (cell.expected_status, cell.verdict) == ("succeeded", "explained")
    assert "token endpoint" in cell.explanation
    cell = matrix.judge(attack, _column("fapi2-security"), _outcome("succeeded"))
    assert cell.verdict == "mismatch"


def test_a_blocker_that_only_limits_stops_nothing_in_a_profile() -> None:
    from attacker.attacks import LIMITS_ONLY

    attack = _attack(blocked_by=("short_access_token_lifetime",),
                     not_alone={"short_access_token_lifetime": f"{LIMITS_ONLY}: 300 s"})
    cell = matrix.judge(attack, _column("fapi1-advanced"), _outcome("succeeded"))
    assert (cell.expected_status, cell.verdict) == ("succeeded", "explained")


def test_an_error_is_never_blocked() -> None:
    cell = matrix.judge(_attack(), _column("fapi2-security"), _outcome("error"))
    assert cell.verdict == "error"


def test_columns_are_every_profile_then_every_control() -> None:
    from lab.controls import catalog as controls_catalog
    from lab.controls import profiles

    cols = matrix.columns()
    assert [c.id for c in cols if c.kind == "profile"] == profiles.names()
    assert [c.id for c in cols if c.kind == "control"] == \
        [c.id for c in controls_catalog.CONTROLS]
    short = next(c for c in cols if c.id == "short_access_token_lifetime")
    assert "token_expiry_check" in short.note


@pytest.mark.timeout(900)
def test_the_matrix_runs_and_writes_its_three_files(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The profile columns of every attack, on private labs, as `fapi-lab matrix` runs them.
    (The single-control columns are the catalog-blocker tests of test_catalog_runs.py;
    the whole matrix takes longer than the suite should.)"""
    out = tmp_path / "m"
    assert main(["matrix", "--out", str(out), "--jobs", "2", "--profiles-only"]) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed
    data = json.loads((out / "matrix.json").read_text())
    assert (out / "matrix.md").read_text().startswith("# Attack × configuration matrix")
    page = (out / "matrix.html").read_text()
    assert "<table>" in page
    assert "src=" not in page and "<link" not in page and "<script" not in page  # offline
    implemented = list(lookup.implemented())
    assert [a["id"] for a in data["attacks"]] == implemented
    assert len(data["cells"]) == len(implemented)
    for attack_id, row in data["cells"].items():
        assert len(row) == len(data["columns"]), attack_id
        for column_id, cell in row.items():
            assert cell["status"] != "error", (attack_id, column_id, cell["explanation"])
            if cell["status"] == "blocked" and not cell["inferred"]:
                assert cell["fired"], (attack_id, column_id)
    assert data["mismatches"] == [], json.dumps(data["mismatches"], indent=1)


def test_a_measured_blocker_the_catalog_does_not_name_is_explained_by_the_attack() -> None:
    attack = _attack(also_blocked_by={"consent_per_account": "a forged token names no grant"})
    cell = matrix.judge(attack, _column("consent_per_account"),
                        _outcome("blocked", "consent_per_account"))
    assert cell.verdict == "explained"
    assert "names no grant" in cell.explanation
    profile_cell = matrix.judge(attack, _column("oauth2"),
                                _outcome("blocked", "consent_per_account"))
    assert profile_cell.verdict == "explained"


def test_matrix_out_on_an_existing_file_fails_before_running_anything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: the whole matrix ran, then writing into a file crashed and every result was lost."""
    from lab.cli import matrix as cli_matrix

    ran: list[str] = []
    monkeypatch.setattr(cli_matrix.matrix_parallel, "run_parallel", lambda *a, **k: ran.append("p"))
    monkeypatch.setattr(cli_matrix.matrix_parallel, "matrix_lab", lambda *a, **k: ran.append("lab"))
    taken = tmp_path / "results"
    taken.write_text("not a directory")
    assert main(["matrix", "--out", str(taken), "--jobs", "1",
                 "--attack", next(iter(lookup.implemented()))]) == 2
    assert ran == []
    assert taken.read_text() == "not a directory"


def test_the_report_never_writes_through_a_planted_symlink(tmp_path: Path) -> None:
    from attacker import matrix_report

    out, victim = tmp_path / "out", tmp_path / "precious"
    out.mkdir()
    victim.write_text("keep me")
    (out / "matrix.json").symlink_to(victim)
    data = {"columns": [], "attacks": [], "cells": {}, "pending": [], "runs": 0, "inferred": 0,
            "seconds": {"total": 0}, "mismatches": []}
    paths = matrix_report.write_all(data, out)
    assert victim.read_text() == "keep me"
    assert not (out / "matrix.json").is_symlink()
    assert json.loads(paths[0].read_text())["runs"] == 0


def _replay(**kw: Any) -> Attack:
    return _attack(id="code-replay", blocked_by=("code_single_use",), **kw)


@pytest.mark.parametrize("column_id,fired", [
    ("dpop_nonce", ("dpop_nonce", "dpop_bound_tokens")),
    ("dpop_iat_window", ("dpop_iat_window",)),
    ("dpop_jti_replay", ("dpop_jti_replay",)),
    ("dpop_proof_binding", ("dpop_proof_binding",)),
])
def test_a_control_requiring_the_sender_constraint_is_part_of_it(
        column_id: str, fired: tuple[str, ...]) -> None:
    cell = matrix.judge(_replay(), _column(column_id), _outcome("blocked", *fired))
    assert (cell.expected_status, cell.verdict) == ("succeeded", "explained")
    assert "sender constraint" in cell.explanation


def test_a_dpop_check_fired_where_dpop_is_off_is_still_a_mismatch() -> None:
    cell = matrix.judge(_replay(), _column("par_required"), _outcome("blocked", "dpop_nonce"))
    assert cell.verdict == "mismatch"


def test_a_baseline_check_beside_a_switched_control_does_not_decide_the_cell() -> None:
    cell = matrix.judge(_replay(), _column("dpop_bound_tokens"),
                        _outcome("blocked", "pkce_verification", "dpop_bound_tokens"))
    assert cell.verdict == "explained"


def test_a_baseline_check_alone_blocking_is_a_mismatch() -> None:
    cell = matrix.judge(_replay(), _column("dpop_bound_tokens"),
                        _outcome("blocked", "pkce_verification"))
    assert cell.verdict == "mismatch"
    assert "pkce_verification" in cell.explanation


def test_a_matrix_whose_cells_did_not_run_exits_non_zero(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: every worker failed to start its capture proxy, every cell was an error, and
    the run still exited 0, so a script read an empty matrix as a complete one."""
    from lab.cli import matrix as cli_matrix

    def no_lab(attacks: list[Any], **kwargs: Any) -> matrix.Matrix:
        columns = matrix.columns(profiles_only=True)
        result = matrix.Matrix(columns, attacks)
        result.cells = {a.id: {c.id: matrix.Cell("error", [], "", [], "error",
                                                 "not run: the capture proxy did not start")
                               for c in columns} for a in attacks}
        result.seconds["total"] = 0.0
        return result

    monkeypatch.setattr(cli_matrix.matrix_parallel, "run_parallel", no_lab)
    first, second = list(lookup.implemented())[:2]
    assert main(["matrix", "--out", str(tmp_path / "out"), "--jobs", "2", "--profiles-only",
                 "--attack", first, "--attack", second]) == 1


def test_a_job_whose_matrix_process_is_gone_stops() -> None:
    """Before: killing `fapi-lab matrix` left its daemon jobs running the rest of the matrix,
    each with its private lab."""
    from attacker import matrix_parallel

    matrix_parallel.stop_if_orphaned(os.getppid())
    with pytest.raises(matrix_parallel.ParentGone):
        matrix_parallel.stop_if_orphaned(-1)
