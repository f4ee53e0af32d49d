"""step_up_for_payments: a payment needs a recent strong authentication (RFC 9470 §3, §6).

Off, a token refreshed three (lab) days after the sign-in pays. On, the same request gets
401 insufficient_user_authentication with acr_values and max_age, and the control's event
belongs to that request; a fresh sign-in with the second factor pays. The catalog attack
payment-without-step-up, run for real through the capture, succeeds off and is blocked on.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from attacker import lookup, runner
from lab import clock
from lab.domain import ledger
from lab.serving.in_process import RunningLab
from lab.serving.private import private_lab
from tests.support.bank_tokens import account, bearer, ensure_bank_knows_as_keys
from tests.support.oauth import DEFAULT_SCOPE, claims, refresh, tokens

PAY_SCOPE = DEFAULT_SCOPE + " payments:write"
THREE_DAYS = 3 * 24 * 3600


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _pay(http: requests.Session, lab: RunningLab, access_token: str) -> requests.Response:
    mallory = ledger.get_account(lab.store, account("mallory", "checking"))
    assert mallory is not None
    body: dict[str, Any] = {
        "debtor_account_id": account("alice", "checking"),
        "creditor": {"name": "Mallory Mallet", "iban": mallory["iban"]},
        "instructed_amount": {"amount": "4.00", "currency": "EUR"}, "reference": "step-up test"}
    return http.post(lab.config.bank_url + "/payments", json=body, headers=bearer(access_token))


def _old_token(http: requests.Session, lab: RunningLab) -> str:
    """alice signed in with her second factor, then three lab days pass; FinLens refreshes."""
    first = tokens(http, lab, scope=PAY_SCOPE, pkce=False)
    clock.advance(lab.store, THREE_DAYS)
    r = refresh(http, lab, first["refresh_token"])
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def test_a_days_old_sign_in_pays_when_off(lab, controls, http):
    controls.only("mfa_required")
    r = _pay(http, lab, _old_token(http, lab))
    assert r.status_code == 201, r.text


def test_a_days_old_sign_in_gets_the_rfc9470_challenge_when_on(lab, controls, http, fired):
    controls.only("mfa_required", "step_up_for_payments")
    old = _old_token(http, lab)
    assert claims(old)["acr"] == "sca"   # strong, but three days old
    r = _pay(http, lab, old)
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "insufficient_user_authentication"
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_user_authentication"' in challenge
    assert 'acr_values="sca"' in challenge and "max_age=300" in challenge
    assert fired(r) == ["step_up_for_payments"]


def test_a_password_only_sign_in_is_challenged_and_acr_values_sca_answers_it(
        lab, controls, http, fired):
    controls.only("step_up_for_payments")   # mfa_required off: the password alone signs in
    weak = tokens(http, lab, scope=PAY_SCOPE, pkce=False)["access_token"]
    assert claims(weak)["acr"] == "pwd" and claims(weak)["amr"] == ["pwd"]
    r = _pay(http, lab, weak)
    assert r.status_code == 401 and fired(r) == ["step_up_for_payments"]
    # RFC 9470 §4: the client asks the AS for what the challenge named
    strong = tokens(http, lab, scope=PAY_SCOPE, pkce=False, acr_values="sca", max_age="300")
    assert claims(strong["access_token"])["acr"] == "sca"
    assert claims(strong["access_token"])["amr"] == ["pwd", "otp"]
    r = _pay(http, lab, strong["access_token"])
    assert r.status_code == 201, r.text


def test_max_age_is_a_parameter(lab, controls, http, fired):
    controls.only("mfa_required", "step_up_for_payments")
    controls.param("step_up_for_payments", "max_age", 60)
    token = tokens(http, lab, scope=PAY_SCOPE, pkce=False)["access_token"]
    clock.advance(lab.store, 90)   # the token itself lives 300 s, the sign-in may be 60 s old
    r = _pay(http, lab, token)
    assert r.status_code == 401 and "max_age=60" in r.headers["WWW-Authenticate"]
    assert fired(r) == ["step_up_for_payments"]


def test_a_dpop_bound_token_is_challenged_with_the_dpop_scheme(lab) -> None:
    from lab import context
    from lab.protocol.step_up import InsufficientUserAuthenticationError

    error = InsufficientUserAuthenticationError("sca", 300, dpop=True)
    with context.bound(lab.store, "bank"):
        value = dict(error.get_headers())["WWW-Authenticate"]
    assert value.startswith("DPoP ") and 'acr_values="sca"' in value and "max_age=300" in value


# --- the catalog attack, for real through the capture ------------------------------------------
@pytest.fixture(scope="module")
def attack_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLab]:
    with private_lab(profile="legacy", write_state=False, capture=True,
                     data_dir=tmp_path_factory.mktemp("step-up-attack")) as running:
        yield running


def _run(attack_lab: RunningLab, **changes: bool) -> Any:
    attack = lookup.implemented()["payment-without-step-up"]
    saved = runner.SavedState(attack_lab.store)
    try:
        return runner.run(attack, attack_lab.config, attack_lab.store,
                          runner.Configuration("legacy", dict(changes)))
    finally:
        saved.restore()


def test_payment_without_step_up_succeeds_when_off(attack_lab):
    outcome = _run(attack_lab)
    assert outcome.status == "succeeded", outcome.summary


def test_payment_without_step_up_is_blocked_on_the_attackers_own_request(attack_lab):
    outcome = _run(attack_lab, step_up_for_payments=True)
    assert outcome.status == "blocked", outcome.summary
    counted = [e for e in outcome.events if e.counted and e.control == "step_up_for_payments"]
    assert counted, [(e.control, e.counted, e.reason) for e in outcome.events]
    refused = [s for s in outcome.steps if s.error == "insufficient_user_authentication"]
    assert refused and refused[-1].status == 401
