"""trusted_keys_only at the bank: a token bringing its own key in a `jwk` header (FAPI2 §5.4.2)."""

from __future__ import annotations

import pytest

from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import (
    account,
    bearer,
    claims_for,
    ensure_bank_knows_as_keys,
    forged_embedded_jwk,
    www_authenticate,
)


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _balances_url(lab: RunningLab) -> str:
    return f"{lab.config.bank_url}/accounts/{account('alice', 'checking')}/balances"


def test_token_signed_by_an_embedded_attacker_key_is_accepted_when_off(lab, controls, http,
                                                                       fired):
    controls.only("alg_allow_list")  # ES256 is an allowed algorithm: the key is the problem
    r = http.get(_balances_url(lab), headers=bearer(forged_embedded_jwk(claims_for(lab))))
    assert r.status_code == 200, r.text
    assert r.json()["balances"]
    assert fired(r) == []


def test_token_signed_by_an_embedded_attacker_key_is_refused_when_on(lab, controls, http, fired):
    controls.only("alg_allow_list", "trusted_keys_only")
    r = http.get(_balances_url(lab), headers=bearer(forged_embedded_jwk(claims_for(lab))))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert www_authenticate(r).startswith('Bearer realm="HonestBank", error="invalid_token"')
    assert fired(r) == ["trusted_keys_only"]


def test_payment_with_embedded_key_token_is_refused_when_on(lab, controls, http, fired):
    controls.only("trusted_keys_only")
    body = {"debtor_account_id": account("alice", "checking"),
            "creditor": {"name": "Mallory Mallet", "iban": "GB63HNST00000000000001"},
            "instructed_amount": {"amount": "400.00", "currency": "EUR"}, "reference": "x"}
    r = http.post(lab.config.bank_url + "/payments", json=body,
                  headers=bearer(forged_embedded_jwk(claims_for(lab))))
    assert r.status_code == 401
    assert fired(r) == ["trusted_keys_only"]
