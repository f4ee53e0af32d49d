"""Run one catalog attack from the dashboard against the running lab, as `fapi-lab attack` does.

The dashboard is the workshop's screen: "flip a control, rerun the attack" must work without
a terminal. The run works on the lab's own store (attacker.target.open_target), under the
lab's current switches with `changes` over them for this run only (runner.SavedState puts
everything back), and the page gets the story plus every exchange the capture recorded
meanwhile — the evidence for the sequence diagram. Failures come back as an AttackRun with
status "error" and a readable reason: a page shows them, it never gets a traceback.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attacker import browser_launch, lookup, runner, story
from attacker.attack_context import oauth_error
from attacker.attacks import Attack
from attacker.outcome import Step
from attacker.target import TargetError, open_target
from lab.cli.client import read_running
from lab.controls import catalog as controls_catalog
from lab.useragent import callback_params

from .data import Lab, LabUnavailableError

MAX_EXCHANGES = 2_000        # a run's capture rows shown at most (a page, not an archive)
PAGE = 500
MAX_DETAILS = 300            # redirects and refusals looked up for the diagram
CHROMIUM = browser_launch.CHROMIUM   # checked before a run: a missing browser is an error

# One run at a time per dashboard process: two tabs running at once would flip each other's
# switches and read each other's captures.
_RUN_LOCK = threading.Lock()


@dataclass
class AttackRun:
    """One run as the page shows it: the verdict, its story and the exchanges behind it."""

    attack_id: str
    status: str                     # succeeded | blocked | victim-failed | error
    reason: str = ""                              # the summary, or why it could not run
    story: dict[str, Any] = field(default_factory=dict)      # attacker.story.as_json
    exchanges: list[dict[str, Any]] = field(default_factory=list)  # capture summaries
    attack: dict[str, Any] = field(default_factory=dict)     # catalog metadata
    browser: bool = False
    changes: dict[str, bool] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def fired(self) -> list[str]:
        """The controls whose counted events fired (what blocked it), first-fired first."""
        return list(self.story.get("fired_controls") or [])

    @property
    def summary(self) -> str:
        return str(self.story.get("summary") or self.reason)


def attack_info(attack: Attack) -> dict[str, Any]:
    """What the page says about an attack before running it (its catalog header)."""
    return {"id": attack.id, "title": attack.title, "attacker": attack.attacker,
            "legs": list(attack.legs), "victim": attack.victim, "premise": attack.premise,
            "goal": attack.goal, "expected_blockers": list(attack.blocked_by),
            "fapi2_blocks": attack.fapi2_blocks, "why_not": attack.why_not,
            "refs": list(attack.refs), "needs": dict(attack.needs)}


def choices() -> list[dict[str, Any]]:
    """Every catalog attack, in catalog order, with `runnable` (pending ones are not)."""
    return [{**row, "runnable": row["state"] == "implemented"} for row in lookup.listing()]


def browser_missing() -> str | None:
    """Why the real-browser victim cannot run here, or None when it can."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright)"
    return None


def _error(attack_id: str, reason: str, **extra: Any) -> AttackRun:
    return AttackRun(attack_id=attack_id, status="error", reason=reason, **extra)


def _unknown_controls(changes: dict[str, bool]) -> list[str]:
    return [c for c in changes if c not in controls_catalog.BY_ID]


def _exchanges(lab: Lab, since: int) -> list[dict[str, Any]]:
    """The capture summaries after `since`, oldest first, at most MAX_EXCHANGES."""
    found: list[dict[str, Any]] = []
    while len(found) < MAX_EXCHANGES:
        page = lab.captures(since=since, limit=PAGE)
        if not page:
            break
        found.extend(page)
        since = int(page[-1]["id"])
    return found[:MAX_EXCHANGES]


def _oauth_error(detail: dict[str, Any]) -> str | None:
    """The OAuth error of a captured refusal."""
    challenge = next((str(v) for k, v in detail.get("response_headers") or []
                      if str(k).lower() == "www-authenticate"), None)
    return oauth_error(detail.get("response_body"), challenge)


