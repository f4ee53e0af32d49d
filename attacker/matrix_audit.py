"""The matrix keeps the audit trail of every run it makes, and verifies them all at the end.

After each measured cell the lab's trail moves to `<out>/audit/<column>/<attack>/` (a kept
trail, lab.audit.keep: a few milliseconds, no more rows than the cell wrote), and what a
private lab wrote while starting to `<out>/audit/lab-start/<n>/`. Each kept trail is one whole
chain, so a break is pinned to the cell that made it, and `fapi-lab audit verify --trail
<out>/audit` checks them again later without the matrix.

A cell whose attacker writes the store (the log insider: "store" among its legs) breaks its
own trail on purpose where audit_chain is on: that break is the attack caught, marked
`expected` in its manifest and in the summary. Any other break fails the run.
"""

from __future__ import annotations

import os
from pathlib import Path

from lab.audit import keep, keep_report

from .attacks import Attack

TAMPERS = "store"          # the leg of an attacker who writes the lab's store


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
                   "expected": "tampered" if TAMPERS in attack.legs else "intact"})


def _free(path: Path) -> Path:
    """`path`, or `path-2`, `-3`…: an attack named twice with --attack runs twice."""
    number, found = 1, path
    while found.exists():
        number += 1
        found = path.with_name(f"{path.name}-{number}")
    return found
