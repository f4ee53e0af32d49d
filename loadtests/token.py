"""Token issuance alone: the client credentials grant (RFC 6749 §4.4), one new token per task.

`token` authenticates with private_key_jwt (RFC 7523 §2.2): a fresh signed assertion
per request, which the AS verifies and whose jti it records once. `token-secret`
sends client_secret_post (RFC 6749 §2.3.1), run with private_key_jwt_only off, as
the baseline. Both clients are the load test's own, registered just before the run;
both get the token binding the profile asks for (a DPoP proof, or the TLS client
certificate), so the two differ by client authentication alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from locust import HttpUser, constant, task

from loadtests.common import (
    MATERIAL,
    ClientAssertions,
    DPoPSender,
    dpop_signer,
    expect_ok,
    trust_lab_ca,
)
from loadtests.rotation import ROTATION, key_label


def client_authentication() -> Callable[[], dict[str, str]]:
    if MATERIAL["client_auth"] == "private_key_jwt":
        return ClientAssertions(MATERIAL["client_id"], MATERIAL["assertion_jwk"],
                                MATERIAL["assertion_alg"], MATERIAL["issuer"]).form
    secret = {"client_id": MATERIAL["client_id"], "client_secret": MATERIAL["client_secret"]}
    return lambda: secret


class TokenUser(HttpUser):
    host = MATERIAL["as_url"]
    wait_time = constant(0)

    def on_start(self) -> None:
        trust_lab_ca(self.client)
        if MATERIAL["binding"] == "mtls":
            self.client.cert = tuple(MATERIAL["client_cert"])
        self.sender = DPoPSender(self.client, dpop_signer(MATERIAL["dpop_jwk"])) \
            if MATERIAL["binding"] == "dpop" else None
        self.authentication = client_authentication()
        self.url = MATERIAL["as_url"] + "/token"
        self.name = f"POST /token (client_credentials, {MATERIAL['client_auth']})"

    def form(self) -> dict[str, str]:
        return {"grant_type": "client_credentials", "scope": MATERIAL["scope"],
                **self.authentication()}

    def named(self, response: Any) -> str:
        """The row's name, "… (new key)" for a token signed by a key rotated in meanwhile."""
        if ROTATION is None or response.status_code != 200:
            return self.name
        try:
            token = response.json().get("access_token")
        except ValueError:
            return self.name
        return self.name + key_label(token)

    @task
    def token(self) -> None:
        if self.sender is not None:
            self.sender.send("POST", self.url, self.name, data=self.form, rename=self.named)
            return
        with self.client.post(self.url, data=self.form(), name=self.name,
                              catch_response=True) as response:
            expect_ok(response)
            response.request_meta["name"] = self.named(response)
