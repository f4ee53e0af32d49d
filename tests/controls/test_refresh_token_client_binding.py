"""refresh_token_client_binding: a refresh token works only for its client (RFC 6749 §6)."""

from tests.support.oauth import credentials, refresh, register, tokens


def test_another_client_uses_the_tpp_refresh_token_when_off(lab, controls, http):
    controls.only()
    attacker = register(http, lab)
    rt = tokens(http, lab, pkce=False)["refresh_token"]
    r = refresh(http, lab, rt, client=credentials(attacker))
    assert r.status_code == 200 and r.json()["access_token"]


def test_another_client_is_refused_with_invalid_grant_when_on(lab, controls, http, fired):
    controls.only("refresh_token_client_binding")
    attacker = register(http, lab)
    rt = tokens(http, lab, pkce=False)["refresh_token"]
    r = refresh(http, lab, rt, client=credentials(attacker))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert fired(r) == ["refresh_token_client_binding"]
    assert refresh(http, lab, rt).status_code == 200
