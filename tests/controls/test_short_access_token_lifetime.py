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


def _accounts_twenty_minutes_later(lab, http, access_token):
    from lab import clock

    clock.advance(lab.store, 20 * 60)
    return http.get(lab.config.bank_url + "/accounts",
                    headers={"Authorization": f"Bearer {access_token}"})


def test_token_replayed_twenty_minutes_later_still_works_when_off(lab, controls, http):
    controls.only("token_expiry_check")
    body = tokens(http, lab, pkce=False)
    late = _accounts_twenty_minutes_later(lab, http, body["access_token"])
    assert late.status_code == 200, late.text


def test_token_replayed_twenty_minutes_later_is_refused_via_expiry_check_when_on(
        lab, controls, http, fired):
    controls.only("short_access_token_lifetime")   # brings token_expiry_check (requires)
    body = tokens(http, lab, pkce=False)
    late = _accounts_twenty_minutes_later(lab, http, body["access_token"])
    assert late.status_code == 401 and late.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in late.headers["WWW-Authenticate"]
    # fires_via: the catalog attributes this control's refusals to token_expiry_check.
    assert fired(late) == ["token_expiry_check"]
