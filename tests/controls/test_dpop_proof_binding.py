"""dpop_proof_binding: htm, htu (normalised, no query or fragment) and ath (RFC 9449 §4.3, §7.1)."""

from __future__ import annotations

import pytest

from lab.serving.in_process import RunningLab
from tests.support import dpop
from tests.support.bank_tokens import account, ensure_bank_knows_as_keys
from tests.support.dpop import DPoPKey, bank_get, challenge, dpop_tokens, redeem
from tests.support.oauth import authorize


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _other_url(lab: RunningLab) -> str:
    return lab.config.as_url + "/revoke"


# --- the token endpoint -----------------------------------------------------------------------

@pytest.mark.parametrize("made_for", ["GET", "other htu", "bank htu"])
def test_token_request_proof_made_for_another_request_works_when_off(lab, controls, http, fired,
                                                                     made_for):
    controls.only("dpop_bound_tokens")
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier, proof=_retargeted(lab, key, made_for))
    assert r.status_code == 200, r.text
    assert fired(r) == []


@pytest.mark.parametrize("made_for", ["GET", "other htu", "bank htu"])
def test_token_request_proof_made_for_another_request_is_refused_when_on(lab, controls, http,
                                                                         fired, made_for):
    controls.only("dpop_proof_binding")
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier, proof=_retargeted(lab, key, made_for))
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_proof_binding"]


def _retargeted(lab: RunningLab, key: DPoPKey, made_for: str) -> str:
    if made_for == "GET":
        return key.proof("GET", dpop.token_url(lab))
    if made_for == "other htu":
        return key.proof("POST", _other_url(lab))
    return key.proof("POST", lab.config.bank_url + "/token")


@pytest.mark.parametrize("htu", [
    "{origin}/token?foo=bar", "{origin}/token#frag", "{ORIGIN}/token",
])
def test_htu_is_compared_normalised_without_query_or_fragment(lab, controls, http, fired, htu):
    controls.only("dpop_proof_binding")
    origin = lab.config.as_url
    url = htu.format(origin=origin, ORIGIN=origin.upper())
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier, proof=key.proof("POST", url))
    assert r.status_code == 200, r.text
    assert fired(r) == []


# --- the bank ------------------------------------------------------------------------------------

def _balances(lab: RunningLab) -> str:
    return f"/accounts/{account('alice', 'checking')}/balances"


def _bank_cases(lab: RunningLab, key: DPoPKey, token: str, other_token: str) -> dict[str, str]:
    accounts = dpop.bank_url(lab, "/accounts")
    return {
        # dpop-proof-retarget: a captured GET /accounts proof sent to another URL ...
        "other htu": key.proof("GET", accounts, token=token),
        # ... made for another method ...
        "other htm": key.proof("POST", dpop.bank_url(lab, _balances(lab)), token=token),
        # ... or for another token bound to the same key.
        "other ath": key.proof("GET", dpop.bank_url(lab, _balances(lab)), token=other_token),
        "no ath": key.proof("GET", dpop.bank_url(lab, _balances(lab)), token=None),
        "non-ascii ath": key.proof("GET", dpop.bank_url(lab, _balances(lab)), token=token,
                                   ath_value="é\ud800"),
    }


CASES = ["other htu", "other htm", "other ath", "no ath", "non-ascii ath"]


@pytest.mark.parametrize("case", CASES)
def test_retargeted_resource_proof_works_when_off(lab, controls, http, fired, case):
    controls.only("dpop_bound_tokens")
    key = DPoPKey(lab)
    token, other = (dpop_tokens(http, lab, key)["access_token"] for _ in range(2))
    r = bank_get(http, lab, key, token, _balances(lab),
                 proof=_bank_cases(lab, key, token, other)[case])
    assert r.status_code == 200, r.text
    assert fired(r) == []


@pytest.mark.parametrize("case", CASES)
def test_retargeted_resource_proof_is_refused_with_invalid_dpop_proof_when_on(
        lab, controls, http, fired, case):
    controls.only("dpop_proof_binding")
    key = DPoPKey(lab)
    token, other = (dpop_tokens(http, lab, key)["access_token"] for _ in range(2))
    r = bank_get(http, lab, key, token, _balances(lab),
                 proof=_bank_cases(lab, key, token, other)[case])
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_dpop_proof"
    assert challenge(r).startswith('DPoP realm="HonestBank", error="invalid_dpop_proof"')
    assert fired(r) == ["dpop_proof_binding"]


def test_resource_proof_for_this_request_is_served_when_on(lab, controls, http, fired):
    controls.only("dpop_proof_binding")
    key = DPoPKey(lab)
    token = dpop_tokens(http, lab, key)["access_token"]
    r = bank_get(http, lab, key, token, _balances(lab) + "?unused=1")
    assert r.status_code == 200, r.text
    assert fired(r) == []
