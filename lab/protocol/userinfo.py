"""The UserInfo endpoint (OIDC Core §5.3) for this AS's own access tokens."""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6750 import InsufficientScopeError
from authlib.oidc.core import UserInfo

from lab import clock, context
from lab.domain import consent

from .errors import InvalidTokenError
from .oidc import user_info
from .tokens import EndUser, verify_own


class MissingTokenError(InvalidTokenError):
    description = "A bearer access token is required."


class OpenIDScopeError(InsufficientScopeError):
    description = "The access token lacks the openid scope."


def bearer_token(authorization: str | None, form_token: str | None) -> str:
    # RFC 6750 §2.1 (header) and §2.2 (form body) are both allowed at UserInfo.
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        raise MissingTokenError()
    if form_token:
        return form_token
    raise MissingTokenError()


def claims_for(token: str, private_keys: list[dict[str, Any]]) -> UserInfo:
    """OIDC Core §5.3.2: the claims about the user the token was issued for."""
    claims = verify_own(token, private_keys)
    if claims is None or float(claims.get("exp", 0)) <= clock.now():
        raise InvalidTokenError()
    row = consent.access_token_status(context.current().store, str(claims.get("jti")))
    if row is None or row["revoked"]:
        raise InvalidTokenError()
    if "openid" not in str(claims.get("scope", "")).split():
        raise OpenIDScopeError()
    return user_info(EndUser(str(claims["sub"])), str(claims.get("scope", "")))
