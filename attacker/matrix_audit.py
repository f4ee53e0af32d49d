"""The matrix keeps the audit trail of every run it makes, and verifies them all at the end.

After each measured cell the lab's trail moves to `<out>/audit/<column>/<attack>/` (a kept
trail, lab.audit.keep: a few milliseconds, no more rows than the cell wrote), and what a
private lab wrote while starting to `<out>/audit/lab-start/<n>/`. Each kept trail is one whole
chain, so a break is pinned to the cell that made it, and `fapi-lab audit verify --trail
<out>/audit` checks them again later without the matrix.

A cell whose attacker writes the lab's store (the log insider, LI in attacks.md §1) breaks
its own trail on purpose where audit_chain is on: that break is the attack caught, marked
`expected` in its manifest and in the summary. Any other break fails the run — including
one in the run of an insider who only reads a store (MT, the TPP insider, has the `store`
leg too: what it reads is FinLens's, and it never writes the trail).
"""

from __future__ import annotations

import os
from pathlib import Path

from lab.audit import keep, keep_report

from .attacks import Attack

WRITES_STORE = "LI"        # attacks.md §1: the log insider, write access to the SQLite store


class Keeper:
    """Moves one private lab's trail out after each cell it runs."""

    def __init__(self, root: Path, data_dir: Path) -> None:
        self.root, self.data_dir = root, data_dir

    def started(self) -> None:
        """What the lab wrote while starting, kept apart from every cell."""
        name = f"{os.getpid()}-{self.data_dir.parent.name}"
        keep.move(self.data_dir, self.root / keep_report.START / name,
                  {"column": None, "attack": None, "expected": "intact"})

    def cell(self, attack: Attack, column_id: str, status: str) -> None:
        keep.move(self.data_dir, _free(self.root / column_id / attack.id),
                  {"column": column_id, "attack": attack.id, "status": status,
                   "expected": "tampered" if attack.attacker == WRITES_STORE else "intact"})


def _free(path: Path) -> Path:
    """`path`, or `path-2`, `-3`…: an attack named twice with --attack runs twice."""
    number, found = 1, path
    while found.exists():
        number += 1
        found = path.with_name(f"{path.name}-{number}")
    return found
