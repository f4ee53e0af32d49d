"""scope_check: each bank endpoint needs its scope; 403 insufficient_scope names it (RFC 6750)."""

from __future__ import annotations

from typing import Any

import pytest

from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import (
    account,
    bearer,
    ensure_bank_knows_as_keys,
    mint,
    www_authenticate,
)

MALLORY_IBAN = "GB63HNST00000000000001"


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _payment() -> dict[str, Any]:
    return {"debtor_account_id": account("alice", "checking"),
            "creditor": {"name": "Mallory Mallet", "iban": MALLORY_IBAN},
            "instructed_amount": {"amount": "1.00", "currency": "EUR"},
            "reference": "scope test"}


# (method, path, scope the endpoint needs, a token scope without it)
ENDPOINTS = [
    ("GET", "/accounts", "accounts:read", "transactions:read"),
    ("GET", "/accounts/{checking}/balances", "accounts:read", "transactions:read"),
    ("GET", "/accounts/{checking}/transactions", "transactions:read", "accounts:read"),
    ("POST", "/payments", "payments:write", "accounts:read transactions:read"),
]


def _call(lab: RunningLab, http, method: str, path: str, token: str):  # type: ignore[no-untyped-def]
    url = lab.config.bank_url + path.format(checking=account("alice", "checking"))
    if method == "POST":
        return http.post(url, json=_payment(), headers=bearer(token))
    return http.get(url, headers=bearer(token))


@pytest.mark.parametrize(("method", "path", "needed", "held"), ENDPOINTS)
def test_token_without_the_endpoint_scope_works_when_off(lab, controls, http, fired, method,
                                                         path, needed, held):
    controls.only()
    r = _call(lab, http, method, path, mint(lab, scope=held).token)
    assert r.status_code in (200, 201), r.text
    assert fired(r) == []


@pytest.mark.parametrize(("method", "path", "needed", "held"), ENDPOINTS)
def test_token_without_the_endpoint_scope_is_refused_with_insufficient_scope_when_on(
        lab, controls, http, fired, method, path, needed, held):
    controls.only("scope_check")
    r = _call(lab, http, method, path, mint(lab, scope=held).token)
    assert r.status_code == 403
    assert r.json()["error"] == "insufficient_scope"
    challenge = www_authenticate(r)
    assert challenge.startswith('Bearer realm="HonestBank", error="insufficient_scope"')
    assert f'scope="{needed}"' in challenge
    assert fired(r) == ["scope_check"]


@pytest.mark.parametrize(("method", "path", "needed", "held"), ENDPOINTS)
def test_token_with_the_endpoint_scope_passes_when_on(lab, controls, http, fired, method, path,
                                                      needed, held):
    controls.only("scope_check")
    r = _call(lab, http, method, path, mint(lab, scope=needed).token)
    assert r.status_code in (200, 201), r.text
    assert fired(r) == []
