"""forged-token-retired-as-key: a token forged with a leaked backup of a retired AS signing key.

The story is real: after the victim links FinLens (the bank verifies tokens signed by the AS
key of the day), the AS rotates its signing key (`fapi-lab keys rotate`, the same
lab.protocol.key_rotation the admin API runs) and the lab clock moves past the old key's
retirement, standing for the 40 days of the premise. The attacker holds a backup of the
retired key's private half. Everything the bank checks passes: a genuine signature by a key
it once trusted, iss, aud, exp, the victim's grant, and a cnf naming the attacker's own DPoP
key or certificate. Only a bank that lets go of retired keys (as_key_rotation) refuses it.
Key compromise is outside FAPI 2.0's attacker model; FAPI2 §6.8 recommends rotation.
"""

from __future__ import annotations

from typing import Any

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import spend_forged, victim_facts
from attacker.forged_jws import sign_with
from attacker.outcome import AttackSetupError
from attacker.premises import linked_victim
from lab import clock, context, keys
from lab.protocol import key_rotation


def retired_key(ctx: AttackContext) -> dict[str, Any]:
    """The premise: the AS rotated, its old key retired, and a backup of it leaked."""
    try:
        with context.bound(ctx.store, "as"):
            done = key_rotation.rotate(ctx.config, ctx.store)
        ctx.step("lab", f"the AS rotates its signing key: {done['new_kid']} is published and "
                 f"signs {done['publish_ahead_seconds']} s later, {done['old_kid']} stays "
                 f"published {done['overlap_seconds']} s after that, then retires")
    except keys.RotationInProgress as busy:
        ctx.step("lab", f"the AS rotated its signing key a moment ago: {busy.kid} is retiring")
    stamped = [k for k in keys.KeyFile(ctx.config.keys_dir, key_rotation.OWNER).read()
               if k.get("alg") == key_rotation.ALG and keys.RETIRE_AT in k]
    if not stamped:
        raise AttackSetupError("the AS has no retired signing key to leak")
    old = max(stamped, key=lambda k: float(k[keys.RETIRE_AT]))
    wait = float(old[keys.RETIRE_AT]) - clock.now(ctx.store) + 1
    if wait > 0:
        ctx.advance_clock(wait)
    return old


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    facts = victim_facts(ctx, with_grant=True)
    private = retired_key(ctx)
    ctx.step("attacker", f"opens a leaked backup of the retired AS signing key "
             f"{private.get('kid')} and reads grant {facts.grant_id} from the captured access "
             "token")

    def sign(head: dict[str, Any], claims: dict[str, Any]) -> str:
        return sign_with(private, head, claims)

    spend_forged(ctx, facts, sign, {"kid": private["kid"]})


ATTACK = Attack(
    id="forged-token-retired-as-key", attacker="A1", legs=("token", "resource"),
    title="forged with a retired AS key (leaked backup; the bank still trusts it)",
    blocked_by=("as_key_rotation",),
    grants=("as_signing_key_backup",), victim="prior",
    premise="The AS rotated its signing key after the victim linked FinLens, and the old key "
            "has retired (the lab clock moves past its retirement: the premise's 40 days). "
            "Holds a leaked backup of that retired key's private half. Knows the victim's sub "
            "(a captured ID token, token leg), an account id and the grant id (a captured "
            "resource request: its URL and its JWT access token's claims, resource leg).",
    goal="the victim's balances or a payment to mallory", run=run, fapi2_blocks=False,
    why_not="key compromise is outside the FAPI 2.0 attacker model; §6.8 only recommends key "
            "rotation, and a resource server that caches every key it has seen still "
            "accepts a retired one",
    refs=("OIDC §10.1.1", "FAPI2 §6.8"),
)
