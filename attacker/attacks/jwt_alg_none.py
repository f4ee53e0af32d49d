"""jwt-alg-none: an unsigned access token (alg none) for the victim.

The A1 attacker writes the claims itself and signs nothing; a verifier that lets the
token's header pick the algorithm accepts it (RFC 8725 §2.1, §3.1; FAPI2 §5.4.1).
"""

from __future__ import annotations

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import spend_forged, victim_facts
from attacker.forged_jws import sign_none
from attacker.premises import linked_victim

PREMISE = ("Knows the victim's sub (a captured ID token, token leg) and an account id (a "
           "captured resource URL, resource leg); no key of the AS.")


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    facts = victim_facts(ctx)
    spend_forged(ctx, facts, sign_none, {})


ATTACK = Attack(
    id="jwt-alg-none", attacker="A1", legs=("token", "resource"), victim="prior",
    title="unsigned token (`alg: none`)",
    blocked_by=("alg_allow_list",),
    premise=PREMISE, goal="the victim's balances or a payment to mallory", run=run,
    refs=("RFC 8725 §2.1, §3.1", "FAPI2 §5.4.1"),
    also_blocked_by={
        "consent_per_account":
            "a forged token names no grant the user consented to, so the per-account check "
            "finds no consented account",
    },
)