def _redirect_error(location: str | None) -> str | None:
    return callback_params(location).get("error") or None if location else None


def _enrich(lab: Lab, exchanges: list[dict[str, Any]]) -> None:
    """Add what the diagram needs beyond a summary: a redirect's Location (where it sent the
    browser, EvilBank included) and a refusal's OAuth error (drawn in red)."""
    fetched = 0
    for exchange in exchanges:
        status = exchange.get("status")
        if not isinstance(status, int) or status < 300:
            continue
        if fetched >= MAX_DETAILS:
            return
        fetched += 1
        detail = lab.capture(int(exchange["id"]))
        if status < 400:
            location = next((str(v) for k, v in detail.get("response_headers") or []
                             if str(k).lower() == "location"), None)
            exchange["location"] = location
            # RFC 6749 §4.1.2.1: an authorization error goes back in the redirect.
            error = _redirect_error(location)
            if error:
                exchange["error"] = error
        else:
            exchange["error"] = _oauth_error(detail)


def run_attack(lab: Lab, attack_id: str, *, browser: bool = False,
               changes: dict[str, bool] | None = None) -> AttackRun:
    """Run `attack_id` once on the running lab; its switches are as before afterwards."""
    changes = dict(changes or {})
    try:
        attack = lookup.get(attack_id)
    except LookupError as exc:
        return _error(attack_id, str(exc), browser=browser, changes=changes)
    meta = attack_info(attack)
    base = {"attack": meta, "browser": browser, "changes": changes}
    unknown = _unknown_controls(changes)
    if unknown:
        return _error(attack_id, f"unknown control(s): {', '.join(unknown)}", **base)
    if browser and (missing := browser_missing()):
        return _error(attack_id, f"the real-browser victim cannot run: {missing}", **base)
    if read_running(lab.config) is None:
        return _error(attack_id, f"no lab is running for {lab.config.data_dir} "
                      "(start one with `fapi-lab up`)", **base)
    if not _RUN_LOCK.acquire(timeout=300):
        return _error(attack_id, "another attack is still running in this dashboard", **base)
    try:
        return _run_locked(lab, attack, browser, changes, base)
    finally:
        _RUN_LOCK.release()


def _run_locked(lab: Lab, attack: Attack, browser: bool, changes: dict[str, bool],
                base: dict[str, Any]) -> AttackRun:
    started = time.monotonic()
    try:
        mark = lab.last_capture_id()
    except LabUnavailableError as exc:
        return _error(attack.id, f"the lab did not answer: {exc}", **base)
    victim_factory: Any = None
    try:
        if browser:
            victim_factory = browser_launch.BrowserVictimFactory()
        with open_target(lab.config) as target:
            saved = runner.SavedState(target.store)
            try:
                outcome = runner.run(attack, target.config, target.store,
                                     runner.Configuration(None, changes),
                                     victim_factory=victim_factory)
            finally:
                saved.restore()
    except TargetError as exc:
        return _error(attack.id, str(exc), **base)
    except Exception as exc:  # a lab that stopped mid-run: say so, never a traceback
        return _error(attack.id, f"the run failed: {type(exc).__name__}: {exc}", **base)
    finally:
        if victim_factory is not None:
            with contextlib.suppress(Exception):   # a browser that already died
                victim_factory.close()
    exchanges: list[dict[str, Any]] = []
    try:
        exchanges = _exchanges(lab, mark)
        _enrich(lab, exchanges)
    except LabUnavailableError as exc:
        outcome.steps.append(Step("lab", f"the capture could not be read: {exc}"))
    told = story.as_json(attack, outcome)
    return AttackRun(attack_id=attack.id, status=outcome.status, reason=outcome.summary,
                     story=told, exchanges=exchanges,
                     seconds=round(time.monotonic() - started, 3), **base)

