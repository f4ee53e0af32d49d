"""user-correlation-across-apps (OIDC Core §8, §17.3), run through the capture: EvilApp and
FinLens see the same `sub` for the victim in every FAPI profile; with pairwise_subjects the
identifiers differ, nothing is refused, and the goal is missed with that control's
`prevented` event on EvilApp's own token request."""

from __future__ import annotations

import pytest

from attacker import lookup
from tests.attacks.conftest import story

ATTACK = "user-correlation-across-apps"


@pytest.mark.parametrize("profile", ["legacy", "fapi2-security"])
def test_succeeds_without_pairwise_subjects(run_attack, profile):  # type: ignore[no-untyped-def]
    outcome = run_attack(lookup.get(ATTACK), profile)
    assert outcome.status == "succeeded", story(outcome)
    assert outcome.stolen["sub"] == "alice"


@pytest.mark.parametrize("profile", ["legacy", "fapi2-security"])
def test_goal_missed_with_pairwise_subjects(run_attack, profile):  # type: ignore[no-untyped-def]
    outcome = run_attack(lookup.get(ATTACK), profile, pairwise_subjects=True)
    assert outcome.status == "blocked", story(outcome)
    counted = [e for e in outcome.events if e.counted and e.by == "attacker"]
    assert [(e.control, e.kind) for e in counted] == [("pairwise_subjects", "prevented")], \
        story(outcome)
    # Nothing was refused: no control fired, in the attacker's requests or the victim's.
    assert not [e for e in outcome.events if e.kind == "fired" and e.counted], story(outcome)


def test_id_token_of_evilapp_signs_in_to_nobody_with_pairwise_subjects(run_attack):  # type: ignore[no-untyped-def]
    """EvilApp's pseudonym for the victim is not FinLens's: FinLens opens another account."""
    outcome = run_attack(lookup.get("id-token-wrong-audience"), "legacy", pairwise_subjects=True)
    assert outcome.status == "blocked", story(outcome)
    assert outcome.fired_controls == ["pairwise_subjects"], story(outcome)


def test_a_forged_token_still_reaches_the_victim_through_her_pseudonym(run_attack):  # type: ignore[no-untyped-def]
    """Pairwise subjects change no signature check: a forged token naming the victim's
    pseudonym for FinLens reaches her accounts as her public sub did (the bank's lookup)."""
    outcome = run_attack(lookup.get("jwt-alg-none"), "legacy", pairwise_subjects=True)
    assert outcome.status == "succeeded", story(outcome)
