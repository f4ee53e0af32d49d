"""Bank calls with a DPoP-bound token (RFC 9449 §7): a fresh proof, with ath, per request.

The bank verifies the token's signature and the proof's signature, and checks the
proof's htm/htu/iat/ath and that its key is the token's cnf.jkt. With dpop_nonce
on (the +extras overlay), the bank's nonce goes into every proof (common.DPoPSender).
"""

from __future__ import annotations

from locust import HttpUser, constant, task

from loadtests.common import MATERIAL, DPoPSender, dpop_signer, trust_lab_ca
from loadtests.rotation import BankToken


class DPoPUser(HttpUser):
    host = MATERIAL["bank_url"]
    wait_time = constant(0)

    def on_start(self) -> None:
        trust_lab_ca(self.client)
        self.token = BankToken()
        self.sender = DPoPSender(self.client, dpop_signer(MATERIAL["dpop_jwk"]))
        self.url = MATERIAL["bank_url"] + "/accounts"

    @task
    def accounts(self) -> None:
        token, label = self.token.now()
        self.sender.send("GET", self.url, f"GET /accounts (DPoP){label}", access_token=token,
                         headers={"Authorization": f"DPoP {token}"})
