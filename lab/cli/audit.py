"""`fapi-lab audit verify|export`: check or copy out the audit trail of a data directory.

Both read the store read-only (lab.audit.readonly) and need no running lab; on a running
lab's directory they take no lock its workers need. `verify` exits 0 when the trail is
intact, 1 naming the first bad record when it is not.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lab.audit import keep, keep_report, trail
from lab.audit.readonly import ReadOnlyStore, StoreUnreadable
from lab.audit.verify import OFF_NOTE, Report, switched_on, verify
from lab.cli.client import EXIT_USAGE, CliError
from lab.config import LabConfig

EXIT_BROKEN = 1


def register(add: Any) -> None:
    cmd = add("audit", "the tamper-evident audit trail: `verify` it, or `export` it as JSON "
                       "lines (read-only; no running lab needed)")
    sub = cmd.add_subparsers(dest="action", metavar="ACTION", required=True)
    check = sub.add_parser("verify", help="check every link, hash and signed checkpoint; "
                                          "exit 1 naming the first bad record")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument("--ignore-switch", action="store_true",
                       help="verify even while audit_chain is off in the store")
    out = sub.add_parser("export", help="write the records as JSON lines")
    out.add_argument("--out", type=Path, metavar="FILE", help="write here (default stdout)")
    out.add_argument("--since", type=int, default=0, metavar="SEQ",
                     help="only records after this sequence number")
    out.add_argument("--json", action="store_true",
                     help="print a JSON summary (records, file) at the end")
    for parser in (check, out):
        parser.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                            help="the lab's data directory")
        parser.add_argument("--trail", type=Path, metavar="PATH",
                            help="a kept trail instead of a lab (`fapi-lab matrix` keeps one "
                                 "per run under <out>/audit); verify takes a folder of them "
                                 "too, e.g. <out>/audit, and checks each")


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A bar on stderr (stdout stays for the report or the records); none when quiet."""
    if quiet or not sys.stderr.isatty():
        yield lambda done, total: None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)

        def tick(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
        yield tick


def _open(config: LabConfig) -> ReadOnlyStore:
    try:
        return ReadOnlyStore(config.data_dir)
    except StoreUnreadable as error:
        raise CliError(str(error)) from None


def run(config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    if args.trail is not None:
        kept = keep.find(args.trail) if args.trail.is_dir() else []
        if not kept:
            raise CliError(f"no kept audit trail at or under {args.trail} (a folder with "
                           f"{keep.MANIFEST}, as `fapi-lab matrix` writes under <out>/audit)")
        if args.action == "verify" and (len(kept) > 1 or kept[0] != args.trail):
            return _verify_all(args.trail, args.json, console)
        if args.action == "export" and len(kept) > 1:
            raise CliError(f"{args.trail} holds {len(kept)} kept trails: export one of them "
                           f"(e.g. --trail {kept[0]})", EXIT_USAGE)
        config = LabConfig(data_dir=kept[0])
        args.ignore_switch = True    # a kept trail has no switch: its hashes say what was on
    reader = _open(config)
    try:
        if args.action == "verify":
            return _verify(reader, config, args, console)
        return _export(reader, args, console)
    except sqlite3.DatabaseError as error:
        raise CliError(f"the store at {config.db_path} cannot be read: {error}") from None
    finally:
        reader.close()


def _verify(reader: ReadOnlyStore, config: LabConfig, args: argparse.Namespace,
            console: Console) -> int:
    if not args.ignore_switch and not switched_on(reader):
        report = Report(ok=True, checked=False, records=trail.count(reader), notes=[OFF_NOTE])
    else:
        with _progress("verifying", args.json) as tick:
            report = verify(reader, config.data_dir, tick)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        _show(report, console)
    return 0 if report.ok else EXIT_BROKEN


def _show(report: Report, console: Console) -> None:
    if report.ok and report.checked:
        console.print(f"audit trail intact: {report.chained} chained records up to record "
                      f"{report.head}, {report.checkpoints} signed checkpoints match")
    elif report.ok:
        console.print(f"audit trail not verified: {report.records} records")
    else:
        where = f" at record {report.first_bad}" if report.first_bad is not None else ""
        print(f"fapi-lab: audit trail broken{where}: {report.problem}", file=sys.stderr)
    for note in report.notes:
        console.print(f"note: {note}")


def _export(reader: ReadOnlyStore, args: argparse.Namespace, console: Console) -> int:
    if args.since < 0:
        raise CliError("--since takes a sequence number ≥ 0", EXIT_USAGE)
    total = max(trail.count(reader) - args.since, 0)
    written = 0
    try:
        target: TextIO = args.out.open("w", encoding="utf-8") if args.out else sys.stdout
    except OSError as error:
        raise CliError(f"cannot write {args.out}: {error.strerror}") from None
    try:
        with _progress("exporting", args.out is None) as tick:
            for record in trail.records(reader, since=args.since):
                target.write(json.dumps(record.as_dict(), ensure_ascii=False) + "\n")
                written += 1
                if written % 500 == 0:
                    tick(written, total)
    finally:
        if args.out:
            target.close()
    summary = {"records": written, "out": str(args.out) if args.out else None}
    if args.json:
        print(json.dumps(summary), file=sys.stdout if args.out else sys.stderr)
    elif args.out:
        console.print(f"{written} records written to {args.out}")
    return 0


def _verify_all(root: Path, as_json: bool, console: Console) -> int:
    """Every kept trail under `root` (a matrix's <out>/audit): one line per column, each
    broken trail named; exit 1 if one is broken (a trail its own attacker tampered with,
    as its manifest says, is reported as that and does not fail)."""
    with _progress("verifying", as_json) as tick:
        summary = keep_report.summarise(root, tick)
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        console.print(f"{len(summary['trails'])} kept audit trails under {root}", markup=False)
        for line in keep_report.lines(summary):
            if line.startswith("BROKEN"):
                print(f"fapi-lab: audit trail {line}", file=sys.stderr)
            else:
                console.print(f"  {line}", markup=False)
    return 0 if summary["ok"] else EXIT_BROKEN
