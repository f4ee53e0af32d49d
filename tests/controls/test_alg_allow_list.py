"""alg_allow_list at the bank: `none` and HS256-keyed-with-the-public-key tokens (RFC 8725 §2.1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import (
    account,
    bearer,
    claims_for,
    ensure_bank_knows_as_keys,
    forged_alg_none,
    forged_hs256_with_public_key,
    mint,
    www_authenticate,
)

FORGERIES: dict[str, Callable[[RunningLab, dict[str, Any]], str]] = {
    "alg-none": lambda lab, claims: forged_alg_none(claims),
    "hs256-public-key": forged_hs256_with_public_key,
}


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _balances_url(lab: RunningLab) -> str:
    return f"{lab.config.bank_url}/accounts/{account('alice', 'checking')}/balances"


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forged_token_reads_balances_when_alg_allow_list_is_off(lab, controls, http, fired,
                                                                forgery):
    controls.only()
    token = FORGERIES[forgery](lab, claims_for(lab))
    r = http.get(_balances_url(lab), headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["account_id"] == account("alice", "checking")
    assert fired(r) == []


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
def test_forged_token_is_refused_with_invalid_token_when_alg_allow_list_is_on(
        lab, controls, http, fired, forgery):
    controls.only("alg_allow_list")
    token = FORGERIES[forgery](lab, claims_for(lab))
    r = http.get(_balances_url(lab), headers=bearer(token))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert www_authenticate(r).startswith('Bearer realm="HonestBank", error="invalid_token"')
    assert r.headers["Cache-Control"] == "no-store"
    assert fired(r) == ["alg_allow_list"]


def test_genuine_es256_and_ps256_tokens_pass_the_allow_list(lab, controls, http, fired):
    controls.only("alg_allow_list")
    for alg in ("ES256", "PS256"):
        r = http.get(_balances_url(lab), headers=bearer(mint(lab, alg=alg).token))
        assert r.status_code == 200, (alg, r.text)
        assert fired(r) == []


def test_allow_list_follows_its_algorithms_parameter(lab, controls, http, fired):
    controls.only("alg_allow_list")
    controls.param("alg_allow_list", "algorithms", ["PS256"])
    r = http.get(_balances_url(lab), headers=bearer(mint(lab, alg="ES256").token))
    assert r.status_code == 401
    assert fired(r) == ["alg_allow_list"]
