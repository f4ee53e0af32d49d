"""What an authorization request asks of the user's authentication (OIDC Core §3.1.2.1).

`acr_values` (voluntary: the AS does its best), `max_age` (the AS MUST re-authenticate a
user whose last active authentication is older) and `prompt=login`. RFC 9470 §4 has
clients send the first two after a step-up challenge; through PAR they arrive pushed
(RFC 9126), so they are read from whatever request the resolver produced.

The lab's AS keeps no sign-in session between authorization requests: every request
shows the login page, so `prompt=login` and `max_age` are met by that fresh login. The
one sign-in that can age is the one of a pending authorization, between its login and
its consent decision; `too_old` is what the consent step asks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lab.controls.catalog_stepup import PASSWORD_ACR, SCA_ACR
from lab.domain import customers
from lab.store.base import Store

from .errors import InvalidRequestError

# OIDC Discovery §3 acr_values_supported: the two levels the lab's login produces.
ACR_VALUES_SUPPORTED = (PASSWORD_ACR, SCA_ACR)
MAX_ACR_VALUES = 512
MAX_AGE_DIGITS = re.compile(r"[0-9]{1,9}")   # up to ~31 years; more is not "an age"


class InvalidMaxAgeError(InvalidRequestError):
    description = "max_age must be a whole number of seconds."


class InvalidAcrValuesError(InvalidRequestError):
    description = "acr_values must be a short space-separated list."


def _one(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    return value if isinstance(value, str) else None


def validate(params: Mapping[str, Any], redirect_uri: str | None) -> None:
    """Refuse a malformed max_age or acr_values before the user sees a page."""
    max_age = _one(params, "max_age")
    if max_age is not None and not MAX_AGE_DIGITS.fullmatch(max_age):
        raise InvalidMaxAgeError(redirect_uri=redirect_uri)
    acr = _one(params, "acr_values")
    if acr is not None and (len(acr) > MAX_ACR_VALUES or not acr.isprintable()):
        raise InvalidAcrValuesError(redirect_uri=redirect_uri)


def acr_values(params: Mapping[str, Any]) -> list[str]:
    """OIDC §3.1.2.1: "Requested Authentication Context Class Reference values", in order."""
    return (_one(params, "acr_values") or "").split()[:16]


def wants_sca(params: Mapping[str, Any]) -> bool:
    """The client asked for strong customer authentication: the second factor is due."""
    return SCA_ACR in acr_values(params)


def max_age(params: Mapping[str, Any]) -> int | None:
    raw = _one(params, "max_age")
    return int(raw) if raw is not None and MAX_AGE_DIGITS.fullmatch(raw) else None


def too_old(params: Mapping[str, Any], auth_time: int | None, now: int) -> bool:
    """OIDC §3.1.2.1 max_age: "If the elapsed time is greater than this value, the OP MUST
    attempt to actively re-authenticate the End-User"."""
    limit = max_age(params)
    return limit is not None and (auth_time is None or now - auth_time > limit)


def amr_for(store: Store, username: str, acr: str | None) -> tuple[str, ...]:
    """RFC 8176 methods behind an acr the lab's login gave this customer (a refreshed token
    carries the grant's authentication; the grant keeps its acr, the methods follow)."""
    if acr == PASSWORD_ACR:
        return ("pwd",)
    if acr != SCA_ACR:
        return ()
    customer = customers.get(store, username)
    factor = customer["second_factor"] if customer else ""
    return ("pwd", "otp" if factor == "totp" else "sms")
