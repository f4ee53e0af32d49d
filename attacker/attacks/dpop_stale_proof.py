"""dpop-stale-proof: a captured request replayed once its proof is 120 s old (catalog: 90-120 s).

The token is still valid (it lives at least 300 s), only the proof is old: the bank
must refuse proofs outside [now - 60 s, now + 10 s] (RFC 9449 §4.3 check 11, §11.1;
FAPI2 §5.3.2.1's clock rule), or remember the jti.
"""

from __future__ import annotations

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import is_transactions, replay
from attacker.premises import linked_victim

# The catalog's 90-120 s, at its top: a server nonce (dpop_nonce, lifetime 120 s, accepted in
# its own and the next 60 s step) lives 60 to 120 s, so at 100 s a proof made early in a step
# still passed about one run in three. At 120 s it has expired wherever in its step it was made.
DELAY = 120


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    leaked = ctx.capture.last("resource", where=is_transactions)
    ctx.step("attacker", f"keeps FinLens's captured GET {leaked.path} with its DPoP proof")
    ctx.advance_clock(DELAY)
    response = replay(ctx, leaked,
                      what=f"resends the captured request; its proof is now about {DELAY} s old")
    if response.status_code != 200:
        ctx.failed("the bank refused the stale proof", response)
    data = response.json()
    ctx.succeeded(f"read {len(data.get('transactions') or [])} transactions with a proof "
                  f"about {DELAY} s old", data)


ATTACK = Attack(
    id="dpop-stale-proof", attacker="A5", legs=("resource",), victim="prior",
    title="Old proof replayed after the `jti` window",
    blocked_by=("dpop_iat_window", "dpop_jti_replay"),
    premise="Reads one captured TPP→bank request (URL, Authorization, DPoP) and resends it "
            f"about {DELAY} s later (lab clock), while the token is still valid; holds no key.",
    goal="the victim's transactions", run=run, needs={"sender_constraint": "dpop"},
    refs=("RFC 9449 §4.3, §11.1", "FAPI2 §5.3.2.1"),
    also_blocked_by={
        "dpop_nonce":
            "a proof 90-120 s old carries a nonce the server has rotated out (RFC 9449 §9), "
            "so the nonce check refuses it before the iat window does",
    },
)
