"""access-token-after-revocation: an unexpired access token used after the user revoked FinLens.

The victim revokes FinLens on the bank's "connected apps" page. The MT insider calls
the bank with the access token FinLens still holds (a self-contained JWT, not yet
expired), with FinLens's DPoP key or certificate where it is bound. FAPI2 §5.3.4: the
resource server "shall verify the ... revocation status of access tokens".
"""

from __future__ import annotations

from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.premises import linked_victim


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    tpp = ts.tpp_identity(ctx, victim)
    ts.revoke_finlens_at_bank(ctx, victim)
    balances = ts.read_balances(ctx, tpp.tokens, signer=tpp.signer, http=tpp.http)
    ctx.succeeded(f"read {len(balances)} balances with the access token of a revoked grant",
                  balances)


ATTACK = Attack(
    id="access-token-after-revocation", attacker="MT", legs=("store",), victim="prior",
    title="Unexpired token used after revocation",
    blocked_by=("at_revocation_check",),
    premise="A FinLens insider with a copy of its database and keys; the victim has revoked "
            "FinLens on the bank's connected-apps page; the access token has not expired.",
    goal="the victim's balances after she revoked FinLens", run=run,
    refs=("FAPI2 §5.3.4", "F1P1 §6.2.1", "RFC 7662"),
)
