"""Sender-constrained tokens at a HonestBank resource (the bank API, the AS's UserInfo): DPoP
(RFC 9449 §7) and certificate binding (RFC 8705 §3).

FAPI2 §5.3.4: the resource server "shall only accept sender-constrained access
tokens" and verify the constraint. Runs after the token's signature and claims
were verified; refusals carry a DPoP challenge (lab/protocol/resource_errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import TokenValidator

from lab import pki
from lab.controls import guard
from lab.jose import dpop_proof
from lab.protocol.resource_errors import (
    REALM,
    InvalidDPoPProofError,
    InvalidTokenError,
    UseDPoPNonceError,
)

DPOP = guard("dpop_bound_tokens")
MTLS = guard("mtls_bound_tokens")

NONCES = dpop_proof.Nonces("bank")
ERRORS = dpop_proof.ProofErrors(InvalidDPoPProofError, UseDPoPNonceError)


@dataclass(frozen=True)
class ResourceRequest:
    """What the binding checks need from the HTTP request, framework-free."""

    method: str = "GET"
    url: str = ""
    dpop: list[str] = field(default_factory=list)
    client_cert: str | None = None
    # Opaque mode (docs/gateway.md): the key the gateway verified, as it forwarded it.
    confirmed: str | None = None
    forwarded_for: str | None = None  # and the client's address it saw


def dpop_scheme_allowed() -> bool:
    """RFC 9449 §7.1: the DPoP authorization scheme exists only while DPoP is on."""
    return DPOP.on()


def _cnf(claims: dict[str, Any]) -> tuple[str | None, str | None]:
    cnf = claims.get("cnf")
    if not isinstance(cnf, dict):
        return None, None
    jkt, x5t = cnf.get("jkt"), cnf.get("x5t#S256")
    return (jkt if isinstance(jkt, str) else None), (x5t if isinstance(x5t, str) else None)


class DPoPTokenValidator(TokenValidator):  # type: ignore[misc]
    """Authlib's validator shape for the DPoP scheme; the token is the verified claims."""

    TOKEN_TYPE = "dpop"

    def __init__(self) -> None:
        super().__init__(realm=REALM)

    def validate_token(self, token: dict[str, Any], scopes: Any, request: ResourceRequest,
                       *, scheme: str = "bearer", access_token: str = "") -> None:
        jkt, x5t = _cnf(token)
        if DPOP.on():
            self._check_dpop(jkt, x5t, request, scheme, access_token)
        if x5t and MTLS.on():
            presented = pki.certificate_thumbprint(request.client_cert)
            # RFC 8705 §3.2: the resource server "MUST ... verify that the certificate matches
            # the certificate associated with the access token"; "If they do not match, the
            # resource access attempt MUST be rejected with an error per [RFC6750]".
            if presented != x5t:
                raise MTLS.refuse(InvalidTokenError(), reason="no client certificate" if
                                  presented is None else "client certificate is not cnf.x5t#S256")

    @staticmethod
    def _check_dpop(jkt: str | None, x5t: str | None, request: ResourceRequest, scheme: str,
                    access_token: str) -> None:
        if jkt is None:
            if scheme == "dpop":
                raise DPOP.refuse(InvalidTokenError(), reason="DPoP scheme, token not DPoP-bound")
            # FAPI2 §5.3.4: "shall only accept sender-constrained access tokens"; a token bound
            # to a certificate passes on to the certificate check.
            if not (x5t and MTLS.on()):
                raise DPOP.refuse(InvalidTokenError(), reason="unbound bearer token")
            return
        # RFC 9449 §7.2: a protected resource "MUST NOT" let a DPoP-bound token be used as a
        # bearer token.
        if scheme != "dpop":
            raise DPOP.refuse(InvalidTokenError(), reason="DPoP-bound token sent as Bearer")
        proof = dpop_proof.validate(request.dpop, method=request.method, uri=request.url,
                                    errors=ERRORS, nonces=NONCES, access_token=access_token)
        # RFC 9449 §7.1: check "that the public key to which the access token is bound matches
        # the public key from the DPoP proof".
        if proof is not None and proof.jkt != jkt:
            raise DPOP.refuse(InvalidTokenError(), reason="proof key is not the token's cnf.jkt")


def current_nonce() -> str | None:
    """The DPoP-Nonce for this response, while nonces are required (RFC 9449 §9)."""
    if DPOP.on() and dpop_proof.NONCE.on():
        return NONCES.current()
    return None
