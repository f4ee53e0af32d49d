"""consent_per_account: only the accounts and permissions the user consented to are served."""

from __future__ import annotations

import pytest

from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import (
    account,
    bearer,
    ensure_bank_knows_as_keys,
    mint,
    www_authenticate,
)


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _ids(response) -> set[str]:  # type: ignore[no-untyped-def]
    return {a["account_id"] for a in response.json()["accounts"]}


CONSENTED = {account("alice", "checking"), account("alice", "savings")}
ALL_FOUR = {account("alice", t) for t in ("checking", "savings", "credit_card", "brokerage")}


def test_accounts_lists_every_account_of_the_user_when_off(lab, controls, http, fired):
    controls.only()
    r = http.get(lab.config.bank_url + "/accounts", headers=bearer(mint(lab).token))
    assert r.status_code == 200
    assert _ids(r) == ALL_FOUR


def test_accounts_lists_only_consented_accounts_when_on(lab, controls, http, fired):
    controls.only("consent_per_account")
    r = http.get(lab.config.bank_url + "/accounts", headers=bearer(mint(lab).token))
    assert r.status_code == 200
    assert _ids(r) == CONSENTED


def test_unconsented_card_balance_is_served_when_off(lab, controls, http, fired):
    controls.only()
    card = account("alice", "credit_card")
    r = http.get(f"{lab.config.bank_url}/accounts/{card}/balances",
                 headers=bearer(mint(lab).token))
    assert r.status_code == 200, r.text
    assert r.json()["account_id"] == card
    assert fired(r) == []


@pytest.mark.parametrize("endpoint", ["balances", "transactions"])
def test_unconsented_account_is_refused_with_insufficient_scope_when_on(lab, controls, http,
                                                                        fired, endpoint):
    controls.only("consent_per_account")
    card = account("alice", "credit_card")
    r = http.get(f"{lab.config.bank_url}/accounts/{card}/{endpoint}",
                 headers=bearer(mint(lab).token))
    assert r.status_code == 403
    assert r.json()["error"] == "insufficient_scope"
    assert www_authenticate(r).startswith('Bearer realm="HonestBank", error="insufficient_scope"')
    assert fired(r) == ["consent_per_account"]


@pytest.mark.parametrize(("endpoint", "permission"),
                         [("balances", "balances"), ("transactions", "transactions")])
def test_missing_permission_on_a_consented_account_is_refused_when_on(lab, controls, http, fired,
                                                                      endpoint, permission):
    controls.only("consent_per_account")
    checking = account("alice", "checking")
    others = [p for p in ("balances", "transactions", "payments") if p != permission]
    minted = mint(lab, accounts={checking: others})
    r = http.get(f"{lab.config.bank_url}/accounts/{checking}/{endpoint}",
                 headers=bearer(minted.token))
    assert r.status_code == 403
    assert fired(r) == ["consent_per_account"]
    controls.only()
    assert http.get(f"{lab.config.bank_url}/accounts/{checking}/{endpoint}",
                    headers=bearer(minted.token)).status_code == 200


def test_payment_from_an_account_without_payment_consent_is_refused_when_on(lab, controls, http,
                                                                          fired):
    checking = account("alice", "checking")
    minted = mint(lab, accounts={checking: ["balances", "transactions"]})
    body = {"debtor_account_id": checking,
            "creditor": {"name": "Mallory Mallet", "iban": "GB63HNST00000000000001"},
            "instructed_amount": {"amount": "2500.00", "currency": "EUR"}, "reference": "x"}
    controls.only("consent_per_account")
    r = http.post(lab.config.bank_url + "/payments", json=body, headers=bearer(minted.token))
    assert r.status_code == 403
    assert r.json()["error"] == "insufficient_scope"
    assert fired(r) == ["consent_per_account"]
    controls.only()
    r = http.post(lab.config.bank_url + "/payments", json=body, headers=bearer(minted.token))
    assert r.status_code == 201, r.text


def test_token_without_a_grant_sees_no_accounts_when_on(lab, controls, http, fired):
    controls.only("consent_per_account")
    minted = mint(lab, grant=False)
    r = http.get(lab.config.bank_url + "/accounts", headers=bearer(minted.token))
    assert r.status_code == 200
    assert _ids(r) == set()
    r = http.get(f"{lab.config.bank_url}/accounts/{account('alice', 'checking')}/balances",
                 headers=bearer(minted.token))
    assert r.status_code == 403
    assert fired(r) == ["consent_per_account"]
