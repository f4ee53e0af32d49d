"""payment-replay-altered-body: a catalog attack (attacks.md §3) the lab cannot run yet.

The lab lacks the mechanism named in `reason`. Until it has it, the attack is listed
(docs, `fapi-lab attack --list`, the matrix, each blocker's page) but never faked;
implementing it turns this Pending entry into an Attack with its run, here.
"""

from __future__ import annotations

from attacker.attacks import Pending

ATTACK = Pending(
    id="payment-replay-altered-body", attacker="A5",
    title="Payment request replayed with a new amount and creditor",
    blocked_by=("dpop_jti_replay", "dpop_nonce", "http_message_signing", "payment_consent_binding"),
    reason="needs a payment FinLens makes (its \"move to savings\"), so that a POST /payments "
           "crosses the resource leg to be replayed: not built yet",
)
