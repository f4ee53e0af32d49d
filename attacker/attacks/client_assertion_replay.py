"""client-assertion-replay: FinLens's captured client assertion reused within its lifetime.

The A4 attacker reads a refresh request FinLens made with private_key_jwt: the refresh
token and a signed client assertion (RFC 7523 §3). Within the assertion's 60 s it sends
both again, with a proof from its own DPoP key where the AS binds tokens. OIDC §9: the
jti "MUST only be used once"; otherwise the assertion is a bearer credential.
"""

from __future__ import annotations

from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.premises import linked_victim

# Past the access token's lifetime (3600 s without short_access_token_lifetime), so FinLens
# refreshes when the victim opens the dashboard again.
PAST_EXPIRY = 7200


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    ctx.advance_clock(PAST_EXPIRY)
    victim.dashboard()
    leaked = ctx.capture.last("token", where=ts.is_token_grant("refresh_token"))
    captured = leaked.form()
    if not captured.get("client_assertion"):
        ctx.failed("FinLens's refresh carried no client assertion to replay")
    ctx.step("attacker", "reads FinLens's refresh request on the token leg: refresh token and "
             "client assertion")
    form: dict[str, str] = {k: captured[k] for k in ("grant_type", "refresh_token", "client_id",
                                     "client_assertion_type", "client_assertion")
            if k in captured}
    signer = ctx.dpop_signer() if ts.dpop_required(ts.metadata(ctx)) else None
    response = ts.post_token(ctx, form, signer=signer,
                             what="POST /token: the refresh token with FinLens's captured "
                                  "client assertion"
                                  + (", proof from its own key" if signer else ""))
    tokens = ts.tokens_or_fail(ctx, response, "the AS refused the replayed client assertion")
    balances = ts.read_balances(ctx, tokens, signer=signer)
    ctx.succeeded(f"obtained new tokens as FinLens with a replayed assertion and read "
                  f"{len(balances)} balances", balances)


ATTACK = Attack(
    id="client-assertion-replay", attacker="A4", legs=("token",), victim="prior",
    title="Captured client assertion reused",
    blocked_by=("client_assertion_jti_single_use",),
    needs={"client_auth": "private_key_jwt"},
    premise="Reads FinLens's token requests: a refresh request with its refresh token and "
            "private_key_jwt client assertion, replayed within the assertion's 60 s.",
    goal="new tokens for the victim's grant, authenticated as FinLens", run=run,
    refs=("RFC 7523 §3", "OIDC §9"),
    also_blocked_by={
        "refresh_rotation_reuse_detection":
            "the refresh token in the captured request was superseded when FinLens refreshed,"
            " so its reuse is detected and revokes the family (RFC 9700 §4.14.2)",
    },
)
