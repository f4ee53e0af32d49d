"""Run one attack under one configuration and judge it by the outcome rules (attacks.md §0).

succeeded     — the attack reached its goal (refusals on the way are shown, not counted);
blocked       — it did not, and a control refused one of the attacker's own requests (or a
                request the attacker made the victim's browser send: a lure, a rewrite);
victim-failed — a control refused the victim's own honest flow, so the attack never got to
                run: the switch broke FinLens, it did not stop the attacker;
error         — anything else, never counted as blocked.

Only events caused by this run's own requests count: each is matched by X-Lab-Request-Id to
a request the attacker or the victim sent (FinLens's back-channel calls carry the id of the
browser request that caused them), so other traffic at the lab never decides a verdict.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lab import clock, context
from lab.capture.store import ensure_schema as ensure_capture_schema
from lab.config import LabConfig
from lab.controls import events as lab_events
from lab.controls.registry import ENABLED_KEY, PARAMS_KEY, PROFILE_KEY, Registry
from lab.domain import consent, login_risk, login_throttle
from lab.store.base import Store
from lab.tpp import dpop_signer as tpp_dpop
from lab.tpp import secret_rotation
from lab.tpp import settings as tpp_settings

from .attack_context import AttackContext
from .attacks import Attack
from .outcome import AttackSetupError, FiredEvent, GoalMissed, GoalReached, Outcome
from .victim import LURED, OWN_FLOW, HttpVictim, VictimRefused

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


def apply(store: Store, configuration: Configuration, attack: Attack, *,
          throwaway: bool = False) -> list[str]:
    """Put the lab in `configuration` with the attack's `needs` over it; return notes.

    `throwaway` (a throwaway lab's runs, the matrix's): withdraw every link earlier runs
    left the bank's customers. A matrix job's alice otherwise gained a link per run, some
    1,200 by its 25th attack, and the pages that list them (the bank's connected apps, the
    AS's consent page) grew with every run. Never on a user's lab: its links are the user's.
    (`run` also re-issues a FinLens secret an earlier run's lab time left: see there.)"""
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
    # Each run starts with no lockouts and no known devices: an earlier run's guesses must
    # not lock this run's victim, nor its sign-ins make the attacker's browser known.
    login_throttle.clear(store)
    login_risk.clear(store)
    if throwaway:
        consent.withdraw_all(store)
    return notes


def secret_from_the_future(config: LabConfig, store: Store) -> list[str]:
    """Re-issue FinLens's client secret if it was issued after the reset lab clock's now.

    FinLens rotates its secret (RFC 7592) when an attack moves the lab clock near its expiry,
    so on a lab many runs share, the secret can carry an issue time and expiry days ahead of
    the clock `apply` just reset: a later run that waits "three days" for a copied secret to
    expire then finds it still valid (the full matrix measured payment-without-step-up
    succeed under client_secret_rotation that way). Rotating again at the reset clock gives
    the run the secret a first run would have. A lab where FinLens has no registration to
    rotate through is left as it is."""
    issued = secret_rotation.saved(config).get("client_secret_issued_at")
    if not isinstance(issued, int | float) or issued <= clock.now(store):
        return []
    try:
        with context.bound(store, "tpp"):   # as FinLens itself rotates: on the lab clock
            secret_rotation.rotate(config)
    except secret_rotation.RotationError as exc:
        return [f"FinLens's secret was issued at a later lab time and could not be re-issued: "
                f"{exc}"]
    return ["FinLens's client secret re-issued at this run's lab time (an earlier run's "
            "clock had moved it ahead)"]


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


# Where a control refused FinLens's own flow, what FinLens was doing (its TPP setting) that
# the control needs otherwise: (setting, the value that would satisfy it, why it failed).
FINLENS_SIDE = {
    "dpop_bound_tokens": ("sender_constraint", "dpop",
                          "FinLens does not use DPoP in this configuration"),
    "mtls_bound_tokens": ("sender_constraint", "mtls",
                          "FinLens does not use certificate-bound tokens in this configuration"),
    "par_required": ("request", "par", "FinLens does not push its authorization requests (PAR) "
                     "in this configuration"),
    "pkce_required": ("pkce", "S256", "FinLens sends no PKCE challenge in this configuration"),
}


def _events(store: Store, since: int, ids: dict[str, str], attack: Attack) -> list[FiredEvent]:
    """The events this run's own requests caused (`ids`: request id → who sent it)."""
    found = []
    for event in lab_events.list_events(store, since_id=since, limit=10_000):
        by = ids.get(event.request_id or "")
        if by is None:
            continue    # another client's traffic at the same lab: not this run's
        counted = event.control not in INCIDENTAL_UNLESS_ATTACKER or by == "attacker"
        if event.kind == "prevented" and event.control not in attack.counts_prevented:
            counted = False
        if event.kind == "alert":
            counted = False   # monitoring noticed, nothing was refused: never a block
        found.append(FiredEvent(event.control, event.kind, event.error, event.reason,
                                event.endpoint, event.request_id, counted, by))
    return found


def _request_owners(ctx: AttackContext) -> dict[str, str]:
    owners = {i: LURED for i in ctx.victim_request_ids}
    owners.update({i: OWN_FLOW for i in ctx.own_flow_request_ids})
    owners.update({i: "attacker" for i in ctx.attacker_request_ids})
    return owners


def victim_failure(store: Store, events: list[FiredEvent]) -> str:
    """Why the victim's own flow failed, said as what the switch did to FinLens."""
    settings = tpp_settings.current(store)
    parts = []
    for event in events:
        part = f"{event.control} refused {event.endpoint or 'a request'} ({event.reason})"
        side = FINLENS_SIDE.get(event.control)
        if side and settings.get(side[0]) != side[1]:
            part += f": {side[2]} ({side[0]}={settings.get(side[0])})"
        if part not in parts:
            parts.append(part)
    return "the switch broke FinLens's own flow, so the attack never ran: " + "; ".join(parts)


def judge(status: str, summary: str, refused: VictimRefused | None, store: Store,
          events: list[FiredEvent]) -> tuple[str, str]:
    """A missed goal is blocked only by an event of the attacker's (or a lured) request."""
    if status != "blocked":
        return status, summary
    blocking = [e for e in events if e.counted and e.by != OWN_FLOW]
    victims = [e for e in events if e.counted and e.by == OWN_FLOW and e.kind == "fired"]
    if refused is not None and refused.own_flow and not victims:
        return "error", f"{summary} — the victim's own flow failed, but no control fired"
    if victims and (refused is not None and refused.own_flow or not blocking):
        return "victim-failed", f"{victim_failure(store, victims)} — {summary}"
    if not blocking:
        return "error", f"{summary} — but no control refused a request of the attacker's, " \
                        "so this is not counted as blocked"
    return status, summary


def honest_flow_refusals(attack: Attack, config: LabConfig, store: Store) -> list[FiredEvent]:
    """FinLens's own unaltered flow in this configuration, with no attacker: a fresh victim
    links HonestBank and opens the dashboard. The controls that refuse it broke FinLens."""
    clock.reset(store)
    mark = _last_event_id(store)
    ctx = AttackContext(attack, config, store, capture_since=_last_capture_id(store))
    try:
        victim = HttpVictim(ctx, "alice", tpp_user=f"honest-{ctx.run_tag}")
        victim.link("honestbank")
        victim.dashboard()
    except Exception:  # noqa: BLE001 - a refusal shows in the events read below
        pass
    owners = {i: OWN_FLOW for i in ctx.victim_request_ids}
    return [e for e in _events(store, mark, owners, attack) if e.counted and e.kind == "fired"]


def broken_finlens(status: str, events: list[FiredEvent],
                   honest: Callable[[], list[FiredEvent]]) -> list[FiredEvent]:
    """A run that stopped on the victim's browser (a live attack's lure or rewrite) only by
    controls that also refuse FinLens's honest flow measured the switch breaking FinLens,
    not the attacker: the honest flow's refusals (empty when that is not so). `honest` runs
    the pre-flight, only for such a run."""
    blocking = [e for e in events if e.counted and e.by != OWN_FLOW]
    if status != "blocked" or not any(e.by == LURED for e in blocking):
        return []
    refusals = honest()
    refused = {e.control for e in refusals}
    return refusals if refused and {e.control for e in blocking} <= refused else []


def run(attack: Attack, config: LabConfig, store: Store, configuration: Configuration,
        *, victim_factory: Any = None, throwaway: bool = False) -> Outcome:
    """Apply `configuration`, run `attack` once, judge it. The lab is left configured.

    `throwaway` (the matrix's labs): each run starts as a first one would, see `apply` and
    `secret_from_the_future`."""
    started, cpu = time.monotonic(), time.process_time()
    notes = apply(store, configuration, attack, throwaway=throwaway)
    if throwaway:
        notes += secret_from_the_future(config, store)
    event_mark, capture_mark = _last_event_id(store), _last_capture_id(store)
    ctx = AttackContext(attack, config, store, capture_since=capture_mark,
                        victim_factory=victim_factory)
    for note in notes:
        ctx.step("lab", note)
    stolen: Any = None
    refusal: dict[str, Any] | None = None
    refused: VictimRefused | None = None
    try:
        attack.run(ctx)
        status, summary = "error", "the attack ended without a verdict (a bug in the attack)"
    except GoalReached as reached:
        status, summary, stolen = "succeeded", reached.summary, reached.stolen
    except GoalMissed as missed:
        status, summary, refusal = "blocked", missed.summary, missed.refusal
        refused = missed if isinstance(missed, VictimRefused) else None
    except AttackSetupError as exc:
        status, summary = "error", str(exc)
    except Exception as exc:  # an attack bug or a lab crash is an error, never "blocked"
        status = "error"
        summary = f"{type(exc).__name__}: {exc}"
        ctx.step("lab", "".join(traceback.format_exception_only(exc)).strip())
    events = _events(store, event_mark, _request_owners(ctx), attack)
    honest = broken_finlens(status, events,
                            lambda: honest_flow_refusals(attack, config, store))
    if honest:
        ctx.step("lab", "FinLens's own flow, with no attacker, in this configuration: refused "
                 f"by {', '.join(sorted({e.control for e in honest}))}")
        events += honest
        status, summary = "victim-failed", f"{victim_failure(store, honest)} — {summary}"
    status, summary = judge(status, summary, refused, store, events)
    clock.reset(store)
    return Outcome(attack=attack.id, status=status,  # type: ignore[arg-type]
                   summary=summary,
                   configuration={"profile": configuration.profile or Registry(store).profile(),
                                  "changes": configuration.changes, "needs": attack.needs,
                                  "label": configuration.label},
                   stolen=stolen, captured=[c.summary() for c in ctx.capture.read],
                   steps=ctx.steps, events=events, refusal=refusal,
                   seconds=round(time.monotonic() - started, 3),
                   cpu_seconds=round(time.process_time() - cpu, 3))
