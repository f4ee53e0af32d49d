""""Sign in with your bank" at FinLens (OIDC Core §3.1 code flow, §3.3 hybrid for legacy):
who signs in is the ID token's (iss, sub), checked by the TPP controls; bad input at the
sign-in callback gets a readable 4xx page."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from lab.tpp.driver import TppBrowser, user_agent
from tests.support.tpp_fapi import restored_tpp_settings


@pytest.fixture
def tpp_settings(lab, controls):  # type: ignore[no-untyped-def]
    with restored_tpp_settings(lab) as tpp:
        yield tpp


def _sign_in(lab, username="alice"):  # type: ignore[no-untyped-def]
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    url = browser.sign_in_with_bank()
    result = user_agent(lab.config, lab.store, username).authorize(url)
    assert result.callback_url, result.params
    response = browser.deliver(result.callback_url)
    return browser, url, result, response


@pytest.mark.parametrize("profile", ["fapi2-security", "oauth2"])
def test_signs_in_with_the_code_flow(lab, controls, tpp_settings, profile):  # type: ignore[no-untyped-def]
    controls.profile(profile)
    browser, url, result, response = _sign_in(lab)
    assert response.status_code == 303 and response.headers["Location"] == "/dashboard", \
        response.text[:400]
    assert "code" in result.params and "id_token" not in result.params
    if profile == "fapi2-security":   # FAPI2 §5.3.3.1: PAR, only client_id and request_uri
        assert {k for k, _ in parse_qsl(urlsplit(url).query)} == {"client_id", "request_uri"}
    assert browser.identity() == (lab.config.issuer, "alice")


def test_legacy_signs_in_with_the_hybrid_flow(lab, controls, tpp_settings):  # type: ignore[no-untyped-def]
    controls.profile("legacy")
    browser, url, result, response = _sign_in(lab)
    assert dict(parse_qsl(urlsplit(url).query))["response_type"] == "code id_token"
    assert "id_token" in result.params and "#" in (result.callback_url or "")
    assert response.status_code == 303, response.text[:400]
    assert browser.identity() == (lab.config.issuer, "alice")


def test_the_same_person_reaches_the_same_account_and_others_their_own(  # type: ignore[no-untyped-def]
        lab, controls, tpp_settings):
    controls.profile("fapi2-security")
    first, *_ = _sign_in(lab)
    again, *_ = _sign_in(lab)
    bob, *_ = _sign_in(lab, "mallory")
    page = first.http.get(first.url("/dashboard")).text
    assert "alice@honestbank" in page
    assert again.http.get(again.url("/dashboard")).text.count("alice@honestbank") >= 1
    assert bob.identity() == (lab.config.issuer, "mallory")


def test_hybrid_with_validation_checks_c_hash(lab, controls, tpp_settings, fired):  # type: ignore[no-untyped-def]
    """OIDC §3.3.2.11: the front-channel ID token's c_hash must be the code's."""
    controls.only("tpp_id_token_validation")
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    result = user_agent(lab.config, lab.store, "alice").authorize(browser.sign_in_with_bank())
    swapped = browser.post_callback({**result.params, "code": "another-code"},
                                    "/signin/callback")
    assert swapped.status_code == 400 and fired(swapped) == ["tpp_id_token_validation"], \
        (result.params.keys(), swapped.text[:600])
    assert browser.identity() is None


BAD = [
    ("GET", "/signin/callback?code=", None),
    ("GET", "/signin/callback?state=", None),
    ("GET", "/signin/callback?code=a&code=b&state=s", None),
    ("GET", "/signin/callback?error=access_denied&state=x", None),
    ("GET", "/signin/callback?id_token=not.a.jwt&state=x", None),
    ("GET", "/signin/callback?id_token=e30.e30.&code=x", None),
    ("POST", "/signin/callback", {"id_token": "a.b.c", "code": "x", "state": "y"}),
    ("POST", "/signin/callback", {"id_token": "x" * 9000}),
    ("POST", "/signin/callback", {"code": "\x00\xe9", "state": "\u202e"}),
    ("POST", "/signin/bank/nope", None),
]


@pytest.mark.parametrize("profile", ["legacy", "fapi2-security"])
def test_bad_input_at_the_signin_callback_gets_a_readable_page(  # type: ignore[no-untyped-def]
        lab, controls, tpp_settings, http, profile):
    controls.profile(profile)
    for method, path, data in BAD:
        response = http.request(method, lab.config.tpp_url + path, data=data,
                                headers={"Accept": "text/html"}, allow_redirects=False)
        assert 400 <= response.status_code < 500, (path, response.status_code,
                                                    response.text[:300])
        assert "<html" in response.text.lower(), path
