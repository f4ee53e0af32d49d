"""Rich Authorization Requests (RFC 9396) at the AS: `authorization_details` checked on
every authorization request (pushed or not), and what tokens and introspection carry.

The check runs right after the request_uri is resolved (one hook: Authlib's hooks are a
set, so their order is not guaranteed), so it sees the pushed parameters when PAR is used
and the front channel's when it is not.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2 import OAuth2Error

from lab import context
from lab.domain import payment_consents
from lab.domain.payment_consents import DetailsError, Payment

from . import authorization_request

PARAM = "authorization_details"


class InvalidAuthorizationDetailsError(OAuth2Error):
    """RFC 9396 §5: unknown type, unknown or ill-typed fields, invalid values, missing ones."""

    error = "invalid_authorization_details"
    description = "authorization_details is not a valid payment_initiation request."
    status_code = 400


def payment_in(values: list[str]) -> Payment | None:
    """The payment an authorization request asks consent for, or None; raises DetailsError."""
    if not values:
        return None
    if len(values) > 1:
        raise DetailsError("authorization_details is sent more than once")
    return payment_consents.parse(values[0])


def check(server: Any, request: Any) -> None:
    """Refuse a malformed authorization_details before the user sees anything."""
    try:
        payment_in(request.payload.datalist.get(PARAM, []))
    except DetailsError as bad:
        error = InvalidAuthorizationDetailsError(description=str(bad))
        if not getattr(request, "lab_pushed", False):
            # RFC 6749 §4.1.2.1: to the client's redirect_uri once that is known to be good.
            error.redirect_uri = server.error_redirect_uri(request)
            error.state = request.payload.data.get("state")
        raise error from None


def resolve_then_check(server: Any, request: Any) -> None:
    """The authorization endpoint's hook: the request as pushed, then its details."""
    authorization_request.resolve(server, request)
    check(server, request)


def granted(grant_id: str | None) -> list[dict[str, Any]] | None:
    """RFC 9396 §7 (token response), §9.1 (JWT access token), §9.2 (introspection)."""
    if not grant_id:
        return None
    return payment_consents.granted_details(context.current().store, grant_id)
