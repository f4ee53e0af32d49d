"""Numbers at the edges and deep nesting give a clear 4xx, never a 500: exp/iat of ±10**400 in
client assertions and DPoP proofs, nested JSON in JWTs, huge admin parameters, a clock moved
past year 9999."""

from __future__ import annotations

import base64
import json
import secrets
from typing import Any

import pytest
import requests
from joserfc.jws import JWSRegistry

from lab import clock
from lab.serving.in_process import RunningLab
from tests.support import dpop
from tests.support.bank_tokens import ensure_bank_knows_as_keys, mint
from tests.support.dpop import DPoPKey
from tests.support.oauth import (
    assertion_params,
    authorize,
    client_assertion,
    pkce_pair,
    push,
    tpp_key,
    tpp_redirect_uri,
)
from tests.test_admin import Admin

HUGE = [10**400, -(10**400), 10**30, 1e308]
HUGE_IDS = ["1e400", "-1e400", "1e30", "1e308"]
NESTED = "[" * 15_000 + "]" * 15_000  # under the 64 KiB body limit once base64-encoded
# In a header (DPoP) it must still fit the 32 KiB header limit; Python's json gives up at ~1000.
NESTED_HEADER = "[" * 10_000 + "]" * 10_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw_assertion(lab: RunningLab, payload: bytes, header: bytes | None = None) -> str:
    key = tpp_key(lab)
    protected = header or json.dumps({"alg": "ES256", "kid": key.thumbprint()}).encode()
    signing_input = _b64(protected) + "." + _b64(payload)
    # Signed over the exact bytes: no JSON encoder would produce 15 000 levels of nesting.
    signature = JWSRegistry.algorithms["ES256"].sign(signing_input.encode(), key)
    return signing_input + "." + _b64(signature)


def _nested_assertion(lab: RunningLab, where: str) -> str:
    now = clock.now_int(lab.store)
    body = json.dumps({"iss": "tpp", "sub": "tpp", "aud": lab.config.issuer,
                       "jti": secrets.token_urlsafe(8), "iat": now, "exp": now + 60})
    if where == "payload":
        return _raw_assertion(lab, (body[:-1] + ', "x": ' + NESTED + "}").encode())
    key = tpp_key(lab)
    header = ('{"alg": "ES256", "kid": "' + key.thumbprint() + '", "x": ' + NESTED + "}")
    return _raw_assertion(lab, body.encode(), header.encode())


def _assert_clear_4xx(r: requests.Response) -> None:
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])
    assert r.json()["error"], r.text


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", HUGE, ids=HUGE_IDS)
def test_huge_times_in_client_assertions_at_par_and_token(lab, controls, http, claim, value):
    controls.only("private_key_jwt_only", "client_assertion_jti_single_use",
                  "client_assertion_aud_check", "client_assertion_time_window")
    _, challenge = pkce_pair()
    assertion = client_assertion(lab, **{claim: value})
    r = push(http, lab, auth=assertion_params(assertion, "tpp"), code_challenge=challenge,
             code_challenge_method="S256")
    _assert_clear_4xx(r)
    r = http.post(lab.config.as_url + "/token", data={
        "grant_type": "authorization_code", "code": "nope", "redirect_uri": tpp_redirect_uri(lab),
        **assertion_params(client_assertion(lab, **{claim: value}), "tpp")})
    _assert_clear_4xx(r)


@pytest.mark.parametrize("where", ["payload", "header"])
def test_deeply_nested_client_assertions(lab, controls, http, where):
    controls.only("private_key_jwt_only")
    for path in ("/par", "/token"):
        r = http.post(lab.config.as_url + path, data={
            "grant_type": "client_credentials", "response_type": "code",
            **assertion_params(_nested_assertion(lab, where), "tpp")})
        _assert_clear_4xx(r)


@pytest.mark.parametrize("value", HUGE, ids=HUGE_IDS)
def test_huge_iat_in_dpop_proofs_at_token_and_bank(lab, controls, http, value):
    ensure_bank_knows_as_keys(lab)
    controls.only("dpop_bound_tokens", "dpop_iat_window", "dpop_jti_replay")
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = dpop.redeem(http, lab, key, code, verifier, iat=value)
    _assert_clear_4xx(r)
    token = dpop.dpop_tokens(http, lab, key)["access_token"]
    r = dpop.bank_get(http, lab, key, token, iat=value)
    _assert_clear_4xx(r)


def test_deeply_nested_dpop_proof_at_the_bank(lab, controls, http):
    ensure_bank_knows_as_keys(lab)
    controls.only("dpop_bound_tokens")
    token = dpop.dpop_tokens(http, lab, DPoPKey(lab))["access_token"]
    proof = _b64(b'{"typ": "dpop+jwt", "alg": "ES256", "x": ' + NESTED_HEADER.encode() + b"}") + \
        "." + _b64(b"{}") + "." + _b64(b"sig")
    r = dpop.bank_get(http, lab, None, token, proof=proof)
    _assert_clear_4xx(r)


@pytest.fixture
def admin(lab: RunningLab, http: requests.Session) -> Admin:
    return Admin(lab, http)


@pytest.mark.parametrize("value", [10**400, 10**30, 2**63, "1" + "0" * 400],
                         ids=["1e400", "1e30", "2^63", "text-1e400"])
def test_huge_admin_parameters_are_refused(lab, controls, http, admin, value):
    r = admin.post("/controls", {"params": {"short_access_token_lifetime": {"lifetime": value}}})
    assert r.status_code == 400, r.text
    # /token still works for everyone.
    controls.only("short_access_token_lifetime")
    from tests.support.oauth import tokens

    assert tokens(http, lab, pkce=False)["expires_in"] > 0


def test_the_clock_cannot_be_moved_past_what_dates_can_show(lab, controls, admin, http):
    for _ in range(3):
        r = admin.post("/clock/advance", {"seconds": 10 * 365 * 86400 - 1})
        assert r.status_code == 200
    refused = None
    for _ in range(1000):
        r = admin.post("/clock/advance", {"seconds": 10 * 365 * 86400 - 1})
        if r.status_code != 200:
            refused = r
            break
    assert refused is not None and refused.status_code == 400, "clock moved past year 9999"
    assert "year" in refused.json()["error_description"]
    minted: Any = mint(lab)
    assert minted.token
