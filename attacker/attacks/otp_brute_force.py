"""otp-brute-force: a catalog attack (attacks.md §3) the lab cannot run yet.

The lab lacks the mechanism named in `reason`. Until it has it, the attack is listed
(docs, `fapi-lab attack --list`, the matrix, each blocker's page) but never faked;
implementing it turns this Pending entry into an Attack with its run, here.
"""

from __future__ import annotations

from attacker.attacks import Pending

ATTACK = Pending(
    id="otp-brute-force", attacker="CS",
    title="Second factor guessed",
    blocked_by=("login_throttling",),
    reason="needs a bounded search: bob's 4-digit SMS code is one of 10,000 and the AS takes "
           "about 30 guesses/s through the proxy (about 3 min on average); it comes with "
           "login_throttling and a lab setting for a small code space",
)
