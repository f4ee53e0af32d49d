"""payment-tampering-after-consent: a catalog attack (attacks.md §3) the lab cannot run yet.

The lab lacks the mechanism named in `reason`. Until it has it, the attack is listed
(docs, `fapi-lab attack --list`, the matrix, each blocker's page) but never faked;
implementing it turns this Pending entry into an Attack with its run, here.
"""

from __future__ import annotations

from attacker.attacks import Pending

ATTACK = Pending(
    id="payment-tampering-after-consent", attacker="MT",
    title="Consented payment changed before submission",
    blocked_by=("payment_consent_binding",),
    reason="needs payment consents with authorization_details (RFC 9396) and "
           "payment_consent_binding: not built yet",
)
