"""Victim flows that attacks start from (attacks.md §3 victim mode "prior").

The victim acts through the lab's front door, so capture records each leg; the
attack then reads only the legs its attacker type may see.
"""

from __future__ import annotations

from .attack_context import AttackContext
from .capture_view import Leaked
from .victim import HttpVictim


def linked_victim(ctx: AttackContext, username: str = "alice") -> HttpVictim:
    """The victim links HonestBank at FinLens and looks at the dashboard (FinLens calls the
    bank: the resource legs)."""
    victim = ctx.victim(username)
    victim.link()
    victim.dashboard()
    return victim


def paying_victim(ctx: AttackContext, username: str = "alice") -> HttpVictim:
    """The victim links HonestBank, then pays 25.00 EUR to Corner Café from FinLens: a payment
    consent with authorization_details (RFC 9396), submitted once by FinLens."""
    victim = ctx.victim(username)
    victim.link()
    victim.pay("25.00", "corner-cafe")
    return victim


def interrupted_victim(ctx: AttackContext, username: str = "alice") -> HttpVictim:
    """The victim's flow stops once the AS answered: its code is never redeemed."""
    victim = ctx.victim(username)
    victim.link(stop="response")
    return victim


def token_of(leaked: Leaked) -> tuple[str, str]:
    """(scheme, access token) from a captured resource request's Authorization header."""
    value = leaked.header("Authorization") or ""
    scheme, _, token = value.partition(" ")
    if not token:
        from .outcome import AttackSetupError

        raise AttackSetupError("the captured resource request carries no access token")
    return scheme, token


def is_accounts_list(leaked: Leaked) -> bool:
    return leaked.method == "GET" and leaked.path == "/accounts"
