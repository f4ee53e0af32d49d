"""jwt-expired: a genuine captured access token used two days past its exp.

The A5 attacker keeps a capture history: FinLens's GET /accounts/{id}/balances with
its token. Two days later (lab clock) it replays that request and pays mallory with
the same token. The bank must check exp (RFC 9068 §4; FAPI2 §5.3.4).
"""

from __future__ import annotations

from typing import Any

import requests

from attacker.attack_context import AttackContext
from attacker.attacks import Attack
from attacker.forge import account_of, is_balances, replay, spend_token
from attacker.premises import linked_victim, token_of

DELAY = 2 * 86400


def run(ctx: AttackContext) -> None:
    linked_victim(ctx)
    leaked = ctx.capture.first("resource", where=is_balances)
    account_id = account_of(leaked) or ""
    ctx.step("attacker", f"keeps FinLens's captured GET {leaked.path} and its token")
    ctx.advance_clock(DELAY)

    def send(method: str, url: str, token: str, *, what: str, **kwargs: Any
             ) -> requests.Response:
        if method == "GET":
            return replay(ctx, leaked, what=what + " (the captured request, two days on)")
        # The payment reuses the captured Authorization header (and proof, if any); the body
        # is the attacker's.
        return replay(ctx, leaked, method=method, url=url, what=what, **kwargs)

    _, token = token_of(leaked)
    spend_token(ctx, token, account_id, send)


ATTACK = Attack(
    id="jwt-expired", attacker="A5 (capture history)", legs=("resource",), victim="prior",
    title="genuine token two days past `exp`",
    blocked_by=("token_expiry_check",),
    premise="Keeps a history of captured TPP→bank requests: FinLens's GET "
            "/accounts/{id}/balances with its genuine token, used two days later (lab clock).",
    goal="the victim's balances or a payment to mallory", run=run,
    refs=("RFC 9068 §4", "FAPI2 §5.3.4"),
)
