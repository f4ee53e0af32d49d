"""Client metadata is checked strictly at registration and update (RFC 7591 §2, §3.2.2), and
what is already stored still renders: a registered app cannot break the pages that name it."""

from __future__ import annotations

import json
import re
import uuid

import pytest
import requests

from lab import clock
from lab.authserver import clients
from lab.domain import consent
from lab.serving.in_process import RunningLab
from tests.support.bank_tokens import default_accounts, ensure_bank_knows_as_keys
from tests.support.oauth import authorization_url, pkce_pair, push, register, run
from tests.test_bank_connected_apps import sign_in

SURROGATE_JSON = '{"client_name": "Nice\\udc00App", "redirect_uris": ["https://127.0.0.1:9446/cb"]}'
BAD_NAMES = ["Nice\udc00App", "Nice\x00App", "Bell\x07", "new\nline", "x" * 5000, "\u202eevil"]
BAD_URIS = ["http://evil.example/cb", "https://127.0.0.1:9446/cb\r\nX-Injected: 1",
            "https://127.0.0.1:9446/cb\x00", "javascript:alert(1)", "https://127.0.0.1:9446/cb#frag",
            "https://127.0.0.1:9446/c\udc00b", "https:///cb", "https://" + "a" * 3000 + "/cb"]


def _post(http: requests.Session, lab: RunningLab, body: str) -> requests.Response:
    return http.post(lab.config.as_url + "/register", data=body.encode(),
                     headers={"Content-Type": "application/json"})


def test_a_lone_surrogate_in_client_name_is_refused_at_registration(lab, http):
    r = _post(http, lab, SURROGATE_JSON)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_client_metadata"


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_text_in_client_metadata_is_invalid_client_metadata(lab, http, name):
    r = http.post(lab.config.as_url + "/register",
                  json={"client_name": name, "redirect_uris": ["https://127.0.0.1:9446/cb"]})
    assert r.status_code == 400, (name, r.text)
    assert r.json()["error"] == "invalid_client_metadata"


@pytest.mark.parametrize("uri", BAD_URIS)
def test_bad_redirect_uris_are_invalid_redirect_uri(lab, http, uri):
    r = http.post(lab.config.as_url + "/register",
                  json={"client_name": "App", "redirect_uris": [uri]})
    assert r.status_code == 400, (uri, r.text)
    assert r.json()["error"] == "invalid_redirect_uri"


def test_loopback_http_is_accepted_for_native_apps(lab, http):
    # RFC 8252 §7.3 and FAPI2 (attacks.md §2.1): http only on a loopback IP literal.
    reg = register(http, lab, redirect_uris=["http://127.0.0.1:51004/cb"])
    assert reg["redirect_uris"] == ["http://127.0.0.1:51004/cb"]
    r = http.post(lab.config.as_url + "/register",
                  json={"redirect_uris": ["http://localhost.evil.example/cb"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_redirect_uri"


def test_deeply_nested_registration_body_is_a_clear_400(lab, http):
    body = '{"client_name": "x", "jwks": ' + "[" * 15_000 + "]" * 15_000 + "}"  # < 64 KiB
    r = _post(http, lab, body)
    assert 400 <= r.status_code < 500, r.text[:300]


def test_rfc7592_update_with_a_surrogate_is_refused(lab, http):
    reg = register(http, lab)
    body = json.dumps({"client_id": reg["client_id"], "client_name": "Nice",
                       "redirect_uris": ["https://127.0.0.1:9446/cb"]}).replace(
        '"Nice"', '"Nice\\udc00App"')
    r = http.put(reg["registration_client_uri"], data=body.encode(),
                 headers={"Content-Type": "application/json",
                          "Authorization": f"Bearer {reg['registration_access_token']}"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_client_metadata", r.text
    read = http.get(reg["registration_client_uri"],
                    headers={"Authorization": f"Bearer {reg['registration_access_token']}"})
    assert read.json()["client_name"] == "EvilApp"


def _stored_client(lab: RunningLab, **metadata: object) -> str:
    client_id = "bad-" + uuid.uuid4().hex[:8]
    clients.create(lab.store, client_id=client_id, client_secret="s" * 32, metadata={
        "redirect_uris": ["https://127.0.0.1:9446/cb"], "response_types": ["code"],
        "grant_types": ["authorization_code"], "scope": "openid accounts:read",
        "token_endpoint_auth_method": "client_secret_basic", **metadata})
    return client_id


def test_a_bad_name_already_stored_still_renders_on_connected_apps(lab, http):
    ensure_bank_knows_as_keys(lab)
    client_id = _stored_client(lab, client_name="Nice\udc00App\x07" + "y" * 500)
    grant_id = consent.create_grant(lab.store, username="alice", client_id=client_id,
                                    scope="accounts:read", accounts=default_accounts(),
                                    auth_time=clock.now(lab.store))
    r = sign_in(lab, http)
    assert r.status_code == 200, r.text[:300]
    assert grant_id in r.text and "Nice\ufffdApp" in r.text
    assert "\x07" not in r.text


def test_a_bad_name_already_stored_still_renders_on_the_login_page(lab, controls, http):
    controls.only()
    client_id = _stored_client(lab, client_name="Nice\udc00App")
    r = http.get(authorization_url(lab, client_id=client_id,
                                   redirect_uri="https://127.0.0.1:9446/cb"))
    assert r.status_code == 200, r.text[:300]
    assert "Nice\ufffdApp" in r.text


def test_stored_http_redirect_uri_is_refused_by_exact_redirect_uri(lab, controls, http, fired):
    uri = "http://evil.example/cb"
    client_id = _stored_client(lab, redirect_uris=[uri])
    controls.only()
    assert run(lab, client_id=client_id, redirect_uri=uri, code_challenge=None).code
    controls.only("exact_redirect_uri")
    r = http.get(authorization_url(lab, client_id=client_id, redirect_uri=uri),
                 allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers, r.text
    assert fired(r) == ["exact_redirect_uri"]


def test_stored_http_redirect_uri_is_refused_at_par(lab, controls, http, fired):
    uri = "http://evil.example/cb"
    client_id = _stored_client(lab, redirect_uris=[uri])
    _, challenge = pkce_pair()
    controls.only("par_required")
    r = push(http, lab, auth=(client_id, "s" * 32), client_id=client_id, redirect_uri=uri,
             code_challenge=challenge, code_challenge_method="S256")
    assert r.status_code == 201, r.text
    controls.only("par_required", "exact_redirect_uri")
    r = push(http, lab, auth=(client_id, "s" * 32), client_id=client_id, redirect_uri=uri,
             code_challenge=challenge, code_challenge_method="S256")
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
    assert fired(r) == ["exact_redirect_uri"]


def test_stored_crlf_redirect_uri_never_receives_a_code(lab, controls, http):
    uri = "https://127.0.0.1:9446/cb\r\n"
    client_id = _stored_client(lab, redirect_uris=[uri])
    for switches in ((), ("exact_redirect_uri",)):
        controls.only(*switches)
        r = http.get(authorization_url(lab, client_id=client_id, redirect_uri=uri),
                     allow_redirects=False)
        assert r.status_code == 400 and "Location" not in r.headers, (switches, r.text)
        assert not re.search(r"code=", r.text)
