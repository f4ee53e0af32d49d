"""at-replay-bearer: a token read off a resource request, replayed as a bearer token.

The A5 attacker reads TPP→bank requests, not the TPP's key or certificate
(attacks.md §1). From its own TLS client it sends the token with no DPoP header.
"""

from __future__ import annotations

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import balances_with
from attacker.premises import is_accounts_list, linked_victim, token_of


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    leaked = ctx.capture.last("resource", where=is_accounts_list)
    _, token = token_of(leaked)
    ctx.step("attacker", "reads FinLens's GET /accounts on the resource leg and copies its "
             "access token")
    headers = {"Authorization": f"Bearer {token}"}
    balances = balances_with(
        ctx, lambda url, what: ctx.send("GET", url, headers=headers, what=what),
        listing="GET /accounts with the stolen token as Bearer, no proof",
        refused="the bank refused the replayed token", every=True)
    ctx.succeeded(f"read the balances of {len(balances)} victim accounts", balances)


ATTACK = Attack(
    id="at-replay-bearer", attacker="A5", legs=("resource",), victim="prior",
    title="Stolen token replayed as bearer",
    blocked_by=("dpop_bound_tokens", "mtls_bound_tokens"),
    premise="Holds the access token of one captured resource request; not the TPP's key or "
            "certificate.",
    goal="the victim's balances", run=run,
    refs=("BCP §4.10.1", "RFC 8705 §3", "RFC 9449 §7.2"),
    not_alone={"mtls_bound_tokens": "binds only tokens of a client that presents its "
               "certificate; legacy FinLens uses no sender constraint (it blocks with "
               "sender_constraint=mtls, as in at-replay-own-client-cert)"},
)
