"""unsigned-request-object: a catalog attack (attacks.md §3) the lab cannot run yet.

The lab lacks the mechanism named in `reason`. Until it has it, the attack is listed
(docs, `fapi-lab attack --list`, the matrix, each blocker's page) but never faked;
implementing it turns this Pending entry into an Attack with its run, here.
"""

from __future__ import annotations

from attacker.attacks import Pending

ATTACK = Pending(
    id="unsigned-request-object", attacker="A1",
    title="Request object with `alg: none`",
    blocked_by=("jar_required", "alg_allow_list", "par_required", "exact_redirect_uri"),
    reason="needs request objects at the authorization endpoint (JAR, RFC 9101): not built yet",
)
