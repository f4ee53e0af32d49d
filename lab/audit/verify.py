"""Verify the audit trail: every link, every hash, every signed checkpoint; name the first
record that breaks one.

`verify()` only reads (the CLI runs it on a running lab's data directory). `check()` is the
lab's own verifier behind the `audit_chain` switch: off, it checks nothing (what "off"
means, docs/controls/audit_chain.md); on, a broken trail is refused like a request, a
control-fired event of the verifier's run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import rfc8785

from lab.controls.guard import guard
from lab.controls.registry import ENABLED_KEY
from lab.store.base import Store

from . import checkpoints, trail

AUDIT = guard("audit_chain")
OFF_NOTE = ("audit_chain is off: records are kept without a hash chain or signed checkpoints, "
            "and nothing is verified, so an edited, deleted or truncated trail cannot be told "
            "from an intact one")
Progress = Callable[[int, int], None]


class AuditChainBroken(Exception):  # noqa: N818 - named like the OAuth errors it sits with
    """The verifier's refusal: the trail is not what was written."""

    error = "audit_chain_broken"


@dataclass
class Report:
    ok: bool
    checked: bool = True
    records: int = 0
    chained: int = 0
    unchained: int = 0
    checkpoints: int = 0
    head: int | None = None
    first_bad: int | None = None
    problem: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Bad(Exception):  # noqa: N818 - control flow inside the walk
    def __init__(self, seq: int | None, why: str) -> None:
        super().__init__(why)
        self.seq, self.why = seq, why


def switched_on(reader: Any) -> bool:
    """audit_chain's switch as the store holds it, read without writing (the CLI's view; the
    lab's own code asks the guard)."""
    row = reader.query_one("SELECT value FROM settings WHERE key = ?", (ENABLED_KEY,))
    try:
        return row is not None and "audit_chain" in json.loads(row["value"])
    except (TypeError, ValueError):
        return False


def _walk(reader: Any, signed: dict[int, checkpoints.Checkpoint], report: Report,
          total: int, progress: Progress | None) -> None:
    pending = sorted(signed)
    prev_hash, prev_seq = trail.GENESIS, None
    for record in trail.records(reader):
        report.records += 1
        report.head = record.seq
        if progress is not None and (report.records % 500 == 0 or report.records == total):
            progress(report.records, total)
        if pending and pending[0] < record.seq:
            missing = signed[pending[0]]
            raise _Bad(missing.seq, f"record {missing.seq} is missing: checkpoint line "
                                    f"{missing.line} signed it, the store no longer has it")
        if record.hash is None and record.prev is None:
            if record.seq in signed:
                raise _Bad(record.seq, f"record {record.seq} carries no hash, but checkpoint "
                                       f"line {signed[record.seq].line} signed one for it")
            report.unchained += 1
            continue
        _check(record, prev_hash, prev_seq)
        checkpoint = signed.get(record.seq)
        if checkpoint is not None:
            pending.pop(0)
            if checkpoint.hash != record.hash:
                raise _Bad(record.seq, f"record {record.seq} differs from checkpoint line "
                                       f"{checkpoint.line}: the chain was rewritten and "
                                       f"re-hashed up to here")
        report.chained += 1
        prev_hash, prev_seq = str(record.hash), record.seq
    if pending:
        cut = signed[pending[-1]]
        ends = f"ends at record {report.head}" if report.head is not None else "is empty"
        raise _Bad(pending[0], f"record {pending[0]} is missing: the trail {ends}, but "
                               f"checkpoint line {cut.line} signed record {cut.seq}: records "
                               f"were deleted from its end")


def _check(record: trail.Record, prev_hash: str, prev_seq: int | None) -> None:
    seq = record.seq
    if record.unreadable:
        raise _Bad(seq, f"record {seq} is not readable: {record.unreadable}")
    if not record.hash or not record.prev:
        raise _Bad(seq, f"record {seq} has half a link (a hash without prev, or prev without "
                        f"a hash)")
    try:
        computed = trail.record_hash(seq, record.ts, record.kind, record.component,
                                     record.request_id, record.data, record.prev)
    except (rfc8785.CanonicalizationError, TypeError, ValueError):
        raise _Bad(seq, f"record {seq} is not readable: its data cannot be canonicalised") \
            from None
    if computed != record.hash:
        raise _Bad(seq, f"record {seq} was edited: its content does not match its hash")
    if record.prev != prev_hash:
        before = f"record {prev_seq}" if prev_seq is not None else "the start of the chain"
        raise _Bad(seq, f"record {seq} is not chained to {before} as it stands: a record "
                        f"before it was changed and re-hashed, deleted or moved")


def verify(reader: Any, data_dir: Path, progress: Progress | None = None) -> Report:
    """Check the whole trail in `reader` (a Store or the CLI's read-only view) against the
    checkpoints in `data_dir`. Never writes."""
    total = trail.count(reader)
    report = Report(ok=True)
    try:
        signed = checkpoints.read(data_dir)
    except checkpoints.CheckpointError as error:
        report.ok, report.problem = False, f"{checkpoints.path(data_dir)}: {error}"
        return report
    report.checkpoints = len(signed)
    try:
        _walk(reader, signed, report, total, progress)
    except _Bad as bad:
        report.ok, report.first_bad, report.problem = False, bad.seq, bad.why
        return report
    if report.chained and not signed:
        report.notes.append("no signed checkpoint yet: an edit shows, a cut tail would not")
    if report.unchained:
        report.notes.append(f"{report.unchained} record(s) written while audit_chain was "
                            f"off carry no hash: a change to them cannot be detected")
    return report


def check(store: Store, progress: Progress | None = None) -> Report:
    """The lab's verifier: with audit_chain on, verify, and refuse a broken trail (a fired
    event for the current context's request); off, verify nothing (OFF_NOTE)."""
    if not AUDIT.on():
        return Report(ok=True, checked=False, records=trail.count(store), notes=[OFF_NOTE])
    report = verify(store, store.data_dir, progress)
    if not report.ok:
        AUDIT.refuse(AuditChainBroken(report.problem), reason=report.problem)
    return report
