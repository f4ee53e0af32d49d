"""aud_check at the bank: a token for another resource (or for none) is refused (RFC 9068 §4)."""

from __future__ import annotations

import pytest

from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import bearer, ensure_bank_knows_as_keys, mint, www_authenticate

PARTNER = "https://127.0.0.1:9447"
WRONG_AUDIENCES = {"no-aud": None, "partner": PARTNER, "partner-list": [PARTNER]}


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _accounts(lab: RunningLab) -> str:
    return lab.config.bank_url + "/accounts"


@pytest.mark.parametrize("aud", sorted(WRONG_AUDIENCES))
def test_token_for_another_audience_works_when_off(lab, controls, http, fired, aud):
    controls.only()
    r = http.get(_accounts(lab), headers=bearer(mint(lab, aud=WRONG_AUDIENCES[aud]).token))
    assert r.status_code == 200, r.text
    assert len(r.json()["accounts"]) == 4
    assert fired(r) == []


@pytest.mark.parametrize("aud", sorted(WRONG_AUDIENCES))
def test_token_for_another_audience_is_refused_with_invalid_token_when_on(lab, controls, http,
                                                                          fired, aud):
    controls.only("aud_check")
    r = http.get(_accounts(lab), headers=bearer(mint(lab, aud=WRONG_AUDIENCES[aud]).token))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert www_authenticate(r).startswith('Bearer realm="HonestBank", error="invalid_token"')
    assert fired(r) == ["aud_check"]


@pytest.mark.parametrize("aud", ["bank", ["bank-origin", PARTNER]])
def test_token_naming_the_bank_passes_when_on(lab, controls, http, fired, aud):
    controls.only("aud_check")
    if isinstance(aud, list):
        aud = [lab.config.bank_url, PARTNER]
    r = http.get(_accounts(lab), headers=bearer(mint(lab, aud=aud).token))
    assert r.status_code == 200, r.text
    assert fired(r) == []
