"""Refusals of a HonestBank resource (the bank API, the AS's UserInfo) in RFC 6750 §3 shape: a
JSON body and a `WWW-Authenticate` challenge.

The challenge names the schemes the bank accepts right now: `Bearer`, or with
dpop_bound_tokens on `DPoP` (RFC 9449 §7.1), plus `Bearer` while certificate-bound
tokens may still use it. Descriptions are constants (detail goes into the control
event's reason), so no input ever reaches a header or Authlib's character check.
"""

from __future__ import annotations

from authlib.oauth2.base import OAuth2Error

from lab.controls import guard
from lab.jose import dpop_proof

REALM = "HonestBank"
DPOP = guard("dpop_bound_tokens")
MTLS = guard("mtls_bound_tokens")


def schemes() -> list[str]:
    """The authorization schemes to challenge with, as the switches stand for this request."""
    try:
        if not DPOP.on():
            return ["Bearer"]
        return ["DPoP", "Bearer"] if MTLS.on() else ["DPoP"]
    except RuntimeError:  # no request context (unit use): the RFC 6750 default
        return ["Bearer"]


def challenge(scheme: str, params: list[str]) -> str:
    if scheme == "DPoP":
        # RFC 9449 §7.1: "algs: A space-delimited list of the JWS alg values ... that the
        # resource server supports" for DPoP proofs.
        params = [*params, f'algs="{" ".join(dpop_proof.supported_algs())}"']
    return f"{scheme} " + ", ".join(params)


class BankError(OAuth2Error):
    """An RFC 6750 error; `challenge` decides whether WWW-Authenticate carries the error code."""

    challenge = True
    only_scheme: str | None = None  # an error that exists only in one scheme (DPoP's own)

    def __init__(self, description: str | None = None, *, scope: str | None = None) -> None:
        super().__init__(description=description)
        self.scope = scope

    def challenge_params(self) -> list[str]:
        """More auth-params for the challenge (RFC 9470 §3: acr_values, max_age)."""
        return []

    def get_headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = super().get_headers()
        if not self.challenge:
            return headers
        params = [f'realm="{REALM}"', f'error="{self.error}"',
                  f'error_description="{self.description}"']
        if self.scope:
            params.append(f'scope="{self.scope}"')
        params += self.challenge_params()
        offered = [self.only_scheme] if self.only_scheme else schemes()
        headers.append(("WWW-Authenticate", ", ".join(challenge(s, params) for s in offered)))
        return headers


class MissingTokenError(BankError):
    """RFC 6750 §3.1: "If the request lacks any authentication information (e.g., the client
    was unaware that authentication is necessary or attempted using an unsupported
    authentication method), the resource server SHOULD NOT include an error code"."""

    error = "unauthorized"
    description = "This API needs an access token in the Authorization header."
    status_code = 401
    challenge = False

    def get_headers(self) -> list[tuple[str, str]]:
        value = ", ".join(challenge(s, [f'realm="{REALM}"']) for s in schemes())
        return [*super().get_headers(), ("WWW-Authenticate", value)]


class InvalidRequestError(BankError):
    error = "invalid_request"
    description = "The request is missing a parameter or has an invalid one."
    status_code = 400


class InvalidTokenError(BankError):
    error = "invalid_token"
    description = "The access token is expired, revoked, malformed, or invalid for other reasons."
    status_code = 401


class InvalidDPoPProofError(BankError):
    """RFC 9449 §7.1: a resource request whose DPoP proof is missing or invalid."""

    error = "invalid_dpop_proof"
    description = "The DPoP proof is missing, malformed, or not valid for this request."
    status_code = 401
    only_scheme = "DPoP"


class UseDPoPNonceError(BankError):
    """RFC 9449 §9: the proof must carry the nonce sent in the DPoP-Nonce header."""

    error = "use_dpop_nonce"
    description = "Resource server requires nonce in DPoP proof."
    status_code = 401
    only_scheme = "DPoP"

    def __init__(self, nonce: str) -> None:
        super().__init__()
        self.nonce = nonce

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("DPoP-Nonce", self.nonce)]


class InsufficientScopeError(BankError):
    error = "insufficient_scope"
    description = "The access token does not allow this request."
    status_code = 403


class ClientTokenError(InsufficientScopeError):
    """A client-credentials token (RFC 9068 §2.2: its sub is the client) has no customer behind
    it, so no customer's data can be "sufficient" for it (RFC 6750 §3.1)."""

    description = "This API serves customer data; the access token was issued to the client " \
                  "itself and carries no customer's authorization."


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
