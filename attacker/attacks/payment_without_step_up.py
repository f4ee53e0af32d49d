"""payment-without-step-up: the TPP insider pays on an authentication three days old.

The victim linked FinLens for reading and initiating payments; three (lab) days later
the MT insider refreshes with FinLens's credentials and key and pays mallory 400.00 EUR.
Every token check passes: nothing asks whether the user authenticated recently for this
payment (RFC 9470 §3 step-up; RTS Art. 5 dynamic linking). FAPI 2.0 leaves the user's
authentication policy out of scope (AM §6).
"""

from __future__ import annotations

from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.premises import linked_victim

THREE_DAYS = 3 * 24 * 3600


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    tpp = ts.tpp_identity(ctx, victim)
    held = tpp.tokens
    if not held.refresh_token:
        ctx.failed("FinLens holds no refresh token for the victim")
    ctx.advance_clock(THREE_DAYS)
    response = tpp.refresh(held.refresh_token, what="POST /token grant_type=refresh_token as "
                           "FinLens, three days after the victim signed in")
    tokens = ts.tokens_or_fail(ctx, response, "the AS refused the refresh")
    listed = ts.accounts(ctx, tokens, signer=tpp.signer, http=tpp.http)
    paid = ts.pay_mallory(ctx, tokens, ts.checking_account(listed), "400.00",
                          signer=tpp.signer, http=tpp.http)
    if paid.status_code != 201:
        ctx.failed("the bank refused the payment", paid)
    ctx.succeeded("paid 400.00 EUR to mallory on a three-day-old authentication", paid.json())


ATTACK = Attack(
    id="payment-without-step-up", attacker="MT", legs=("store",), victim="prior",
    title="Payment on a days-old authentication",
    blocked_by=("step_up_for_payments", "payment_consent_binding"),
    needs={"payments": "on"},
    premise="A FinLens insider with a copy of its database, keys and credentials; the victim "
            "linked FinLens, payments included, three days ago.",
    goal="a payment to mallory without the user", run=run,
    fapi2_blocks=False,
    why_not="the user's authentication policy (step-up, dynamic linking) is outside FAPI "
            "2.0's attacker model (AM §6)",
    refs=("RFC 9470 §3", "RFC 9470 §6", "RTS Art. 5"),
    also_blocked_by={
        "client_secret_rotation":
            "three lab-days on, the copy of FinLens's client secret the insider took has "
            "expired (secrets live a day): the refresh is refused with invalid_client",
    },
)
