"""refresh-after-revocation: the insider refreshes after the user revoked FinLens at the bank.

The victim opens the bank's "connected apps" page and revokes FinLens. The MT insider
still holds the refresh token, FinLens's credentials and key, refreshes and reads the
accounts. RFC 7009 §2.1 / FAPI2 §6.8: withdrawing a grant should end its tokens.
"""

from __future__ import annotations

from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.premises import linked_victim


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    tpp = ts.tpp_identity(ctx, victim)
    held = tpp.tokens
    if not held.refresh_token:
        ctx.failed("FinLens holds no refresh token for the victim")
    ts.revoke_finlens_at_bank(ctx, victim)
    response = tpp.refresh(held.refresh_token, what="POST /token grant_type=refresh_token as "
                           "FinLens, after the victim revoked it")
    tokens = ts.tokens_or_fail(ctx, response, "the AS refused the refresh of the revoked grant")
    balances = ts.read_balances(ctx, tokens, signer=tpp.signer, http=tpp.http)
    ctx.succeeded(f"refreshed the revoked grant and read {len(balances)} balances", balances)


ATTACK = Attack(
    id="refresh-after-revocation", attacker="MT", legs=("store",), victim="prior",
    title="Refresh after the user revoked the TPP",
    blocked_by=("revocation_cascade",),
    premise="A FinLens insider with a copy of its database, keys and credentials; the victim "
            "has revoked FinLens on the bank's connected-apps page.",
    goal="the victim's balances after she revoked FinLens", run=run,
    refs=("RFC 7009 §2.1", "FAPI2 §6.8"),
    also_blocked_by={
        "at_revocation_check":
            "the refreshed access token belongs to the revoked grant, and the bank checks "
            "revocation at use (FAPI2 §5.3.4)",
    },
)
