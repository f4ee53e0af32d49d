"""consent-amendment-old-tokens both ways (issue 17's conformance negative "a consent amendment
must revoke old tokens"), and what an amendment is: a consent the user says replaces the
access the app already has. Without that tick a second link stays one more link."""

from __future__ import annotations

from typing import Any

from attacker import lookup
from lab import context
from lab.authserver import consent_flow
from lab.authserver.pending import Pending
from lab.domain import consent, ledger
from lab.serving.in_process import RunningLab
from tests.attacks.conftest import story

ATTACK = lookup.get("consent-amendment-old-tokens")


def test_old_tokens_read_the_dropped_account_without_revocation_cascade(
        run_attack: Any, attack_lab: RunningLab) -> None:
    outcome = run_attack(ATTACK, "legacy")
    assert outcome.status == "succeeded", story(outcome)
    savings = {a["id"] for a in ledger.accounts_of(attack_lab.store, "alice")
               if a["type"] == "savings"}
    assert set(outcome.stolen) and set(outcome.stolen) <= savings
    # the amendment did withdraw the old grant: only its tokens outlived it
    newest = consent.grants_of(attack_lab.store, "alice", active_only=False)[:2]
    assert newest[0]["active"] and not newest[1]["active"], newest
    assert set(newest[0]["accounts"]) == {ledger.account_id("alice", "checking")}


def test_revocation_cascade_refuses_the_old_consents_refresh(run_attack: Any) -> None:
    outcome = run_attack(ATTACK, "legacy", revocation_cascade=True)
    assert outcome.status == "blocked", story(outcome)
    assert outcome.fired_controls == ["revocation_cascade"], story(outcome)
    event = next(e for e in outcome.events if e.control == "revocation_cascade")
    assert event.by == "attacker" and event.error == "invalid_grant", story(outcome)


def test_an_amendment_replaces_only_what_the_user_ticked(attack_lab: RunningLab) -> None:
    """The consent page offers the user's active account grants to this app, unticked: a
    second link without the tick is one more link (both stay); with it, the named earlier
    grant is withdrawn. A grant of another app or user cannot be named."""
    store = attack_lab.store
    scope = "accounts:read"
    old = consent.create_grant(store, username="bob", client_id="tpp", scope=scope,
                               accounts={ledger.account_id("bob", "checking"): ["balances"]})
    other = consent.create_grant(store, username="alice", client_id="tpp", scope=scope,
                                 accounts={ledger.account_id("alice", "checking"):
                                           ["balances"]})
    pending = Pending("p", "tpp", {"params": [("scope", scope)]}, 0.0, "consent", "bob")
    chosen = [ledger.account_id("bob", "savings")]
    earlier = consent_flow.view(store, pending, scope).earlier
    assert old in {g["id"] for g in earlier} and other not in {g["id"] for g in earlier}
    plain = consent_flow.decide(store, pending, scope, chosen, {chosen[0]: ["balances"]})
    assert plain is not None and plain.replaces == ()
    consent_flow.record(store, pending, plain)
    assert consent.get_grant(store, old)["active"]            # one more link
    amend = consent_flow.decide(store, pending, scope, chosen, {chosen[0]: ["balances"]},
                                replaces=[old, other, "grant-nonexistent"])
    assert amend is not None and amend.replaces == (old,)
    with context.bound(store, "as"):        # the AS's request, as in its consent view
        consent_flow.record(store, pending, amend)
    assert not consent.get_grant(store, old)["active"]
    assert consent.get_grant(store, other)["active"]


def test_a_victim_linked_400_times_amends_them_all_and_the_verdicts_hold(
        run_attack: Any, attack_lab: RunningLab) -> None:
    """A long-lived lab's alice, linked to FinLens 400 times: her consent page lists the
    newest few and "…and N earlier links"; ticking every box replaces them all, so the attack
    measures what it did on a fresh lab (won without revocation_cascade, blocked by it)."""
    store = attack_lab.store
    accounts = {a["id"]: ["balances"] for a in ledger.accounts_of(store, "alice")}
    crowd = [consent.create_grant(store, username="alice", client_id="tpp",
                                  scope="accounts:read", accounts=accounts)
             for _ in range(400)]
    try:
        won = run_attack(ATTACK, "legacy", throwaway=False)
        assert won.status == "succeeded", story(won)
        assert not any(consent.get_grant(store, g)["active"] for g in crowd)
        crowd += [consent.create_grant(store, username="alice", client_id="tpp",
                                       scope="accounts:read", accounts=accounts)
                  for _ in range(400)]
        blocked = run_attack(ATTACK, "legacy", throwaway=False, revocation_cascade=True)
        assert blocked.status == "blocked", story(blocked)
        assert blocked.fired_controls == ["revocation_cascade"], story(blocked)
    finally:
        for grant in crowd:
            consent.mark_grant_revoked(store, grant)
