"""`fapi-lab matrix`: run every attack under every configuration, write json/md/html.

It runs on a private lab (a temporary data directory, free loopback ports, capture
on), so a workshop's running lab is never reconfigured behind its users' backs.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from attacker import lookup, matrix, matrix_audit, matrix_parallel, matrix_report
from attacker.attacks import Attack
from lab.audit import keep, keep_report
from lab.config import LabConfig


def default_jobs() -> int:
    """One more lab than cores: a lab's process waits on its own sockets (the proxy, the apps,
    the victim) part of the time, so cores + 1 keeps the cores busy. On 2 cores the full
    matrix took 11 min 45 s with 2 jobs and 9 min 15 s with 3."""
    return min((os.cpu_count() or 1) + 1, 8)


def register(add: Any) -> None:
    cmd = add("matrix", "run every attack under every profile and each single control; "
                        "write matrix.json, matrix.md, matrix.html")
    cmd.add_argument("--out", type=Path, default=Path("matrix-results"),
                     help="directory for the three files (default ./matrix-results) and "
                          "audit/, every run's audit trail, verified at the end")
    cmd.add_argument("--profiles-only", action="store_true",
                     help="only the profile columns")
    cmd.add_argument("--exhaustive", action="store_true",
                     help="rerun single-control cells even where the control was never "
                          "consulted in the legacy run")
    cmd.add_argument("--attack", action="append", metavar="ID",
                     help="only these attacks (repeatable)")
    cmd.add_argument("--jobs", "-j", type=int, default=default_jobs(),
                     help="processes, each with its own private lab (default: cores + 1)")
    cmd.add_argument("--progress", type=Path, metavar="FILE",
                     help="also append one JSON line per finished cell to FILE (for the "
                          "dashboard), a last line when the files are written or it fails")


def chosen_attacks(ids: list[str] | None) -> list[Attack]:
    if not ids:
        return list(lookup.implemented().values())
    return [lookup.get(i) for i in ids]


class ProgressLog:
    """JSON lines another process (the dashboard) can follow; a no-op without --progress."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")

    def write(self, event: str, **fields: Any) -> None:
        if self.path is None:
            return
        line = json.dumps({"event": event, "time": round(time.time(), 1), **fields},
                          ensure_ascii=False)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")


def run(_config: LabConfig, args: argparse.Namespace, console: Console) -> int:
    log = ProgressLog(getattr(args, "progress", None))
    try:
        return _run(args, console, log)
    except BaseException as exc:   # Ctrl-C and crashes too: the follower must not wait forever
        message = "interrupted" if isinstance(exc, KeyboardInterrupt) else \
            f"{type(exc).__name__}: {exc}"
        log.write("error", message=message)
        raise


def _run(args: argparse.Namespace, console: Console, log: ProgressLog) -> int:
    try:
        attacks = chosen_attacks(args.attack)
    except LookupError as exc:
        console.print(f"fapi-lab: {exc}")
        log.write("error", message=str(exc))
        return 2
    if not 1 <= args.jobs <= 8:
        console.print("fapi-lab: --jobs is 1 to 8")
        log.write("error", message="--jobs is 1 to 8")
        return 2
    try:
        matrix_report.prepare_out(args.out)
    except matrix_report.OutputError as exc:
        console.print(f"fapi-lab: {exc}", markup=False)
        log.write("error", message=str(exc))
        return 2
    kept = args.out / "audit"
    keep.clear(kept)
    cols = matrix.columns(profiles_only=args.profiles_only)
    total = len(attacks) * len(cols)
    done = 0
    log.write("start", done=0, total=total, attacks=len(attacks), columns=len(cols),
              profiles_only=args.profiles_only)
    jobs = min(args.jobs, len(attacks))
    console.print(f"{len(attacks)} attacks × {len(cols)} columns on {jobs} private lab(s) "
                  f"(temporary data, free loopback ports, capture on)")
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        task = progress.add_task("matrix", total=total)

        def _tick(attack_id: str, column_id: str, cell: matrix.Cell) -> None:
            nonlocal done
            done += 1
            progress.update(task, advance=1,
                            description=f"{attack_id[:28]:28} {column_id[:24]:24}")
            log.write("cell", done=done, total=total, attack=attack_id, column=column_id,
                      status=cell.status, verdict=cell.verdict, inferred=cell.inferred)

        if jobs > 1:
            result = matrix_parallel.run_parallel(
                attacks, jobs=jobs, profiles_only=args.profiles_only,
                exhaustive=args.exhaustive, progress=_tick, audit=kept)
        else:
            with matrix_parallel.matrix_lab() as lab:
                keeper = matrix_audit.Keeper(kept, lab.config.data_dir)
                keeper.started()
                result = matrix.run_matrix(lab.config, lab.store, attacks=attacks,
                                           profiles_only=args.profiles_only,
                                           exhaustive=args.exhaustive, progress=_tick,
                                           keeper=keeper)
        checking = progress.add_task("verifying audit trails", total=None)
        trails = keep_report.summarise(
            kept, lambda n, of: progress.update(checking, completed=n, total=of))
    data = result.as_dict()
    data["audit"] = trails
    paths = matrix_report.write_all(data, args.out)
    console.print(f"{result.runs} runs, {result.inferred} inferred cells, "
                  f"{result.seconds['total']} s ({result.seconds.get('cpu', 0)} s of cell CPU)")
    for path in paths:
        console.print(f"  wrote {path}")
    problems = result.mismatches()
    log.write("done", done=done, total=total, runs=result.runs, inferred=result.inferred,
              seconds=result.seconds["total"], mismatches=len(problems),
              files=[str(p) for p in paths], audit_ok=trails["ok"],
              audit_broken=len(trails["broken"]))
    if problems:
        console.print(f"{len(problems)} cell(s) differ from the catalog without an explanation "
                      f"(see matrix.md):", style="yellow")
        for m in problems[:20]:
            console.print(f"  {m['attack']} / {m['column']}: {m['detail']}")
    else:
        console.print("every cell agrees with the catalog or is explained", style="green")
    audit_status = _audit_said(trails, console)
    errors = [m for m in problems if m["verdict"] == "error"]
    if errors:
        # A cell that did not run measured nothing: scripts must not read the run as complete.
        console.print(f"{len(errors)} cell(s) did not run (error): the matrix is incomplete",
                      style="bold red")
        return 1
    return audit_status


def _audit_said(trails: dict[str, Any], console: Console) -> int:
    """One line per column's kept trails; a broken one fails the run, loudly."""
    console.print(f"audit trails kept in {trails['root']} ({len(trails['trails'])} trails, "
                  f"{trails['bytes'] // 1024} KiB; check again: fapi-lab audit verify "
                  f"--trail {trails['root']})", markup=False)
    for line in keep_report.lines(trails):
        console.print(f"  {line}", markup=False,
                      style="bold red" if line.startswith("BROKEN") else None)
    if trails["ok"]:
        return 0
    console.print(f"AUDIT TRAIL BROKEN in {len(trails['broken'])} run(s): the lab's records "
                  f"of those runs are not what it wrote", style="bold red")
    return 1
