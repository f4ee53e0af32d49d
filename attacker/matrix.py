"""The attack × configuration matrix, measured by running (attacks.md §0, design brief).

Columns: every profile (and the +extras overlay), then each single control switched on
over `legacy` (with what it `requires`). Every cell is a run; the one shortcut is
measured too: a single-control cell is not rerun when the attack's `legacy` run never
consulted that control (nor what it requires) — every switch is read through a guard,
so an unconsulted switch cannot change the run. Such cells say so (`inferred`), and
`--exhaustive` runs them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from lab.config import LabConfig
from lab.controls import catalog as controls_catalog
from lab.controls import profiles
from lab.controls.guard import consult_trace
from lab.store.base import Store

from . import lookup, runner
from .attacks import LIMITS_ONLY, Attack
from .matrix_audit import Keeper
from .matrix_evidence import evidence_of
from .outcome import Outcome

SENDER_CONSTRAINTS = ("dpop_bound_tokens", "mtls_bound_tokens")


@dataclass(frozen=True)
class Column:
    id: str
    kind: str                       # "profile" or "control"
    configuration: runner.Configuration
    note: str = ""


@dataclass
class Cell:
    status: str
    fired: list[str]
    expected_status: str
    expected_blockers: list[str]
    verdict: str                    # "agrees", "explained", "mismatch", "error"
    explanation: str = ""
    summary: str = ""
    inferred: bool = False
    request_ids: list[str] = field(default_factory=list)
    capture_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0         # the job's process CPU for the run (Outcome.cpu_seconds)
    # what the run showed, kept because the private lab that ran it is gone afterwards;
    # None on inferred cells (their evidence is the legacy cell's)
    evidence: dict[str, Any] | None = None


def columns(*, profiles_only: bool = False) -> list[Column]:
    cols = [Column(p, "profile", runner.Configuration(p)) for p in profiles.names()]
    if profiles_only:
        return cols
    for control in controls_catalog.CONTROLS:
        needs = [r for r in control.requires]
        note = f"with {', '.join(needs)} (requires)" if needs else ""
        cols.append(Column(control.id, "control",
                           runner.Configuration("legacy", {control.id: True}), note))
    return cols


def enabled_in(column: Column, attack: Attack) -> set[str]:
    """What the column switches on, with the attack's `needs` deciding "alt" controls."""
    if column.kind == "profile":
        return profiles.enabled(column.id, dict(attack.needs))
    control = controls_catalog.get(column.id)
    return {control.id, *control.requires}


def expectation(attack: Attack, column: Column) -> tuple[str, list[str], str]:
    """(expected status, expected blockers on in this column, explanation if any)."""
    on = enabled_in(column, attack)
    blockers = [c for c in attack.blocked_by if c in on and c in controls_catalog.BY_ID]
    explained = {c: attack.not_alone[c] for c in blockers if c in attack.not_alone}
    # measured in single-control columns over legacy; in a profile the other controls (and
    # FinLens's stronger settings) change the path, so the catalog's expectation stands there
    also = {c: r for c, r in attack.also_blocked_by.items()
            if c in on and column.kind == "control" and c not in attack.not_alone}
    if also:
        # measured blockers the catalog does not name, each explained in the attack's notes
        return "blocked", blockers + list(also), "; ".join(
            f"{c} (not in the catalog): {r}" for c, r in also.items())
    if column.kind == "control" and blockers and len(explained) == len(blockers):
        return "succeeded", blockers, "; ".join(f"{c}: {r}" for c, r in explained.items())
    if column.id == "fapi2-security" and not attack.fapi2_blocks:
        return "succeeded", blockers, attack.why_not
    base_name = profiles.base_name(column.id)
    if column.kind == "profile" and not attack.fapi2_blocks \
            and profiles.BUILDS_ON.get(base_name, base_name) == profiles.OVERLAY_BASE:
        # An overlay over fapi2-security (or a profile that builds on it, as Message Signing
        # does) blocks what FAPI 2.0 leaves open only through the controls it adds (a base
        # blocker did not stop it there; one that only limits, never).
        base = profiles.enabled(profiles.OVERLAY_BASE, dict(attack.needs))
        added = [c for c in blockers if c not in base
                 and not attack.not_alone.get(c, "").startswith(LIMITS_ONLY)]
        if not added:
            return "succeeded", blockers, attack.why_not
        return "blocked", added, ""
    if column.kind == "profile" and base_name in attack.open_in:
        return "succeeded", blockers, attack.open_in[base_name]
    limits = {c: attack.not_alone[c] for c in blockers
              if attack.not_alone.get(c, "").startswith(LIMITS_ONLY)}
    if column.kind == "profile" and blockers and len(limits) == len(blockers):
        # a control that only narrows the attack never stops it, in any profile
        return "succeeded", blockers, "; ".join(f"{c}: {r}" for c, r in limits.items())
    return ("blocked" if blockers else "succeeded"), blockers, ""


