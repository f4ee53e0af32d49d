"""The UserInfo endpoint (OIDC Core §5.3) for this AS's own access tokens.

UserInfo is a protected resource: a sender-constrained token is checked here exactly as
at the bank (RFC 9449 §7, RFC 8705 §3). The check is passed in (`check_binding`, the
bank's validator: lab/authserver/views.py), so this module stays framework-free.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authlib.oauth2.rfc6750 import InsufficientScopeError
from authlib.oidc.core import UserInfo

from lab import clock, context
from lab.domain import consent, reference_tokens

from .errors import InvalidRequestError, InvalidTokenError
from .oidc import user_info
from .tokens import EndUser, verify_own


class MissingTokenError(InvalidTokenError):
    description = "A bearer access token is required."


class OpenIDScopeError(InsufficientScopeError):
    description = "The access token lacks the openid scope."


class TwoTokensError(InvalidRequestError):
    description = "Send the access token in one place only: the Authorization header or the body."


def access_token(authorization: str | None, form_token: str | None,
                 dpop_allowed: bool) -> tuple[str, str]:
    """(scheme, token): RFC 6750 §2.1 (header) and §2.2 (form body, a bearer token), or the
    DPoP scheme (RFC 9449 §7.1) while DPoP is on."""
    if authorization and form_token:
        # RFC 6750 §2: "Clients MUST NOT use more than one method to transmit the token".
        raise TwoTokensError()
    if authorization:
        scheme, _, value = authorization.partition(" ")
        scheme = scheme.lower()
        if (scheme == "bearer" or (scheme == "dpop" and dpop_allowed)) and value.strip():
            return scheme, value.strip()
        raise MissingTokenError()
    if form_token:
        return "bearer", form_token
    raise MissingTokenError()


def claims_for(token: str, private_keys: list[dict[str, Any]],
               check_binding: Callable[[dict[str, Any]], None]) -> UserInfo:
    """OIDC Core §5.3.2: the claims about the user the token was issued for, once the token
    and its sender constraint (`check_binding(claims)`) are verified."""
    # An opaque access token (docs/gateway.md) is the reference to the AS's own JWT.
    own = reference_tokens.resolve(context.current().store, token) or token
    claims = verify_own(own, private_keys)
    if claims is None or float(claims.get("exp", 0)) <= clock.now():
        raise InvalidTokenError()
    row = consent.access_token_status(context.current().store, str(claims.get("jti")))
    if row is None or row["revoked"]:
        raise InvalidTokenError()
    check_binding(claims)
    if "openid" not in str(claims.get("scope", "")).split():
        raise OpenIDScopeError()
    # OIDC Core §5.3.2: the sub is the token's (pairwise for its client, §8); the user's
    # other claims come from the customer the AS issued the token for.
    username = row.get("username") or str(claims["sub"])
    return user_info(EndUser(str(username)), str(claims.get("scope", "")), str(claims["sub"]))
