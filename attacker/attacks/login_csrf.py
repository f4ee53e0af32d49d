"""login-csrf: a catalog attack (attacks.md §3) the lab cannot run yet.

The lab lacks the mechanism named in `reason`. Until it has it, the attack is listed
(docs, `fapi-lab attack --list`, the matrix, each blocker's page) but never faked;
implementing it turns this Pending entry into an Attack with its run, here.
"""

from __future__ import annotations

from attacker.attacks import Pending

ATTACK = Pending(
    id="login-csrf", attacker="A1",
    title="Victim logged in to the TPP as the attacker, then links his own accounts",
    blocked_by=("tpp_checks_state", "tpp_checks_nonce", "pkce_required"),
    reason="needs FinLens's \"Sign in with your bank\" (the `login` setting): not built yet",
)
