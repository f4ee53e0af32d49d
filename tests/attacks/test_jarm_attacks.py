"""The attacks that list jarm in blocked_by (attacks.md §3 D), over legacy, both ways.

mix-up: on alone, FinLens checks the honest AS's signed response against EvilBank's keys and
issuer and refuses it (invalid_jarm), in the lured victim's flow. code-injection: jarm alone
does not stop a replay of the victim's whole signed response (its not_alone); with
tpp_checks_state the signed state gives it away.
"""

from __future__ import annotations

from attacker import lookup
from tests.attacks.conftest import story


def test_mix_up_succeeds_over_legacy_and_jarm_alone_refuses_it(run_attack) -> None:  # type: ignore[no-untyped-def]
    attack = lookup.get("mix-up")
    assert run_attack(attack).status == "succeeded"
    outcome = run_attack(attack, jarm=True)
    assert outcome.status == "blocked", story(outcome)
    assert outcome.fired_controls == ["jarm"], story(outcome)
    [event] = [e for e in outcome.events if e.control == "jarm"]
    assert event.by == "lured" and event.error == "invalid_jarm", story(outcome)
    assert "signature does not verify" in event.reason, story(outcome)


def test_code_injection_replays_the_signed_response_past_jarm_alone(run_attack) -> None:  # type: ignore[no-untyped-def]
    attack = lookup.get("code-injection")
    outcome = run_attack(attack, jarm=True)
    assert outcome.status == "succeeded", story(outcome)
    assert "jarm" in attack.not_alone
    assert any("whole signed" in s.text for s in outcome.steps), story(outcome)


def test_code_injection_is_refused_by_jarm_with_the_state_check(run_attack) -> None:  # type: ignore[no-untyped-def]
    attack = lookup.get("code-injection")
    outcome = run_attack(attack, jarm=True, tpp_checks_state=True)
    assert outcome.status == "blocked", story(outcome)
    assert outcome.fired_controls == ["tpp_checks_state"], story(outcome)


def test_attacks_that_build_their_own_request_ask_for_jarm_and_replay_it_whole(run_attack) -> None:  # type: ignore[no-untyped-def]
    """Before: these attacks built plain `response_mode` requests and looked for a bare code,
    so jarm alone "blocked" them (the full matrix's jarm column) only because the attacker
    did not ask the way discovery says. JARM signs the response; it does not hide it."""
    for attack_id in ("redirect-uri-manipulation", "open-redirector-leak"):
        outcome = run_attack(lookup.get(attack_id), jarm=True)
        assert outcome.status == "succeeded", story(outcome)
        assert any("whole signed (JARM) response" in s.text for s in outcome.steps), \
            story(outcome)
