"""dpop-proof-retarget: a captured proof reused for another URL, method or token.

The A5 attacker holds FinLens's GET /accounts (token + proof) and, from another
victim's capture, a second token bound to the same FinLens key. A proof must name
the request it was made for: htm, htu and ath (RFC 9449 §4.3 checks 8, 9, 12; §7.1).
"""

from __future__ import annotations

from typing import Any

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import account_of, accounts_url, payment_body, replay
from attacker.premises import is_accounts_list, linked_victim, token_of


def run(ctx: AttackContext) -> None:
    linked_victim(ctx, "alice")
    linked_victim(ctx, "bob")
    first = ctx.capture.first("resource", where=is_accounts_list)
    scheme, token = token_of(first)
    other = ctx.capture.last("resource", where=lambda x: is_accounts_list(x)
                             and token_of(x)[1] != token)
    account = ctx.capture.first("resource", where=lambda x: account_of(x) is not None
                                and token_of(x)[1] == token)
    account_id = account_of(account) or ""
    ctx.step("attacker", "holds alice's captured GET /accounts (token T1 + proof) and bob's "
             "token T2, bound to the same FinLens key")
    tries = {
        "other URL": replay(ctx, first, url=accounts_url(ctx, account_id, "transactions"),
                            what="sends T1 and its /accounts proof to "
                                 f"GET /accounts/{account_id}/transactions"),
        "other method": replay(ctx, first, method="POST", url=ctx.url("bank", "/payments"),
                               json=payment_body(ctx, account_id),
                               what="sends T1 and its GET proof to POST /payments (to mallory)"),
        "other token": replay(ctx, first, authorization=f"{scheme} {token_of(other)[1]}",
                              what="sends alice's /accounts proof with bob's token T2"),
    }
    won: dict[str, Any] = {name: r.json() for name, r in tries.items()
                           if r.status_code in (200, 201)}
    if not won:
        ctx.failed("the bank refused the proof for every other request",
                   tries["other token"])
    ctx.succeeded(f"the captured proof was accepted for: {', '.join(won)}", won)


ATTACK = Attack(
    id="dpop-proof-retarget", attacker="A5", legs=("resource",), victim="prior",
    title="Proof reused for another URL, method or token",
    blocked_by=("dpop_proof_binding",),
    premise="Reads captured TPP→bank requests: alice's GET /accounts (token + proof) and "
            "bob's token, both bound to FinLens's key; holds no key.",
    goal="any other request answered: alice's transactions, a payment to mallory, or bob's "
         "accounts", run=run, needs={"sender_constraint": "dpop"},
    refs=("RFC 9449 §4.3, §7, §7.1",),
    also_blocked_by={
        "dpop_nonce":
            "the captured proof carries a server nonce the bank no longer accepts when the "
            "proof is reused for another request (RFC 9449 §9)",
    },
)
