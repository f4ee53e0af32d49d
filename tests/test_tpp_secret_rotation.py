"""FinLens rotates its own client secret at HonestBank through RFC 7592 (lab/tpp/secret_rotation).

Only where it authenticates with the secret, before the secret expires (or on demand through
the admin API); the rotated secret authenticates FinLens, and the attack
client-impersonation-leaked-secret stays honest both ways
(tests/attacks/test_leaked_secret_rotation.py).
"""

from __future__ import annotations

import json
from typing import Any

import requests

from lab import clock, context
from lab.serving.in_process import RunningLab
from lab.tpp import secret_rotation
from tests.test_admin import Admin


def _file(lab: RunningLab) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(lab.config.data_dir.joinpath(
        *secret_rotation.CREDENTIALS_FILE).read_text())
    return data


def _authenticates(lab: RunningLab, http: requests.Session, secret: str) -> int:
    """A token request as FinLens with `secret` (client_secret_post): 400 = authenticated (the
    grant is bogus), 401 = not."""
    r = http.post(lab.config.as_url + "/token", data={
        "grant_type": "refresh_token", "refresh_token": "none", "client_id": "tpp",
        "client_secret": secret})
    return r.status_code


def test_finlens_keeps_a_registration_access_token_and_its_secrets_expiry(lab):
    data = _file(lab)
    assert data["registration_access_token"] and data["client_secret_expires_at"] > 0
    assert data["registration_client_uri"] == f"{lab.config.issuer}/register/tpp"


def test_finlens_rotates_before_expiry_only_where_it_uses_the_secret(lab, controls, http):
    controls.only("client_secret_rotation")
    before = _file(lab)
    with context.bound(lab.store, "tpp"):
        secret_rotation.before_use(lab.config, "client_secret_basic")
        assert _file(lab)["client_secret"] == before["client_secret"], "not due yet"
        clock.advance(lab.store, before["client_secret_expires_at"] - clock.now_int(lab.store)
                      - secret_rotation.ROTATE_AHEAD + 1)
        secret_rotation.before_use(lab.config, "private_key_jwt")
        assert _file(lab)["client_secret"] == before["client_secret"], "no secret in use"
        secret_rotation.before_use(lab.config, "client_secret_basic")
    after = _file(lab)
    assert after["client_secret"] != before["client_secret"]
    assert after["client_secret_expires_at"] > before["client_secret_expires_at"]
    assert _authenticates(lab, http, after["client_secret"]) == 400
    # The replaced secret keeps its own expiry (an hour away): still accepted until then.
    assert _authenticates(lab, http, before["client_secret"]) == 400
    clock.advance(lab.store, secret_rotation.ROTATE_AHEAD)
    assert _authenticates(lab, http, before["client_secret"]) == 401


def test_the_admin_api_makes_finlens_rotate_now(lab, controls, http):
    controls.only()
    before = _file(lab)
    r = Admin(lab, http).post("/tpp/rotate-secret", {})
    assert r.status_code == 200, r.text
    assert r.json()["rotated"] is True and "client_secret" not in r.json()
    assert _file(lab)["client_secret"] != before["client_secret"]


def test_a_finlens_without_a_registration_token_gets_a_clear_refusal(lab, http, tmp_path):
    path = lab.config.data_dir.joinpath(*secret_rotation.CREDENTIALS_FILE)
    saved = path.read_text()
    try:
        path.write_text(json.dumps({"client_id": "tpp", "client_secret": "x"}))
        r = Admin(lab, http).post("/tpp/rotate-secret", {})
        assert r.status_code == 409 and r.json()["error"] == "rotation_failed"
        assert "registration access token" in r.json()["error_description"]
    finally:
        path.write_text(saved)
