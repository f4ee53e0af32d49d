"""The sign-in attacks of attacks.md §3 I, each both ways: succeeds with its control off, is
blocked with it on, that control's event on the attacker's own request."""

from __future__ import annotations

from typing import Any

import pytest

from attacker.attacks import (
    credential_stuffing,
    otp_brute_force,
    otp_phishing_relay,
    password_only_login,
)
from tests.attacks.conftest import story


def test_otp_brute_force_guesses_bobs_code_without_throttling(run_attack: Any) -> None:
    outcome = run_attack(otp_brute_force.ATTACK, "legacy", mfa_required=True)
    assert outcome.status == "succeeded", story(outcome)
    assert 1 <= outcome.stolen["codes_tried"] <= otp_brute_force.CODE_SPACE


def test_otp_brute_force_is_locked_out_by_login_throttling(run_attack: Any) -> None:
    outcome = run_attack(otp_brute_force.ATTACK, "legacy", mfa_required=True,
                         login_throttling=True)
    assert outcome.status == "blocked", story(outcome)
    assert "login_throttling" in outcome.fired_controls, story(outcome)


@pytest.mark.parametrize("control", ["login_throttling", "risk_based_auth"])
def test_credential_stuffing_is_blocked(run_attack: Any, control: str) -> None:
    outcome = run_attack(credential_stuffing.ATTACK, "legacy", **{control: True})
    assert outcome.status == "blocked", story(outcome)
    assert control in outcome.fired_controls, story(outcome)


@pytest.mark.parametrize("attack", [password_only_login.ATTACK, otp_phishing_relay.ATTACK],
                         ids=lambda a: a.id)
def test_relayed_or_phished_sign_ins_are_blocked_by_risk_based_auth(run_attack: Any,
                                                                     attack: Any) -> None:
    assert run_attack(attack, "legacy").status == "succeeded"
    outcome = run_attack(attack, "legacy", risk_based_auth=True)
    assert outcome.status == "blocked", story(outcome)
    assert outcome.fired_controls == ["risk_based_auth"], story(outcome)


def test_every_sign_in_attack_is_blocked_under_the_adaptive_overlay(run_attack: Any) -> None:
    for attack in (otp_brute_force.ATTACK, credential_stuffing.ATTACK,
                   otp_phishing_relay.ATTACK, password_only_login.ATTACK):
        outcome = run_attack(attack, "fapi2-security+adaptive")
        assert outcome.status == "blocked", story(outcome)
