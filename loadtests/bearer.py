"""Bank calls with a plain bearer token (the baseline): GET /accounts.

Run by `fapi-lab load --workload bearer` with dpop_bound_tokens and
mtls_bound_tokens off, so the bank accepts an unbound token.
"""

from __future__ import annotations

from locust import HttpUser, constant, task

from loadtests.common import MATERIAL, trust_lab_ca
from loadtests.rotation import BankToken


class BearerUser(HttpUser):
    host = MATERIAL["bank_url"]
    wait_time = constant(0)

    def on_start(self) -> None:
        trust_lab_ca(self.client)
        self.token = BankToken()

    @task
    def accounts(self) -> None:
        token, label = self.token.now()
        self.client.get("/accounts", name=f"GET /accounts (bearer){label}",
                        headers={"Authorization": f"Bearer {token}"})
