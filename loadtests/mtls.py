"""Bank calls with a certificate-bound token (RFC 8705 §3) over mutual TLS.

The TLS client certificate goes with every connection; the bank compares its
SHA-256 thumbprint with the token's cnf.x5t#S256. Connections are kept alive, so
the handshake cost is paid once per simulated user, not per request.
"""

from __future__ import annotations

from locust import HttpUser, constant, task

from loadtests.common import MATERIAL, trust_lab_ca
from loadtests.rotation import BankToken


class MtlsUser(HttpUser):
    host = MATERIAL["bank_url"]
    wait_time = constant(0)

    def on_start(self) -> None:
        trust_lab_ca(self.client)
        self.client.cert = tuple(MATERIAL["client_cert"])
        self.token = BankToken()

    @task
    def accounts(self) -> None:
        token, label = self.token.now()
        self.client.get("/accounts", name=f"GET /accounts (mTLS-bound){label}",
                        headers={"Authorization": f"Bearer {token}"})
