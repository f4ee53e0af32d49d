"""dpop-stale-proof: a captured request replayed once its proof is 90-120 s old.

The token is still valid (it lives at least 300 s), only the proof is old: the bank
must refuse proofs outside [now - 60 s, now + 10 s] (RFC 9449 §4.3 check 11, §11.1;
FAPI2 §5.3.2.1's clock rule), or remember the jti.
"""

from __future__ import annotations

from attacker.context import AttackContext
from attacker.forge import is_transactions, replay
from attacker.model import Attack
from attacker.premises import linked_victim

DELAY = 100


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    leaked = ctx.capture.last("resource", where=is_transactions)
    ctx.step("attacker", f"keeps FinLens's captured GET {leaked.path} with its DPoP proof")
    ctx.advance_clock(DELAY)
    response = replay(ctx, leaked,
                      what="resends the captured request; its proof is now about 100 s old")
    if response.status_code != 200:
        ctx.failed("the bank refused the stale proof", response)
    data = response.json()
    ctx.succeeded(f"read {len(data.get('transactions') or [])} transactions with a proof "
                  "about 100 s old", data)


ATTACK = Attack(
    id="dpop-stale-proof", attacker="A5", legs=("resource",), victim="prior",
    premise="Reads one captured TPP→bank request (URL, Authorization, DPoP) and resends it "
            "about 100 s later (lab clock), while the token is still valid; holds no key.",
    goal="the victim's transactions", run=run, needs={"sender_constraint": "dpop"},
    refs=("RFC 9449 §4.3, §11.1", "FAPI2 §5.3.2.1"),
    also_blocked_by={
        "dpop_nonce":
            "a proof 90-120 s old carries a nonce the server has rotated out (RFC 9449 §9), "
            "so the nonce check refuses it before the iat window does",
    },
)
