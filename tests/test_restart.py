"""A restart keeps what was stored: a dynamically registered client, a grant, a refresh token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

from lab.domain import consent
from lab.serving.in_process import RunningLab, start
from lab.serving.private import private_config
from tests.support import dpop, oauth

REDIRECT = "https://127.0.0.1:9446/callback"


def _client(ca: Path) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca)
    return session


def _assertion(lab: RunningLab, client_id: str, key: Any) -> dict[str, str]:
    return oauth.assertion_params(oauth.client_assertion(lab, client_id, key), client_id)


def test_registration_grant_and_refresh_token_survive_a_restart(tmp_path: Path) -> None:
    config = private_config(tmp_path / "data")

    first = start(config, profile="fapi2-security", write_state=False)
    try:
        http = _client(config.ca_cert_path)
        # A FAPI 2.0 client: private_key_jwt with its own JWKS, PAR, DPoP-bound tokens.
        key, jwks = oauth.client_key()
        registration = oauth.register(http, first, redirect_uris=[REDIRECT],
                                      client_name="Outside app",
                                      token_endpoint_auth_method="private_key_jwt", jwks=jwks)
        client_id = registration["client_id"]
        verifier, challenge = oauth.pkce_pair()
        pushed = oauth.push(http, first, client_id=client_id, redirect_uri=REDIRECT,
                            code_challenge=challenge, code_challenge_method="S256",
                            auth=_assertion(first, client_id, key))
        assert pushed.status_code == 201, pushed.text
        result = oauth.victim(first).authorize(
            oauth.par_authorization_url(first, pushed.json()["request_uri"], client_id))
        assert result.code, result.params
        proof_key = dpop.DPoPKey(first)
        issued = dpop.redeem(http, first, proof_key, result.code, verifier,
                             redirect_uri=REDIRECT,
                             client_auth=_assertion(first, client_id, key))
        assert issued.status_code == 200, issued.text
        assert issued.json()["token_type"] == "DPoP"
        refresh_token = issued.json()["refresh_token"]
        grant_id = oauth.claims(issued.json()["access_token"])["grant_id"]
    finally:
        first.stop()

    second = start(config, write_state=False)
    try:
        http = _client(config.ca_cert_path)
        read = http.get(registration["registration_client_uri"],
                        headers={"Authorization":
                                 f"Bearer {registration['registration_access_token']}"})
        assert read.status_code == 200, read.text
        assert read.json()["client_name"] == "Outside app"
        assert read.json()["redirect_uris"] == [REDIRECT]

        grant = consent.get_grant(second.store, grant_id)
        assert grant is not None and grant["active"] and grant["client_id"] == client_id

        # The client kept its keys; the AS kept its JWKS: a new assertion authenticates, and
        # a new proof by the same DPoP key (timed by the restarted lab's clock) binds the token.
        proof_key.lab = second
        refreshed = dpop.refresh(http, second, proof_key, refresh_token,
                                 client_auth=_assertion(second, client_id, key))
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["token_type"] == "DPoP"
        access_token = refreshed.json()["access_token"]
        assert oauth.claims(access_token)["cnf"] == {"jkt": proof_key.jkt}
        accounts = dpop.bank_get(http, second, proof_key, access_token)
        assert accounts.status_code == 200, accounts.text
        assert {a["account_id"] for a in accounts.json()["accounts"]} == set(grant["accounts"])
        assert second.status()["profile"] == "fapi2-security"
    finally:
        second.stop()