SIGNING = "http_message_signing"
SIGNING_EXPLAINED = (
    "blocked by http_message_signing: the bank takes a call only when it is signed, within "
    "60 s, by a key registered by the client the token was issued to (FAPI 2.0 HTTP "
    "Signatures), and the attacker holds none of that client's keys at the time of the call "
    "(attacker/own_signature.py signs with its own), so the token is refused as a token "
    "replayed without its DPoP key is")


def judge(attack: Attack, column: Column, outcome: Outcome) -> Cell:
    expected_status, blockers, explanation = expectation(attack, column)
    fired = outcome.fired_controls
    on = enabled_in(column, attack)
    implied = _sender_constraint(on)
    also = {c: r for c, r in attack.also_blocked_by.items() if c in fired and c in on}
    verdict = "agrees"
    if outcome.status == "error":
        verdict, explanation = "error", outcome.summary
    elif outcome.status == "victim-failed":
        # the switch broke the victim's own flow: the attack never ran, so the cell says
        # nothing about the attack (never counted as blocked)
        fired = outcome.victim_fired
        verdict, explanation = "explained", outcome.summary
    elif outcome.status == "blocked" and also and not set(fired) & set(blockers):
        # a measured blocker the catalog does not name, explained in the attack's notes
        verdict = "explained"
        explanation = "; ".join(f"{c} (not in the catalog): {r}" for c, r in also.items())
    elif outcome.status != expected_status:
        switched = [c for c in fired if c in controls_catalog.BY_ID]
        if outcome.status == "blocked" and switched and set(switched) <= set(implied) | set(
                _fires_via(implied)):
            verdict = "explained"
            explanation = ("blocked by the sender constraint (or a check of the DPoP proof it "
                           "requires), which attacks.md §3 says refuses every replay of a "
                           "captured token from the attacker's own client")
        elif outcome.status == "blocked" and set(switched) == {SIGNING} and SIGNING in on:
            verdict, explanation = "explained", SIGNING_EXPLAINED
        elif expected_status == "succeeded" and explanation and outcome.status == "succeeded":
            verdict = "explained"
        else:
            verdict = "mismatch"
            explanation = (f"catalog expects {expected_status}"
                           + (f" (by {', '.join(blockers)})" if blockers else "")
                           + f", measured {outcome.status}"
                           + (f" (fired {', '.join(fired)})" if fired else ""))
    elif outcome.status == "blocked" and not (set(fired) & (set(blockers) | set(implied)
                                                            | set(_fires_via(blockers)))):
        verdict = "mismatch"
        explanation = (f"blocked, but by {', '.join(fired)}, not by the catalog's "
                       f"{', '.join(blockers) or 'none'}")
    elif outcome.status == "blocked" and set(fired) & (set(attack.blocked_by)
                                                       | set(_fires_via(blockers))):
        verdict, explanation = "agrees", ""    # a catalog blocker fired: nothing to explain
    elif explanation:
        verdict = "explained"
    return Cell(outcome.status, fired, expected_status, blockers, verdict, explanation,
                outcome.summary,
                request_ids=[s.request_id for s in outcome.steps if s.request_id][:20],
                capture_ids=[int(c["capture_id"]) for c in outcome.captured],
                seconds=outcome.seconds, cpu_seconds=outcome.cpu_seconds,
                evidence=evidence_of(outcome))


