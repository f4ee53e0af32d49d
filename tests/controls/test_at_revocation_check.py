"""at_revocation_check: the bank asks, per request, whether the token or its grant was revoked."""

from __future__ import annotations

import pytest

from lab import context
from lab.domain import consent, revocation
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import bearer, ensure_bank_knows_as_keys, mint, www_authenticate


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _accounts(lab: RunningLab) -> str:
    return lab.config.bank_url + "/accounts"


def _withdraw_grant(lab: RunningLab, minted) -> None:
    with context.bound(lab.store, "bank"):
        revocation.revoke_grant(lab.store, minted.grant_id)


def _revoke_token(lab: RunningLab, minted) -> None:
    consent.revoke_access_token(lab.store, minted.jti)


REVOCATIONS = {"grant-withdrawn": _withdraw_grant, "token-revoked": _revoke_token}


@pytest.mark.parametrize("how", sorted(REVOCATIONS))
def test_revoked_but_unexpired_token_keeps_working_when_off(lab, controls, http, fired, how):
    controls.only()
    minted = mint(lab)
    assert http.get(_accounts(lab), headers=bearer(minted.token)).status_code == 200
    REVOCATIONS[how](lab, minted)
    r = http.get(_accounts(lab), headers=bearer(minted.token))
    assert r.status_code == 200, r.text
    assert fired(r) == []


@pytest.mark.parametrize("how", sorted(REVOCATIONS))
def test_revoked_token_is_refused_with_invalid_token_when_on(lab, controls, http, fired, how):
    controls.only("at_revocation_check")
    minted = mint(lab)
    assert http.get(_accounts(lab), headers=bearer(minted.token)).status_code == 200
    REVOCATIONS[how](lab, minted)
    r = http.get(_accounts(lab), headers=bearer(minted.token))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert www_authenticate(r).startswith('Bearer realm="HonestBank", error="invalid_token"')
    assert fired(r) == ["at_revocation_check"]


def test_withdrawn_grant_named_only_in_the_claim_is_refused_when_on(lab, controls, http, fired):
    controls.only("at_revocation_check")
    minted = mint(lab, register=False)
    _withdraw_grant(lab, minted)
    r = http.get(_accounts(lab), headers=bearer(minted.token))
    assert r.status_code == 401
    assert fired(r) == ["at_revocation_check"]


def test_token_without_jti_is_refused_when_on(lab, controls, http, fired):
    controls.only("at_revocation_check")
    r = http.get(_accounts(lab), headers=bearer(mint(lab, register=False, jti=None).token))
    assert r.status_code == 401
    assert fired(r) == ["at_revocation_check"]
