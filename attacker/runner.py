"""Run one attack under one configuration and judge it by the outcome rules (attacks.md §0).

succeeded — the attack reached its goal (refusals on the way are shown, not counted);
blocked   — it did not, and at least one control fired during the run (the victim
            flow it drives included);
error     — anything else, never counted as blocked.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from lab import clock
from lab.capture.store import ensure_schema as ensure_capture_schema
from lab.config import LabConfig
from lab.controls import events as lab_events
from lab.controls.registry import ENABLED_KEY, PARAMS_KEY, PROFILE_KEY, Registry
from lab.store.base import Store
from lab.tpp import dpop_signer as tpp_dpop
from lab.tpp import settings as tpp_settings

from .attack_context import AttackContext
from .attacks import Attack
from .outcome import AttackSetupError, FiredEvent, GoalMissed, GoalReached, Outcome
from .victim import VictimRefused

# An honest client's first DPoP request at a server is answered use_dpop_nonce and retried
# (RFC 9449 §8-9): that handshake is incidental unless the attacker sent the request.
INCIDENTAL_UNLESS_ATTACKER = ("dpop_nonce",)


@dataclass(frozen=True)
class Configuration:
    """A matrix column: a profile, plus single controls switched on or off.

    profile None keeps the lab's current switches and TPP settings (the workshop's
    "flip a control, rerun the attack").
    """

    profile: str | None = "legacy"
    changes: dict[str, bool] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        extra = [f"+{c}" if on else f"-{c}" for c, on in self.changes.items()]
        return " ".join([self.profile or "current switches", *extra])


def apply(store: Store, configuration: Configuration, attack: Attack) -> list[str]:
    """Put the lab in `configuration` with the attack's `needs` over it; return notes."""
    registry = Registry(store)
    if configuration.profile is not None:
        tpp_settings.clear(store)
        registry.apply_profile(configuration.profile)
    notes = registry.set(dict(configuration.changes)) if configuration.changes else []
    for control_id, values in configuration.params.items():
        for name, value in values.items():
            registry.set_param(control_id, name, value)
    for name, value in attack.needs.items():
        tpp_settings.set_setting(store, name, value)
        notes.append(f"needs {name}={value}")
    clock.reset(store)
    tpp_dpop.forget_nonces()
    return notes


class SavedState:
    """The lab's switches, TPP settings and clock, to put back after a run on a user's lab.

    Each run resets the clock for itself; the offset the user had set (`fapi-lab clock
    advance`) comes back afterwards, rather than silently vanishing."""

    KEYS = (ENABLED_KEY, PROFILE_KEY, PARAMS_KEY, tpp_settings.SETTINGS_KEY, clock.OFFSET_KEY)

    def __init__(self, store: Store) -> None:
        self.store = store
        self.values = {k: store.get_setting(k) for k in self.KEYS}

    def restore(self) -> None:
        for key, value in self.values.items():
            if value is not None:
                self.store.set_setting(key, value)
            elif key == tpp_settings.SETTINGS_KEY:
                self.store.set_setting(key, {})
            elif key == clock.OFFSET_KEY:
                clock.reset(self.store)


def _last_event_id(store: Store) -> int:
    row = store.query_one("SELECT MAX(id) AS id FROM events")
    return int(row["id"]) if row and row["id"] is not None else 0


def _last_capture_id(store: Store) -> int:
    ensure_capture_schema(store)
    row = store.query_one("SELECT MAX(id) AS id FROM captures")
    return int(row["id"]) if row and row["id"] is not None else 0


def _events(store: Store, since: int, attacker_ids: set[str], attack: Attack
            ) -> list[FiredEvent]:
    found = []
    for event in lab_events.list_events(store, since_id=since, limit=10_000):
        counted = event.control not in INCIDENTAL_UNLESS_ATTACKER \
            or event.request_id in attacker_ids
        if event.kind == "prevented" and event.control not in attack.counts_prevented:
            counted = False
        found.append(FiredEvent(event.control, event.kind, event.error, event.reason,
                                event.endpoint, event.request_id, counted))
    return found


def run(attack: Attack, config: LabConfig, store: Store, configuration: Configuration,
        *, victim_factory: Any = None) -> Outcome:
    """Apply `configuration`, run `attack` once, judge it. The lab is left configured."""
    started = time.monotonic()
    notes = apply(store, configuration, attack)
    event_mark, capture_mark = _last_event_id(store), _last_capture_id(store)
    ctx = AttackContext(attack, config, store, capture_since=capture_mark,
                        victim_factory=victim_factory)
    for note in notes:
        ctx.step("lab", note)
    stolen: Any = None
    refusal: dict[str, Any] | None = None
    victim_refused = False
    try:
        attack.run(ctx)
        status, summary = "error", "the attack ended without a verdict (a bug in the attack)"
    except GoalReached as reached:
        status, summary, stolen = "succeeded", reached.summary, reached.stolen
    except GoalMissed as missed:
        status, summary, refusal = "blocked", missed.summary, missed.refusal
        victim_refused = isinstance(missed, VictimRefused)
    except AttackSetupError as exc:
        status, summary = "error", str(exc)
    except Exception as exc:  # an attack bug or a lab crash is an error, never "blocked"
        status = "error"
        summary = f"{type(exc).__name__}: {exc}"
        ctx.step("lab", "".join(traceback.format_exception_only(exc)).strip())
    events = _events(store, event_mark, set(ctx.attacker_request_ids), attack)
    if status == "blocked" and not any(e.counted for e in events):
        status = "error"
        summary = f"{summary} — but no control fired, so this is not counted as blocked"
    clock.reset(store)
    return Outcome(attack=attack.id, status=status,  # type: ignore[arg-type]
                   summary=summary,
                   configuration={"profile": configuration.profile or Registry(store).profile(),
                                  "changes": configuration.changes, "needs": attack.needs,
                                  "label": configuration.label},
                   stolen=stolen, captured=[c.summary() for c in ctx.capture.read],
                   steps=ctx.steps, events=events, refusal=refusal,
                   seconds=round(time.monotonic() - started, 3),
                   victim_refused=victim_refused and status == "blocked")
