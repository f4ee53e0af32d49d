"""The client credentials grant (RFC 6749 §4.4): a token for the client itself, authenticated and
sender-constrained as the other grants are, with no refresh token, no ID token and no customer."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from lab import pki
from lab.authserver import clients
from lab.serving.in_process import RunningLab
from tests.support.dpop import DPoPKey, bank_get, challenge, token_url
from tests.support.oauth import (
    assertion_params,
    claims,
    client_assertion,
    client_key,
    credentials,
    register,
)

SCOPE = "accounts:read transactions:read"


def register_client(http: requests.Session, lab: RunningLab, **metadata: Any) -> dict[str, Any]:
    """A client registered for client_credentials only (no redirect URIs), as a load test does."""
    body = {"grant_types": ["client_credentials"], "redirect_uris": [], "scope": SCOPE,
            **metadata}
    return register(http, lab, **body)


def secret_form(registration: dict[str, Any]) -> dict[str, str]:
    client_id, secret = credentials(registration)
    return {"client_id": client_id, "client_secret": secret}


def request_token(http: requests.Session, lab: RunningLab, form: dict[str, str], *,
                  key: DPoPKey | None = None, cert: Any = None) -> requests.Response:
    headers = {"DPoP": key.proof("POST", token_url(lab))} if key else {}
    return http.post(token_url(lab), data={"grant_type": "client_credentials", **form},
                     headers=headers, cert=cert)


def key_client(http: requests.Session, lab: RunningLab) -> tuple[Any, str]:
    """A private_key_jwt client for client_credentials: (its signing key, its client_id)."""
    key, jwks = client_key()
    reg = register_client(http, lab, token_endpoint_auth_method="private_key_jwt", jwks=jwks)
    return key, reg["client_id"]


def test_discovery_lists_the_grant_and_registration_accepts_it(lab, controls, http):
    for profile in ("legacy", "fapi2-security"):
        controls.profile(profile)
        meta = http.get(lab.config.as_url + "/.well-known/oauth-authorization-server").json()
        assert "client_credentials" in meta["grant_types_supported"]
    reg = register_client(http, lab)
    assert reg["grant_types"] == ["client_credentials"] and reg["response_types"] == []


def test_a_public_client_cannot_register_for_the_grant(lab, http):
    r = http.post(lab.config.as_url + "/register", json={
        "grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata"


def test_client_secret_post_gets_a_token_whose_subject_is_the_client(lab, controls, http, fired):
    controls.profile("oauth2")
    reg = register_client(http, lab, token_endpoint_auth_method="client_secret_post")
    r = request_token(http, lab, {**secret_form(reg), "scope": "accounts:read"})
    assert r.status_code == 200, r.text
    assert fired(r) == []
    body = r.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "accounts:read"
    # RFC 6749 §4.4.3: no refresh token; no end user, so no ID token either.
    assert "refresh_token" not in body and "id_token" not in body
    c = claims(body["access_token"])
    # RFC 9068 §2.2: sub names the client when no resource owner is involved.
    assert c["sub"] == c["client_id"] == reg["client_id"]
    assert c["aud"] == lab.config.bank_url and c["scope"] == "accounts:read"
    assert not {"grant_id", "auth_time", "acr", "cnf"} & set(c)
    # The AS records the token with no customer behind it.
    introspected = http.post(lab.config.as_url + "/introspect",
                             data={"token": body["access_token"], **secret_form(reg)}).json()
    assert introspected["active"] is True and introspected["sub"] == reg["client_id"]


def test_omitted_scope_defaults_to_the_registered_scopes_without_end_user_ones(
        lab, controls, http):
    controls.profile("oauth2")
    reg = register_client(http, lab, token_endpoint_auth_method="client_secret_post",
                          scope="openid accounts:read offline_access")
    r = request_token(http, lab, secret_form(reg))
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "accounts:read"


def test_private_key_jwt_with_a_dpop_proof_gets_a_dpop_bound_token(lab, controls, http, fired):
    controls.profile("fapi2-security")
    key, client_id = key_client(http, lab)
    dpop_key = DPoPKey(lab)
    r = request_token(http, lab, assertion_params(client_assertion(lab, client_id, key),
                                                  client_id), key=dpop_key)
    assert r.status_code == 200, r.text
    assert fired(r) == []
    body = r.json()
    assert body["token_type"] == "DPoP" and "refresh_token" not in body
    c = claims(body["access_token"])
    # RFC 9449 §6.1: bound to the proof's key.
    assert c["cnf"] == {"jkt": dpop_key.jkt} and c["sub"] == client_id
    assert c["scope"] == SCOPE


def test_fapi2_security_applies_the_token_endpoint_controls(lab, controls, http, fired):
    # Registered while secrets are accepted (fapi2-security refuses to register them at all).
    controls.profile("oauth2")
    reg = register_client(http, lab, token_endpoint_auth_method="client_secret_post")
    controls.profile("fapi2-security")
    r = request_token(http, lab, secret_form(reg), key=DPoPKey(lab))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert fired(r) == ["private_key_jwt_only"]
    key, client_id = key_client(http, lab)
    r = request_token(http, lab, assertion_params(client_assertion(lab, client_id, key),
                                                  client_id))
    assert r.status_code == 400 and r.json()["error"] == "invalid_dpop_proof"
    assert fired(r) == ["dpop_bound_tokens"]


def test_replayed_client_assertion_is_refused(lab, controls, http, fired):
    controls.profile("fapi2-security")
    key, client_id = key_client(http, lab)
    form = assertion_params(client_assertion(lab, client_id, key), client_id)
    first = request_token(http, lab, form, key=DPoPKey(lab))
    assert first.status_code == 200, first.text
    again = request_token(http, lab, form, key=DPoPKey(lab))
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    assert fired(again) == ["client_assertion_jti_single_use"]


def test_certificate_bound_token_over_mutual_tls(lab, controls, http, fired):
    controls.profile("fapi2-security")
    controls.set(mtls_client_auth=True, mtls_bound_tokens=True)
    pair = pki.client_cert(lab.config.pki_dir, "attacker")
    reg = register_client(http, lab, token_endpoint_auth_method="tls_client_auth",
                          tls_client_auth_subject_dn=clients.subject_dn(pair.cert.read_text()))
    r = request_token(http, lab, {"client_id": reg["client_id"]},
                      cert=(str(pair.cert), str(pair.key)))
    assert r.status_code == 200, r.text
    assert fired(r) == []
    assert r.json()["token_type"] == "Bearer" and "refresh_token" not in r.json()
    # RFC 8705 §3.1: bound to the certificate the client authenticated with.
    thumbprint = pki.thumbprint_s256(pair.cert.read_bytes())
    assert claims(r.json()["access_token"])["cnf"] == {"x5t#S256": thumbprint}


def test_client_without_the_grant_is_unauthorized_client(lab, controls, http):
    controls.profile("oauth2")
    reg = register(http, lab, token_endpoint_auth_method="client_secret_post")
    assert "client_credentials" not in reg["grant_types"]
    r = request_token(http, lab, {**secret_form(reg), "scope": "accounts:read"})
    assert r.status_code == 400 and r.json()["error"] == "unauthorized_client"


@pytest.mark.parametrize("scope", ["payments:write", "accounts:read payments:write", "openid",
                                   "offline_access", "no-such-scope"])
def test_scope_beyond_the_registered_ones_is_invalid_scope(lab, controls, http, scope):
    controls.profile("oauth2")
    reg = register_client(http, lab, token_endpoint_auth_method="client_secret_post",
                          scope="openid accounts:read offline_access")
    r = request_token(http, lab, {**secret_form(reg), "scope": scope})
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


def test_bank_refuses_a_client_token_on_customer_endpoints(lab, controls, http):
    controls.profile("fapi2-security")
    key, client_id = key_client(http, lab)
    dpop_key = DPoPKey(lab)
    token = request_token(http, lab, assertion_params(client_assertion(lab, client_id, key),
                                                      client_id), key=dpop_key)
    assert token.status_code == 200, token.text
    access_token = token.json()["access_token"]
    for path in ("/accounts", "/accounts/x/balances", "/accounts/x/transactions"):
        r = bank_get(http, lab, dpop_key, access_token, path)
        assert r.status_code == 403 and r.json()["error"] == "insufficient_scope", (path, r.text)
        assert 'error="insufficient_scope"' in challenge(r)


def test_bank_refuses_a_client_token_with_every_control_off(lab, controls, http):
    controls.only()
    reg = register_client(http, lab, token_endpoint_auth_method="client_secret_post")
    token = request_token(http, lab, secret_form(reg))
    assert token.status_code == 200, token.text
    r = http.get(lab.config.bank_url + "/accounts",
                 headers={"Authorization": "Bearer " + token.json()["access_token"]})
    assert r.status_code == 403 and r.json()["error"] == "insufficient_scope", r.text
