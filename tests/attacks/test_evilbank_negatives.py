"""EvilBank's client-side negatives (the conformance suite's RP tests) against FinLens, both ways.

discovery-issuer-mismatch: EvilBank's metadata names the honest issuer and keys. Over legacy
FinLens believes it and sends the honest code to EvilBank; tpp_checks_iss refuses the
document itself (RFC 8414 §3.3) in the lured victim's link request; jarm alone lets the honest
code reach EvilBank (the keys and issuer it checks against come from the lying document) and
refuses the attacker's injection, which comes with no signed response.
"""

from __future__ import annotations

from attacker import lookup
from tests.attacks.conftest import story


def test_discovery_issuer_mismatch_succeeds_over_legacy(run_attack) -> None:  # type: ignore[no-untyped-def]
    outcome = run_attack(lookup.get("discovery-issuer-mismatch"))
    assert outcome.status == "succeeded", story(outcome)


def test_discovery_issuer_mismatch_is_refused_by_tpp_checks_iss(run_attack) -> None:  # type: ignore[no-untyped-def]
    outcome = run_attack(lookup.get("discovery-issuer-mismatch"), tpp_checks_iss=True)
    assert outcome.status == "blocked", story(outcome)
    assert outcome.fired_controls == ["tpp_checks_iss"], story(outcome)
    [event] = [e for e in outcome.events if e.control == "tpp_checks_iss"]
    assert event.by == "lured" and event.error == "mix_up_detected", story(outcome)
    assert "RFC 8414 §3.3" in event.reason, story(outcome)


def test_discovery_issuer_mismatch_reaches_evilbank_past_jarm_but_the_injection_is_refused(
        run_attack) -> None:  # type: ignore[no-untyped-def]
    outcome = run_attack(lookup.get("discovery-issuer-mismatch"), jarm=True)
    assert outcome.status == "blocked", story(outcome)
    assert any("received the honest bank's code" in s.text for s in outcome.steps), \
        story(outcome)
    assert outcome.fired_controls == ["jarm"], story(outcome)
    [event] = [e for e in outcome.events if e.control == "jarm"]
    assert event.by == "attacker" and event.error == "invalid_jarm", story(outcome)


def test_discovery_issuer_mismatch_passes_id_token_validation_alone(run_attack) -> None:  # type: ignore[no-untyped-def]
    """EvilBank's ID token names the issuer its document claims, signed by a key its jwks_uri
    serves: OIDC §3.1.3.7 holds against the unvalidated discovery, so only the document's
    check (tpp_checks_iss) stops it."""
    outcome = run_attack(lookup.get("discovery-issuer-mismatch"), tpp_id_token_validation=True)
    assert outcome.status == "succeeded", story(outcome)
