"""The bank's refusals in RFC 6750 §3 shape: a JSON body and a `WWW-Authenticate: Bearer` header.

Descriptions are constants (detail goes into the control event's reason), so no
input ever reaches a header or Authlib's character check.
"""

from __future__ import annotations

from authlib.oauth2.base import OAuth2Error

REALM = "HonestBank"


class BankError(OAuth2Error):
    """An RFC 6750 error; `challenge` decides whether WWW-Authenticate carries the error code."""

    challenge = True

    def __init__(self, description: str | None = None, *, scope: str | None = None) -> None:
        super().__init__(description=description)
        self.scope = scope

    def get_headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = super().get_headers()
        if not self.challenge:
            return headers
        params = [f'realm="{REALM}"', f'error="{self.error}"',
                  f'error_description="{self.description}"']
        if self.scope:
            params.append(f'scope="{self.scope}"')
        headers.append(("WWW-Authenticate", "Bearer " + ", ".join(params)))
        return headers


class MissingTokenError(BankError):
    """RFC 6750 §3.1: "If the request lacks any authentication information (e.g., the client
    was unaware that authentication is necessary or attempted using an unsupported
    authentication method), the resource server SHOULD NOT include an error code"."""

    error = "unauthorized"
    description = "This API needs an access token: send Authorization: Bearer <token>."
    status_code = 401
    challenge = False

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("WWW-Authenticate", f'Bearer realm="{REALM}"')]


class InvalidRequestError(BankError):
    error = "invalid_request"
    description = "The request is missing a parameter or has an invalid one."
    status_code = 400


class InvalidTokenError(BankError):
    error = "invalid_token"
    description = "The access token is expired, revoked, malformed, or invalid for other reasons."
    status_code = 401


class InsufficientScopeError(BankError):
    error = "insufficient_scope"
    description = "The access token does not allow this request."
    status_code = 403


class NotFoundError(BankError):
    """Unknown ids, and accounts of other customers (their existence is not revealed)."""

    error = "not_found"
    description = "No such resource."
    status_code = 404
    challenge = False


class KeysUnavailableError(BankError):
    """The AS's keys could not be fetched: not the client's fault, so not invalid_token."""

    error = "temporarily_unavailable"
    description = "The bank cannot verify access tokens right now; try again shortly."
    status_code = 503
    challenge = False

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("Retry-After", "5")]
