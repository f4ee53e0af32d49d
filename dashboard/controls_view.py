"""The controls screen's logic: controls grouped by where they are enforced, and what a
switch changed — the switches the AS answered with and the discovery fields a client now reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lab.controls import catalog

from .data import Lab, metadata_changes

PLACES = {"AS": "Authorization server", "bank": "Bank (resource server)",
          "TPP": "TPP (FinLens, the client)", "store": "Audit trail (store + CLI)"}


def grouped(controls: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """{place title: controls} in AS, bank, TPP order; a control sits under the first place
    that enforces it (the page names the others)."""
    groups: dict[str, list[dict[str, Any]]] = {title: [] for title in PLACES.values()}
    for control in controls:
        places = control.get("enforced_at") or ["AS"]
        groups[PLACES.get(places[0], places[0])].append(control)
    return {title: rows for title, rows in groups.items() if rows}


@dataclass
class Change:
    """One switch or profile change as the lab took it."""

    what: str
    notes: list[str] = field(default_factory=list)
    switched: dict[str, bool] = field(default_factory=dict)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    profile: str = ""


def _switched(before: list[str], after: list[str]) -> dict[str, bool]:
    on, off = set(after) - set(before), set(before) - set(after)
    return {**{c: True for c in sorted(on)}, **{c: False for c in sorted(off)}}


def switch(lab: Lab, control_id: str, on: bool) -> Change:
    """Switch one control at the running lab; say what else moved (its `requires`) and
    which discovery fields changed."""
    before_meta, before = lab.metadata(), lab.status()["enabled_controls"]
    answer = lab.set_controls({control_id: on})
    after_meta = lab.metadata()
    return Change(what=f"{control_id} switched {'on' if on else 'off'}",
                  notes=list(answer.get("notes") or []),
                  switched=_switched(before, answer.get("enabled") or []),
                  metadata=metadata_changes(before_meta, after_meta),
                  profile=str(answer.get("profile") or ""))


def apply_profile(lab: Lab, name: str) -> Change:
    before_meta, before = lab.metadata(), lab.status()["enabled_controls"]
    answer = lab.apply_profile(name)
    after_meta = lab.metadata()
    return Change(what=f"profile {name} applied", switched=_switched(before, answer["enabled"]),
                  metadata=metadata_changes(before_meta, after_meta), profile=name)


@dataclass
class Teaching:
    text: str
    off_behaviour: str
    attacks: list[str]


def teaching(control_id: str) -> Teaching:
    """The catalog's teaching text and the implemented attacks that name the control."""
    from attacker import lookup as attacks

    control = catalog.get(control_id)
    blocked = [a.id for a in attacks.blocked_by(control_id) if a.state == "implemented"]
    return Teaching(control.teaching, control.off_behaviour, blocked)


def short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
