"""The JAR attacks (attacks.md §3 E) both ways, and the other attacks jar_required blocks run
in its single-control column: honest verdicts, the event counted for the attacker's (or the
lured) request."""

from __future__ import annotations

import pytest

from attacker import lookup
from tests.attacks.conftest import story

# blocked_by lists jar_required; with jar_required alone each must be blocked by it.
JAR_BLOCKED = ("pkce-downgrade", "pkce-chosen-challenge", "authz-request-scope-tampering",
               "redirect-uri-manipulation", "open-redirector-leak", "mix-up")


def _counted(outcome, control):  # type: ignore[no-untyped-def]
    return [e for e in outcome.events if e.control == control and e.counted]


def test_unsigned_request_object_succeeds_over_legacy(run_attack) -> None:
    outcome = run_attack(lookup.get("unsigned-request-object"))
    assert outcome.status == "succeeded", story(outcome)


@pytest.mark.parametrize("control", ["jar_required", "alg_allow_list"])
def test_unsigned_request_object_is_blocked(run_attack, control) -> None:
    outcome = run_attack(lookup.get("unsigned-request-object"), **{control: True})
    assert outcome.status == "blocked", story(outcome)
    assert _counted(outcome, control), story(outcome)


def test_request_object_replay_succeeds_with_jar_alone(run_attack) -> None:
    outcome = run_attack(lookup.get("request-object-replay"), jar_required=True)
    assert outcome.status == "succeeded", story(outcome)


def test_request_object_replay_is_blocked_by_the_lifetime(run_attack) -> None:
    outcome = run_attack(lookup.get("request-object-replay"), jar_required=True,
                         request_object_lifetime=True)
    assert outcome.status == "blocked", story(outcome)
    events = _counted(outcome, "request_object_lifetime")
    assert events and all(e.by == "attacker" for e in events), story(outcome)


@pytest.mark.parametrize("attack_id", JAR_BLOCKED)
def test_attacks_blocked_by_jar_required_alone(run_attack, attack_id) -> None:
    outcome = run_attack(lookup.get(attack_id), jar_required=True)
    assert outcome.status == "blocked", story(outcome)
    assert _counted(outcome, "jar_required"), story(outcome)
