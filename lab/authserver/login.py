"""Sign-in at the AS: password, then (with mfa_required on) a second factor.

PSD2 RTS Art. 4: strong customer authentication uses two independent elements.
alice and mallory use TOTP; bob gets a 4-digit code in the lab's SMS inbox.
login_throttling counts failures per account and per address before a password or code is
checked (lab.domain.login_throttle); risk_based_auth scores a sign-in once its password is
right (lab.domain.login_risk) and may ask for a second factor, a confirmation on the
customer's registered device (/lab/device), or refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from authlib.oauth2.rfc6749 import errors as rfc6749

from lab import clock
from lab.controls import guard
from lab.domain import customers, login_risk, login_throttle
from lab.domain.login_risk import RISK, SignIn
from lab.domain.login_throttle import THROTTLE
from lab.protocol import auth_context
from lab.protocol.errors import AccessDeniedError
from lab.store.base import Store

from . import pending as pending_store

MFA = guard("mfa_required")


class LoginThrottledError(rfc6749.OAuth2Error):
    """RFC 6749 §4.1.2.1 temporarily_unavailable, as HTTP 429 (RFC 6585 §4) with Retry-After."""

    error = "temporarily_unavailable"
    description = "Too many failed sign-in attempts; try again later."
    status_code = 429


@dataclass(frozen=True)
class StepResult:
    ok: bool
    next_stage: str = ""
    message: str = ""
    status: int = 401
    retry_after: int | None = None
    reasons: list[str] = field(default_factory=list)


NOBODY = SignIn(address="", device="")


def _throttled(refusal: login_throttle.Refusal) -> StepResult:
    THROTTLE.refuse(LoginThrottledError(), reason=refusal.reason)
    return StepResult(False, message=refusal.message, status=429,
                      retry_after=refusal.retry_after)


def _failed(store: Store, username: str, sign_in: SignIn, message: str) -> StepResult:
    if lock := login_throttle.failed(store, username, sign_in.address):
        return _throttled(login_throttle.Refusal(lock.reason, f"{message} {lock.message}",
                                                 lock.retry_after))
    return StepResult(False, message=message)


def sign_in_of(pending: pending_store.Pending, address: str, device: str) -> SignIn:
    return SignIn(address=address, device=device, scope=pending.param("scope") or "",
                  details=pending.param("authorization_details") or "")


def password_step(store: Store, pending: pending_store.Pending, username: str,
                  password: str, sign_in: SignIn = NOBODY) -> StepResult:
    if not username or not password or len(username) > 100 or len(password) > 200:
        return StepResult(False, message="Wrong username or password.")
    if refusal := login_throttle.attempt(store, username, sign_in.address):
        return _throttled(refusal)
    if not customers.check_password(store, username, password):
        return _failed(store, username, sign_in, "Wrong username or password.")
    # OIDC §3.1.2.1 acr_values (RFC 9470 §4: after a step-up challenge): SCA asked for
    # means the second factor, whatever mfa_required says.
    need_mfa = MFA.on() or auth_context.wants_sca(dict(pending.request["params"]))
    if RISK.on():
        assessment = login_risk.assess(store, username, sign_in)
        login_risk.record(store, pending.id, username, assessment)
        if assessment.decision == "deny":
            login_throttle.passed(store, username, complete=False)
            RISK.refuse(AccessDeniedError(), reason=f"{username}: {assessment.summary()}")
            return StepResult(False, message="This sign-in looks too risky and was refused.",
                              status=403, reasons=assessment.reasons)
        if assessment.decision == "confirm":
            login_risk.ask_device(store, pending.id, username, sign_in, assessment)
            pending_store.signed_in(store, pending, username=username, stage="device")
            login_throttle.passed(store, username, complete=False)
            return StepResult(True, "device", reasons=assessment.reasons)
        need_mfa = need_mfa or assessment.decision == "mfa"
    if need_mfa:
        return _to_second_factor(store, pending, username)
    # Weak mode: the password alone signs the user in.
    _signed_in(store, pending, username, sign_in, acr="pwd", amr=["pwd"])
    return StepResult(True, "consent")


def _to_second_factor(store: Store, pending: pending_store.Pending,
                      username: str) -> StepResult:
    pending_store.signed_in(store, pending, username=username, stage="mfa")
    login_throttle.passed(store, username, complete=False)
    customer = customers.get(store, username)
    if customer and customer["second_factor"] == "sms":
        customers.send_sms_code(store, username)
    return StepResult(True, "mfa")


def _signed_in(store: Store, pending: pending_store.Pending, username: str, sign_in: SignIn,
               *, acr: str, amr: list[str]) -> None:
    pending_store.signed_in(store, pending, username=username, stage="consent",
                            auth_time=clock.now_int(store), acr=acr, amr=amr)
    # Remembered first: her history keeps the failures just before this sign-in.
    login_risk.remember(store, username, sign_in)
    login_throttle.passed(store, username, complete=True)


def _risk_wants_code(store: Store, pending: pending_store.Pending) -> bool:
    """The second factor was asked by the risk score alone (mfa_required is off)."""
    assessment = login_risk.recorded(store, pending.id) if RISK.on() else None
    return assessment is not None and assessment.decision in ("mfa", "confirm")


def second_factor_step(store: Store, pending: pending_store.Pending, code: str,
                       sign_in: SignIn = NOBODY) -> StepResult:
    username = pending.username or ""
    if refusal := login_throttle.attempt(store, username, sign_in.address):
        return _throttled(refusal)
    customer = customers.get(store, username)
    if customer is None or not code or len(code) > 20:
        ok = False
    elif customer["second_factor"] == "totp":
        ok = customers.check_totp(store, username, code)
    else:
        ok = customers.check_sms_code(store, username, code)
    if not ok:
        # Asked for by acr_values alone, the refusal belongs to no control.
        if MFA.on():
            MFA.refuse(AccessDeniedError(), reason=f"wrong second factor for {username}")
        elif _risk_wants_code(store, pending):
            RISK.refuse(AccessDeniedError(), reason=f"wrong second factor for {username}")
        return _failed(store, username, sign_in, "That code is not valid. Try again.")
    method = "otp" if customer and customer["second_factor"] == "totp" else "sms"
    _signed_in(store, pending, username, sign_in, acr="sca", amr=["pwd", method])
    return StepResult(True, "consent")


def device_step(store: Store, pending: pending_store.Pending,
                sign_in: SignIn = NOBODY) -> StepResult:
    """After the customer answered on her registered device (or not yet)."""
    username = pending.username or ""
    answer = login_risk.answer_of(store, pending.id)
    assessment = login_risk.recorded(store, pending.id)
    reasons = assessment.reasons if assessment else []
    if answer is None:
        return StepResult(False, message="Not confirmed yet: approve this sign-in on your "
                          "registered phone, then continue.", status=409, reasons=reasons)
    if answer != "approved":
        RISK.refuse(AccessDeniedError(), reason=f"{username} declined the sign-in on the "
                    f"registered device; {assessment.summary() if assessment else ''}")
        return StepResult(False, message="This sign-in was declined on your registered phone.",
                          status=403, reasons=reasons)
    if MFA.on():
        return _to_second_factor(store, pending, username)
    # The registered device is the possession factor; the password was the knowledge one.
    _signed_in(store, pending, username, sign_in, acr="sca", amr=["pwd", "swk"])
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
