"""Issue 16's Done-when: `fapi-lab audit verify` passes after a matrix run (on the trails the
matrix keeps under <out>/audit) and fails, naming the record, after one record is edited, one
deleted, or the tail truncated. A small matrix (two attacks, the profile columns, two private
labs) stands for the full one: nothing in the keeping depends on which attacks run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from lab.audit import keep, keep_report
from lab.cli.commands import main
from tests.support.audit_tamper import TAMPERS, tamper

ATTACKS = ("at-replay-bearer", "code-replay")


@pytest.fixture(scope="module")
def matrix_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("matrix")
    argv = ["matrix", "--out", str(out), "--jobs", "2", "--profiles-only"]
    for attack in ATTACKS:
        argv += ["--attack", attack]
    assert main(argv) == 0
    return out


def audit(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["audit", *argv])
    out = capsys.readouterr()
    return code, out.out + out.err


def chained_trail(out: Path, tmp_path: Path) -> Path:
    """A copy of the kept trail with the most chained records (one per run, where the
    adaptive overlay had audit_chain on), to tamper with."""
    summary = json.loads((out / "matrix.json").read_text())["audit"]
    best = max(summary["trails"], key=lambda t: t["chained"])
    assert best["chained"] >= 7, summary["trails"]
    copy = tmp_path / "trail"
    shutil.copytree(out / "audit" / best["path"], copy)
    return copy


def test_the_matrix_keeps_and_verifies_each_runs_trail(matrix_out: Path) -> None:
    data = json.loads((matrix_out / "matrix.json").read_text())
    summary = data["audit"]
    assert summary["ok"] and summary["broken"] == []
    runs = {(t["column"], t["attack"]) for t in summary["trails"] if t["column"]}
    assert runs == {(c["id"], a) for c in data["columns"] for a in ATTACKS}
    assert summary["columns"]["fapi2-security+adaptive"]["chained"] > 0   # audit_chain on
    assert all(c["verified"] == c["trails"] for c in summary["columns"].values())
    assert summary["bytes"] < 40_000 * len(summary["trails"])   # audit rows only
    private = json.loads(next((matrix_out / "audit").rglob("audit.jwks.json")).read_text())
    assert all("d" not in k for k in private["keys"])           # it verifies, cannot sign
    report = (matrix_out / "matrix.md").read_text()
    assert "## Audit trails" in report and "fapi-lab audit verify --trail" in report


def test_audit_verify_passes_on_the_kept_trails(matrix_out: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, text = audit(capsys, "verify", "--trail", str(matrix_out / "audit"))
    assert code == 0, text
    assert "fapi2-security+adaptive: 2 trail(s)" in text and "0 broken" in text
    one = matrix_out / "audit" / "fapi2-security+adaptive" / ATTACKS[0]
    code, text = audit(capsys, "verify", "--trail", str(one))
    assert code == 0 and "audit trail intact" in text, text


def test_audit_export_reads_a_kept_trail(matrix_out: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    one = matrix_out / "audit" / "fapi2-security+adaptive" / ATTACKS[0]
    code, _ = audit(capsys, "export", "--trail", str(one), "--out", str(tmp_path / "t.jsonl"))
    lines = (tmp_path / "t.jsonl").read_text().splitlines()
    assert code == 0 and len(lines) == keep.about(one)["records"]
    code, text = audit(capsys, "export", "--trail", str(matrix_out / "audit"))
    assert code != 0 and "export one of them" in text


@pytest.mark.parametrize(("sql", "first_bad"), TAMPERS)
def test_audit_verify_fails_on_a_tampered_kept_trail(
        matrix_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        sql: str, first_bad: str) -> None:
    trail = chained_trail(matrix_out, tmp_path)
    tamper(trail, sql)
    code, text = audit(capsys, "verify", "--trail", str(trail))
    assert code == 1 and "audit trail broken at record" in text and first_bad in text, text
    code, text = audit(capsys, "verify", "--trail", str(tmp_path))   # a folder of trails
    assert code == 1 and "BROKEN" in text and first_bad in text, text


def test_a_trail_its_own_attacker_tampered_with_is_reported_not_failed(
        matrix_out: Path, tmp_path: Path) -> None:
    """audit-log-tampering where audit_chain is on breaks its run's trail on purpose: that
    break is the attack caught (its manifest says the attacker writes the store)."""
    trail = chained_trail(matrix_out, tmp_path)
    tamper(trail, str(TAMPERS[2].values[0]))
    about: dict[str, Any] = {**keep.about(trail), "expected": "tampered"}
    (trail / keep.MANIFEST).write_text(json.dumps(about))
    summary = keep_report.summarise(tmp_path)
    assert summary["ok"] and summary["trails"][0]["verdict"] == "tampered (expected)"
    assert "tampered by their attacker (expected)" in keep_report.lines(summary)[0]


def test_only_the_log_insider_is_expected_to_break_its_runs_trail(tmp_path: Path) -> None:
    """The TPP insider (MT) has the `store` leg too, but reads FinLens's store: a break in its
    run's trail is a broken trail, never excused."""
    from attacker import lookup
    from attacker.matrix_audit import Keeper
    from lab.store import SQLiteStore

    lab = tmp_path / "lab"
    lab.mkdir()
    SQLiteStore(lab / "lab.sqlite3").execute("INSERT INTO audit_log(ts, kind, data) "
                                            "VALUES (1, 'consent', '{}')")
    keeper = Keeper(tmp_path / "kept", lab)
    reader = lookup.get("refresh-after-revocation")
    assert "store" in reader.legs and reader.attacker != "LI"
    keeper.cell(reader, "legacy", "succeeded")
    keeper.cell(lookup.get("audit-log-tampering"), "legacy", "succeeded")
    kept = {keep.about(p)["attack"]: keep.about(p) for p in keep.find(tmp_path / "kept")}
    assert kept["refresh-after-revocation"]["expected"] == "intact"
    assert kept["refresh-after-revocation"]["records"] == 1      # moved, not copied
    assert kept["audit-log-tampering"]["expected"] == "tampered"
    assert kept["audit-log-tampering"]["records"] == 0
