"""Bad input to the AS gives 4xx, never a 500 (style.md §9)."""

import pytest

from tests.support.oauth import authorization_url

BAD_AUTH = ["Basic", "Basic ###", "Basic w6k=", "Basic " + "é", "Bearer x", "Basic Og=="]
GARBAGE = ["", "\"", "\\", "é", "a" * 5000, "x.y.z", "eyJhbGciOiJub25lIn0.e30."]


@pytest.mark.parametrize("path", ["/token", "/revoke", "/introspect", "/register", "/userinfo",
                                  "/login", "/mfa", "/consent"])
@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_form_posts_are_4xx(lab, http, path, value):
    data = [(k, value) for k in ("grant_type", "code", "token", "refresh_token", "client_id",
                                 "client_secret", "client_assertion", "client_assertion_type",
                                 "pending", "username", "password", "code_verifier", "scope")]
    r = http.post(lab.config.as_url + path, data=data + data)
    assert 400 <= r.status_code < 500, (path, value, r.status_code, r.text[:200])


@pytest.mark.parametrize("auth", BAD_AUTH)
def test_malformed_authorization_headers_are_4xx(lab, http, auth):
    for path in ("/token", "/revoke", "/introspect", "/userinfo", "/register/tpp"):
        r = http.post(lab.config.as_url + path, headers={"Authorization": auth.encode("latin-1")},
                      data={"grant_type": "authorization_code", "code": "x", "token": "x"})
        assert 400 <= r.status_code < 500, (path, auth, r.status_code, r.text[:200])


@pytest.mark.parametrize("params", [
    {"response_type": "code\""}, {"response_type": "tokén"}, {"client_id": "nobody"},
    {"client_id": None}, {"scope": "openid \"x\""}, {"state": "é\""},
    {"code_challenge": "short", "code_challenge_method": "S256"},
    {"code_challenge_method": "S999"},
    {"response_mode": "bogus\"", "response_type": "code id_token"},
    {"prompt": "none"}, {"redirect_uri": "https://x/%22"}, {"redirect_uri": ""},
])
@pytest.mark.parametrize("profile", ["legacy", "fapi2-security"])
def test_bad_authorization_requests_are_4xx_or_error_redirects(lab, controls, http, params,
                                                                 profile):
    controls.profile(profile)
    r = http.get(authorization_url(lab, **params), allow_redirects=False)
    assert r.status_code in (200, 302, 400, 401), (params, r.status_code, r.text[:300])
    if r.status_code == 302:
        assert "error=" in r.headers["Location"]


def test_duplicated_authorization_parameters_are_refused(lab, http):
    url = authorization_url(lab) + "&client_id=tpp&state=again"
    r = http.get(url, allow_redirects=False)
    assert r.status_code in (302, 400)


def test_oversized_body_is_413(lab, http):
    r = http.post(lab.config.as_url + "/token", data={"code": "x" * 70_000})
    assert r.status_code == 413


def test_json_to_the_token_endpoint_is_a_4xx(lab, http):
    r = http.post(lab.config.as_url + "/token", json={"grant_type": "authorization_code"})
    assert r.status_code == 400
