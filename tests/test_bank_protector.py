"""How the bank takes and verifies tokens: header only, RFC 6750 challenges, iss, the AS keys."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests

from lab import context
from lab.config import LabConfig
from lab.protocol.issuer_keys import AuthorizationServerKeys, KeysUnavailable
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import (
    as_private_keys,
    bearer,
    claims_for,
    ensure_bank_knows_as_keys,
    mint,
)

BANK_CONTROLS = ("token_expiry_check", "at_revocation_check", "aud_check", "scope_check",
                 "consent_per_account", "alg_allow_list", "trusted_keys_only")


@pytest.fixture(autouse=True)
def _bank_controls(lab: RunningLab, controls) -> None:  # type: ignore[no-untyped-def]
    ensure_bank_knows_as_keys(lab)
    controls.only(*BANK_CONTROLS)


def _accounts(lab: RunningLab) -> str:
    return lab.config.bank_url + "/accounts"


@pytest.mark.parametrize("authorization", [None, "Basic dHBwOnNlY3JldA==", "DPoP abc", ""])
def test_request_without_a_bearer_token_gets_a_bare_challenge(lab, http, fired, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    r = http.get(_accounts(lab), headers=headers)
    assert r.status_code == 401
    # RFC 6750 §3.1: no error code when the request lacks authentication information.
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="HonestBank"'
    assert r.json()["error"] == "unauthorized"
    assert fired(r) == []


def test_token_in_the_query_is_refused_even_when_valid(lab, http):
    token = mint(lab).token
    r = http.get(_accounts(lab), params={"access_token": token})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"
    assert 'error="invalid_request"' in r.headers["WWW-Authenticate"]
    r = http.get(_accounts(lab), params={"access_token": token}, headers=bearer(token))
    assert r.status_code == 400


def test_token_in_a_form_body_is_refused(lab, http):
    r = http.post(lab.config.bank_url + "/payments", data={"access_token": mint(lab).token})
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


GARBAGE = ["x", "a.b.c", "..", "e30.e30.", "e30.e30.e30", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA",
           _b64(b'{"alg":"ES256","kid":"nope"}') + ".e30." + _b64(b"sig"),
           _b64(b'{"alg":"ES256","jwk":{"kty":"EC"}}') + ".e30.AA",
           _b64(b'{"alg":["RS256"]}') + ".e30.", "x" * 9000, "tok en", "ü.ü.ü"]


@pytest.mark.parametrize("token", GARBAGE)
def test_garbage_tokens_are_invalid_token_not_server_errors(lab, http, token):
    r = http.get(_accounts(lab), headers={"Authorization": f"Bearer {token}".encode()})
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "invalid_token"
    assert r.headers["WWW-Authenticate"].startswith(
        'Bearer realm="HonestBank", error="invalid_token", error_description="')


def test_tampered_signature_is_invalid_token_without_an_event(lab, http, fired):
    token = mint(lab).token
    head, body, sig = token.split(".")
    tampered = f"{head}.{body}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}"
    r = http.get(_accounts(lab), headers=bearer(tampered))
    assert r.status_code == 401
    assert fired(r) == []


@pytest.mark.parametrize("iss", ["https://127.0.0.1:9448", None, "trailing-slash"])
def test_token_from_another_issuer_is_refused_whatever_the_controls(lab, controls, http, iss):
    controls.only()
    if iss == "trailing-slash":
        iss = lab.config.issuer + "/"
    r = http.get(_accounts(lab), headers=bearer(mint(lab, iss=iss).token))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_token"


def test_scheme_is_case_insensitive(lab, http):
    r = http.get(_accounts(lab), headers={"Authorization": "bearer " + mint(lab).token})
    assert r.status_code == 200


def test_bank_answers_503_when_the_as_keys_cannot_be_fetched(lab, http):
    protector = lab.apps["bank"].extensions["bank_protector"]
    saved = protector.keys
    dead = LabConfig(data_dir=lab.config.data_dir, as_port=1)
    protector.keys = AuthorizationServerKeys(dead, lab.store)
    try:
        r = http.get(_accounts(lab), headers=bearer(mint(lab).token))
    finally:
        protector.keys = saved
    assert r.status_code == 503
    assert r.json()["error"] == "temporarily_unavailable"


class _FakeResponse:
    def __init__(self, body: Any, status: int = 200) -> None:
        self.body, self.status_code = body, status

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise requests.HTTPError(str(self.status_code))

    def json(self) -> Any:
        return self.body


def _serve(monkeypatch, pages: dict[str, Any]) -> list[str]:  # type: ignore[no-untyped-def]
    fetched: list[str] = []

    def fake_get(url: str, **kwargs: Any) -> _FakeResponse:
        assert kwargs["verify"].endswith("ca.pem"), "the bank trusts only the lab CA"
        fetched.append(url)
        return _FakeResponse(pages[url]) if url in pages else _FakeResponse({}, 404)

    monkeypatch.setattr("lab.protocol.issuer_keys.requests.get", fake_get)
    return fetched


def test_keys_are_discovered_from_the_issuer_once_and_cached(lab, monkeypatch):
    config = lab.config
    jwks = {"keys": [{"kty": "EC", "kid": "k1"}]}
    fetched = _serve(monkeypatch, {
        config.issuer + "/.well-known/openid-configuration":
            {"issuer": config.issuer, "jwks_uri": config.issuer + "/jwks"},
        config.issuer + "/jwks": jwks})
    keys = AuthorizationServerKeys(config, lab.store)
    with context.bound(lab.store, "bank"):
        assert keys.jwks().keys() == jwks["keys"]
        assert keys.jwks().find("k1", "ES256") == jwks["keys"][0]
    assert fetched == [config.issuer + "/.well-known/openid-configuration", config.issuer + "/jwks"]


@pytest.mark.parametrize("metadata", [
    {"issuer": "https://evil.example", "jwks_uri": "https://evil.example/jwks"},
    {"jwks_uri": "https://127.0.0.1/jwks"},
    "not an object",
])
def test_discovery_that_does_not_name_this_issuer_is_not_trusted(lab, monkeypatch, metadata):
    url = lab.config.issuer + "/.well-known/openid-configuration"
    _serve(monkeypatch, {url: metadata})
    with pytest.raises(KeysUnavailable):
        AuthorizationServerKeys(lab.config, lab.store).jwks()


def test_http_jwks_uri_is_not_trusted(lab, monkeypatch):
    url = lab.config.issuer + "/.well-known/openid-configuration"
    _serve(monkeypatch, {url: {"issuer": lab.config.issuer, "jwks_uri": "http://x/jwks"}})
    with pytest.raises(KeysUnavailable):
        AuthorizationServerKeys(lab.config, lab.store).jwks()


def test_as_private_keys_are_what_the_bank_verifies_against(lab, http):
    """Sanity for the test helpers: a token from claims_for + the AS key is accepted."""
    assert as_private_keys(lab)
    assert claims_for(lab)["iss"] == lab.config.issuer
    assert http.get(_accounts(lab), headers=bearer(mint(lab).token)).status_code == 200
