"""Verdicts that never lie (issue 14): a refused victim is not a blocked attack, only the run's
own requests' events count, and no verdict depends on how fast the machine is."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from rich.console import Console

from attacker import story as attack_story
from attacker.attacks import at_replay_bearer, code_replay, credential_stuffing
from lab.controls import events as lab_events
from lab.serving.in_process import RunningLab
from lab.web.request_id import HEADER
from tests.attacks.conftest import story


def _told(attack: Any, outcome: Any) -> str:
    console = Console(record=True, width=200)
    attack_story.render(attack, outcome, console)
    return console.export_text()


def test_dpop_switch_over_oauth2_blocks_the_attacker_not_finlens(run_attack: Any) -> None:
    """The AS says it requires DPoP, FinLens uses it, and the switch refuses the attacker."""
    outcome = run_attack(at_replay_bearer.ATTACK, "oauth2", dpop_bound_tokens=True)
    assert outcome.status == "blocked", story(outcome)
    fired = [e for e in outcome.events if e.counted and e.control == "dpop_bound_tokens"]
    assert fired and all(e.by == "attacker" for e in fired), story(outcome)
    attacker_ids = {s.request_id for s in outcome.steps if s.actor == "attacker"}
    assert {e.request_id for e in fired} <= attacker_ids, story(outcome)
    assert not [e for e in outcome.events if e.by == "victim" and e.kind == "fired"], \
        story(outcome)


def test_a_refused_victim_is_its_own_outcome_never_blocked(run_attack: Any) -> None:
    """FinLens told to stay on bearer tokens: the AS refuses FinLens, the attack never runs."""
    bearer_only = dataclasses.replace(at_replay_bearer.ATTACK,
                                      needs={"sender_constraint": "none"})
    outcome = run_attack(bearer_only, "oauth2", dpop_bound_tokens=True)
    assert outcome.status == "victim-failed", story(outcome)
    assert "FinLens's own flow" in outcome.summary, story(outcome)
    assert "does not use DPoP" in outcome.summary, story(outcome)
    assert attack_story.as_json(bearer_only, outcome)["status"] == "victim-failed"
    told = _told(bearer_only, outcome)
    assert "VICTIM FAILED" in told and "BLOCKED" not in told, told


@pytest.fixture
def other_traffic(attack_lab: RunningLab) -> Iterator[list[str]]:
    """Another client calling /authorize without PAR until the test ends: its request ids."""
    stop, seen = threading.Event(), []
    http = requests.Session()
    http.trust_env = False
    http.verify = str(attack_lab.config.ca_cert_path)
    row = attack_lab.store.query_one("SELECT client_id FROM as_clients LIMIT 1")
    client_id = row["client_id"] if row else "someone"

    def hammer() -> None:
        while not stop.is_set():
            response = http.get(attack_lab.config.as_url + "/authorize",
                                params={"client_id": client_id, "response_type": "code",
                                        "scope": "openid"},
                                allow_redirects=False, timeout=30)
            seen.append(response.headers.get(HEADER, ""))
            stop.wait(0.05)

    thread = threading.Thread(target=hammer, daemon=True)
    thread.start()
    yield seen
    stop.set()
    thread.join(timeout=30)


def test_events_of_other_traffic_are_not_the_attacks(run_attack: Any, attack_lab: RunningLab,
                                                     other_traffic: list[str]) -> None:
    outcome = run_attack(code_replay.ATTACK, "fapi2-security")
    others = set(other_traffic)
    theirs = [e for e in lab_events.list_events(attack_lab.store, limit=10_000)
              if e.request_id in others and e.control == "par_required"]
    assert theirs, "the unrelated traffic caused no par_required event: the test proves nothing"
    assert not others & {e.request_id for e in outcome.events}, story(outcome)
    assert "par_required" not in outcome.fired_controls, story(outcome)
    assert outcome.status == "blocked", story(outcome)
    assert all(e.by in ("attacker", "victim") for e in outcome.events)
    told = _told(code_replay.ATTACK, outcome)
    assert "attacker request" in told, told


class _SlowClock:
    """A machine so loaded that every look at the clock finds a second gone."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 1.0
        return self.now

    def time(self) -> float:
        return self.monotonic()


def test_credential_stuffing_does_not_depend_on_machine_speed(
        run_attack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(credential_stuffing, "time", _SlowClock(), raising=False)
    outcome = run_attack(credential_stuffing.ATTACK, "legacy")
    assert outcome.status == "succeeded", story(outcome)
    assert outcome.stolen["position"] == credential_stuffing.BOB_POSITION, story(outcome)


def test_a_monitoring_alert_on_the_attackers_request_is_never_a_block(
        attack_lab: RunningLab) -> None:
    """An alert says monitoring noticed; nothing was refused, so it cannot make a verdict."""
    from attacker import runner
    from attacker.attacks import token_use_new_location

    since = runner._last_event_id(attack_lab.store)
    for kind in ("alert", "fired"):
        lab_events.record(attack_lab.store, lab_events.ControlFired(
            "token_usage_monitoring", f"rid-{kind}", "bank", "/accounts", None,
            f"test {kind}", kind=kind))
    found = runner._events(attack_lab.store, since,
                           {"rid-alert": "attacker", "rid-fired": "attacker"},
                           token_use_new_location.ATTACK)
    counted = {e.kind: e.counted for e in found}
    assert counted == {"alert": False, "fired": True}
    verdict, _ = runner.judge("blocked", "goal missed", None, attack_lab.store,
                              [e for e in found if e.kind == "alert"])
    assert verdict == "error"
