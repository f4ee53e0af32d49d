"""A control that refuses FinLens's own unaltered flow makes a live attack victim-failed,
never blocked: the switch broke FinLens, it did not stop the attacker (attacks.md §0)."""

from __future__ import annotations

from typing import Any

import pytest

from attacker import runner
from attacker.attacks import authz_request_scope_tampering, browser_swapping, pkce_chosen_challenge
from attacker.outcome import FiredEvent
from tests.attacks.conftest import story


@pytest.mark.parametrize("attack,control", [
    (browser_swapping.ATTACK, "pkce_required"),          # FinLens's own URL, handed on
    (authz_request_scope_tampering.ATTACK, "pkce_required"),   # rewritten, still no challenge
    (pkce_chosen_challenge.ATTACK, "pkce_required"),     # the live victim's own link
    (pkce_chosen_challenge.ATTACK, "mtls_client_auth"),  # FinLens's secret refused at /token
], ids=lambda v: getattr(v, "id", v))
def test_a_switch_refusing_finlens_own_flow_is_victim_failed_in_a_live_attack(
        attack: Any, control: str, run_attack: Any) -> None:
    outcome = run_attack(attack, "legacy", **{control: True})
    assert outcome.status == "victim-failed", story(outcome)
    assert control in outcome.victim_fired, story(outcome)
    assert "FinLens's own flow" in outcome.summary


def test_the_forged_request_is_redeemed_with_the_attackers_own_dpop_key(run_attack: Any) -> None:
    """The forged authorization request names no dpop_jkt: any key the attacker holds binds."""
    outcome = run_attack(pkce_chosen_challenge.ATTACK, "legacy", dpop_bound_tokens=True)
    assert outcome.status == "succeeded", story(outcome)


def _event(control: str, by: str) -> FiredEvent:
    return FiredEvent(control, "fired", "e", "r", "GET /authorize", "id", by=by)


def test_the_pre_flight_runs_only_when_a_lured_request_was_refused() -> None:
    def never() -> list[FiredEvent]:
        raise AssertionError("the pre-flight ran for an attacker-only block")

    assert runner.broken_finlens("blocked", [_event("pkce_required", "attacker")], never) == []
    assert runner.broken_finlens("succeeded", [_event("pkce_required", "lured")], never) == []


def test_a_lured_refusal_by_a_control_finlens_passes_stays_blocked() -> None:
    honest = [_event("pkce_required", "victim")]
    assert runner.broken_finlens("blocked", [_event("tpp_checks_iss", "lured")],
                                 lambda: honest) == []
    assert runner.broken_finlens("blocked", [_event("pkce_required", "lured"),
                                             _event("tpp_checks_iss", "attacker")],
                                 lambda: honest) == []
    assert runner.broken_finlens("blocked", [_event("pkce_required", "lured")],
                                 lambda: honest) == honest
