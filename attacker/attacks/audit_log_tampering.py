"""audit-log-tampering: a catalog attack (attacks.md §3) the lab cannot run yet.

The lab lacks the mechanism named in `reason`. Until it has it, the attack is listed
(docs, `fapi-lab attack --list`, the matrix, each blocker's page) but never faked;
implementing it turns this Pending entry into an Attack with its run, here.
"""

from __future__ import annotations

from attacker.attacks import Pending

ATTACK = Pending(
    id="audit-log-tampering", attacker="LI",
    title="Fraud hidden by editing and truncating the trail",
    blocked_by=("audit_chain",),
    reason="needs the hash-chained audit trail (audit_chain): not built yet",
)
