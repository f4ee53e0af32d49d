"""client_secret_rotation: secrets expire (RFC 7591 §3.2.1) and rotate through RFC 7592 §2.2.

DCR answers with a real client_secret_expires_at (the control's `lifetime`, lab clock). Past
it, the token endpoint serves the old secret when off and refuses it with invalid_client when
on, the fired event on that request; a PUT on the registration gives a new secret (and takes
a new jwks), which works again, while the old one is refused.
"""

from __future__ import annotations

from typing import Any

import requests

from lab import clock
from lab.serving.in_process import RunningLab
from tests.test_authserver_client_credentials import register_client, request_token, secret_form


def _expired_client(lab: RunningLab, controls: Any, http: requests.Session) -> dict[str, Any]:
    reg = register_client(http, lab, token_endpoint_auth_method="client_secret_post")
    now = clock.now_int(lab.store)
    assert now + 86400 - 5 <= reg["client_secret_expires_at"] <= now + 86400 + 5
    assert request_token(http, lab, secret_form(reg)).status_code == 200
    clock.advance(lab.store, 86400 + 1)   # the controls fixture resets the clock
    return reg


def test_expired_secret_is_served_when_off(lab, controls, http, fired):
    controls.only()
    reg = _expired_client(lab, controls, http)
    r = request_token(http, lab, secret_form(reg))
    assert r.status_code == 200, r.text
    assert fired(r) == []


def test_expired_secret_is_refused_when_on_and_a_rotated_one_works(lab, controls, http, fired):
    controls.only("client_secret_rotation")
    reg = _expired_client(lab, controls, http)
    r = request_token(http, lab, secret_form(reg))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert fired(r) == ["client_secret_rotation"]
    # RFC 7592 §2.2: the client rotates with its registration access token, not its secret.
    update = http.put(reg["registration_client_uri"],
                      headers={"Authorization": f"Bearer {reg['registration_access_token']}"},
                      json={"client_id": reg["client_id"], "grant_types": ["client_credentials"],
                            "redirect_uris": [], "scope": reg["scope"],
                            "token_endpoint_auth_method": "client_secret_post"})
    assert update.status_code == 200, update.text
    rotated = update.json()
    assert rotated["client_secret"] != reg["client_secret"]
    assert rotated["client_secret_expires_at"] > clock.now_int(lab.store)
    assert request_token(http, lab, secret_form(rotated)).status_code == 200
    # The replaced secret keeps its own expiry, which has passed: refused as expired.
    old = request_token(http, lab, secret_form(reg))
    assert old.status_code == 401 and fired(old) == ["client_secret_rotation"]


def _put(http: requests.Session, reg: dict[str, Any]) -> dict[str, Any]:
    """RFC 7592 §2.2: the client rotates with its registration access token."""
    update = http.put(reg["registration_client_uri"],
                      headers={"Authorization": f"Bearer {reg['registration_access_token']}"},
                      json={"client_id": reg["client_id"], "grant_types": ["client_credentials"],
                            "redirect_uris": [], "scope": reg["scope"],
                            "token_endpoint_auth_method": "client_secret_post"})
    assert update.status_code == 200, update.text
    rotated: dict[str, Any] = update.json()
    assert rotated["client_secret"] != reg["client_secret"]
    return rotated


def test_a_replaced_secret_works_until_its_own_expiry_when_on(lab, controls, http, fired):
    """Every instance of a client has until the old secret's expiry to pick up the new one."""
    controls.only("client_secret_rotation")
    reg = register_client(http, lab, token_endpoint_auth_method="client_secret_post")
    rotated = _put(http, reg)
    assert request_token(http, lab, secret_form(reg)).status_code == 200
    assert request_token(http, lab, secret_form(rotated)).status_code == 200
    clock.advance(lab.store, 86400 + 1)
    old = request_token(http, lab, secret_form(reg))
    assert old.status_code == 401 and fired(old) == ["client_secret_rotation"]


def test_a_replaced_secret_goes_on_working_when_off(lab, controls, http, fired):
    """The naive AS: expiry not enforced, so a secret leaked before a rotation still works."""
    controls.only()
    reg = register_client(http, lab, token_endpoint_auth_method="client_secret_post")
    _put(http, reg)
    clock.advance(lab.store, 40 * 86400)
    old = request_token(http, lab, secret_form(reg))
    assert old.status_code == 200, old.text
    assert fired(old) == []


def test_a_wrong_secret_is_still_wrong(lab, controls, http):
    controls.only()
    reg = register_client(http, lab, token_endpoint_auth_method="client_secret_post")
    _put(http, reg)
    wrong = request_token(http, lab, {"client_id": reg["client_id"], "client_secret": "nope"})
    assert wrong.status_code == 401
