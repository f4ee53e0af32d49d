"""at-replay-own-dpop-key: a stolen DPoP-bound token presented with the attacker's own proof.

The A5 attacker reads TPP→bank requests (attacks.md §1) and has a P-256 key of its
own, not FinLens's. It signs a correct proof (htm, htu, fresh iat and jti, ath of
the stolen token) with that key; the bank must compare the proof key with the
token's cnf.jkt (RFC 9449 §7.1, FAPI2 §5.3.4).
"""

from __future__ import annotations

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import authorization_scheme, balances_with, dpop_send
from attacker.premises import is_accounts_list, linked_victim, token_of


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    leaked = ctx.capture.last("resource", where=is_accounts_list)
    _, token = token_of(leaked)
    scheme = authorization_scheme(leaked)
    ctx.step("attacker", f"copies the access token of FinLens's GET /accounts (scheme {scheme})")
    signer = ctx.dpop_signer()
    balances = balances_with(
        ctx, lambda url, what: dpop_send(ctx, signer, "GET", url, token, scheme=scheme,
                                         what=what),
        listing="GET /accounts with the stolen token and a proof by its own key",
        refused="the bank refused the stolen token with the attacker's proof")
    ctx.succeeded(f"read the balances of {len(balances)} victim accounts with its own DPoP key",
                  balances)


ATTACK = Attack(
    id="at-replay-own-dpop-key", attacker="A5", legs=("resource",), victim="prior",
    title="Stolen DPoP-bound token with the attacker's own proof",
    blocked_by=("dpop_bound_tokens",),
    premise="Holds the access token of one captured resource request and a P-256 key of its "
            "own; not FinLens's DPoP key.",
    goal="the victim's balances", run=run, needs={"sender_constraint": "dpop"},
    refs=("RFC 9449 §6.1, §7.1, §11.8", "FAPI2 §5.3.4"),
)
