"""private_key_jwt_only: client_secret_basic/post and none are refused at the token, PAR,
revocation and introspection endpoints (FAPI2 §5.3.2.1; OIDC §9; BCP §2.5)."""

from __future__ import annotations

import pytest

from tests.support.oauth import (
    authorize,
    client_assertion,
    push,
    redeem,
    redeem_with_assertion,
    register,
    tpp_credentials,
)

ENDPOINTS = ("token", "par", "revoke", "introspect")


def _secret_request(http, lab, endpoint, method="basic"):
    """A request to `endpoint` authenticated the way a leaked secret allows."""
    client_id, secret = tpp_credentials(lab)
    if endpoint == "par":
        auth = (client_id, secret) if method == "basic" else \
            {"client_secret": secret}
        return push(http, lab, auth=auth)
    data = {"grant_type": "refresh_token", "refresh_token": "unknown"} \
        if endpoint == "token" else {"token": "unknown"}
    if method == "basic":
        return http.post(f"{lab.config.as_url}/{endpoint}", data=data, auth=(client_id, secret))
    return http.post(f"{lab.config.as_url}/{endpoint}",
                     data={**data, "client_id": client_id, "client_secret": secret})


def test_secret_authenticated_token_request_succeeds_when_off(lab, controls, http, fired):
    controls.only()
    code, verifier = authorize(lab)
    r = redeem(http, lab, code, verifier)          # client_secret_basic
    assert r.status_code == 200, r.text
    assert fired(r) == []


def test_secret_authenticated_token_request_is_refused_with_invalid_client_when_on(
        lab, controls, http, fired):
    controls.only()
    code, verifier = authorize(lab)
    controls.only("private_key_jwt_only")
    r = redeem(http, lab, code, verifier)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert r.headers["Cache-Control"] == "no-store"
    assert fired(r) == ["private_key_jwt_only"]
    # The code was not consumed by the refused request: the TPP's assertion redeems it.
    assert redeem_with_assertion(http, lab, code, verifier).status_code == 200


@pytest.mark.parametrize("method", ["basic", "post"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_secrets_pass_at_every_endpoint_when_off(lab, controls, http, fired, endpoint, method):
    controls.only()
    r = _secret_request(http, lab, endpoint, method)
    assert r.status_code != 401, r.text   # authenticated (token: invalid_grant for "unknown")
    assert fired(r) == []


@pytest.mark.parametrize("method", ["basic", "post"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_secrets_are_refused_at_every_endpoint_when_on(lab, controls, http, fired, endpoint,
                                                       method):
    controls.only("private_key_jwt_only")
    r = _secret_request(http, lab, endpoint, method)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert fired(r) == ["private_key_jwt_only"]


def test_public_client_without_authentication_is_refused_when_on(lab, controls, http, fired):
    controls.only()
    reg = register(http, lab, token_endpoint_auth_method="none",
                   redirect_uris=[lab.config.tpp_url + "/callback"])
    assert push(http, lab, client_id=reg["client_id"], auth=None).status_code == 201
    controls.only("private_key_jwt_only")
    r = push(http, lab, client_id=reg["client_id"], auth=None)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert fired(r) == ["private_key_jwt_only"]


def test_wrong_secret_is_refused_without_event_when_on(lab, controls, http, fired):
    controls.only("private_key_jwt_only")
    r = http.post(lab.config.as_url + "/revoke", data={"token": "x"}, auth=("tpp", "wrong"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert fired(r) == []       # refused anyway: the control made no difference


def test_private_key_jwt_is_accepted_when_on(lab, controls, http, fired):
    controls.only("private_key_jwt_only")
    assert push(http, lab).status_code == 201
    r = http.post(lab.config.as_url + "/revoke", data={
        "token": "x", "client_assertion_type":
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(lab)})
    assert r.status_code == 200 and fired(r) == []


@pytest.mark.parametrize("alg", ["HS256"])
def test_hmac_assertions_are_never_accepted(lab, controls, http, fired, alg):
    from joserfc.jwk import OctKey

    controls.only()
    key = OctKey.import_key(tpp_credentials(lab)[1])
    r = push(http, lab, auth={
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(lab, key=key, alg=alg)})
    assert r.status_code == 401 and fired(r) == []


def test_assertion_alg_outside_the_allow_list_fires_alg_allow_list(lab, controls, http, fired):
    controls.only("alg_allow_list")
    controls.param("alg_allow_list", "algorithms", ["PS256"])
    r = push(http, lab)                              # the TPP signs with ES256
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert fired(r) == ["alg_allow_list"]
    ps = push(http, lab, auth={
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": client_assertion(lab, alg="PS256")})
    assert ps.status_code == 201, ps.text


def test_discovery_lists_only_private_key_jwt_when_on(lab, controls, http):
    url = lab.config.as_url + "/.well-known/oauth-authorization-server"
    controls.only()
    meta = http.get(url).json()
    assert "client_secret_basic" in meta["token_endpoint_auth_methods_supported"]
    controls.only("private_key_jwt_only")
    meta = http.get(url).json()
    for key in ("token_endpoint_auth_methods_supported",
                "revocation_endpoint_auth_methods_supported",
                "introspection_endpoint_auth_methods_supported"):
        assert meta[key] == ["private_key_jwt"], key
    controls.only("private_key_jwt_only", "mtls_client_auth")
    assert http.get(url).json()["token_endpoint_auth_methods_supported"] == [
        "private_key_jwt", "tls_client_auth", "self_signed_tls_client_auth"]
