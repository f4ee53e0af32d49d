"""payment-replay-altered-body against http_message_signing, through the capture: the copied
Signature and Content-Digest no longer match the new body, and the bank says so."""

from __future__ import annotations

from typing import Any

from attacker import lookup
from tests.attacks.conftest import story


def test_the_copied_signature_does_not_cover_the_new_body(run_attack: Any) -> None:
    attack = lookup.get("payment-replay-altered-body")
    outcome = run_attack(attack, "legacy", http_message_signing=True)
    assert outcome.status == "blocked", story(outcome)
    assert outcome.fired_controls == ["http_message_signing"], story(outcome)
    event = next(e for e in outcome.events if e.control == "http_message_signing")
    assert "Content-Digest does not match" in event.reason, story(outcome)
    assert any("copies FinLens's Signature" in s.text for s in outcome.steps), story(outcome)


def test_without_signing_the_altered_body_is_paid(run_attack: Any) -> None:
    outcome = run_attack(lookup.get("payment-replay-altered-body"), "legacy")
    assert outcome.status == "succeeded", story(outcome)
    assert not any("copies FinLens's Signature" in s.text for s in outcome.steps)


def test_a_token_of_another_client_refused_for_its_signature_is_explained() -> None:
    """http_message_signing refuses every call not signed by a key of the token's client: in
    its own column a copied or forged FinLens token is blocked by it, which the catalog does
    not name for each token attack; the matrix says why instead of calling it a mismatch."""
    from attacker import matrix
    from attacker.outcome import FiredEvent, Outcome

    attack = lookup.get("at-replay-bearer")
    column = next(c for c in matrix.columns() if c.id == "http_message_signing")
    blocked = Outcome(attack.id, "blocked", "s", events=[FiredEvent(
        "http_message_signing", "fired", "e", "r", "GET /accounts", "id", by="attacker")])
    cell = matrix.judge(attack, column, blocked)
    assert (cell.verdict, cell.explanation) == ("explained", matrix.SIGNING_EXPLAINED)
    other = Outcome(attack.id, "blocked", "s", events=[FiredEvent(
        "aud_check", "fired", "e", "r", "GET /accounts", "id", by="attacker")])
    assert matrix.judge(attack, column, other).verdict == "mismatch"
