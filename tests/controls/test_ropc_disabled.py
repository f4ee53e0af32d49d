"""ropc_disabled: grant_type=password is refused (BCP §2.4; FAPI2 §5.3.2.1)."""

from tests.support.oauth import credentials, register


def password_grant(http, lab, client, password="wonderland"):
    return http.post(lab.config.as_url + "/token", auth=client, data={
        "grant_type": "password", "username": "alice", "password": password,
        "scope": "accounts:read transactions:read"})


def test_password_grant_issues_tokens_when_off(lab, controls, http):
    controls.only()
    client = credentials(register(http, lab, grant_types=["password"], redirect_uris=[]))
    r = password_grant(http, lab, client)
    assert r.status_code == 200 and r.json()["scope"] == "accounts:read transactions:read"


def test_wrong_password_is_invalid_grant_without_event_when_off(lab, controls, http, fired):
    controls.only()
    client = credentials(register(http, lab, grant_types=["password"], redirect_uris=[]))
    r = password_grant(http, lab, client, password="guess")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant" and fired(r) == []


def test_password_grant_is_refused_with_unsupported_grant_type_when_on(
        lab, controls, http, fired):
    controls.only()
    client = credentials(register(http, lab, grant_types=["password"], redirect_uris=[]))
    controls.only("ropc_disabled")
    r = password_grant(http, lab, client)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    assert fired(r) == ["ropc_disabled"]


def test_discovery_drops_the_password_grant_when_on(lab, controls, http):
    url = lab.config.as_url + "/.well-known/openid-configuration"
    controls.only()
    assert "password" in http.get(url).json()["grant_types_supported"]
    controls.only("ropc_disabled")
    assert "password" not in http.get(url).json()["grant_types_supported"]
