"""Finds the catalog's attacks (attacker/attacks/*.py), in catalog order, and looks them up.

Each module of attacker/attacks defines `ATTACK`: an Attack the lab runs, or a Pending
entry saying what the lab lacks. Everything else (docs, `fapi-lab attack --list`, the
matrix, `fapi-lab controls show`) reads the attacks through here.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import Any

from . import attacks as attacks_package
from .attacks import ORDER, Attack, Entry, Pending


@cache
def entries() -> dict[str, Entry]:
    """Attack id → its entry (implemented or pending), in catalog order (attacks.ORDER)."""
    found: dict[str, Entry] = {}
    for module in pkgutil.iter_modules(attacks_package.__path__):
        loaded = importlib.import_module(f"{attacks_package.__name__}.{module.name}")
        entry = getattr(loaded, "ATTACK", None)
        if isinstance(entry, Entry):
            found[entry.id] = entry
    # an attack missing from ORDER still runs, listed last (tests/attacks catch the omission)
    rank = {attack_id: i for i, attack_id in enumerate(ORDER)}
    return {i: found[i] for i in sorted(found, key=lambda i: (rank.get(i, len(rank)), i))}


def implemented() -> dict[str, Attack]:
    """Attack id → Attack, in catalog order."""
    return {i: e for i, e in entries().items() if isinstance(e, Attack)}


def pending() -> dict[str, Pending]:
    """Attack id → Pending entry (the reason it cannot run yet), in catalog order."""
    return {i: e for i, e in entries().items() if isinstance(e, Pending)}


def get(attack_id: str) -> Attack:
    entry = entries().get(attack_id)
    if isinstance(entry, Attack):
        return entry
    if isinstance(entry, Pending):
        raise LookupError(f"{attack_id} is pending: {entry.reason}")
    known = ", ".join(implemented())
    raise LookupError(f"no attack {attack_id!r} (implemented: {known})")


def blocked_by(control_id: str) -> list[Entry]:
    """The catalog attacks (implemented and pending) that name the control in `blocked_by`."""
    return [e for e in entries().values() if control_id in e.blocked_by]


def row(entry: Entry) -> dict[str, Any]:
    """One attack as JSON: what `fapi-lab attack --list` and `controls show` print."""
    return {"id": entry.id, "title": entry.title, "attacker": entry.attacker,
            "victim": entry.victim if isinstance(entry, Attack) else "",
            "state": entry.state, "reason": entry.reason if isinstance(entry, Pending) else "",
            "blocked_by": list(entry.blocked_by), "source": entry.source}


def listing() -> list[dict[str, Any]]:
    """Every catalog attack with its state: implemented, or pending and why."""
    return [row(entry) for entry in entries().values()]
