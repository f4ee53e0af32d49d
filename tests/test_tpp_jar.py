"""FinLens signs its authorization requests as request objects (RFC 9101): when its `request`
setting says jar / par+jar, and when the AS's discovery says require_signed_request_object."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlsplit

import pytest

from lab.tpp.driver import TppBrowser, user_agent
from tests.support.oauth import claims, header
from tests.support.tpp_fapi import restored_tpp_settings


@pytest.fixture
def tpp_settings(lab, controls):  # type: ignore[no-untyped-def]
    with restored_tpp_settings(lab) as tpp:
        yield tpp


def _link(lab):  # type: ignore[no-untyped-def]
    browser = TppBrowser(lab.config.tpp_url, str(lab.config.ca_cert_path))
    browser.sign_in(f"jar-{secrets.token_hex(3)}")
    url = browser.start_link()
    result = user_agent(lab.config, lab.store, "alice", accounts=("checking",)).authorize(url)
    assert result.callback_url, (result.response.status_code, result.response.text[:300])
    r = browser.deliver(result.callback_url)
    assert r.status_code == 303 and r.headers["Location"] == "/dashboard", r.text[:300]
    return dict(parse_qsl(urlsplit(url).query))


def test_jar_by_value_when_the_as_requires_it(lab, controls, tpp_settings, fired):
    controls.only("jar_required", "request_object_lifetime")
    query = _link(lab)
    assert set(query) == {"client_id", "request"}
    body = claims(query["request"])
    assert body["iss"] == "tpp" and body["aud"] == lab.config.issuer
    assert body["exp"] - body["nbf"] <= 3600 and body["redirect_uri"].endswith("/callback")
    assert header(query["request"])["typ"] == "oauth-authz-req+jwt"


def test_par_plus_jar_pushes_the_object(lab, controls, tpp_settings):
    controls.profile("fapi2-security")
    controls.registry.set({"jar_required": True, "request_object_lifetime": True})
    query = _link(lab)
    assert set(query) == {"client_id", "request_uri"}


def test_request_setting_jar_signs_without_the_as_asking(lab, controls, tpp_settings):
    controls.only()
    tpp_settings.set(request="jar")
    assert set(_link(lab)) == {"client_id", "request"}
