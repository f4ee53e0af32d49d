"""The audit trail under attack: audit-log-tampering both ways, and `fapi-lab audit verify`
after several real attack runs (a small matrix subset: the full matrix is too slow here),
then after one record edited, one deleted, the tail truncated."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from attacker import lookup
from lab.cli.commands import main
from lab.config import LabConfig
from lab.store import SQLiteStore
from tests.support.audit_tamper import TAMPERS, tamper

from .conftest import story

ROOT = Path(__file__).resolve().parents[2]

def test_tampering_succeeds_with_audit_chain_off(run_attack: Any) -> None:
    outcome = run_attack(lookup.get("audit-log-tampering"), "legacy")
    assert outcome.status == "succeeded", story(outcome)
    assert 1 <= outcome.stolen["deleted_records"] <= 20   # the whole trail, if shorter
    assert outcome.stolen["verifier"]["checked"] is False


def test_tampering_is_blocked_by_audit_chain_on_the_attackers_verify_run(
        run_attack: Any) -> None:
    outcome = run_attack(lookup.get("audit-log-tampering"), "legacy", audit_chain=True)
    assert outcome.status == "blocked", story(outcome)
    assert outcome.fired_controls == ["audit_chain"]
    event = next(e for e in outcome.events if e.control == "audit_chain")
    assert event.by == "attacker" and event.request_id.startswith("audit-verify-")
    assert "deleted from its end" in event.reason or "missing" in event.reason


@pytest.fixture(scope="module")
def attacked(tmp_path_factory: pytest.TempPathFactory) -> LabConfig:
    """A lab's data directory after several attack runs with audit_chain on (in a process
    of its own: tests/support/audit_subset.py says why)."""
    data_dir = tmp_path_factory.mktemp("audit-lab")
    done = subprocess.run([sys.executable, "-m", "tests.support.audit_subset", str(data_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return LabConfig(data_dir=data_dir)


def copy_of(attacked: LabConfig, tmp_path: Path) -> Path:
    """The attacked lab's store, key and checkpoints, to tamper with one copy per test."""
    target = tmp_path / "data"
    target.mkdir()
    shutil.copy(attacked.db_path, target / "lab.sqlite3")
    shutil.copytree(attacked.data_dir / "audit", target / "audit")
    (target / "keys").mkdir()
    shutil.copy(attacked.keys_dir / "audit.jwks.json", target / "keys")
    return target


def verify(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["audit", "verify", "--data-dir", str(data_dir)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_verify_passes_after_several_attacks(attacked: LabConfig, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, text = verify(copy_of(attacked, tmp_path), capsys)
    assert code == 0 and "audit trail intact" in text, text
    kinds = {r["kind"] for r in SQLiteStore(attacked.db_path).query(
        "SELECT DISTINCT kind FROM audit_log WHERE hash IS NOT NULL")}
    assert {"authentication", "consent", "token_issued", "refresh", "revocation", "payment",
            "control_change", "control_fired"} <= kinds


@pytest.mark.parametrize(("sql", "first_bad"), TAMPERS)
def test_verify_fails_naming_the_first_bad_record(
        attacked: LabConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        sql: str, first_bad: str) -> None:
    data_dir = copy_of(attacked, tmp_path)
    tamper(data_dir, sql)
    code, text = verify(data_dir, capsys)
    assert code == 1 and "audit trail broken at record" in text and first_bad in text, text
