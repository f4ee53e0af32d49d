"""dpop_iat_window: a proof's iat must lie in [now − 60 s, now + 10 s] on the lab clock (RFC 9449
§4.3, §11.1; FAPI2 §5.3.2.1)."""

from __future__ import annotations

import pytest

from lab import clock
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import ensure_bank_knows_as_keys
from tests.support.dpop import DPoPKey, bank_get, bank_url, challenge, dpop_tokens, redeem
from tests.support.oauth import authorize


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def test_two_minute_old_token_request_proof_works_when_off(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier, iat=key.now() - 120)
    assert r.status_code == 200, r.text
    assert fired(r) == []


def test_two_minute_old_token_request_proof_is_refused_when_on(lab, controls, http, fired):
    controls.only("dpop_iat_window")
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier, iat=key.now() - 120)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_iat_window"]


@pytest.mark.parametrize(("offset", "accepted"), [(-50, True), (-75, False), (5, True),
                                                   (30, False)])
def test_window_is_sixty_seconds_back_and_ten_ahead(lab, controls, http, fired, offset, accepted):
    controls.only("dpop_iat_window")
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier, iat=key.now() + offset)
    assert (r.status_code == 200) is accepted, r.text
    assert fired(r) == ([] if accepted else ["dpop_iat_window"])


def test_window_follows_the_past_param(lab, controls, http, fired):
    controls.only("dpop_iat_window")
    controls.param("dpop_iat_window", "past", 300)
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier, iat=key.now() - 120)
    assert r.status_code == 200, r.text


def _stale_request(lab: RunningLab, http, key: DPoPKey):  # type: ignore[no-untyped-def]
    """dpop-stale-proof: a captured resource request replayed 90 s later (lab clock)."""
    token = dpop_tokens(http, lab, key)["access_token"]
    proof = key.proof("GET", bank_url(lab, "/accounts"), token=token)
    clock.advance(lab.store, 90)
    return bank_get(http, lab, key, token, proof=proof)


def test_stale_resource_proof_works_when_off(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    r = _stale_request(lab, http, DPoPKey(lab))
    assert r.status_code == 200, r.text
    assert fired(r) == []


def test_stale_resource_proof_is_refused_with_invalid_dpop_proof_when_on(lab, controls, http,
                                                                         fired):
    controls.only("dpop_iat_window")
    r = _stale_request(lab, http, DPoPKey(lab))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_dpop_proof"
    assert challenge(r).startswith('DPoP realm="HonestBank", error="invalid_dpop_proof"')
    assert fired(r) == ["dpop_iat_window"]
