"""revocation_cascade: withdrawing a grant kills its refresh tokens and access tokens
(RFC 7009 §2.1; FAPI2 §6.8)."""

from lab import context
from lab.domain import consent
from lab.domain.revocation import revoke_grant
from tests.support.oauth import claims, refresh, tokens, tpp_credentials


def withdraw(lab, access_token):
    grant_id = claims(access_token)["grant_id"]
    with context.bound(lab.store, "bank"):
        assert revoke_grant(lab.store, grant_id)


def at_revoked(lab, access_token):
    return consent.access_token_status(lab.store, claims(access_token)["jti"])["revoked"] == 1


def test_refresh_token_survives_a_withdrawn_grant_when_off(lab, controls, http):
    controls.only()
    body = tokens(http, lab, pkce=False)
    withdraw(lab, body["access_token"])
    assert refresh(http, lab, body["refresh_token"]).status_code == 200
    assert not at_revoked(lab, body["access_token"])


def test_refresh_token_of_a_withdrawn_grant_is_refused_with_invalid_grant_when_on(
        lab, controls, http, fired):
    controls.only("revocation_cascade")
    body = tokens(http, lab, pkce=False)
    withdraw(lab, body["access_token"])
    r = refresh(http, lab, body["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert fired(r) == ["revocation_cascade"]
    assert at_revoked(lab, body["access_token"])


def revoke_rt(http, lab, rt):
    r = http.post(lab.config.as_url + "/revoke", data={"token": rt,
                  "token_type_hint": "refresh_token"}, auth=tpp_credentials(lab))
    assert r.status_code == 200


def test_rfc7009_refresh_token_revocation_leaves_access_tokens_when_off(lab, controls, http):
    controls.only()
    body = tokens(http, lab, pkce=False)
    revoke_rt(http, lab, body["refresh_token"])
    assert refresh(http, lab, body["refresh_token"]).status_code == 400
    assert not at_revoked(lab, body["access_token"])


def test_rfc7009_refresh_token_revocation_withdraws_the_grant_when_on(lab, controls, http):
    controls.only("revocation_cascade")
    body = tokens(http, lab, pkce=False)
    revoke_rt(http, lab, body["refresh_token"])
    assert at_revoked(lab, body["access_token"])
    assert not consent.get_grant(lab.store, claims(body["access_token"])["grant_id"])["active"]
