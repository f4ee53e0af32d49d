"""code_client_binding: a code is redeemed only by its client, with its redirect_uri
(RFC 6749 §4.1.3)."""

from tests.support.oauth import authorize, credentials, redeem, register


def test_another_client_redeems_the_tpp_code_when_off(lab, controls, http):
    controls.only()
    attacker = register(http, lab)
    code, _ = authorize(lab, pkce=False)
    r = redeem(http, lab, code, client=credentials(attacker),
               redirect_uri=attacker["redirect_uris"][0])
    assert r.status_code == 200 and r.json()["access_token"]


def test_another_client_is_refused_with_invalid_grant_when_on(lab, controls, http, fired):
    controls.only("code_client_binding")
    attacker = register(http, lab)
    code, _ = authorize(lab, pkce=False)
    r = redeem(http, lab, code, client=credentials(attacker),
               redirect_uri=attacker["redirect_uris"][0])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert fired(r) == ["code_client_binding"]
    assert redeem(http, lab, code).status_code == 200


def test_other_redirect_uri_is_refused_when_on(lab, controls, http, fired):
    controls.only("code_client_binding")
    code, _ = authorize(lab, pkce=False)
    r = redeem(http, lab, code, redirect_uri="https://127.0.0.1:9446/callback")
    assert r.status_code == 400 and fired(r) == ["code_client_binding"]
