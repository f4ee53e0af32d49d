"""UserInfo is a protected resource (OIDC Core §5.3): a sender-constrained token is checked there
exactly as at the bank (RFC 9449 §7, RFC 8705 §3), with the same controls' events."""

from __future__ import annotations

import requests

from lab.serving.in_process import RunningLab
from tests.support.dpop import DPoPKey, dpop_tokens


def _url(lab: RunningLab) -> str:
    return lab.config.as_url + "/userinfo"


def _dpop_get(http: requests.Session, lab: RunningLab, key: DPoPKey, token: str,
              scheme: str = "DPoP") -> requests.Response:
    proof = key.proof("GET", _url(lab), token=token)
    return http.get(_url(lab), headers={"Authorization": f"{scheme} {token}", "DPoP": proof})


def test_legitimate_dpop_holder_gets_the_claims(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    key = DPoPKey(lab)
    token = dpop_tokens(http, lab, key)["access_token"]
    r = _dpop_get(http, lab, key, token)
    if r.status_code == 401 and "use_dpop_nonce" in r.text:  # dpop_nonce (+extras): retry
        proof = key.proof("GET", _url(lab), token=token, nonce=r.headers["DPoP-Nonce"])
        r = http.get(_url(lab), headers={"Authorization": f"DPoP {token}", "DPoP": proof})
    assert r.status_code == 200, r.text
    assert r.json()["sub"] == "alice"


def test_stolen_dpop_token_as_bearer_is_refused(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    token = dpop_tokens(http, lab, DPoPKey(lab))["access_token"]
    r = http.get(_url(lab), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
    assert fired(r) == ["dpop_bound_tokens"]


def test_stolen_dpop_token_as_form_field_is_refused(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    token = dpop_tokens(http, lab, DPoPKey(lab))["access_token"]
    r = http.post(_url(lab), data={"access_token": token})
    assert r.status_code == 401, r.text
    assert fired(r) == ["dpop_bound_tokens"]


def test_stolen_dpop_token_with_the_thiefs_own_proof_is_refused(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    token = dpop_tokens(http, lab, DPoPKey(lab))["access_token"]
    r = _dpop_get(http, lab, DPoPKey(lab), token)
    assert r.status_code == 401, r.text
    assert fired(r) == ["dpop_bound_tokens"]


def test_dpop_bound_token_as_bearer_works_when_the_control_is_off(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    token = dpop_tokens(http, lab, DPoPKey(lab))["access_token"]
    controls.only()
    r = http.get(_url(lab), headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert fired(r) == []
