"""short_access_token_lifetime: access tokens live 300 s, not 3600 s (FAPI2 §6.1). The AS only
issues them; the bank refuses expired ones (token_expiry_check)."""

from tests.support.oauth import claims, tokens


def test_access_token_lives_an_hour_when_off(lab, controls, http):
    controls.only()
    body = tokens(http, lab, pkce=False)
    c = claims(body["access_token"])
    assert body["expires_in"] == 3600 and c["exp"] - c["iat"] == 3600


def test_access_token_lives_five_minutes_when_on(lab, controls, http):
    controls.only("short_access_token_lifetime")
    body = tokens(http, lab, pkce=False)
    c = claims(body["access_token"])
    assert body["expires_in"] == 300 and c["exp"] - c["iat"] == 300
