"""dpop_jkt_binding: a code bound to a DPoP key (dpop_jkt, or a proof at PAR) is redeemed only
with a proof from that key; at PAR dpop_jkt must match the proof (RFC 9449 §10, §10.1)."""

from __future__ import annotations

from lab.serving.in_process import RunningLab
from tests.support.dpop import DPoPKey, redeem
from tests.support.oauth import authorize, claims


def _push(http, lab: RunningLab, proof: str, **params):  # type: ignore[no-untyped-def]
    from tests.support.oauth import pkce_pair, push, tpp_credentials

    verifier, code_challenge = pkce_pair()
    http.headers["DPoP"] = proof
    try:
        r = push(http, lab, auth=tpp_credentials(lab), code_challenge=code_challenge,
                 code_challenge_method="S256", **params)
    finally:
        http.headers.pop("DPoP", None)
    return r, verifier


def _code_for(lab: RunningLab, request_uri: str) -> str:
    from tests.support.oauth import par_authorization_url, victim

    result = victim(lab).authorize(par_authorization_url(lab, request_uri))
    assert result.code, result.params
    return result.code


def _par_url(lab: RunningLab) -> str:
    return lab.config.as_url + "/par"


# --- dpop_jkt in the authorization request ----------------------------------------------------

def test_code_bound_with_dpop_jkt_redeems_with_another_key_when_off(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    code, verifier = authorize(lab, dpop_jkt=DPoPKey(lab).jkt)
    other = DPoPKey(lab)
    r = redeem(http, lab, other, code, verifier)
    assert r.status_code == 200, r.text
    # the token is bound, but to the redeemer's key, not the one the request named
    assert claims(r.json()["access_token"])["cnf"] == {"jkt": other.jkt}
    assert fired(r) == []


def test_code_bound_with_dpop_jkt_redeems_only_with_that_key_when_on(lab, controls, http, fired):
    controls.only("dpop_jkt_binding")  # requires dpop_bound_tokens, switched on with it
    key = DPoPKey(lab)
    code, verifier = authorize(lab, dpop_jkt=key.jkt)
    r = redeem(http, lab, DPoPKey(lab), code, verifier)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_jkt_binding"]
    r = redeem(http, lab, key, code, verifier)
    assert r.status_code == 200, r.text
    assert claims(r.json()["access_token"])["cnf"] == {"jkt": key.jkt}


def test_code_without_dpop_jkt_redeems_with_any_key_when_on(lab, controls, http, fired):
    controls.only("dpop_jkt_binding")
    code, verifier = authorize(lab)
    r = redeem(http, lab, DPoPKey(lab), code, verifier)
    assert r.status_code == 200, r.text
    assert fired(r) == []


# --- a proof at PAR (RFC 9449 §10.1) ------------------------------------------------------------

def test_proof_at_par_binds_the_code_to_its_key_when_on(lab, controls, http, fired):
    controls.only("dpop_jkt_binding")
    key = DPoPKey(lab)
    r, verifier = _push(http, lab, key.proof("POST", _par_url(lab)))
    assert r.status_code == 201, r.text
    code = _code_for(lab, r.json()["request_uri"])
    r = redeem(http, lab, DPoPKey(lab), code, verifier)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_jkt_binding"]
    assert redeem(http, lab, key, code, verifier).status_code == 200


def test_proof_at_par_does_not_bind_the_code_when_off(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    r, verifier = _push(http, lab, DPoPKey(lab).proof("POST", _par_url(lab)))
    assert r.status_code == 201, r.text
    code = _code_for(lab, r.json()["request_uri"])
    r = redeem(http, lab, DPoPKey(lab), code, verifier)
    assert r.status_code == 200, r.text
    assert fired(r) == []


def test_dpop_jkt_of_another_key_than_the_par_proof_is_accepted_when_off(lab, controls, http,
                                                                         fired):
    controls.only("dpop_bound_tokens")
    r, _ = _push(http, lab, DPoPKey(lab).proof("POST", _par_url(lab)),
                 dpop_jkt=DPoPKey(lab).jkt)
    assert r.status_code == 201, r.text
    assert fired(r) == []


def test_dpop_jkt_of_another_key_than_the_par_proof_is_refused_when_on(lab, controls, http,
                                                                       fired):
    controls.only("dpop_jkt_binding")
    r, _ = _push(http, lab, DPoPKey(lab).proof("POST", _par_url(lab)),
                 dpop_jkt=DPoPKey(lab).jkt)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_jkt_binding"]
