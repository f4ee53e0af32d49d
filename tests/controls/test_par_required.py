"""par_required: only client_id + a PAR request_uri at the authorization endpoint; PAR itself
authenticates the client and needs redirect_uri (RFC 9126 §2.1, §4, §5; FAPI2 §5.3.2.2)."""

from __future__ import annotations

import pytest

from tests.support.oauth import (
    assertion_params,
    authorize_pushed,
    client_assertion,
    client_key,
    par_authorization_url,
    pkce_pair,
    push,
    redeem_with_assertion,
    register,
    run,
    tpp_credentials,
    victim,
)


def _metadata(http, lab):
    return http.get(lab.config.as_url + "/.well-known/oauth-authorization-server").json()


def test_tampered_front_channel_request_is_honoured_when_off(lab, controls, fired):
    controls.only()
    # The attacker rewrote the URL: no PKCE, a wider scope. Nothing on the back channel
    # vouches for these parameters, yet the AS serves them.
    result = run(lab, scope="openid accounts:read transactions:read payments:write")
    assert result.code and result.response.status_code == 302
    assert fired(result.response) == []


def test_tampered_front_channel_request_is_refused_with_invalid_request_when_on(
        lab, controls, fired):
    controls.only("par_required")
    result = run(lab, scope="openid accounts:read transactions:read payments:write")
    # RFC 9126 §4: refused "using the invalid_request error code"; never redirected.
    assert result.response.status_code == 400 and result.callback_url is None
    assert result.error == "invalid_request"
    assert fired(result.response) == ["par_required"]


def _pushed_uri(http, lab):
    r = push(http, lab)
    assert r.status_code == 201, r.text
    return r.json()["request_uri"]


def test_parameters_beside_the_request_uri_are_ignored_when_off(lab, controls, http, fired):
    controls.only()
    url = par_authorization_url(lab, _pushed_uri(http, lab),
                                redirect_uri="https://127.0.0.1:9446/callback")
    result = victim(lab).authorize(url)
    # RFC 9101 §5: only the pushed parameters are used; the injected redirect_uri is not.
    assert result.code and result.callback_url.startswith(lab.config.tpp_url + "/callback")
    assert fired(result.response) == []


def test_parameters_beside_the_request_uri_are_refused_when_on(lab, controls, http, fired):
    controls.only("par_required")
    url = par_authorization_url(lab, _pushed_uri(http, lab),
                                redirect_uri="https://127.0.0.1:9446/callback")
    r = http.get(url, allow_redirects=False)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert fired(r) == ["par_required"]


def test_pushed_request_without_redirect_uri_is_accepted_when_off(lab, controls, http, fired):
    controls.only()
    # RFC 6749 §3.1.2.3: a client with ONE registered redirect URI may leave it out (FinLens
    # registers two: its link and its sign-in callbacks, so it must always name one).
    key, jwks = client_key()
    client_id = register(http, lab, token_endpoint_auth_method="private_key_jwt",
                         jwks=jwks)["client_id"]
    r = push(http, lab, auth=assertion_params(client_assertion(lab, client_id, key), client_id),
             client_id=client_id, redirect_uri=None)
    assert r.status_code == 201, r.text
    assert fired(r) == []


def test_pushed_request_without_redirect_uri_is_refused_when_on(lab, controls, http, fired):
    controls.only("par_required")
    r = push(http, lab, redirect_uri=None)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    assert r.headers["Cache-Control"] == "no-store"
    assert fired(r) == ["par_required"]


def test_pushed_flow_works_end_to_end_when_on(lab, controls, http):
    controls.only("par_required", "pkce_required")
    code, verifier = authorize_pushed(http, lab)
    r = redeem_with_assertion(http, lab, code, verifier)
    assert r.status_code == 200, r.text


def test_par_answers_201_with_a_urn_and_expires_in(lab, controls, http):
    controls.only("par_required")
    r = push(http, lab)
    assert r.status_code == 201
    body = r.json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert 0 < body["expires_in"] < 600
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("profile_on", [False, True])
def test_unknown_or_foreign_request_uri_is_refused_in_every_profile_without_event(
        lab, controls, http, fired, profile_on):
    controls.only("par_required") if profile_on else controls.only()
    for url in (par_authorization_url(lab, "urn:ietf:params:oauth:request_uri:nope"),
                par_authorization_url(lab, "garbage\"<>"),
                par_authorization_url(lab, _pushed_uri(http, lab), client_id="other")):
        r = http.get(url, allow_redirects=False)
        assert r.status_code == 400, url
        assert r.json()["error"] == "invalid_request_uri"
        assert fired(r) == []


def test_par_authenticates_the_client(lab, controls, http, fired):
    controls.only()
    assert push(http, lab, auth=None).status_code == 401
    wrong = push(http, lab, auth=("tpp", "wrong"))
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert push(http, lab, auth=tpp_credentials(lab)).status_code == 201
    other = client_assertion(lab, "tpp", aud="issuer")
    mismatch = push(http, lab, client_id="someone-else", auth={
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": other})
    assert mismatch.status_code in (400, 401)
    assert fired(mismatch) == []


def test_par_validates_like_the_authorization_endpoint(lab, controls, http, fired):
    controls.only("pkce_required", "exact_redirect_uri")
    bad_uri = push(http, lab, redirect_uri="https://127.0.0.1:9446/callback")
    # Never a redirect: the error goes back to the client that pushed.
    assert bad_uri.status_code == 400 and bad_uri.json()["error"] == "invalid_request"
    no_pkce = push(http, lab)
    assert no_pkce.status_code == 400 and no_pkce.json()["error"] == "invalid_request"
    assert fired(no_pkce) == ["pkce_required"]
    _, challenge = pkce_pair()
    nested = push(http, lab, code_challenge=challenge, code_challenge_method="S256",
                  request_uri="urn:ietf:params:oauth:request_uri:x")
    assert nested.status_code == 400 and nested.json()["error"] == "invalid_request"
    odd = push(http, lab, response_type="token", code_challenge=challenge,
               code_challenge_method="S256")
    assert odd.status_code == 400


def test_discovery_requires_par_only_while_on(lab, controls, http):
    controls.only()
    meta = _metadata(http, lab)
    assert meta["pushed_authorization_request_endpoint"] == lab.config.issuer + "/par"
    assert "require_pushed_authorization_requests" not in meta
    controls.only("par_required")
    meta = _metadata(http, lab)
    assert meta["require_pushed_authorization_requests"] is True
    assert meta["pushed_authorization_request_endpoint"] == lab.config.issuer + "/par"
