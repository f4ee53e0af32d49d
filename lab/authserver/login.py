"""Sign-in at the AS: password, then (with mfa_required on) a second factor.

PSD2 RTS Art. 4: strong customer authentication uses two independent elements.
alice and mallory use TOTP; bob gets a 4-digit code in the lab's SMS inbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab import clock
from lab.controls import guard
from lab.domain import customers
from lab.protocol import auth_context
from lab.protocol.errors import AccessDeniedError
from lab.store.base import Store

from . import pending as pending_store

MFA = guard("mfa_required")


@dataclass(frozen=True)
class StepResult:
    ok: bool
    next_stage: str = ""
    message: str = ""


def password_step(store: Store, pending: pending_store.Pending, username: str,
                  password: str) -> StepResult:
    if not username or not password or len(username) > 100 or len(password) > 200 \
            or not customers.check_password(store, username, password):
        return StepResult(False, message="Wrong username or password.")
    # OIDC §3.1.2.1 acr_values (RFC 9470 §4: after a step-up challenge): SCA asked for
    # means the second factor, whatever mfa_required says.
    if MFA.on() or auth_context.wants_sca(dict(pending.request["params"])):
        pending_store.signed_in(store, pending, username=username, stage="mfa")
        customer = customers.get(store, username)
        if customer and customer["second_factor"] == "sms":
            customers.send_sms_code(store, username)
        return StepResult(True, "mfa")
    # Weak mode: the password alone signs the user in.
    pending_store.signed_in(store, pending, username=username, stage="consent",
                            auth_time=clock.now_int(store), acr="pwd", amr=["pwd"])
    return StepResult(True, "consent")


def second_factor_step(store: Store, pending: pending_store.Pending, code: str) -> StepResult:
    username = pending.username or ""
    customer = customers.get(store, username)
    if customer is None or not code or len(code) > 20:
        ok = False
    elif customer["second_factor"] == "totp":
        ok = customers.check_totp(store, username, code)
    else:
        ok = customers.check_sms_code(store, username, code)
    if not ok:
        if MFA.on():   # asked for by acr_values alone, the refusal is not this control's
            MFA.refuse(AccessDeniedError(), reason=f"wrong second factor for {username}")
        return StepResult(False, message="That code is not valid. Try again.")
    method = "otp" if customer and customer["second_factor"] == "totp" else "sms"
    pending_store.signed_in(store, pending, username=username, stage="consent",
                            auth_time=clock.now_int(store), acr="sca", amr=["pwd", method])
    return StepResult(True, "consent")


def resend_sms(store: Store, pending: pending_store.Pending) -> None:
    customer = customers.get(store, pending.username or "")
    if customer and customer["second_factor"] == "sms":
        customers.send_sms_code(store, customer["username"])


def factor_hint(store: Store, pending: pending_store.Pending) -> tuple[str, bool]:
    """(what to tell the user, whether the SMS inbox link applies)."""
    customer = customers.get(store, pending.username or "")
    if customer is None:
        return "", False
    return customers.second_factor_hint(customer), customer["second_factor"] == "sms"
