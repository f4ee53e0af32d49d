"""The matrix cells issue 17 left: each attack against the single control that used to
disagree with the catalog (or end in an error), both ways. A careful attacker carries its
own flow's nonce and scope; it reads what JAR and JARM sign but do not hide; a control that
refuses FinLens's own flow is victim-failed, never blocked."""

from __future__ import annotations

import jwt
import pytest

from attacker import frontchannel as fc
from attacker import lookup, matrix
from attacker.outcome import Outcome
from tests.attacks.conftest import story


def _counted(outcome: Outcome, control: str) -> list:  # type: ignore[type-arg]
    return [e for e in outcome.events if e.control == control and e.counted]


def _said(outcome: Outcome, words: str) -> bool:
    return any(words in s.text for s in outcome.steps)


# --- reading request parameters, inside a request object too (no lab) -------------------------
def test_request_params_are_read_inside_a_signed_request_object() -> None:
    signed = jwt.encode({"nonce": "n-1", "code_challenge": "c", "exp": 1}, "k" * 32,
                        algorithm="HS256")
    got = fc.request_params({"client_id": "tpp", "request": signed})
    assert got["nonce"] == "n-1" and got["code_challenge"] == "c" and got["client_id"] == "tpp"
    assert "exp" not in got                      # only string claims: request parameters


def test_request_params_leave_a_plain_query_and_an_unreadable_object_alone() -> None:
    assert fc.request_params({"nonce": "q"}) == {"nonce": "q"}
    unreadable = {"request": "a.b.c.d.e"}        # a JWE: encrypted, so nothing to read
    assert fc.request_params(unreadable) == unreadable


# --- A: unsigned-request-object carries its own flow's nonce and scope ------------------------
@pytest.mark.parametrize("control", ["tpp_checks_nonce", "tpp_checks_granted_scope"])
def test_unsigned_request_object_passes_finlens_client_checks(run_attack, control) -> None:
    outcome = run_attack(lookup.get("unsigned-request-object"), **{control: True})
    assert outcome.status == "succeeded", story(outcome)
    assert not _counted(outcome, control), story(outcome)
    assert _said(outcome, "its own flow's nonce"), story(outcome)


def test_unsigned_request_object_is_still_blocked_by_pkce(run_attack) -> None:
    outcome = run_attack(lookup.get("unsigned-request-object"), pkce_required=True)
    assert outcome.status == "blocked", story(outcome)
    assert _counted(outcome, "pkce_required"), story(outcome)


# --- A: request-object-replay under tpp_checks_nonce: a genuine, named extra blocker ----------
def test_request_object_replay_is_blocked_by_the_nonce_check_of_a_forgotten_flow(
        run_attack) -> None:
    attack = lookup.get("request-object-replay")
    outcome = run_attack(attack, tpp_checks_nonce=True)
    assert outcome.status == "blocked", story(outcome)
    events = _counted(outcome, "tpp_checks_nonce")
    assert events and all(e.by == "lured" for e in events), story(outcome)
    assert "no authentication request pending" in events[0].reason
    cell = matrix.judge(attack, _column("tpp_checks_nonce"), outcome)
    assert cell.verdict == "explained" and "FLOW_LIFETIME" in cell.explanation


# --- B: premises that seemed to vanish ------------------------------------------------------
def test_request_object_replay_under_pkce_alone_is_victim_failed(run_attack) -> None:
    """Legacy FinLens sends no challenge in its request object; the AS refuses the victim's
    own request before the login page: nothing to replay, and never 'blocked'."""
    attack = lookup.get("request-object-replay")
    outcome = run_attack(attack, pkce_required=True)
    assert outcome.status == "victim-failed", story(outcome)
    # a live victim's requests count as lured; the pre-flight of FinLens's honest flow, refused
    # by the same switch, is what says the switch broke FinLens
    assert outcome.victim_fired == ["pkce_required"], story(outcome)
    assert "FinLens sends no PKCE challenge" in outcome.summary, story(outcome)
    assert matrix.judge(attack, _column("pkce_required"), outcome).verdict == "explained"


@pytest.mark.parametrize("changes", [{}, {"jar_required": True},
                                     {"request_object_lifetime": True}])
def test_pkce_plain_leak_reads_the_challenge_in_the_query_or_the_request_object(
        run_attack, changes) -> None:
    outcome = run_attack(lookup.get("pkce-plain-leak"), **changes)
    assert outcome.status == "succeeded", story(outcome)
    assert _said(outcome, "inside the signed request object") == bool(changes), story(outcome)


def test_pkce_plain_leak_still_blocked_by_s256_only(run_attack) -> None:
    outcome = run_attack(lookup.get("pkce-plain-leak"), pkce_s256_only=True)
    assert outcome.status in ("blocked", "victim-failed"), story(outcome)
    assert "pkce_s256_only" in outcome.fired_controls + outcome.victim_fired, story(outcome)


@pytest.mark.parametrize("jarm", [False, True])
def test_auth_response_leak_referer_reads_the_code_or_the_jarm_response(run_attack,
                                                                         jarm) -> None:
    outcome = run_attack(lookup.get("auth-response-leak-referer"), jarm=jarm)
    assert outcome.status == "succeeded", story(outcome)
    assert _said(outcome, "inside the signed JARM response") == jarm, story(outcome)
    assert _said(outcome, "whole signed (JARM) response") == jarm, story(outcome)


def _column(column_id: str) -> matrix.Column:
    return next(c for c in matrix.columns() if c.id == column_id)
