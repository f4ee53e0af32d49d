"""OAuth errors with constant descriptions (RFC 6749 §4.1.2.1, §5.2).

Authlib 1.9 raises ValueError when a description carries `"`, `\\` or non-ASCII,
and several of its own errors echo input; these never do. Detail belongs in the
control event's `reason`, not here.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import errors as rfc6749
from authlib.oauth2.rfc6750 import errors as rfc6750


class InvalidRequestError(rfc6749.InvalidRequestError):
    description = "The request is missing a parameter, repeats one, or is malformed."


class InvalidRedirectUriError(rfc6749.InvalidRequestError):
    description = "The redirect_uri is not registered for this client."


class MissingRedirectUriError(rfc6749.InvalidRequestError):
    description = "The redirect_uri parameter is required for this client."


class InvalidClientError(rfc6749.InvalidClientError):
    description = "Client authentication failed."


class UnknownClientError(rfc6749.InvalidClientError):
    description = "The client is unknown to this server."


class InvalidGrantError(rfc6749.InvalidGrantError):
    description = "The authorization grant or refresh token is invalid, expired or revoked."


class UnauthorizedClientError(rfc6749.UnauthorizedClientError):
    description = "The client is not allowed to use this grant or response type."


class UnsupportedResponseTypeError(rfc6749.UnsupportedResponseTypeError):
    """Authlib's own version echoes the response_type into its description."""

    description = "This response_type is not supported."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(None, **kwargs)

    def get_error_description(self) -> str:
        return self.description


class UnsupportedGrantTypeError(rfc6749.UnsupportedGrantTypeError):
    description = "This grant_type is not supported."

    def __init__(self) -> None:
        super().__init__(None)

    def get_error_description(self) -> str:
        return self.description


class InvalidScopeError(rfc6749.InvalidScopeError):
    description = "The requested scope is invalid, unknown, or exceeds what was granted."


class InvalidTargetError(rfc6749.OAuth2Error):
    """RFC 8707 §2: "The requested resource is invalid, missing, unknown, or malformed"."""

    error = "invalid_target"
    description = "The requested resource is unknown to this authorization server."
    status_code = 400


class AccessDeniedError(rfc6749.AccessDeniedError):
    description = "The resource owner or authorization server denied the request."


class InvalidTokenError(rfc6750.InvalidTokenError):
    description = "The access token is invalid, expired or revoked."


class LoginRequiredError(rfc6749.OAuth2Error):
    """The browser came to a login step with no pending authorization of its own."""

    error = "invalid_request"
    description = "No authorization request is pending in this browser; start again at the client."
    status_code = 400