def _sender_constraint(on: set[str]) -> list[str]:
    """The sender constraints switched on, with the controls that require one: a DPoP proof
    check (nonce, iat window, jti replay, htm/htu/ath binding) is part of the constraint, so
    its refusing the attacker's replay is the constraint at work. A baseline check is not
    among them: it is on in every column, so it never explains what a column changed."""
    implied = [c for c in SENDER_CONSTRAINTS if c in on]
    return implied + [c for c in sorted(on) if c not in implied and c in controls_catalog.BY_ID
                      and set(controls_catalog.get(c).requires) & set(implied)]


def _fires_via(controls: list[str]) -> list[str]:
    via: list[str] = []
    for c in controls:
        via.extend(controls_catalog.get(c).fires_via or ())
    return via


@dataclass
class Matrix:
    columns: list[Column]
    attacks: list[Attack]
    cells: dict[str, dict[str, Cell]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    runs: int = 0
    inferred: int = 0

    def mismatches(self) -> list[dict[str, str]]:
        found = []
        for attack_id, row in self.cells.items():
            for column_id, cell in row.items():
                if cell.verdict in ("mismatch", "error"):
                    found.append({"attack": attack_id, "column": column_id,
                                  "verdict": cell.verdict, "detail": cell.explanation})
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "columns": [{"id": c.id, "kind": c.kind, "label": c.configuration.label,
                         "note": c.note} for c in self.columns],
            "attacks": [{"id": a.id, "title": a.title, "attacker": a.attacker,
                         "victim": a.victim, "legs": list(a.legs), "needs": a.needs,
                         "expected_blockers": list(a.blocked_by),
                         "fapi2_blocks": a.fapi2_blocks, "why_not": a.why_not,
                         "not_alone": a.not_alone} for a in self.attacks],
            "pending": [{"id": i, "reason": p.reason} for i, p in lookup.pending().items()],
            "cells": {a: {c: asdict(cell) for c, cell in row.items()}
                      for a, row in self.cells.items()},
            "mismatches": self.mismatches(),
            "runs": self.runs, "inferred": self.inferred, "seconds": self.seconds,
        }


Progress = Callable[[str, str, Cell], None]


def run_matrix(config: LabConfig, store: Store, *, attacks: list[Attack] | None = None,
               profiles_only: bool = False, exhaustive: bool = False,
               progress: Progress | None = None, victim_factory: Any = None,
               keeper: Keeper | None = None) -> Matrix:
    """Run every attack under every column; `progress(attack, column, cell)` after each;
    `keeper` moves each run's audit trail out of the lab (attacker.matrix_audit)."""
    cols = columns(profiles_only=profiles_only)
    chosen = attacks if attacks is not None else list(lookup.implemented().values())
    matrix = Matrix(cols, chosen)
    started = time.monotonic()
    for attack in chosen:
        row: dict[str, Cell] = {}
        consulted: set[str] = set()
        legacy: Outcome | None = None
        for column in cols:
            control = controls_catalog.BY_ID.get(column.id) if column.kind == "control" \
                else None
            if control is not None and legacy is not None and not exhaustive and \
                    not ({control.id, *control.requires} & consulted):
                cell = judge(attack, column, legacy)
                cell.inferred = True
                cell.evidence = None
                cell.summary = (f"not rerun: no enforcement point consulted {control.id} "
                                f"during the legacy run, so the outcome is legacy's")
                matrix.inferred += 1
            else:
                with consult_trace() as seen:
                    outcome = runner.run(attack, config, store, column.configuration,
                                         victim_factory=victim_factory, throwaway=True)
                matrix.runs += 1
                if keeper is not None:
                    keeper.cell(attack, column.id, outcome.status)
                if column.id == "legacy":
                    legacy, consulted = outcome, set(seen)
                cell = judge(attack, column, outcome)
            row[column.id] = cell
            if progress:
                progress(attack.id, column.id, cell)
        matrix.cells[attack.id] = row
    matrix.seconds["total"] = round(time.monotonic() - started, 1)
    matrix.seconds["cpu"] = cell_cpu(matrix)
    return matrix


def cell_cpu(matrix: Matrix) -> float:
    """CPU seconds of every cell that ran (lab, capture and attacker; not inferred cells)."""
    return round(sum(cell.cpu_seconds for row in matrix.cells.values() for cell in row.values()
                     if not cell.inferred), 1)
