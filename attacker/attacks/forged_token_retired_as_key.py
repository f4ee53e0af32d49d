"""forged-token-retired-as-key: a token forged with a leaked backup of the AS signing key.

The premise is a backup of the AS's signing key from 40 days ago. The lab has no AS key
rotation yet, so that key still signs today's tokens and everything the bank checks
passes: a genuine signature, iss, aud, exp, the victim's grant, and a cnf naming the
attacker's own DPoP key or certificate. Key compromise is outside FAPI 2.0's attacker
model; rotation (FAPI2 §6.8; OIDC §10.1.1) is what would retire the key.
"""

from __future__ import annotations

import json
from typing import Any

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import spend_forged, victim_facts
from attacker.forged_jws import sign_with
from attacker.outcome import AttackSetupError
from attacker.premises import linked_victim
from lab import keys

BACKUP = "as.jwks.json"


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    facts = victim_facts(ctx, with_grant=True)
    path = ctx.config.keys_dir / BACKUP
    if not path.exists():
        raise AttackSetupError("the AS key backup of the premise is not there")
    private = keys.signing_key(json.loads(path.read_text())["keys"], "ES256")
    ctx.step("attacker", f"opens the leaked backup of the AS signing key {private.get('kid')} "
             f"(40 days old; the AS has not rotated it) and reads grant {facts.grant_id} from "
             "the captured access token")

    def sign(head: dict[str, Any], claims: dict[str, Any]) -> str:
        return sign_with(private, head, claims)

    spend_forged(ctx, facts, sign, {"kid": private["kid"]})


ATTACK = Attack(
    id="forged-token-retired-as-key", attacker="A1", legs=("token", "resource"),
    title="forged with the AS key of 40 days ago (leaked backup; without rotation still current)",
    blocked_by=("as_key_rotation",),
    grants=("as_signing_key_backup",), victim="prior",
    premise="Holds a leaked 40-day-old backup of the AS signing key (still current: the lab "
            "has no AS key rotation yet). Knows the victim's sub (a captured ID token, token "
            "leg), an account id and the grant id (a captured resource request: its URL and "
            "its JWT access token's claims, resource leg).",
    goal="the victim's balances or a payment to mallory", run=run, fapi2_blocks=False,
    why_not="key compromise is outside the FAPI 2.0 attacker model; §6.8 only recommends key "
            "rotation, and the lab's as_key_rotation control does not exist yet",
    refs=("OIDC §10.1.1", "FAPI2 §6.8"),
)
