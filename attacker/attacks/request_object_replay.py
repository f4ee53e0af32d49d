"""request-object-replay: a catalog attack (attacks.md §3) the lab cannot run yet.

The lab lacks the mechanism named in `reason`. Until it has it, the attack is listed
(docs, `fapi-lab attack --list`, the matrix, each blocker's page) but never faked;
implementing it turns this Pending entry into an Attack with its run, here.
"""

from __future__ import annotations

from attacker.attacks import Pending

ATTACK = Pending(
    id="request-object-replay", attacker="A3a + A1",
    title="Signed request object reused two hours later",
    blocked_by=("request_object_lifetime", "par_required"),
    reason="needs TPP-signed request objects (`request=jar`, RFC 9101): not built yet",
)
