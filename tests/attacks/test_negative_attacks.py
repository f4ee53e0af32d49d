"""The conformance suite's negative tests as attacks (issue 17), both ways through the capture:
each succeeds with its control off and is blocked with it on, the event counted for the
attacker's own request. test_catalog_runs.py runs them over legacy and each blocker alone."""

from __future__ import annotations

from attacker import lookup
from tests.attacks.conftest import story


def _counted(outcome, control):  # type: ignore[no-untyped-def]
    return [e for e in outcome.events if e.control == control and e.counted]


def _attacker_errors(outcome):  # type: ignore[no-untyped-def]
    return [s.error for s in outcome.steps if s.actor == "attacker" and s.error]


def test_code_redeemed_with_another_key_succeeds_over_fapi2_without_the_binding(
        run_attack) -> None:
    # FinLens binds the code with a DPoP proof at PAR (RFC 9449 §10.1); nothing compares it
    outcome = run_attack(lookup.get("code-redeem-other-dpop-key"), "fapi2-security",
                         dpop_jkt_binding=False)
    assert outcome.status == "succeeded", story(outcome)


def test_code_redeemed_with_another_key_is_blocked_over_fapi2_with_the_binding(
        run_attack) -> None:
    outcome = run_attack(lookup.get("code-redeem-other-dpop-key"), "fapi2-security",
                         dpop_jkt_binding=True)
    assert outcome.status == "blocked", story(outcome)
    assert _counted(outcome, "dpop_jkt_binding"), story(outcome)
    assert _attacker_errors(outcome) == ["invalid_dpop_proof"], story(outcome)


def test_assertion_made_ahead_succeeds_over_fapi2_without_the_window(run_attack) -> None:
    # the refreshed token is bound to the insider's own DPoP key (RFC 9449 §5: a confidential
    # client's refresh token is bound to its authentication, not to a key)
    outcome = run_attack(lookup.get("client-assertion-made-ahead"), "fapi2-security",
                         client_assertion_time_window=False)
    assert outcome.status == "succeeded", story(outcome)


def test_assertion_made_ahead_is_blocked_over_fapi2_with_the_window(run_attack) -> None:
    outcome = run_attack(lookup.get("client-assertion-made-ahead"), "fapi2-security",
                         client_assertion_time_window=True)
    assert outcome.status == "blocked", story(outcome)
    assert _counted(outcome, "client_assertion_time_window"), story(outcome)
    assert _attacker_errors(outcome) == ["invalid_client"], story(outcome)
