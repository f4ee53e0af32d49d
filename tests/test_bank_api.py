"""The bank API's shapes (docs/architecture.md), paging, date filters, payments and bad input."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from lab.domain import ledger
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import account, bearer, ensure_bank_knows_as_keys, mint

BANK_CONTROLS = ("token_expiry_check", "at_revocation_check", "aud_check", "scope_check",
                 "consent_per_account", "alg_allow_list", "trusted_keys_only")
CHECKING = account("alice", "checking")
SAVINGS = account("alice", "savings")


@pytest.fixture(autouse=True)
def _bank_controls(lab: RunningLab, controls) -> None:  # type: ignore[no-untyped-def]
    ensure_bank_knows_as_keys(lab)
    controls.only(*BANK_CONTROLS)


@pytest.fixture
def auth(lab: RunningLab) -> dict[str, str]:
    return bearer(mint(lab).token)


def _url(lab: RunningLab, path: str) -> str:
    return lab.config.bank_url + path


def _mallory_iban(lab: RunningLab) -> str:
    return str(ledger.get_account(lab.store, account("mallory", "checking"))["iban"])  # type: ignore[index]


def _payment(lab: RunningLab, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "debtor_account_id": CHECKING,
        "creditor": {"name": "Mallory Mallet", "iban": _mallory_iban(lab)},
        "instructed_amount": {"amount": "12.34", "currency": "EUR"},
        "reference": "Dinner",
    }
    body.update(changes)
    return body


def test_accounts_have_the_documented_shape(lab, http, auth):
    r = http.get(_url(lab, "/accounts"), headers=auth)
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    accounts = r.json()["accounts"]
    assert {a["account_id"] for a in accounts} == {CHECKING, SAVINGS}
    for a in accounts:
        assert set(a) == {"account_id", "type", "name", "iban", "currency"}
        assert a["currency"] == "EUR"


def test_balances_have_the_documented_shape(lab, http, auth):
    r = http.get(_url(lab, f"/accounts/{CHECKING}/balances"), headers=auth)
    assert r.status_code == 200
    body = r.json()
    assert body["account_id"] == CHECKING
    assert [b["type"] for b in body["balances"]] == ["closingBooked", "interimAvailable"]
    for b in body["balances"]:
        assert set(b) == {"type", "amount", "reference_date"}
        assert set(b["amount"]) == {"amount", "currency"}
        Decimal(b["amount"]["amount"])
        dt.date.fromisoformat(b["reference_date"])


def test_transactions_page_through_with_next_links(lab, http, auth):
    first = http.get(_url(lab, f"/accounts/{CHECKING}/transactions?page_size=40"), headers=auth)
    assert first.status_code == 200
    body = first.json()
    assert body["page"] == 1 and body["page_size"] == 40
    total = body["total"]
    assert total > 80, "alice's checking account has months of history"
    seen = [t["transaction_id"] for t in body["transactions"]]
    assert body["_links"]["self"].startswith(lab.config.bank_url + f"/accounts/{CHECKING}/")
    link = body["_links"].get("next")
    while link:
        page = http.get(link, headers=auth).json()
        seen += [t["transaction_id"] for t in page["transactions"]]
        link = page["_links"].get("next")
    assert len(seen) == len(set(seen)) == total
    t = body["transactions"][0]
    assert set(t) == {"transaction_id", "booking_date", "amount", "description", "counterparty"}


def test_transactions_are_newest_first_and_filtered_by_dates(lab, http, auth):
    all_rows = http.get(_url(lab, f"/accounts/{CHECKING}/transactions?page_size=100"),
                        headers=auth).json()["transactions"]
    dates = [t["booking_date"] for t in all_rows]
    assert dates == sorted(dates, reverse=True)
    start, end = dates[40], dates[10]
    r = http.get(_url(lab, f"/accounts/{CHECKING}/transactions"),
                 params={"from": start, "to": end, "page_size": 100}, headers=auth)
    assert r.status_code == 200
    rows = r.json()["transactions"]
    assert rows and all(start <= t["booking_date"] <= end for t in rows)
    assert r.json()["total"] == len(rows)
    assert "from=" + start in r.json()["_links"]["self"]


def test_page_past_the_end_is_empty_without_next(lab, http, auth):
    r = http.get(_url(lab, f"/accounts/{CHECKING}/transactions?page=999"), headers=auth)
    assert r.status_code == 200
    assert r.json()["transactions"] == [] and "next" not in r.json()["_links"]


@pytest.mark.parametrize("query", [
    "page=0", "page=-1", "page=abc", "page=99999999999999999999", "page=1.5", "page_size=0",
    "page_size=101", "from=2026-13-45", "from=20240101", "to=yesterday", "from=2024-01-01T00:00",
    "from=2025-02-01&to=2025-01-01", "page=%C2%B2",
])
def test_bad_paging_or_dates_are_invalid_request(lab, http, auth, query):
    r = http.get(_url(lab, f"/accounts/{CHECKING}/transactions?{query}"), headers=auth)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"


@pytest.mark.parametrize("path", ["/accounts/acc-nope/balances", "/accounts/acc-nope/transactions",
                                  f"/accounts/{account('bob', 'checking')}/balances",
                                  "/accounts/%00%27/balances"])
def test_unknown_or_foreign_accounts_are_not_found(lab, http, auth, path):
    r = http.get(_url(lab, path), headers=auth)
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


def test_payment_is_booked_and_debits_the_account(lab, http, auth):
    def balance() -> Decimal:
        r = http.get(_url(lab, f"/accounts/{CHECKING}/balances"), headers=auth)
        return Decimal(r.json()["balances"][1]["amount"]["amount"])

    before = balance()
    r = http.post(_url(lab, "/payments"), json=_payment(lab), headers=auth)
    assert r.status_code == 201, r.text
    payment = r.json()
    assert payment["status"] == "booked"
    assert payment["account_id"] == CHECKING
    assert payment["instructed_amount"] == {"amount": "12.34", "currency": "EUR"}
    assert payment["creditor"] == {"name": "Mallory Mallet", "iban": _mallory_iban(lab)}
    assert balance() == before - Decimal("12.34")
    # Found by id, not as the newest: an earlier test may have booked on a later lab date.
    listed = http.get(_url(lab, f"/accounts/{CHECKING}/transactions?page_size=100"),
                      headers=auth).json()["transactions"]
    booked = [t for t in listed if t["transaction_id"] == f"tx-{payment['payment_id']}"]
    assert len(booked) == 1
    assert booked[0]["amount"]["amount"] == "-12.34"
    assert booked[0]["counterparty"] == "Mallory Mallet"


BAD_BODIES: dict[str, Any] = {
    "array": [1, 2],
    "no-creditor": {"debtor_account_id": CHECKING},
    "bad-iban": {"creditor": {"name": "M", "iban": "not an iban"}},
    "amount-words": {"instructed_amount": {"amount": "lots", "currency": "EUR"}},
    "amount-negative": {"instructed_amount": {"amount": "-5.00", "currency": "EUR"}},
    "amount-three-decimals": {"instructed_amount": {"amount": "1.005", "currency": "EUR"}},
    "amount-bool": {"instructed_amount": {"amount": True, "currency": "EUR"}},
    "amount-huge": {"instructed_amount": {"amount": 10**30, "currency": "EUR"}},
    "wrong-currency": {"instructed_amount": {"amount": "1.00", "currency": "USD"}},
    "currency-junk": {"instructed_amount": {"amount": "1.00", "currency": "€"}},
    "name-too-long": {"creditor": {"name": "x" * 500, "iban": "GB63HNST00000000000001"}},
    "reference-not-text": {"reference": {"a": 1}},
    "debtor-not-text": {"debtor_account_id": 42},
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_payment_bodies_are_invalid_request(lab, http, auth, case):
    change = BAD_BODIES[case]
    body = change if isinstance(change, list) or case == "no-creditor" else \
        _payment(lab, **change)
    r = http.post(_url(lab, "/payments"), json=body, headers=auth)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"


@pytest.mark.parametrize(("data", "content_type"), [
    ("not json", "application/json"), ('{"a": 1e400}', "application/json"),
    ("[" * 5000, "application/json"), ("debtor_account_id=x", "application/x-www-form-urlencoded"),
    ('{"debtor_account_id": "x"}', "text/plain"), (b"\xff\xfe", "application/json"),
])
def test_payment_body_that_is_not_a_json_object_is_invalid_request(lab, http, auth, data,
                                                                   content_type):
    r = http.post(_url(lab, "/payments"), data=data,
                  headers={**auth, "Content-Type": content_type})
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"


@pytest.mark.parametrize("debtor", ["acc-nope", account("bob", "checking")])
def test_payment_from_an_unknown_or_foreign_account_is_not_found(lab, http, auth, debtor):
    r = http.post(_url(lab, "/payments"), json=_payment(lab, debtor_account_id=debtor),
                  headers=auth)
    assert r.status_code == 404


def test_oversized_body_is_refused_without_a_server_error(lab, http, auth):
    r = http.post(_url(lab, "/payments"), data="x" * 100_000,
                  headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 413
