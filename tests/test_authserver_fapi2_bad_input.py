"""Bad input at PAR, at the authorization endpoint's request_uri and in client assertions and
certificates: a 4xx with a constant description, never a 500 (style.md §9)."""

from __future__ import annotations

import base64
import json

import pytest

from lab.protocol import mtls_client_auth
from tests.support.oauth import (
    ASSERTION_TYPE,
    assertion_params,
    client_assertion,
    par_authorization_url,
    push,
)


def _b64(data: object) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


MALFORMED_ASSERTIONS = [
    "", "x", "a.b.c", "a.b", "..", "é.é.é", "x" * 20000,
    _b64({"alg": "none"}) + "." + _b64({"iss": "tpp", "sub": "tpp"}) + ".",
    _b64({"alg": "ES256"}) + "." + _b64(["not", "an", "object"]) + ".sig",
    _b64({"alg": "ES256"}) + "." + _b64({"sub": 5}) + ".sig",
    _b64({"alg": "ES256"}) + "." + _b64({"sub": "nobody"}) + ".sig",
    _b64({"alg": "ES256"}) + "." + _b64({"sub": "tpp"}) + "." + _b64(b"\x00" * 64),
    _b64(b"\xff\xfe") + "." + _b64(b"\xff") + ".sig",
]


@pytest.mark.parametrize("assertion", MALFORMED_ASSERTIONS)
def test_malformed_assertions_are_invalid_client(lab, controls, http, assertion):
    for profile in ("legacy", "fapi2-security"):
        controls.profile(profile)
        r = push(http, lab, auth={"client_assertion_type": ASSERTION_TYPE,
                                  "client_assertion": assertion})
        assert r.status_code == 401, (profile, r.text)
        body = r.json()
        assert body["error"] == "invalid_client"
        assert assertion[:20] not in body["error_description"] or not assertion


@pytest.mark.parametrize("claims", [
    {"exp": None}, {"exp": "soon"}, {"iss": "someone"}, {"iat": "now"},
    {"iat": 9_999_999_999}, {"nbf": 9_999_999_999}, {"aud": {"x": 1}}, {"jti": ["a"]},
])
def test_assertions_with_bad_claims_are_invalid_client(lab, controls, http, claims):
    controls.profile("fapi2-security")
    # iat/nbf far ahead: client_assertion_time_window (on in fapi2-security once marked)
    controls.registry.set({"client_assertion_time_window": True})
    r = push(http, lab, auth=assertion_params(client_assertion(lab, **claims)))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


@pytest.mark.parametrize("request_uri", [
    "", "urn:ietf:params:oauth:request_uri:", "urn:ietf:params:oauth:request_uri:" + "a" * 5000,
    "\"'<>\\", "é", "%00",
])
def test_garbage_request_uri_is_invalid_request_uri(lab, controls, http, request_uri):
    for profile in ("legacy", "fapi2-security"):
        controls.profile(profile)
        r = http.get(par_authorization_url(lab, request_uri), allow_redirects=False)
        assert r.status_code == 400, (profile, request_uri, r.text)
        assert r.json()["error"] == "invalid_request_uri"


@pytest.mark.parametrize("request_uri", ["https://evil.example/request.jwt", "HTTP://x/r"])
def test_request_uri_at_a_url_is_not_supported(lab, controls, http, request_uri):
    # RFC 9101 §5.2 / §6.2: the AS fetches no request object; only PAR's URNs count.
    for profile in ("legacy", "fapi2-security"):
        controls.profile(profile)
        r = http.get(par_authorization_url(lab, request_uri), allow_redirects=False)
        assert r.status_code == 400, (profile, request_uri, r.text)
        assert r.json()["error"] == "request_uri_not_supported"


def test_repeated_request_uri_is_refused(lab, controls, http):
    controls.only()
    r = http.get(lab.config.as_url + "/authorize?client_id=tpp&request_uri=a&request_uri=b",
                 allow_redirects=False)
    assert r.status_code == 400


@pytest.mark.parametrize("extra", [
    {"redirect_uri": "https://x/%22"}, {"code_challenge": "\"\\"},
    {"response_type": "code\ntoken"}, {"state": "x" * 9000}, {"client_id": ""},
])
def test_bad_pushed_parameters_are_4xx(lab, controls, http, extra):
    for profile in ("legacy", "fapi2-security"):
        controls.profile(profile)
        r = push(http, lab, **extra)
        assert 400 <= r.status_code < 500, (profile, extra, r.text)
        assert "\"" not in r.json()["error_description"]


def test_par_with_repeated_parameters_is_refused(lab, controls, http):
    controls.only()
    data = [("response_type", "code"), ("client_id", "tpp"), ("client_id", "tpp"),
            ("redirect_uri", lab.config.tpp_url + "/callback"),
            *assertion_params(client_assertion(lab)).items()]
    r = http.post(lab.config.as_url + "/par", data=data)
    assert r.status_code == 400


@pytest.mark.parametrize("pem", [None, "", "garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n"
                                 "-----END CERTIFICATE-----\n", 5])
def test_bogus_certificates_match_nothing(pem):
    assert mtls_client_auth.load_certificate(pem) is None
    assert mtls_client_auth.registered_keys({"keys": [{"kty": "EC", "x5c": ["%%%"]}]}) == set()
    assert mtls_client_auth.self_signed_pems({"keys": [{"x5c": [pem]}]}) == []
    assert mtls_client_auth.canonical_dn("=,=") is None
