"""dpop_bound_tokens: proofs at the token endpoint, cnf.jkt + token_type DPoP, and at the bank
`Authorization: DPoP` with a proof from the bound key (RFC 9449)."""

from __future__ import annotations

import base64
import json

import pytest

from lab.serving.in_process import RunningLab
from tests.support import dpop
from tests.support.bank_tokens import bearer, ensure_bank_knows_as_keys, mint
from tests.support.dpop import DPoPKey, bank_get, challenge, dpop_tokens, redeem
from tests.support.oauth import authorize, claims


@pytest.fixture(autouse=True)
def _bank_keys(lab: RunningLab) -> None:
    ensure_bank_knows_as_keys(lab)


def _metadata(http, lab):  # type: ignore[no-untyped-def]
    return http.get(lab.config.issuer + "/.well-known/oauth-authorization-server").json()


# --- the token endpoint -----------------------------------------------------------------------

def test_tokens_are_unbound_bearer_tokens_and_proofs_ignored_when_off(lab, controls, http, fired):
    controls.only()
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "Bearer"
    assert "cnf" not in claims(r.json()["access_token"])
    assert fired(r) == []
    assert "dpop_signing_alg_values_supported" not in _metadata(http, lab)
    assert "dpop_bound_access_tokens_required" not in _metadata(http, lab)


def test_the_as_announces_that_it_requires_dpop_when_on(lab, controls, http):
    """draft-emelia-oauth-as-metadata-dpop-required: the AS metadata twin of RFC 9728's
    dpop_bound_access_tokens_required, so a client can adapt instead of being refused."""
    controls.only("dpop_bound_tokens")
    assert _metadata(http, lab)["dpop_bound_access_tokens_required"] is True


