"""The TPP's aborts: a refused callback or link, rendered as a readable page with status 400.

Descriptions are constants (style.md §9): what the input said goes into the
event reason, never into the page.
"""

from __future__ import annotations

from authlib.oauth2.base import OAuth2Error


class TppError(OAuth2Error):
    """An abort of the TPP's own flow (not an AS error relayed as JSON)."""

    error = "invalid_request"
    description = "FinLens could not process this request."
    status_code = 400
    title = "FinLens could not link your bank"

    def __init__(self, description: str | None = None) -> None:
        super().__init__(description=description or type(self).description,
                         status_code=type(self).status_code, error=type(self).error)


class InvalidCallbackError(TppError):
    error = "invalid_request"
    description = "The authorization response is malformed (missing or repeated parameters)."


class StateMismatchError(TppError):
    error = "state_mismatch"
    description = "This authorization response does not belong to a link started in this browser."


class NonceMismatchError(TppError):
    error = "nonce_mismatch"
    description = "The ID token's nonce does not match the one this browser sent."


class IdTokenInvalidError(TppError):
    error = "id_token_invalid"
    description = "The ID token failed validation (signature, issuer, audience or lifetime)."


class ScopeMismatchError(TppError):
    error = "scope_mismatch"
    description = ("The bank granted more than FinLens asked for; the tokens were discarded "
                   "and revoked.")


class FrontChannelTokenError(TppError):
    error = "unsupported_response_type"
    description = ("Tokens arrived in the browser's front channel; FinLens takes tokens only "
                   "from the token endpoint.")


class AuthorizationFailedError(TppError):
    """The AS answered the authorization request with an error (RFC 6749 §4.1.2.1)."""

    error = "access_denied"
    description = "The bank did not authorize the link."
    KNOWN = ("invalid_request", "unauthorized_client", "access_denied",
             "unsupported_response_type", "invalid_scope", "server_error",
             "temporarily_unavailable", "login_required", "consent_required",
             "interaction_required", "invalid_request_uri", "invalid_request_object")

    def __init__(self, as_error: str | None) -> None:
        super().__init__()
        self.error = as_error if as_error in self.KNOWN else "access_denied"


class TokenRequestFailedError(TppError):
    """The AS refused to exchange the code (RFC 6749 §5.2); its error code is shown."""

    error = "invalid_grant"
    description = "The bank refused to exchange the authorization code for tokens."
    KNOWN = ("invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
             "unsupported_grant_type", "invalid_scope", "invalid_dpop_proof", "use_dpop_nonce")

    def __init__(self, as_error: str | None) -> None:
        super().__init__()
        self.error = as_error if as_error in self.KNOWN else "server_error"


class InstitutionUnavailableError(TppError):
    error = "temporarily_unavailable"
    description = "The bank's authorization server could not be reached or answered badly."
    status_code = 502


class UnknownInstitutionError(TppError):
    error = "unknown_institution"
    description = "FinLens does not know this institution."
    status_code = 404


class RedirectRefusedError(TppError):
    error = "invalid_request"
    description = "FinLens only forwards to its partners, and forwards no parameters."
    title = "Redirect refused"


class NoSuchLinkError(TppError):
    error = "not_found"
    description = "No such linked institution for this FinLens user."
    status_code = 404
    title = "Not found"


class PushedRequestFailedError(TppError):
    """The AS refused the pushed authorization request (RFC 9126 §2.3)."""

    error = "invalid_request"
    description = "The bank refused FinLens's pushed authorization request."
    KNOWN = ("invalid_request", "invalid_client", "unauthorized_client", "invalid_scope",
             "invalid_dpop_proof", "use_dpop_nonce", "invalid_redirect_uri")

    def __init__(self, as_error: object) -> None:
        super().__init__()
        self.error = as_error if isinstance(as_error, str) and as_error in self.KNOWN \
            else "server_error"


class MixUpDetectedError(TppError):
    error = "mix_up_detected"
    description = ("This authorization response came from another authorization server than "
                   "the one FinLens sent you to; it was discarded.")


class DiscoveryIssuerMismatchError(MixUpDetectedError):
    """RFC 8414 §3.3: the bank's metadata names another issuer than the one it was fetched
    from (a server impersonating another AS); nothing of it is used."""

    description = ("The bank's discovery document names another authorization server than the "
                   "one FinLens asked; FinLens did not contact it further.")


class InvalidJarmError(TppError):
    error = "invalid_jarm"
    description = ("The authorization response is not a valid JWT signed by the bank FinLens "
                   "sent you to, for FinLens, and still fresh; it was discarded.")


class NoSubjectError(TppError):
    error = "invalid_request"
    description = "The bank's answer does not say who is signing in."
    title = "FinLens could not sign you in"
