"""Payments, once per task, start to booked: plain, under RFC 9396 consent, under step-up.

One file for three workloads (lab/load/workloads.py), each its own Locust run under the
switches it needs, because the switches are the lab's, not a request's: with
payment_consent_binding on, a plain payment is refused, so the three cannot share a run.
`fapi-lab load` runs them back to back and compares each to the plain one.

- `payment` (kind plain): FinLens pays on a linked account's grant (payments:write): a refresh
  at /token, then POST /payments. Both controls off.
- `payment-rar` (kind rar): every payment asks its own consent (RFC 9396
  authorization_details through PAR, the consent page, the second factor), the token is
  redeemed and the payment posted from the granted details. payment_consent_binding on.
- `payment-stepup` (kind stepup): the same linked grant as plain, its sign-in three lab days
  old; POST /payments meets the bank's RFC 9470 challenge (401
  insufficient_user_authentication, acr_values, max_age), FinLens re-authorizes with those
  (PAR, login, second factor, consent), redeems the code and posts again.
  step_up_for_payments on.

Every request's name carries its kind (" (plain)", " (rar)", " (step-up)"); the challenged
payment is its own row, counted a success when it is that challenge. Every payment carries
an Idempotency-Key, as FinLens sends one.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from locust import task

from lab.tpp import pay, step_up
from loadtests.common import MATERIAL, SUMMARY_EXTRAS, Completions
from loadtests.linking import BANK_URL, LinkingUser

KIND = MATERIAL["kind"]
TAGS = {"plain": " (plain)", "rar": " (rar)", "stepup": " (step-up)"}
PAYEE = pay.PAYEES["corner-cafe"]
AMOUNT = "0.01"   # a cent: many payments leave the demo balances almost as they were
# Whole payments, first request to the bank's 201 (ms): the unit the costs are compared in.
PAYMENTS = Completions()


def expect_challenge(response: Any) -> None:
    """The challenged payment: RFC 9470 §3's 401 is what step-up answers; anything else fails."""
    challenge = step_up.parse_challenge([response.headers.get("WWW-Authenticate", "")])
    if response.status_code == 401 and challenge is not None:
        response.success()
    else:
        response.failure(f"expected the step-up challenge, got HTTP {response.status_code}: "
                         f"{(response.text or '')[:160]}")


def expect_booked(response: Any) -> None:
    if response.status_code == 201:
        response.success()
    else:
        response.failure(f"HTTP {response.status_code}: {(response.text or '')[:160]}")


class PaymentUser(LinkingUser):
    tag = TAGS[KIND]

    def on_start(self) -> None:
        super().on_start()
        chains = MATERIAL.get("refresh_tokens") or []
        self.refresh_token = chains[self.index] if self.index < len(chains) else None

    @task
    def pay(self) -> None:
        began = PAYMENTS.start()
        if getattr(self, KIND)():
            PAYMENTS.done(began)

    # --- the three kinds: True once the bank booked the payment --------------------------------
    def plain(self) -> bool:
        token = self._refreshed()
        return token is not None and self._post(token, self._body(), "/payments", expect_booked)

    def stepup(self) -> bool:
        token = self._refreshed()
        if token is None:
            return False
        body = self._body()
        refused = self._post_response(token, body, "/payments 401", expect_challenge)
        challenge = step_up.parse_challenge([refused.headers.get("WWW-Authenticate", "")])
        if refused.status_code != 401 or challenge is None:
            return False
        # RFC 9470 §4: the client asks the AS again with the challenge's acr_values and max_age.
        fresh = self.tokens(challenge.request_params())
        return fresh is not None and self._post(fresh["access_token"], body,
                                                "/payments retry", expect_booked)

    def rar(self) -> bool:
        wanted = pay.details(PAYEE, AMOUNT, "EUR", "fapi-lab load")
        token = self.tokens({"authorization_details": json.dumps(wanted)})
        if token is None:
            return False
        # The body from what the bank granted (the debtor account alice chose), as FinLens does.
        return self._post(token["access_token"], pay.body_from(token.get("authorization_details")),
                          "/payments", expect_booked)

    # --- helpers -------------------------------------------------------------------------------
    def _refreshed(self) -> str | None:
        """A fresh access token off the user's linked grant (RFC 6749 §6), keeping the chain
        when the AS rotates refresh tokens."""
        if self.refresh_token is None:
            self.abort("refresh", "no linked grant prepared for this user")
            return None
        response = self.back_channel("/token", {"grant_type": "refresh_token",
                                                "refresh_token": self.refresh_token},
                                     name="/token refresh")
        if response is None:
            return None
        body = response.json()
        self.refresh_token = body.get("refresh_token") or self.refresh_token
        token: str = body["access_token"]
        return token

    def _body(self) -> dict[str, Any]:
        return {"debtor_account_id": self.customer["checking"],
                "creditor": {"name": PAYEE.name, "iban": PAYEE.iban},
                "instructed_amount": {"amount": AMOUNT, "currency": "EUR"},
                "reference": "fapi-lab load"}

    def _post_response(self, token: str, body: dict[str, Any], name: str, expect: Any) -> Any:
        return self.bank("POST", BANK_URL + "/payments", name, token, json=body, expect=expect,
                         headers={"Idempotency-Key": secrets.token_hex(16)})

    def _post(self, token: str, body: dict[str, Any], name: str, expect: Any) -> bool:
        return bool(self._post_response(token, body, name, expect).status_code == 201)


def payments() -> dict[str, Any]:
    return {"kind": KIND, **PAYMENTS.summary()}


SUMMARY_EXTRAS["payments"] = payments
