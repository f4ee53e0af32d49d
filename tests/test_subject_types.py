"""Pairwise subject identifiers as a client's choice (OIDC Core §8, §8.1; OIDC Registration §2):
`subject_type=pairwise` at registration, a stable pseudonym per sector, the salt in the data
directory; sector_identifier_uri refused (the AS fetches nothing)."""

from __future__ import annotations

import stat
from typing import Any

import pytest
import requests

from tests.support.oauth import authorize, claims, credentials, redeem, register, tokens

OTHER_REDIRECT = "https://127.0.0.1:9446/callback"


def other_app_sub(http: requests.Session, lab: Any, reg: dict[str, Any],
                  redirect_uri: str = OTHER_REDIRECT) -> tuple[str, requests.Response]:
    """alice signs in to a registered app; the `sub` of its ID token and the token response."""
    code, _ = authorize(lab, pkce=False, client_id=reg["client_id"], redirect_uri=redirect_uri)
    r = redeem(http, lab, code, client=credentials(reg), redirect_uri=redirect_uri)
    assert r.status_code == 200, r.text
    return str(claims(r.json()["id_token"])["sub"]), r


def test_an_app_that_registers_pairwise_gets_its_own_stable_sub(lab, controls, http):
    controls.only()
    reg = register(http, lab, subject_type="pairwise")
    assert reg["subject_type"] == "pairwise"
    first, _ = other_app_sub(http, lab, reg)
    again, _ = other_app_sub(http, lab, reg)
    assert first == again and first not in ("alice", "")
    # FinLens registered nothing: it still gets the public identifier.
    assert claims(tokens(http, lab, pkce=False)["id_token"])["sub"] == "alice"
    # Another app on the same sector (host) gets the same pseudonym (§8.1: per sector).
    same_sector = register(http, lab, subject_type="pairwise",
                           redirect_uris=["https://127.0.0.1:9446/other"])
    assert other_app_sub(http, lab, same_sector, "https://127.0.0.1:9446/other")[0] == first


def test_the_salt_lives_in_the_data_directory_only(lab, controls, http):
    controls.only("pairwise_subjects")
    tokens(http, lab, pkce=False)
    salt = lab.config.data_dir / "secrets" / "pairwise-salt"
    assert salt.exists() and len(salt.read_bytes()) == 32
    assert stat.S_IMODE(salt.stat().st_mode) == 0o600


@pytest.mark.parametrize("metadata", [
    {"subject_type": "secret"},
    {"subject_type": ["pairwise"]},
    {"subject_type": "pairwise",
     "redirect_uris": ["https://127.0.0.1:9446/cb", "https://127.0.0.1:9447/cb"]},
    {"sector_identifier_uri": "https://127.0.0.1:9446/sector.json"},
    {"sector_identifier_uri": "https://example.com/sector.json", "subject_type": "pairwise"},
])
def test_bad_subject_metadata_is_refused(lab, controls, http, metadata):
    controls.only()
    body = {"redirect_uris": ["https://127.0.0.1:9446/cb"], **metadata}
    r = http.post(lab.config.as_url + "/register", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_client_metadata"
