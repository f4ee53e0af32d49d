"""refresh_scope_check: a refresh may not add scope (RFC 6749 §6)."""

from tests.support.oauth import refresh, tokens


def test_refresh_adds_payments_scope_when_off(lab, controls, http):
    controls.only()
    rt = tokens(http, lab, pkce=False)["refresh_token"]
    r = refresh(http, lab, rt, scope="accounts:read payments:write")
    assert r.status_code == 200 and "payments:write" in r.json()["scope"].split()


def test_refresh_with_more_scope_is_refused_with_invalid_scope_when_on(lab, controls, http, fired):
    controls.only("refresh_scope_check")
    rt = tokens(http, lab, pkce=False)["refresh_token"]
    r = refresh(http, lab, rt, scope="accounts:read payments:write")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    assert fired(r) == ["refresh_scope_check"]


def test_refresh_may_narrow_the_scope_when_on(lab, controls, http):
    controls.only("refresh_scope_check")
    rt = tokens(http, lab, pkce=False)["refresh_token"]
    r = refresh(http, lab, rt, scope="accounts:read")
    assert r.status_code == 200 and r.json()["scope"] == "accounts:read"
