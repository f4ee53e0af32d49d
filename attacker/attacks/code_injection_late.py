"""code-injection-late: code-injection 90 s after the code was issued.

The lab clock moves on 90 s before the injection; FAPI2 §5.3.2.1 limits codes to 60 s
(RFC 6749 §4.1.2 recommends at most 10 minutes, which is the lab's weak mode).
"""

from __future__ import annotations

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.attacks.code_injection import inject

DELAY = 90.0


def run(ctx: AttackContext) -> None:
    inject(ctx, delay=DELAY)


ATTACK = Attack(
    id="code-injection-late", attacker="A3b", legs=("authz_response",), victim="prior",
    title="The same, 90 s after issue",
    blocked_by=("code_short_lifetime",),
    premise="As code-injection, but the code is used 90 s after the AS issued it.",
    goal="the attacker's FinLens account shows the victim's accounts", run=run,
    refs=("FAPI2 §5.3.2.1", "FAPI2 §6.4", "RFC 6749 §4.1.2"),
    also_blocked_by={
        "pkce_required":
            "attacks.md, '+ those of code-injection': the code is bound to the victim's "
            "verifier",
        "tpp_checks_nonce":
            "attacks.md, '+ those of code-injection': the ID token carries the victim's nonce",
        "tpp_checks_state":
            "attacks.md, '+ those of code-injection': with jarm (as in fapi1-advanced) the "
            "victim's state comes signed inside the replayed response, in a session that never "
            "sent it (measured)",
    },
    not_alone={
        "tpp_checks_state": "the attacker sends the state of the flow pending in its own "
        "session, so the state check passes; it blocks paired with jarm, as in code-injection",
    },
)
