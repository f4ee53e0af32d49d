"""id-token-replay-login: a catalog attack (attacks.md §3) the lab cannot run yet.

The lab lacks the mechanism named in `reason`. Until it has it, the attack is listed
(docs, `fapi-lab attack --list`, the matrix, each blocker's page) but never faked;
implementing it turns this Pending entry into an Attack with its run, here.
"""

from __future__ import annotations

from attacker.attacks import Pending

ATTACK = Pending(
    id="id-token-replay-login", attacker="A4",
    title="Victim's ID token replayed to log in to the TPP",
    blocked_by=("response_type_code_only", "tpp_checks_nonce", "tpp_id_token_validation"),
    reason="needs FinLens's \"Sign in with your bank\" (the `login` setting): not built yet",
)
