"""The matrix spread over processes: each job starts a private lab of its own and pulls attack
ids from a shared queue until none are left; the parent gathers the rows in `attacks` order."""

from __future__ import annotations

import os
import time
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from lab.config import LOW_PASSWORD_ITERATIONS
from lab.serving.in_process import RunningLab
from lab.serving.private import private_lab

from . import lookup
from .attacks import Attack
from .matrix import Cell, Matrix, Progress, cell_cpu, columns, run_matrix
from .matrix_audit import Keeper


def matrix_lab() -> AbstractContextManager[RunningLab]:
    """A private lab for matrix runs: legacy, capture on (the attacks read their legs), the
    customers' passwords stored with the low work factor (attacks count attempts, never time
    them, so it changes no verdict: lab.config)."""
    return private_lab(profile="legacy", capture=True, write_state=False,
                       prefix="fapi-lab-matrix-", password_iterations=LOW_PASSWORD_ITERATIONS)


class ParentGone(Exception):
    """The `fapi-lab matrix` process that started this job is gone (killed, not finished)."""


def stop_if_orphaned(parent: int) -> None:
    """A job whose parent was killed stops after its current cell, and its lab with it:
    daemon processes are ended only when their parent exits normally, so a killed matrix
    left both jobs running the rest of the matrix on their labs."""
    if os.getppid() != parent:
        raise ParentGone(f"the matrix process {parent} is gone")


def _worker(attack_ids: list[str], tasks: Any, events: Any, options: dict[str, Any]) -> None:
    """One process: a private lab of its own; pulls attack ids until none are left."""
    import queue as queue_module

    try:
        with matrix_lab() as lab:
            keeper = Keeper(options["audit"], lab.config.data_dir) if options["audit"] \
                else None
            if keeper is not None:
                keeper.started()
            while True:
                stop_if_orphaned(options["parent"])
                try:
                    attack_id = tasks.get_nowait()
                except queue_module.Empty:
                    break
                attack = lookup.get(attack_id)

                def _tick(a: str, c: str, cell: Cell) -> None:
                    events.put(("tick", a, c, cell.status, cell.verdict, cell.inferred))
                    stop_if_orphaned(options["parent"])

                part = run_matrix(lab.config, lab.store, attacks=[attack], progress=_tick,
                                  profiles_only=options["profiles_only"],
                                  exhaustive=options["exhaustive"], keeper=keeper)
                events.put(("row", attack_id,
                            {c: asdict(cell) for c, cell in part.cells[attack_id].items()},
                            part.runs, part.inferred))
    except Exception as exc:  # reported to the parent, which marks the rows as errors
        events.put(("crash", repr(exc)))
    finally:
        events.put(("done",))   # after the lab stopped, or failed to start: never a hang


def run_parallel(attacks: list[Attack], *, jobs: int, profiles_only: bool = False,
                 exhaustive: bool = False, progress: Progress | None = None,
                 audit: Path | None = None) -> Matrix:
    """The same matrix, spread over `jobs` processes, each with its own private lab (each
    keeping its runs' audit trails under `audit`, if given)."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    tasks, events = ctx.Queue(), ctx.Queue()
    for attack in attacks:
        tasks.put(attack.id)
    options = {"profiles_only": profiles_only, "exhaustive": exhaustive, "audit": audit,
               "parent": os.getpid()}
    started = time.monotonic()
    workers = [ctx.Process(target=_worker, args=([a.id for a in attacks], tasks, events, options),
                           daemon=True) for _ in range(max(1, jobs))]
    for worker in workers:
        worker.start()
    matrix = Matrix(columns(profiles_only=profiles_only), attacks)
    done, crashes = 0, []
    while done < len(workers):
        message = events.get()
        if message[0] == "tick" and progress:
            progress(message[1], message[2], Cell(message[3], [], "", [], message[4],
                                                  inferred=message[5]))
        elif message[0] == "row":
            _, attack_id, row, runs, inferred = message
            matrix.cells[attack_id] = {c: Cell(**cell) for c, cell in row.items()}
            matrix.runs += runs
            matrix.inferred += inferred
        elif message[0] == "crash":
            crashes.append(message[1])
        elif message[0] == "done":
            done += 1
    for worker in workers:
        worker.join(timeout=30)
    for attack in attacks:
        if attack.id not in matrix.cells:
            reason = "; ".join(crashes) or "its worker stopped"
            matrix.cells[attack.id] = {
                c.id: Cell("error", [], "", [], "error", f"not run: {reason}")
                for c in matrix.columns}
    # `attacks` order, not completion order
    matrix.cells = {a.id: matrix.cells[a.id] for a in attacks}
    matrix.seconds["total"] = round(time.monotonic() - started, 1)
    matrix.seconds["cpu"] = cell_cpu(matrix)
    return matrix
