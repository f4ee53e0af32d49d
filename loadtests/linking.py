"""What the linking and payment workloads share: a TPP's user in a scripted browser.

A Locust user here is FinLens and one customer's browser together: the back channel to the
AS (private_key_jwt, a DPoP proof or the TLS client certificate as the AS's metadata asks),
the front channel through lab.useragent's scripted victim on Locust's session, and calls to
the bank with the token. The class is abstract: Locust runs only the users of the workload
files (loadtests/flow.py, loadtests/payment.py) that subclass it.
"""

from __future__ import annotations

import itertools
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import pyotp
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from locust import HttpUser, constant

from lab.useragent import HttpUserAgent
from loadtests.common import (
    MATERIAL,
    ClientAssertions,
    DPoPSender,
    StepSession,
    dpop_signer,
    expect_ok,
    trust_lab_ca,
)

AS_URL, BANK_URL = MATERIAL["as_url"], MATERIAL["bank_url"]
# Users take the customers in turn (alice, mallory, ...): no one customer is the bottleneck.
USER_NUMBERS = itertools.count()


class LoadAgent(HttpUserAgent):
    """The scripted browser without the lab's store: the customer's TOTP from their
    authenticator secret; accounts ticked by the types the consent page shows."""

    def __init__(self, session: Any, customer: dict[str, str]) -> None:
        super().__init__(AS_URL, None, username=customer["username"],
                         password=customer["password"], session=session)
        secret = customer.get("totp_secret")
        self.totp = pyotp.TOTP(secret) if secret else None

    def second_factor(self) -> str:
        if self.totp is None:
            raise RuntimeError(f"{self.username} has no TOTP secret")
        # The AS checks TOTP at real time, not lab time: a phone's clock is not the lab's
        # (lab/domain/customers.py check_totp), so a lab clock advanced for a run changes nothing.
        return self.totp.at(time.time())


class LinkingUser(HttpUser):
    abstract = True
    host = AS_URL
    wait_time = constant(0)
    # Appended to every request's name (" (rar)"), so workloads sharing a file stay apart.
    tag = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = StepSession(base_url=self.host, request_event=self.environment.events.request,
                                  user=self, pool_manager=self.pool_manager, tag=self.tag)

    def on_start(self) -> None:
        trust_lab_ca(self.client)
        if MATERIAL["binding"] == "mtls":
            self.client.cert = tuple(MATERIAL["client_cert"])
        self.index = next(USER_NUMBERS)
        self.customer = MATERIAL["customers"][self.index % len(MATERIAL["customers"])]
        self.agent = LoadAgent(self.client, self.customer)
        self.assertions = ClientAssertions(MATERIAL["client_id"], MATERIAL["assertion_jwk"],
                                           MATERIAL["assertion_alg"], MATERIAL["issuer"])
        self.dpop = DPoPSender(self.client, dpop_signer(MATERIAL["dpop_jwk"])) \
            if MATERIAL["binding"] == "dpop" else None

    def code(self, extra: dict[str, str] | None = None) -> tuple[str, str] | None:
        """One authorization in a fresh browser session: (code, code_verifier), or None when
        it failed (already counted). `extra` joins the request (authorization_details,
        acr_values, max_age)."""
        self.client.cookies.clear()
        verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(12)
        params = {"response_type": "code", "client_id": MATERIAL["client_id"],
                  "redirect_uri": MATERIAL["redirect_uri"], "scope": MATERIAL["scope"],
                  "state": state, "nonce": secrets.token_urlsafe(12),
                  "code_challenge": create_s256_code_challenge(verifier),
                  "code_challenge_method": "S256", **(extra or {})}
        url = self._pushed(params) if MATERIAL["par"] else \
            f"{AS_URL}/authorize?{urlencode(params)}"
        if url is None:
            return None
        try:
            result = self.agent.authorize(url)
        except (RuntimeError, ValueError) as error:
            self.abort("authorization", str(error))
            return None
        if not result.ok or not result.code or result.state != state:
            self.abort("authorization response", f"{result.params or result.stopped_at}")
            return None
        return result.code, verifier

    def tokens(self, extra: dict[str, str] | None = None) -> dict[str, Any] | None:
        """An authorization, then its code redeemed at /token: the token response."""
        got = self.code(extra)
        if got is None:
            return None
        response = self.back_channel("/token", {
            "grant_type": "authorization_code", "code": got[0],
            "redirect_uri": MATERIAL["redirect_uri"], "code_verifier": got[1]})
        if response is None:
            return None
        body: dict[str, Any] = response.json()
        return body

    def _pushed(self, params: dict[str, str]) -> str | None:
        response = self.back_channel("/par", params)
        if response is None:
            return None
        # RFC 9126 §4: the browser carries only client_id and the request_uri.
        return f"{AS_URL}/authorize?" + urlencode({"client_id": MATERIAL["client_id"],
                                                   "request_uri": response.json()["request_uri"]})

    def back_channel(self, path: str, form: dict[str, str], name: str | None = None) -> Any:
        """POST to the AS as the TPP: private_key_jwt, and a DPoP proof when tokens are
        DPoP-bound (RFC 9449 §10.1: at PAR too). None when it failed (already counted)."""
        url = AS_URL + path

        def data() -> dict[str, str]:
            return {**form, **self.assertions.form()}

        name = (name or path) + self.tag
        if self.dpop is not None:
            response = self.dpop.send("POST", url, name, data=data)
        else:
            with self.client.post(url, data=data(), name=name, catch_response=True) as response:
                expect_ok(response)
        return response if 200 <= response.status_code < 300 else None

    def bank(self, method: str, url: str, name: str, token: str, *, json: Any = None,
             headers: dict[str, str] | None = None, expect: Any = expect_ok) -> Any:
        """A bank call with the token as its binding wants it; the response, judged by
        `expect` (anything but 2xx fails by default)."""
        name += self.tag
        if self.dpop is not None:
            return self.dpop.send(method, url, name, access_token=token, json=json,
                                  headers={**(headers or {}), "Authorization": f"DPoP {token}"},
                                  expect=expect)
        with self.client.request(method, url, name=name, catch_response=True, json=json,
                                 headers={**(headers or {}), "Authorization": f"Bearer {token}"}
                                 ) as response:
            expect(response)
        return response

    def abort(self, step: str, why: str) -> None:
        """A flow that stopped without an HTTP error (no code, wrong state): one failure."""
        self.environment.events.request.fire(
            request_type="FLOW", name=step + self.tag, response_time=0, response_length=0,
            exception=RuntimeError(why[:200]), context={})
