"""FinLens's own honest use of a linked account, for `fapi-lab detect`: the benign side that
lives long enough to be watched.

Each simulated user is one customer's link: its own token family (a refresh token from a
real linking, lab/load/prepare.py's `refresh` material), used from where it was issued.
Every visit shows the dashboard (GET /accounts, then the first account's balances) with a
DPoP-bound access token; every few visits the access token is refreshed (RFC 6749 §6,
private_key_jwt + DPoP), as FinLens does when one expires. The pace is a person's, not a
benchmark's, so token_usage_monitoring's rate rule has honest traffic to stay quiet about.
"""

from __future__ import annotations

from locust import HttpUser, between, task

from loadtests.common import MATERIAL, ClientAssertions, DPoPSender, dpop_signer, trust_lab_ca

REFRESH_TOKENS = list(MATERIAL["refresh_tokens"])
REFRESH_EVERY = 3      # visits per access token


class FinLensUser(HttpUser):
    host = MATERIAL["bank_url"]
    wait_time = between(0.3, 1.0)

    def on_start(self) -> None:
        trust_lab_ca(self.client)
        self.refresh_token = REFRESH_TOKENS.pop()
        self.sender = DPoPSender(self.client, dpop_signer(MATERIAL["dpop_jwk"]))
        self.assertions = ClientAssertions(MATERIAL["client_id"], MATERIAL["assertion_jwk"],
                                           MATERIAL["assertion_alg"], MATERIAL["issuer"])
        self.access_token: str | None = None
        self.visits = 0

    def _refresh(self) -> None:
        response = self.sender.send(
            "POST", MATERIAL["as_url"] + "/token", "POST /token (refresh, DPoP)",
            data=lambda: {"grant_type": "refresh_token", "refresh_token": self.refresh_token,
                          **self.assertions.form()})
        if response.status_code == 200:
            body = response.json()
            self.access_token = body["access_token"]
            self.refresh_token = body.get("refresh_token") or self.refresh_token

    def _get(self, url: str, name: str) -> object:
        token = self.access_token or ""
        return self.sender.send("GET", url, name, access_token=token,
                                headers={"Authorization": f"DPoP {token}"})

    @task
    def visit(self) -> None:
        if self.access_token is None or self.visits % REFRESH_EVERY == 0:
            self._refresh()
            if self.access_token is None:
                return
        self.visits += 1
        bank = MATERIAL["bank_url"]
        accounts = self._get(bank + "/accounts", "GET /accounts (FinLens)")
        listed = (accounts.json().get("accounts") or []) \
            if getattr(accounts, "status_code", 0) == 200 else []
        if listed:
            self._get(f"{bank}/accounts/{listed[0]['account_id']}/balances",
                      "GET /accounts/{id}/balances (FinLens)")
