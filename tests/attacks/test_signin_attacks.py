"""The attacks on "Sign in with your bank" (attacks.md §3 C, D), run through the capture:
each succeeds over legacy, and each catalog blocker switched on refuses the attacker's own
request (or the lured victim's), with that control's event attributed to it."""

from __future__ import annotations

import pytest

from attacker import lookup
from tests.attacks.conftest import story

CASES = [
    ("id-token-replay-login", "response_type_code_only"),
    ("id-token-replay-login", "tpp_checks_nonce"),
    ("id-token-replay-login", "tpp_id_token_validation"),
    ("login-csrf", "tpp_checks_state"),
    ("login-csrf", "tpp_checks_nonce"),
    ("id-token-wrong-audience", "tpp_id_token_validation"),
    ("id-token-wrong-audience", "response_type_code_only"),
    ("id-token-wrong-audience", "tpp_checks_nonce"),
]
IDS = ("id-token-replay-login", "login-csrf", "id-token-wrong-audience")


@pytest.mark.parametrize("attack_id", IDS)
def test_succeeds_over_legacy(run_attack, attack_id):  # type: ignore[no-untyped-def]
    outcome = run_attack(lookup.get(attack_id), "legacy")
    assert outcome.status == "succeeded", story(outcome)


@pytest.mark.parametrize(("attack_id", "control"), CASES)
def test_blocked_by_its_control_alone(run_attack, attack_id, control):  # type: ignore[no-untyped-def]
    outcome = run_attack(lookup.get(attack_id), "legacy", **{control: True})
    assert outcome.status == "blocked", story(outcome)
    counted = {e.control for e in outcome.events if e.counted}
    assert control in counted, story(outcome)


@pytest.mark.parametrize("attack_id", IDS)
def test_blocked_under_fapi2_security(run_attack, attack_id):  # type: ignore[no-untyped-def]
    outcome = run_attack(lookup.get(attack_id), "fapi2-security")
    assert outcome.status == "blocked", story(outcome)


def test_pkce_alone_refuses_the_attackers_challenge_less_sign_in(run_attack):  # type: ignore[no-untyped-def]
    """Over legacy, FinLens sends no code_challenge: pkce_required refuses the sign-in request
    FinLens makes in the attacker's browser (step 1), attributed to that request. With FinLens
    using S256 (oauth2, fapi2-security) it refuses the lured victim's code redemption."""
    outcome = run_attack(lookup.get("login-csrf"), "legacy", pkce_required=True)
    assert outcome.status == "blocked", story(outcome)
    assert "pkce_required" in {e.control for e in outcome.events if e.counted}, story(outcome)


def test_pkce_refuses_the_lured_victims_redemption_under_fapi2(run_attack):  # type: ignore[no-untyped-def]
    outcome = run_attack(lookup.get("login-csrf"), "fapi2-security")
    assert outcome.status == "blocked", story(outcome)
    assert "pkce_required" in {e.control for e in outcome.events if e.counted}, story(outcome)
