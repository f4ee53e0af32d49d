"""Every attack of attacks.md §3: implemented ones (attacker/attacks/*.py) and pending ones.

An attack module defines `ATTACK` (an attacker.outcome.Attack). An attack whose mechanism
the lab does not have yet is listed in PENDING with the reason, never faked.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from lab.controls.attack_catalog import ATTACKS as EXPECTED

from . import attacks as attacks_package
from .outcome import Attack

PENDING: dict[str, str] = {
    "unsigned-request-object":
        "needs request objects at the authorization endpoint (JAR, RFC 9101): not built yet",
    "request-object-replay":
        "needs TPP-signed request objects (`request=jar`, RFC 9101): not built yet",
    "payment-tampering-after-consent":
        "needs payment consents with authorization_details (RFC 9396) and "
        "payment_consent_binding: not built yet",
    "payment-replay-altered-body":
        "needs a payment FinLens makes (its \"move to savings\"), so that a POST /payments "
        "crosses the resource leg to be replayed: not built yet",
    "audit-log-tampering": "needs the hash-chained audit trail (audit_chain): not built yet",
    "otp-brute-force":
        "needs a bounded search: bob's 4-digit SMS code is one of 10,000 and the AS takes about "
        "30 guesses/s through the proxy (about 3 min on average); it comes with "
        "login_throttling and a lab setting for a small code space",
    "id-token-replay-login":
        "needs FinLens's \"Sign in with your bank\" (the `login` setting): not built yet",
    "login-csrf": "needs FinLens's \"Sign in with your bank\" (the `login` setting): not built yet",
    "id-token-wrong-audience":
        "needs FinLens's \"Sign in with your bank\" (the `login` setting): not built yet",
}


@cache
def implemented() -> dict[str, Attack]:
    """Attack id → Attack, in catalog order."""
    found: dict[str, Attack] = {}
    for module in pkgutil.iter_modules(attacks_package.__path__):
        loaded = importlib.import_module(f"{attacks_package.__name__}.{module.name}")
        attack = getattr(loaded, "ATTACK", None)
        if isinstance(attack, Attack):
            found[attack.id] = attack
    order = [e.id for e in EXPECTED]
    return {i: found[i] for i in sorted(found, key=order.index)}


def get(attack_id: str) -> Attack:
    attacks = implemented()
    if attack_id in attacks:
        return attacks[attack_id]
    if attack_id in PENDING:
        raise LookupError(f"{attack_id} is pending: {PENDING[attack_id]}")
    known = ", ".join(attacks)
    raise LookupError(f"no attack {attack_id!r} (implemented: {known})")


def listing() -> list[dict[str, str]]:
    """Every catalog attack with its state: implemented, or pending and why."""
    attacks = implemented()
    rows = []
    for entry in EXPECTED:
        if entry.id in attacks:
            a = attacks[entry.id]
            rows.append({"id": entry.id, "title": entry.title, "attacker": entry.attacker,
                         "victim": a.victim, "state": "implemented", "reason": ""})
        else:
            rows.append({"id": entry.id, "title": entry.title, "attacker": entry.attacker,
                         "victim": "", "state": "pending",
                         "reason": PENDING.get(entry.id, "not implemented yet")})
    return rows
