"""id-token-wrong-audience: a catalog attack (attacks.md §3) the lab cannot run yet.

The lab lacks the mechanism named in `reason`. Until it has it, the attack is listed
(docs, `fapi-lab attack --list`, the matrix, each blocker's page) but never faked;
implementing it turns this Pending entry into an Attack with its run, here.
"""

from __future__ import annotations

from attacker.attacks import Pending

ATTACK = Pending(
    id="id-token-wrong-audience", attacker="A1 running EvilApp",
    title="ID token of another client used at the TPP",
    blocked_by=("tpp_id_token_validation", "response_type_code_only", "tpp_checks_nonce"),
    reason="needs FinLens's \"Sign in with your bank\" (the `login` setting): not built yet",
)
