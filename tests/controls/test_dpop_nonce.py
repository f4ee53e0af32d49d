"""dpop_nonce: proofs must carry the server's current nonce; without it, use_dpop_nonce and a
DPoP-Nonce header (RFC 9449 §8, §9, §11.3)."""

from __future__ import annotations

import pytest

from lab import clock
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import ensure_bank_knows_as_keys
from tests.support.dpop import DPoPKey, bank_get, challenge, redeem
from tests.support.oauth import authorize


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _as_nonce(lab: RunningLab, http) -> str:  # type: ignore[no-untyped-def]
    code, verifier = authorize(lab)
    r = redeem(http, lab, DPoPKey(lab), code, verifier)
    assert r.status_code == 400 and r.json()["error"] == "use_dpop_nonce", r.text
    return r.headers["DPoP-Nonce"]


def _token(lab: RunningLab, http, key: DPoPKey) -> str:  # type: ignore[no-untyped-def]
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier, nonce=_as_nonce(lab, http))
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


# --- the token endpoint -----------------------------------------------------------------------

def test_token_request_proof_without_nonce_works_when_off(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    code, verifier = authorize(lab)
    r = redeem(http, lab, DPoPKey(lab), code, verifier)
    assert r.status_code == 200, r.text
    assert "DPoP-Nonce" not in r.headers
    assert fired(r) == []


def test_token_request_proof_without_nonce_gets_use_dpop_nonce_when_on(lab, controls, http,
                                                                       fired):
    controls.only("dpop_nonce")
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier)
    assert r.status_code == 400
    assert r.json()["error"] == "use_dpop_nonce"
    nonce = r.headers["DPoP-Nonce"]
    assert fired(r) == ["dpop_nonce"]
    # RFC 9449 §8: the client retries with the nonce; the success carries the next one.
    r = redeem(http, lab, key, code, verifier, nonce=nonce)
    assert r.status_code == 200, r.text
    assert r.headers["DPoP-Nonce"]
    assert fired(r) == []


@pytest.mark.parametrize("nonce", ["é", "\ud800", "x" * 500])
def test_odd_nonces_are_refused_with_use_dpop_nonce(lab, controls, http, fired, nonce):
    controls.only("dpop_nonce")
    code, verifier = authorize(lab)
    r = redeem(http, lab, DPoPKey(lab), code, verifier, nonce=nonce)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "use_dpop_nonce"
    assert fired(r) == ["dpop_nonce"]


def test_made_up_and_expired_nonces_are_refused(lab, controls, http, fired):
    controls.only("dpop_nonce")
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier, nonce="made-up")
    assert r.json()["error"] == "use_dpop_nonce"
    nonce = r.headers["DPoP-Nonce"]
    clock.advance(lab.store, 121)  # past the 120 s lifetime
    r = redeem(http, lab, key, code, verifier, nonce=nonce)
    assert r.status_code == 400
    assert r.json()["error"] == "use_dpop_nonce"
    assert r.headers["DPoP-Nonce"] != nonce
    assert fired(r) == ["dpop_nonce"]


# --- the bank ------------------------------------------------------------------------------------

def test_resource_proof_without_nonce_works_when_off(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    token = redeem(http, lab, key, code, verifier).json()["access_token"]
    r = bank_get(http, lab, key, token)
    assert r.status_code == 200, r.text
    assert "DPoP-Nonce" not in r.headers
    assert fired(r) == []


def test_resource_proof_without_nonce_gets_use_dpop_nonce_when_on(lab, controls, http, fired):
    controls.only("dpop_nonce")
    key = DPoPKey(lab)
    token = _token(lab, http, key)
    r = bank_get(http, lab, key, token)
    assert r.status_code == 401
    assert r.json()["error"] == "use_dpop_nonce"
    assert challenge(r).startswith('DPoP realm="HonestBank", error="use_dpop_nonce"')
    nonce = r.headers["DPoP-Nonce"]
    assert fired(r) == ["dpop_nonce"]
    r = bank_get(http, lab, key, token, nonce=nonce)
    assert r.status_code == 200, r.text
    assert r.headers["DPoP-Nonce"]
    assert fired(r) == []


def test_the_as_nonce_is_not_the_banks(lab, controls, http, fired):
    controls.only("dpop_nonce")
    key = DPoPKey(lab)
    token = _token(lab, http, key)
    r = bank_get(http, lab, key, token, nonce=_as_nonce(lab, http))
    assert r.status_code == 401
    assert r.json()["error"] == "use_dpop_nonce"
    assert fired(r) == ["dpop_nonce"]


def test_pregenerated_proof_retried_without_nonce_stays_refused(lab, controls, http, fired):
    """dpop-pregenerated-proof: RFC 9449 §11.3 — the refusal sticks until the nonce is used."""
    controls.only("dpop_nonce")
    key = DPoPKey(lab)
    token = _token(lab, http, key)
    for _ in range(2):
        r = bank_get(http, lab, key, token)
        assert r.status_code == 401
        assert fired(r) == ["dpop_nonce"]
