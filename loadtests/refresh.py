"""Token issuance by refresh (RFC 6749 §6) as a FAPI 2.0 client does it.

Each request carries a fresh private_key_jwt assertion and a DPoP proof; the AS
verifies both, consumes the assertion's jti, and issues a new DPoP-bound access
token. Each simulated user walks its own refresh-token chain (tokens may rotate).
"""

from __future__ import annotations

from locust import HttpUser, constant, task

from loadtests import rotation  # noqa: F401  (--rotate-keys-after: its listeners)
from loadtests.common import MATERIAL, ClientAssertions, DPoPSender, dpop_signer, trust_lab_ca

REFRESH_TOKENS = list(MATERIAL["refresh_tokens"])


class RefreshUser(HttpUser):
    host = MATERIAL["as_url"]
    wait_time = constant(0)

    def on_start(self) -> None:
        trust_lab_ca(self.client)
        self.refresh_token = REFRESH_TOKENS.pop()
        self.sender = DPoPSender(self.client, dpop_signer(MATERIAL["dpop_jwk"]))
        self.assertions = ClientAssertions(MATERIAL["client_id"], MATERIAL["assertion_jwk"],
                                           MATERIAL["assertion_alg"], MATERIAL["issuer"])
        self.url = MATERIAL["as_url"] + "/token"

    @task
    def refresh(self) -> None:
        response = self.sender.send("POST", self.url, "POST /token (refresh, DPoP)", data=lambda: {
            "grant_type": "refresh_token", "refresh_token": self.refresh_token,
            **self.assertions.form()})
        if response.status_code == 200:
            self.refresh_token = response.json().get("refresh_token") or self.refresh_token
