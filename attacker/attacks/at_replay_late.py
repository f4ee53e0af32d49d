"""at-replay-late: a captured GET /accounts replayed 20 minutes later.

The A5 attacker found the request in a capture and sends it again once the lab clock
moved on 20 minutes, headers as captured (a DPoP proof included, if FinLens sent one).
Only a short token lifetime, checked by the bank, or a sender constraint stops it
(FAPI2 §6.1; F1P1 §7.4.3; RFC 9449 §11.2).
"""

from __future__ import annotations

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import replay
from attacker.premises import is_accounts_list, linked_victim

DELAY = 20 * 60


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    leaked = ctx.capture.last("resource", where=is_accounts_list)
    ctx.step("attacker", "keeps FinLens's captured GET /accounts for later")
    ctx.advance_clock(DELAY)
    listed = replay(ctx, leaked, what="replays the captured GET /accounts 20 minutes later")
    if listed.status_code != 200:
        ctx.failed("the bank refused the 20-minute-old token", listed)
    accounts = listed.json().get("accounts") or []
    if not accounts:
        ctx.failed("the replayed request listed no accounts", listed)
    ctx.succeeded(f"listed {len(accounts)} victim accounts with a 20-minute-old token",
                  accounts)


ATTACK = Attack(
    id="at-replay-late", attacker="A5", legs=("resource",), victim="prior",
    title="Bearer token reused 20 minutes later",
    blocked_by=("short_access_token_lifetime",),
    premise="Holds one captured GET /accounts (token, and proof if any); uses it 20 minutes "
            "later (lab clock).",
    goal="the victim's account list", run=run,
    refs=("FAPI2 §6.1", "F1P1 §7.4.3", "RFC 9449 §11.2", "RFC 9068 §4"),
)
