"""token_expiry_check: exp/nbf with 10 s of leeway on the lab clock (RFC 9068 §4)."""

from __future__ import annotations

import pytest

from lab import clock
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import (
    account,
    bearer,
    ensure_bank_knows_as_keys,
    mint,
    www_authenticate,
)

TWO_DAYS = 2 * 86400


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _accounts(lab: RunningLab) -> str:
    return lab.config.bank_url + "/accounts"


def test_token_two_days_past_exp_works_when_off(lab, controls, http, fired):
    controls.only()
    token = mint(lab, lifetime=60).token
    clock.advance(lab.store, TWO_DAYS)
    r = http.get(_accounts(lab), headers=bearer(token))
    assert r.status_code == 200, r.text
    assert fired(r) == []


def test_token_two_days_past_exp_is_refused_with_invalid_token_when_on(lab, controls, http,
                                                                       fired):
    controls.only("token_expiry_check")
    token = mint(lab, lifetime=60).token
    clock.advance(lab.store, TWO_DAYS)
    r = http.get(_accounts(lab), headers=bearer(token))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert www_authenticate(r).startswith('Bearer realm="HonestBank", error="invalid_token"')
    assert fired(r) == ["token_expiry_check"]


@pytest.mark.parametrize(("past_exp", "accepted"), [(5, True), (30, False)])
def test_leeway_is_ten_seconds(lab, controls, http, fired, past_exp, accepted):
    controls.only("token_expiry_check")
    token = mint(lab, lifetime=60).token
    clock.advance(lab.store, 60 + past_exp)
    r = http.get(_accounts(lab), headers=bearer(token))
    assert (r.status_code == 200) is accepted, r.text
    assert fired(r) == ([] if accepted else ["token_expiry_check"])


def test_token_not_yet_valid_is_refused_when_on(lab, controls, http, fired):
    controls.only("token_expiry_check")
    future = clock.now_int(lab.store) + 600
    r = http.get(_accounts(lab), headers=bearer(mint(lab, nbf=future).token))
    assert r.status_code == 401
    assert fired(r) == ["token_expiry_check"]


def test_token_without_exp_is_refused_when_on_and_accepted_when_off(lab, controls, http, fired):
    token = mint(lab, exp=None).token
    controls.only()
    assert http.get(_accounts(lab), headers=bearer(token)).status_code == 200
    controls.only("token_expiry_check")
    r = http.get(f"{lab.config.bank_url}/accounts/{account('alice', 'savings')}/balances",
                 headers=bearer(token))
    assert r.status_code == 401
    assert fired(r) == ["token_expiry_check"]
