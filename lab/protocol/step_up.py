"""The bank's step-up policy for payments (RFC 9470): a recent, strong authentication.

RFC 9470 §6: the access token tells the resource server how and when the user
authenticated (`acr`, `auth_time`, RFC 9068 §2.2.1). When that does not meet the
policy, §3: 401 with `error="insufficient_user_authentication"` and the `acr_values`
and `max_age` the client should ask the AS for. Time is the lab clock's, so a
`clock advance` ages a sign-in without waiting.
"""

from __future__ import annotations

import re
from typing import Any

from lab import clock
from lab.controls import guard
from lab.controls.catalog_stepup import SCA_ACR

from .resource_errors import BankError

STEP_UP = guard("step_up_for_payments")
DEFAULT_MAX_AGE = 300
# RFC 6749 §A (NQCHAR-like): what may stand inside the quoted acr_values auth-param.
ACR = re.compile(r"[A-Za-z0-9:._/+-]{1,100}")


class InsufficientUserAuthenticationError(BankError):
    """RFC 9470 §3: the token is valid, the authentication behind it is not enough."""

    error = "insufficient_user_authentication"
    description = "A recent strong customer authentication is required for this payment."
    status_code = 401

    def __init__(self, acr_values: str, max_age: int, *, dpop: bool) -> None:
        super().__init__()
        self.acr_values = acr_values
        self.max_age = max_age
        # The scheme of the token that was presented (RFC 9449 §7.1 for a DPoP-bound one).
        self.only_scheme = "DPoP" if dpop else "Bearer"

    def challenge_params(self) -> list[str]:
        # RFC 9470 §3: acr_values is a quoted, space-separated list; max_age a number.
        return [f'acr_values="{self.acr_values}"', f"max_age={self.max_age}"]


def requirement() -> tuple[str, int]:
    """(the acr a payment needs, the largest age in seconds of the sign-in behind it)."""
    acr = str(STEP_UP.param("acr", SCA_ACR))
    if not ACR.fullmatch(acr):
        acr = SCA_ACR   # never a quote or a line break in a header
    try:
        max_age = max(0, int(STEP_UP.param("max_age", DEFAULT_MAX_AGE)))
    except (TypeError, ValueError):
        max_age = DEFAULT_MAX_AGE
    return acr, max_age


def require_recent_sca(claims: dict[str, Any]) -> None:
    """Refuse a payment whose token's authentication is too weak or too old (when on)."""
    if not STEP_UP.on():
        return  # weak: any valid token with the payments scope pays
    acr, max_age = requirement()
    cnf = claims.get("cnf")
    error = InsufficientUserAuthenticationError(
        acr, max_age, dpop=isinstance(cnf, dict) and "jkt" in cnf)
    token_acr = claims.get("acr")
    if token_acr != acr:
        shown = repr(token_acr)[:40] if token_acr is not None else "none"
        raise STEP_UP.refuse(error, reason=f"token acr {shown}; a payment needs {acr!r}")
    auth_time = claims.get("auth_time")
    if not clock.is_time(auth_time):
        raise STEP_UP.refuse(error, reason="token carries no auth_time")
    assert isinstance(auth_time, int | float)
    age = clock.now_int() - int(auth_time)
    if age > max_age:
        raise STEP_UP.refuse(error, reason=f"the customer signed in {age} s ago "
                             f"(a payment needs at most {max_age} s)")
