"""payment_consent_binding: POST /payments must be the consented payment, and only once.

Off: the bank checks the payments:write scope (and the account consent) as before, so a
tampered amount or payee goes through, and the same consent pays twice. On: 403
insufficient_scope, the control's event attributed to the refused request, no money moves.
"""

from __future__ import annotations

import pytest

from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import bearer, ensure_bank_knows_as_keys, mint, www_authenticate
from tests.support.payments import CAFE, balance, body, consented, mallory_iban

TAMPERED = {
    "amount": {"amount": "2500.00"},
    "currency": {"currency": "USD"},
    "creditor name": {"name": "Mallory Mallet"},
    "creditor IBAN": {"iban": "DE89370400440532013000"},
    "debtor account": {"debtor_type": "savings"},
}


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _pay(lab, http, token, data, **headers):  # type: ignore[no-untyped-def]
    return http.post(lab.config.bank_url + "/payments", json=data,
                     headers={**bearer(token), **headers})


def test_tampered_payment_goes_through_when_off(lab, controls, http, fired):
    controls.only("consent_per_account")
    minted = consented(lab)
    before = balance(lab, "alice")
    tampered = body(amount="2500.00", name="Mallory Mallet", iban=mallory_iban(lab))
    r = _pay(lab, http, minted.token, tampered)
    assert r.status_code == 201, r.text
    assert fired(r) == []
    assert balance(lab, "alice") == before - 250_000


def test_consent_pays_twice_when_off(lab, controls, http, fired):
    controls.only()
    minted = consented(lab)
    assert _pay(lab, http, minted.token, body()).status_code == 201
    assert _pay(lab, http, minted.token, body()).status_code == 201


@pytest.mark.parametrize("changed", list(TAMPERED))
def test_payment_other_than_consented_is_refused_when_on(lab, controls, http, fired, changed):
    controls.only("payment_consent_binding")
    minted = consented(lab)
    changes = dict(TAMPERED[changed])
    debtor_type = changes.pop("debtor_type", "checking")
    before = balance(lab, "alice", debtor_type)
    r = _pay(lab, http, minted.token, body(debtor_type=debtor_type, **changes))
    if changed == "currency":    # the account is in EUR: refused before the consent is read
        assert r.status_code == 400, r.text
        return
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "insufficient_scope"
    assert www_authenticate(r).startswith('Bearer realm="HonestBank", error="insufficient_scope"')
    assert fired(r) == ["payment_consent_binding"]
    assert balance(lab, "alice", debtor_type) == before


def test_consented_payment_goes_once_when_on(lab, controls, http, fired):
    controls.only("payment_consent_binding")
    minted = consented(lab)
    before = balance(lab, "alice")
    first = _pay(lab, http, minted.token, body())
    assert first.status_code == 201, first.text
    assert first.json()["instructed_amount"] == {"amount": "25.00", "currency": "EUR"}
    second = _pay(lab, http, minted.token, body())
    assert second.status_code == 403
    assert second.json()["error"] == "insufficient_scope"
    assert fired(second) == ["payment_consent_binding"]
    assert balance(lab, "alice") == before - CAFE.amount_cents


def test_payment_without_a_payment_consent_is_refused_when_on(lab, controls, http, fired):
    controls.only("payment_consent_binding")
    plain = mint(lab)     # payments:write from a linking, no authorization_details
    r = _pay(lab, http, plain.token, body())
    assert r.status_code == 403
    assert fired(r) == ["payment_consent_binding"]
    controls.only()
    assert _pay(lab, http, plain.token, body()).status_code == 201


@pytest.mark.parametrize("binding", [False, True])
def test_idempotency_key_same_body_returns_the_first_result(lab, controls, http, binding):
    controls.only(*(["payment_consent_binding"] if binding else []))
    minted = consented(lab)
    before = balance(lab, "alice")
    key = {"Idempotency-Key": f"pay-{minted.jti}"}
    first = _pay(lab, http, minted.token, body(), **key)
    again = _pay(lab, http, minted.token, body(), **key)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert again.json() == first.json()
    assert balance(lab, "alice") == before - CAFE.amount_cents


@pytest.mark.parametrize("binding", [False, True])
def test_idempotency_key_with_another_body_is_refused(lab, controls, http, binding):
    controls.only(*(["payment_consent_binding"] if binding else []))
    minted = consented(lab)
    key = {"Idempotency-Key": f"pay-{minted.jti}"}
    assert _pay(lab, http, minted.token, body(), **key).status_code == 201
    before = balance(lab, "alice")
    r = _pay(lab, http, minted.token, body(amount="2500.00"), **key)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "idempotency_key_reused"
    assert balance(lab, "alice") == before


def test_bad_idempotency_key_is_refused(lab, controls, http):
    controls.only()
    minted = consented(lab)
    r = _pay(lab, http, minted.token, body(), **{"Idempotency-Key": "x" * 65})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
