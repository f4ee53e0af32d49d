"""A restart keeps what was stored: a dynamically registered client, a grant, a refresh token."""

from __future__ import annotations

from pathlib import Path

import requests

from lab import consent
from lab.runner import start
from tests.conftest import make_config
from tests.support import oauth

REDIRECT = "https://127.0.0.1:9446/callback"


def _client(ca: Path) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca)
    return session


def test_registration_grant_and_refresh_token_survive_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path / "data")

    first = start(config, profile="fapi2-security", write_state=False)
    try:
        http = _client(config.ca_cert_path)
        registration = oauth.register(http, first, redirect_uris=[REDIRECT],
                                      client_name="Outside app")
        client = oauth.credentials(registration)
        code, verifier = oauth.authorize(first, client_id=client[0], redirect_uri=REDIRECT)
        issued = oauth.redeem(http, first, code, verifier, client=client, redirect_uri=REDIRECT)
        assert issued.status_code == 200, issued.text
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
        assert grant is not None and grant["active"] and grant["client_id"] == client[0]

        refreshed = oauth.refresh(http, second, refresh_token, client=client)
        assert refreshed.status_code == 200, refreshed.text
        access_token = refreshed.json()["access_token"]
        accounts = http.get(config.bank_url + "/accounts",
                            headers={"Authorization": f"Bearer {access_token}"})
        assert accounts.status_code == 200, accounts.text
        assert {a["account_id"] for a in accounts.json()["accounts"]} == set(grant["accounts"])
        assert second.status()["profile"] == "fapi2-security"
    finally:
        second.stop()