def test_token_request_without_a_proof_is_refused_with_invalid_dpop_proof_when_on(
        lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    code, verifier = authorize(lab)
    r = redeem(http, lab, None, code, verifier)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_bound_tokens"]
    # The code was not consumed by the refused request: the client retries with a proof.
    assert redeem(http, lab, DPoPKey(lab), code, verifier).status_code == 200


def test_token_is_bound_to_the_proof_key_and_typed_dpop_when_on(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
    assert claims(r.json()["access_token"])["cnf"] == {"jkt": key.jkt}
    assert fired(r) == []
    # RFC 9449 §5.1: the algorithms proofs may use; the alg_allow_list's when it is on.
    assert "ES256" in _metadata(http, lab)["dpop_signing_alg_values_supported"]
    controls.set(alg_allow_list=True)
    assert _metadata(http, lab)["dpop_signing_alg_values_supported"] == ["PS256", "ES256",
                                                                          "EdDSA"]


# --- the bank ------------------------------------------------------------------------------------

def test_stolen_dpop_token_replayed_as_bearer_works_when_off(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    token = dpop_tokens(http, lab, DPoPKey(lab))["access_token"]
    controls.only()
    r = http.get(dpop.bank_url(lab, "/accounts"), headers=bearer(token))
    assert r.status_code == 200, r.text
    assert fired(r) == []


def test_stolen_dpop_token_replayed_as_bearer_is_refused_when_on(lab, controls, http, fired):
    controls.only("dpop_bound_tokens", "alg_allow_list")
    token = dpop_tokens(http, lab, DPoPKey(lab))["access_token"]
    r = http.get(dpop.bank_url(lab, "/accounts"), headers=bearer(token))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert challenge(r).startswith('DPoP realm="HonestBank", error="invalid_token"')
    assert 'algs="PS256 ES256 EdDSA"' in challenge(r)
    assert "Bearer" not in challenge(r)
    assert fired(r) == ["dpop_bound_tokens"]


def test_bound_token_with_a_proof_from_its_key_is_served(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    key = DPoPKey(lab)
    token = dpop_tokens(http, lab, key)["access_token"]
    r = bank_get(http, lab, key, token)
    assert r.status_code == 200, r.text
    assert r.json()["accounts"]
    assert fired(r) == []


def test_stolen_token_with_the_attackers_own_proof_is_refused_when_on(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    token = dpop_tokens(http, lab, DPoPKey(lab))["access_token"]
    r = bank_get(http, lab, DPoPKey(lab), token)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert challenge(r).startswith("DPoP ")
    assert fired(r) == ["dpop_bound_tokens"]


def test_unbound_bearer_token_is_refused_when_on_and_served_when_off(lab, controls, http, fired):
    token = mint(lab).token
    controls.only()
    assert http.get(dpop.bank_url(lab, "/accounts"), headers=bearer(token)).status_code == 200
    controls.only("dpop_bound_tokens")
    r = http.get(dpop.bank_url(lab, "/accounts"), headers=bearer(token))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
    assert fired(r) == ["dpop_bound_tokens"]
    r = bank_get(http, lab, DPoPKey(lab), token)
    assert r.status_code == 401
    assert fired(r) == ["dpop_bound_tokens"]


def test_missing_token_gets_a_bare_dpop_challenge_when_on(lab, controls, http, fired):
    controls.only("dpop_bound_tokens", "alg_allow_list")
    r = http.get(dpop.bank_url(lab, "/accounts"))
    assert r.status_code == 401
    assert challenge(r) == 'DPoP realm="HonestBank", algs="PS256 ES256 EdDSA"'
    assert fired(r) == []


# --- dpop_jkt (RFC 9449 §10; compared by dpop_jkt_binding, tests/controls/test_dpop_jkt_binding.py)

def test_dpop_jkt_is_ignored_when_off(lab, controls, http, fired):
    controls.only()
    code, verifier = authorize(lab, dpop_jkt=DPoPKey(lab).jkt)
    r = redeem(http, lab, DPoPKey(lab), code, verifier)
    assert r.status_code == 200, r.text
    assert fired(r) == []


# --- refresh (RFC 9449 §5) ----------------------------------------------------------------------

def test_refresh_needs_a_proof_and_binds_the_new_token_to_its_key_when_on(lab, controls, http,
                                                                         fired):
    controls.only("dpop_bound_tokens")
    refresh_token = dpop_tokens(http, lab, DPoPKey(lab))["refresh_token"]
    r = dpop.refresh(http, lab, None, refresh_token)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_bound_tokens"]
    # A confidential client's refresh token is not bound: a proof by a new key is fine.
    new_key = DPoPKey(lab)
    r = dpop.refresh(http, lab, new_key, refresh_token)
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
    assert claims(r.json()["access_token"])["cnf"] == {"jkt": new_key.jkt}


# --- bad input: a 4xx, never a 500 --------------------------------------------------------------

def _b64(data: dict) -> str:  # type: ignore[type-arg]
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _bad_proofs(lab: RunningLab, key: DPoPKey) -> dict[str, str]:
    url = dpop.token_url(lab)
    good = key.proof("POST", url)
    return {
        "garbage": "not a jwt",
        "two headers": good + ", " + key.proof("POST", url),
        "huge": "a" * 5000 + "." + "b" * 5000 + "." + "c" * 100,
        "private key in jwk": key.proof("POST", url, jwk=key.private_jwk),
        "alg none": _b64({"typ": "dpop+jwt", "alg": "none", "jwk": key.public_jwk}) + "."
        + _b64({"jti": "x", "htm": "POST", "htu": url, "iat": key.now()}) + ".",
        "alg HS256": _b64({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.public_jwk}) + "."
        + _b64({"jti": "x", "htm": "POST", "htu": url, "iat": key.now()}) + ".c2ln",
        "typ JWT": key.proof("POST", url, typ="JWT"),
        "no jwk": key.proof("POST", url, jwk=None),
        "jwk is a string": key.proof("POST", url, jwk="key"),
        "no jti": key.proof("POST", url, jti=None),
        "iat is a string": key.proof("POST", url, iat="now"),
        "bad signature": good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB"),
        "header not json": "e30x." + good.split(".", 1)[1],
        "deeply nested json": base64.urlsafe_b64encode(b"[" * 5000).rstrip(b"=").decode()
        + ".e30.c2ln",
        "jti with a lone surrogate": key.proof("POST", url, jti="\ud800"),
        "htu not a string": key.proof("POST", url, claims={"htu": ["x"]}),
        "jwk of type oct": key.proof("POST", url, jwk={"kty": "oct", "k": "c2VjcmV0"}),
        "jwk with a wrong curve": key.proof("POST", url, jwk={**key.public_jwk, "crv": "P-384"}),
    }


BAD_CASES = ["garbage", "two headers", "huge", "private key in jwk", "alg none", "alg HS256",
             "typ JWT", "no jwk", "jwk is a string", "no jti", "iat is a string",
             "bad signature", "header not json", "deeply nested json",
             "jti with a lone surrogate", "htu not a string", "jwk of type oct",
             "jwk with a wrong curve"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_proof_at_the_token_endpoint_is_invalid_dpop_proof(lab, controls, http, fired, case):
    controls.only("dpop_bound_tokens")
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    r = redeem(http, lab, key, code, verifier, proof=_bad_proofs(lab, key)[case])
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_bound_tokens"]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_proof_at_the_bank_is_invalid_dpop_proof(lab, controls, http, fired, case):
    controls.only("dpop_bound_tokens")
    key = DPoPKey(lab)
    token = dpop_tokens(http, lab, key)["access_token"]
    r = bank_get(http, lab, key, token, proof=_bad_proofs(lab, key)[case])
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_dpop_proof"
    assert challenge(r).startswith('DPoP realm="HonestBank", error="invalid_dpop_proof"')
    assert fired(r) == ["dpop_bound_tokens"]


def test_rs256_proof_is_refused_by_the_alg_allow_list(lab, controls, http, fired):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    controls.only("dpop_bound_tokens", "alg_allow_list")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    import jwt as pyjwt
    proof = pyjwt.encode({"jti": "rs", "htm": "POST", "htu": dpop.token_url(lab),
                          "iat": DPoPKey(lab).now()}, private, algorithm="RS256",
                         headers={"typ": "dpop+jwt", "jwk": public})
    code, verifier = authorize(lab)
    r = redeem(http, lab, None, code, verifier, proof=proof)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["alg_allow_list"]


def test_two_dpop_header_fields_are_refused(lab, controls, fired):
    """RFC 9449 §4.3 check 1: "not more than one DPoP HTTP request header field"."""
    import http.client
    import ssl
    from types import SimpleNamespace
    from urllib.parse import urlencode

    from requests.structures import CaseInsensitiveDict

    from tests.support.oauth import tpp_credentials, tpp_redirect_uri

    controls.only("dpop_bound_tokens")
    key = DPoPKey(lab)
    code, verifier = authorize(lab)
    body = urlencode({"grant_type": "authorization_code", "code": code,
                      "redirect_uri": tpp_redirect_uri(lab), "code_verifier": verifier or ""})
    basic = base64.b64encode(":".join(tpp_credentials(lab)).encode()).decode()
    context = ssl.create_default_context(cafile=str(lab.config.ca_cert_path))
    conn = http.client.HTTPSConnection(lab.config.host, lab.config.as_port, context=context)
    try:
        conn.putrequest("POST", "/token")
        for name, value in (("Content-Type", "application/x-www-form-urlencoded"),
                            ("Authorization", f"Basic {basic}"),
                            ("DPoP", key.proof("POST", dpop.token_url(lab))),
                            ("DPoP", key.proof("POST", dpop.token_url(lab))),
                            ("Content-Length", str(len(body)))):
            conn.putheader(name, value)
        conn.endheaders(body.encode())
        response = conn.getresponse()
        data = json.loads(response.read())
        headers = CaseInsensitiveDict(response.getheaders())
    finally:
        conn.close()
    assert response.status == 400
    assert data["error"] == "invalid_dpop_proof"
    assert fired(SimpleNamespace(headers=headers)) == ["dpop_bound_tokens"]


def test_password_grant_needs_a_proof_too_when_on(lab, controls, http, fired):
    from tests.support.oauth import credentials, register

    controls.only()
    client = credentials(register(http, lab, grant_types=["password"], redirect_uris=[]))
    controls.only("dpop_bound_tokens")
    data = {"grant_type": "password", "username": "alice", "password": "wonderland",
            "scope": "accounts:read"}
    r = http.post(dpop.token_url(lab), data=data, auth=client)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_bound_tokens"]
    key = DPoPKey(lab)
    r = http.post(dpop.token_url(lab), data=data, auth=client,
                  headers={"DPoP": key.proof("POST", dpop.token_url(lab))})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "DPoP"
    assert claims(r.json()["access_token"])["cnf"] == {"jkt": key.jkt}


# --- PAR (RFC 9449 §10.1) ------------------------------------------------------------------------

def _push(http, lab: RunningLab, proof: str | None, **params):  # type: ignore[no-untyped-def]
    from tests.support.oauth import pkce_pair, push, tpp_credentials

    verifier, code_challenge = pkce_pair()
    if proof is not None:
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


def test_proof_at_par_is_ignored_when_off(lab, controls, http, fired):
    controls.only()
    r, verifier = _push(http, lab, DPoPKey(lab).proof("POST", lab.config.as_url + "/par"))
    assert r.status_code == 201, r.text
    code = _code_for(lab, r.json()["request_uri"])
    assert redeem(http, lab, DPoPKey(lab), code, verifier).status_code == 200


def test_bad_proof_at_par_is_refused_when_on(lab, controls, http, fired):
    controls.only("dpop_bound_tokens")
    r, _ = _push(http, lab, "garbage", dpop_jkt=DPoPKey(lab).jkt)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_bound_tokens"]


def test_deeply_nested_access_token_is_invalid_token_not_a_500(lab, controls, http):
    controls.only("dpop_bound_tokens")
    token = base64.urlsafe_b64encode(b"[" * 5000).rstrip(b"=").decode() + ".e30.c2ln"
    r = bank_get(http, lab, DPoPKey(lab), token)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"
