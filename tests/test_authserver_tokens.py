"""Tokens as docs/architecture.md fixes them: RFC 9068 access tokens, ID tokens, introspection,
userinfo, revocation."""

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support import dpop
from tests.support.oauth import (
    authorize,
    authorize_pushed,
    claims,
    header,
    tokens,
    tpp_credentials,
)


def fapi2_redeem(http, lab, code, verifier):
    """The token request of a FAPI 2.0 client: private_key_jwt and a DPoP proof."""
    r = dpop.redeem(http, lab, dpop.DPoPKey(lab), code, verifier,
                    client_auth=dpop.tpp_assertion(lab))
    assert r.status_code == 200, r.text
    return r.json()


def test_access_token_is_an_rfc9068_jwt_signed_by_the_as(lab, controls, http):
    controls.profile("fapi2-security")
    body = fapi2_redeem(http, lab, *authorize_pushed(http, lab))
    assert header(body["access_token"])["typ"] == "at+jwt"
    keyset = KeySet.import_key_set(http.get(lab.config.as_url + "/jwks").json())
    c = jwt.decode(body["access_token"], keyset, algorithms=["ES256"]).claims
    assert c["iss"] == lab.config.issuer and c["sub"] == "alice" and c["client_id"] == "tpp"
    assert c["aud"] == lab.config.bank_url
    assert {"jti", "iat", "exp", "auth_time", "grant_id", "scope"} <= set(c)


def test_access_token_has_no_audience_when_aud_check_is_off(lab, controls, http):
    controls.only()
    assert "aud" not in claims(tokens(http, lab, pkce=False)["access_token"])


def test_id_token_carries_nonce_at_hash_and_auth_time(lab, controls, http):
    controls.profile("fapi2-security")
    code, verifier = authorize_pushed(http, lab, nonce="n-123")
    body = fapi2_redeem(http, lab, code, verifier)
    c = claims(body["id_token"])
    assert header(body["id_token"])["alg"] == "ES256"
    assert c["nonce"] == "n-123" and c["aud"] == ["tpp"] and c["at_hash"] and c["auth_time"]


def test_consent_grants_only_the_chosen_accounts_and_permissions(lab, controls, http):
    from lab.domain import consent
    from tests.support.oauth import par_authorization_url, pkce_pair, push, victim
    controls.profile("fapi2-security")
    verifier, challenge = pkce_pair()
    pushed = push(http, lab, code_challenge=challenge, code_challenge_method="S256")
    assert pushed.status_code == 201, pushed.text
    result = victim(lab, accounts=("savings",), permissions=("balances",)).authorize(
        par_authorization_url(lab, pushed.json()["request_uri"]))
    assert result.code, result.params
    body = fapi2_redeem(http, lab, result.code, verifier)
    assert body["scope"] == "openid accounts:read offline_access"
    grant = consent.get_grant(lab.store, claims(body["access_token"])["grant_id"])
    assert list(grant["accounts"].values()) == [["balances"]]


def test_deny_returns_access_denied_to_the_client(lab, controls):
    from tests.support.oauth import authorization_url, victim
    controls.only()
    result = victim(lab, approve=False).authorize(authorization_url(lab, state="s1"))
    assert result.error == "access_denied" and result.state == "s1"


def test_introspection_and_userinfo(lab, controls, http):
    controls.only()
    body = tokens(http, lab, pkce=False)
    r = http.post(lab.config.as_url + "/introspect", data={"token": body["access_token"]},
                  auth=tpp_credentials(lab))
    data = r.json()
    assert data["active"] is True and data["sub"] == "alice" and data["client_id"] == "tpp"
    assert {"scope", "exp", "iat", "iss", "token_type"} <= set(data)
    info = http.get(lab.config.as_url + "/userinfo",
                    headers={"Authorization": "Bearer " + body["access_token"]})
    assert info.status_code == 200 and info.json()["sub"] == "alice"
    http.post(lab.config.as_url + "/revoke", data={"token": body["access_token"]},
              auth=tpp_credentials(lab))
    r = http.post(lab.config.as_url + "/introspect", data={"token": body["access_token"]},
                  auth=tpp_credentials(lab))
    assert r.json() == {"active": False}
    info = http.get(lab.config.as_url + "/userinfo",
                    headers={"Authorization": "Bearer " + body["access_token"]})
    assert info.status_code == 401 and "invalid_token" in info.headers["WWW-Authenticate"]


def test_tpp_may_use_client_secret_post(lab, controls, http):
    controls.only()
    code, _ = authorize(lab, pkce=False)
    client_id, secret = tpp_credentials(lab)
    r = http.post(lab.config.as_url + "/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": client_id,
        "client_secret": secret, "redirect_uri": lab.config.tpp_url + "/callback"})
    assert r.status_code == 200


def test_registration_survives_a_restart(lab, http):
    from lab.authserver import clients
    from lab.authserver.app import create_app, setup
    before = clients.get(lab.store, "tpp")
    setup(lab.config, lab.store)
    create_app(lab.config, lab.store)
    assert clients.get(lab.store, "tpp").client_secret == before.client_secret
