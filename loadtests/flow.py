"""The whole linking a TPP does, once per task: authorization request, login with password and
TOTP, consent, code redemption, bank calls — each step its own row of statistics.

`flow` runs with par_required on: the request is pushed (RFC 9126 §2) and only
client_id + request_uri go through the browser. `flow-plain` runs with it off:
the same request goes in the front channel (RFC 6749 §4.1.1). Everything else
(PKCE S256, private_key_jwt, the profile's token binding and second factor) is
the same, so the two differ by PAR alone. The browser steps are lab.useragent's
scripted victim on Locust's session; the customers take turns (alice, mallory),
so no one customer's state is the bottleneck.
"""

from __future__ import annotations

import itertools
import secrets
import statistics
import time
from typing import Any
from urllib.parse import urlencode

import pyotp
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from locust import HttpUser, constant, task

from lab.useragent import HttpUserAgent
from loadtests import rotation  # noqa: F401  (--rotate-keys-after: its listeners)
from loadtests.common import (
    MATERIAL,
    SUMMARY_EXTRAS,
    ClientAssertions,
    DPoPSender,
    StepSession,
    dpop_signer,
    expect_ok,
    lab_now,
    trust_lab_ca,
)

AS_URL, BANK_URL = MATERIAL["as_url"], MATERIAL["bank_url"]
CUSTOMERS = itertools.cycle(MATERIAL["customers"])
# Whole linkings, start to last bank answer (ms): the unit PAR's cost is compared in, since
# a PAR flow sends one request more than a plain one and its req/s would not compare.
LINKINGS: list[float] = []
FIRST_START: list[float] = []
LAST_DONE: list[float] = []


class LoadAgent(HttpUserAgent):
    """The scripted browser without the lab's store: the customer's TOTP from their
    authenticator secret at lab time; accounts ticked by the types the consent page shows."""

    def __init__(self, session: Any, customer: dict[str, str]) -> None:
        super().__init__(AS_URL, None, username=customer["username"],
                         password=customer["password"], session=session)
        secret = customer.get("totp_secret")
        self.totp = pyotp.TOTP(secret) if secret else None

    def second_factor(self) -> str:
        if self.totp is None:
            raise RuntimeError(f"{self.username} has no TOTP secret")
        return self.totp.at(lab_now())


class FlowUser(HttpUser):
    host = AS_URL
    wait_time = constant(0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = StepSession(base_url=self.host, request_event=self.environment.events.request,
                                  user=self, pool_manager=self.pool_manager)

    def on_start(self) -> None:
        trust_lab_ca(self.client)
        if MATERIAL["binding"] == "mtls":
            self.client.cert = tuple(MATERIAL["client_cert"])
        self.agent = LoadAgent(self.client, next(CUSTOMERS))
        self.assertions = ClientAssertions(MATERIAL["client_id"], MATERIAL["assertion_jwk"],
                                           MATERIAL["assertion_alg"], MATERIAL["issuer"])
        self.dpop = DPoPSender(self.client, dpop_signer(MATERIAL["dpop_jwk"])) \
            if MATERIAL["binding"] == "dpop" else None

    @task
    def link(self) -> None:
        self.client.cookies.clear()   # every linking starts in a fresh browser session
        began = time.perf_counter()
        if not FIRST_START:
            FIRST_START.append(began)
        verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
        params = {"response_type": "code", "client_id": MATERIAL["client_id"],
                  "redirect_uri": MATERIAL["redirect_uri"], "scope": MATERIAL["scope"],
                  "state": state, "nonce": secrets.token_urlsafe(12),
                  "code_challenge": create_s256_code_challenge(verifier),
                  "code_challenge_method": "S256"}
        url = self._pushed(params) if MATERIAL["par"] else \
            f"{AS_URL}/authorize?{urlencode(params)}"
        if url is None:
            return
        try:
            result = self.agent.authorize(url)
        except (RuntimeError, ValueError) as error:
            self._abort("authorization", str(error))
            return
        if not result.ok or not result.code or result.state != state:
            self._abort("authorization response", f"{result.params or result.stopped_at}")
            return
        token = self._back_channel("/token", {
            "grant_type": "authorization_code", "code": result.code,
            "redirect_uri": MATERIAL["redirect_uri"], "code_verifier": verifier})
        if token is not None and self._bank(token.json()["access_token"]):
            LAST_DONE[:] = [time.perf_counter()]
            LINKINGS.append((LAST_DONE[0] - began) * 1000)

    def _pushed(self, params: dict[str, str]) -> str | None:
        response = self._back_channel("/par", params)
        if response is None:
            return None
        # RFC 9126 §4: the browser carries only client_id and the request_uri.
        return f"{AS_URL}/authorize?" + urlencode({"client_id": MATERIAL["client_id"],
                                                   "request_uri": response.json()["request_uri"]})

    def _back_channel(self, path: str, form: dict[str, str]) -> Any:
        """POST to the AS as the TPP: private_key_jwt, and a DPoP proof when tokens are
        DPoP-bound (RFC 9449 §10.1: at PAR too). None when it failed (already counted)."""
        url = AS_URL + path

        def data() -> dict[str, str]:
            return {**form, **self.assertions.form()}

        if self.dpop is not None:
            response = self.dpop.send("POST", url, path, data=data)
        else:
            with self.client.post(url, data=data(), name=path, catch_response=True) as response:
                expect_ok(response)
        return response if 200 <= response.status_code < 300 else None

    def _bank(self, token: str) -> bool:
        accounts = self._get(BANK_URL + "/accounts", "/accounts", token)
        if accounts is None:
            return False
        listed = accounts.json().get("accounts") or []
        if not listed:
            self._abort("/accounts", "no consented account listed")
            return False
        return self._get(f"{BANK_URL}/accounts/{listed[0]['account_id']}/balances",
                         "/accounts/{id}/balances", token) is not None

    def _get(self, url: str, name: str, token: str) -> Any:
        if self.dpop is not None:
            response = self.dpop.send("GET", url, name, access_token=token,
                                      headers={"Authorization": f"DPoP {token}"})
        else:
            with self.client.get(url, name=name, catch_response=True,
                                 headers={"Authorization": f"Bearer {token}"}) as response:
                expect_ok(response)
        return response if 200 <= response.status_code < 300 else None

    def _abort(self, step: str, why: str) -> None:
        """A flow that stopped without an HTTP error (no code, wrong state): one failure."""
        self.environment.events.request.fire(
            request_type="FLOW", name=step, response_time=0, response_length=0,
            exception=RuntimeError(why[:200]), context={})


def linkings() -> dict[str, Any]:
    """Completed linkings, per second (first start to last completion, as Locust's req/s),
    and their p50/p95/p99 in ms."""
    done = sorted(LINKINGS)
    elapsed = LAST_DONE[0] - FIRST_START[0] if done else 0.0
    cuts = statistics.quantiles(done, n=100, method="inclusive") if len(done) > 1 else done * 99
    return {"completed": len(done), "per_s": len(done) / elapsed if elapsed > 0 else 0.0,
            **({"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]} if done else {})}


SUMMARY_EXTRAS["linkings"] = linkings
