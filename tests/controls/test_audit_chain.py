"""audit_chain: a hash-chained audit trail with signed checkpoints outside the store
(MS §5.2). Off, records are kept but nothing can tell a changed trail from an intact one;
on, the verifier names the first bad record and its refusal is a fired event of its run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab import context
from lab.audit import checkpoints, trail
from lab.audit.verify import check
from lab.controls import events as lab_events
from lab.controls.registry import Registry
from lab.store import SQLiteStore
from tests.support.oauth import claims, tokens

RID = "audit-verify-test"


def trail_of(tmp_path: Path, on: bool, n: int = 30) -> SQLiteStore:
    """A store with `n` payment records, written with audit_chain on or off."""
    store = SQLiteStore(tmp_path / "lab.sqlite3")
    Registry(store).apply_profile("legacy")
    if on:
        Registry(store).set({"audit_chain": True})
    for i in range(n):
        trail.append(store, "payment", {"i": i, "amount_cents": 100 * i})
    return store


def verified(store: SQLiteStore):  # type: ignore[no-untyped-def]
    with context.bound(store, "audit", RID, "audit verify"):
        return check(store)


def fired_for_verify(store: SQLiteStore) -> list[str]:
    return [e.control for e in lab_events.list_events(store, request_id=RID) if e.kind == "fired"]


def edit(store: SQLiteStore, seq: int) -> None:
    store.execute("UPDATE audit_log SET data = ? WHERE seq = ?",
                  ('{"amount_cents":1,"i":0}', seq))


TAMPERING = {
    "edited": lambda s: edit(s, 10),
    "deleted": lambda s: s.execute("DELETE FROM audit_log WHERE seq = 12"),
    "truncated": lambda s: s.execute("DELETE FROM audit_log WHERE seq > 20"),
    "reordered": lambda s: s.execute(
        "UPDATE audit_log SET seq = CASE seq WHEN 14 THEN 15 ELSE 14 END + 1000 "
        "WHERE seq IN (14, 15)") and s.execute("UPDATE audit_log SET seq = seq - 1000 "
                                               "WHERE seq > 1000"),
}


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_off_a_tampered_trail_verifies_and_nothing_fires(tmp_path: Path, how: str) -> None:
    store = trail_of(tmp_path, on=False)
    TAMPERING[how](store)
    report = verified(store)
    assert report.ok and not report.checked
    assert not checkpoints.path(tmp_path).exists()
    assert store.query_one("SELECT COUNT(*) AS n FROM audit_log WHERE hash IS NOT NULL")["n"] == 0
    assert fired_for_verify(store) == []


@pytest.mark.parametrize(("how", "first_bad"), [("edited", 10), ("deleted", 12),
                                                ("truncated", 21), ("reordered", 14)])
def test_on_the_verifier_names_the_first_bad_record_and_fires(
        tmp_path: Path, how: str, first_bad: int) -> None:
    store = trail_of(tmp_path, on=True)
    assert verified(store).ok
    TAMPERING[how](store)
    report = verified(store)
    assert not report.ok and report.first_bad == first_bad, report.problem
    assert f"record {first_bad}" in report.problem
    assert fired_for_verify(store) == ["audit_chain"]


def test_on_a_chain_rehashed_after_an_edit_is_caught_by_the_signed_checkpoints(
        tmp_path: Path) -> None:
    store = trail_of(tmp_path, on=True)
    prev = store.query_one("SELECT hash FROM audit_log WHERE seq = 9")["hash"]
    for record in list(trail.records(store, since=9)):
        data = {**record.data, "amount_cents": 1} if record.seq == 10 else record.data
        digest = trail.record_hash(record.seq, record.ts, record.kind, record.component,
                                   record.request_id, data, prev)
        store.execute("UPDATE audit_log SET data = ?, prev = ?, hash = ? WHERE seq = ?",
                      (json.dumps(data), prev, digest, record.seq))
        prev = digest
    report = verified(store)
    assert not report.ok and report.first_bad == 10
    assert "checkpoint" in report.problem


def test_on_records_of_real_requests_carry_their_request_ids_and_verify(
        lab, controls, http) -> None:  # type: ignore[no-untyped-def]
    controls.only("audit_chain")
    mark = lab.store.query_one("SELECT COALESCE(MAX(seq), 0) AS s FROM audit_log")["s"]
    body = tokens(http, lab, pkce=False)
    kinds = {r.kind: r for r in trail.records(lab.store, since=mark)}
    assert {"authentication", "consent", "token_issued"} <= set(kinds)
    issued = kinds["token_issued"]
    assert issued.data["jti"] == claims(body["access_token"])["jti"]
    assert issued.component == "as" and issued.request_id and issued.hash
    assert kinds["authentication"].data["ok"] is True
    assert "password" not in json.dumps(kinds["authentication"].data).replace(
        '"factor": "password"', "")
    report = verified(lab.store)
    assert report.ok and report.checked, report.problem


# --- fapi-lab audit verify|export: bad input gives one clear line and a non-zero exit --------
def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from lab.cli.commands import main

    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_verify_json_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trail_of(tmp_path, on=True, n=5)
    code, out, _ = cli(["audit", "verify", "--json", "--data-dir", str(tmp_path)], capsys)
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["checkpoints"] == report["chained"] == 6
    target = tmp_path / "trail.jsonl"
    code, out, _ = cli(["audit", "export", "--out", str(target), "--json",
                        "--data-dir", str(tmp_path)], capsys)
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert code == 0 and json.loads(out)["records"] == len(lines) == 7
    assert lines[-1]["kind"] == "payment" and lines[-1]["hash"]


def test_cli_verify_off_passes_unless_told_to_ignore_the_switch(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = trail_of(tmp_path, on=True, n=5)
    Registry(store).set({"audit_chain": False})
    edit(store, 4)
    assert cli(["audit", "verify", "--data-dir", str(tmp_path)], capsys)[0] == 0
    code, _, err = cli(["audit", "verify", "--ignore-switch", "--data-dir", str(tmp_path)],
                       capsys)
    assert code == 1 and "record 4 was edited" in err


@pytest.mark.parametrize("line", ["not json", '{"seq": 3}',
                                  '{"seq": 3, "hash": "00", "ts": 1, "jws": "a.b.c"}'])
def test_cli_a_corrupt_checkpoint_file_is_named_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str) -> None:
    trail_of(tmp_path, on=True, n=3)
    with checkpoints.path(tmp_path).open("a") as out:
        out.write(line + "\n")
    code, _, err = cli(["audit", "verify", "--data-dir", str(tmp_path)], capsys)
    assert code == 1 and "checkpoint line 5" in err and "Traceback" not in err


@pytest.mark.parametrize(("sql", "why"), [
    ("UPDATE audit_log SET data = 'not json{' WHERE seq = 3", "record 3 is not readable"),
    ("UPDATE audit_log SET ts = 'noon' WHERE seq = 3", "record 3 is not readable"),
    ("UPDATE audit_log SET prev = NULL WHERE seq = 3", "record 3 has half a link"),
])
def test_cli_a_corrupt_store_row_is_named_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], sql: str, why: str) -> None:
    trail_of(tmp_path, on=True, n=5).execute(sql)
    code, _, err = cli(["audit", "verify", "--data-dir", str(tmp_path)], capsys)
    assert code == 1 and why in err and "Traceback" not in err


def test_cli_a_directory_without_a_lab_is_said_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(["audit", "verify", "--data-dir", str(tmp_path / "nowhere")], capsys)
    assert code == 1 and "no lab store" in err
    (tmp_path / "lab.sqlite3").write_text("not a database")
    code, _, err = cli(["audit", "export", "--data-dir", str(tmp_path)], capsys)
    assert code == 1 and "no readable audit trail" in err
