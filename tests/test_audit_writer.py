"""The audit trail's writer: what it hashes is what the verifier recomputes from the stored
row, for any JSON data (it canonicalises once and splices the data into the record), and
chained appends from several processes still form one verifiable chain."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path
from typing import Any

import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import context
from lab.audit import checkpoints, trail
from lab.audit.verify import verify
from lab.controls.registry import Registry
from lab.store import SQLiteStore

TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)
SCALAR = st.one_of(st.none(), st.booleans(), TEXT,
                   st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
                   st.floats(allow_nan=False, allow_infinity=False))
JSON = st.recursive(SCALAR, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.dictionaries(TEXT, JSON, max_size=5), component=st.one_of(st.none(), TEXT),
       request_id=st.one_of(st.none(), TEXT), kind=TEXT,
       seq=st.integers(min_value=1, max_value=2**40),
       ts=st.floats(min_value=0, max_value=2**40, allow_nan=False))
def test_the_spliced_hash_is_the_verifiers_hash_of_the_stored_row(
        data: dict[str, Any], component: str | None, request_id: str | None, kind: str,
        seq: int, ts: float) -> None:
    prev = "ab" * 32
    try:   # what the writer did before: canonicalise, parse, canonicalise again
        before: Any = rfc8785.dumps(json.loads(rfc8785.dumps(data)))
    except rfc8785.CanonicalizationError:
        before = None
    try:
        raw = trail.canonical_data(data)
    except rfc8785.CanonicalizationError:
        assert before is None   # refused now only where it was refused before
        return
    assert raw == before
    stored = json.loads(raw.decode())   # what the verifier reads back
    assert trail._spliced_hash(seq, ts, kind, component, request_id, raw, prev) == \
        trail.record_hash(seq, ts, kind, component, request_id, stored, prev)


def _append(path: str, n: int) -> None:
    store = SQLiteStore(path)
    with context.bound(store, "writer"):
        for i in range(n):
            trail.append(store, "token_issued", {"i": i, "who": "\u00e9\"kind\":x"})


def test_appends_of_several_processes_form_one_verifiable_chain(tmp_path: Path) -> None:
    path = tmp_path / "lab.sqlite3"
    store = SQLiteStore(path)
    Registry(store).apply_profile("legacy")   # audit_chain off: a record without a link
    trail.append(store, "token_issued", {"unchained": True})
    Registry(store).set({"audit_chain": True})
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_append, args=(str(path), 25)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    report = verify(store, store.data_dir)
    assert report.ok, report.problem
    assert report.chained >= 75 and report.unchained >= 1
    assert report.checkpoints >= 75


def test_a_checkpoint_file_removed_while_kept_open_is_written_anew(tmp_path: Path) -> None:
    checkpoints.write(tmp_path, 1, "a" * 64, 1.0)
    checkpoints.path(tmp_path).unlink()          # a reset while this process kept it open
    checkpoints.write(tmp_path, 2, "b" * 64, 2.0)
    assert sorted(checkpoints.read(tmp_path)) == [2]


def test_a_process_writing_for_many_labs_keeps_few_checkpoint_files_open(
        tmp_path: Path) -> None:
    dirs = [tmp_path / f"lab{i}" for i in range(checkpoints.KEEP_OPEN + 3)]
    for seq in (1, 2):
        for d in dirs:
            checkpoints.write(d, seq, f"{seq:064x}", float(seq))
    assert len(checkpoints._appender._files) <= checkpoints.KEEP_OPEN
    assert all(sorted(checkpoints.read(d)) == [1, 2] for d in dirs)
