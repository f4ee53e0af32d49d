"""DPoP at the AS (RFC 9449 §5, §6.1, §10): proofs at the token and PAR endpoints, cnf, token_type.

One grant extension decides a token request's sender constraint (a DPoP key, the
mTLS certificate, or — with both controls off — none) and shapes the response.
Token generators get no request, so the grants pass `cnf` through one overridden
`generate_token` (style.md §4).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from authlib.consts import default_json_headers
from authlib.oauth2.base import OAuth2Error

from lab.controls import guard
from lab.jose import dpop_proof

from . import mtls_binding
from .tokens import EndUser

DPOP = guard("dpop_bound_tokens")
NONCE = guard("dpop_nonce")
JKT = guard("dpop_jkt_binding")

NONCES = dpop_proof.Nonces("as")
MAX_JKT = 128


class InvalidDPoPProofError(OAuth2Error):
    error = "invalid_dpop_proof"
    description = "The DPoP proof is missing, malformed, or not valid for this request."
    status_code = 400


class UseDPoPNonceError(OAuth2Error):
    """RFC 9449 §8: the error carries a fresh nonce in the DPoP-Nonce header."""

    error = "use_dpop_nonce"
    description = "Authorization server requires nonce in DPoP proof."
    status_code = 400

    def __init__(self, nonce: str) -> None:
        super().__init__()
        self.nonce = nonce

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("DPoP-Nonce", self.nonce)]


ERRORS = dpop_proof.ProofErrors(InvalidDPoPProofError, UseDPoPNonceError)


def _dpop_values(request: Any) -> list[str]:
    headers = getattr(request, "headers", None) or {}
    if hasattr(headers, "getlist"):
        return [str(v) for v in headers.getlist("DPoP")]
    value = headers.get("DPoP") if hasattr(headers, "get") else None
    return [str(value)] if value is not None else []


def check_proof(request: Any) -> dpop_proof.Proof | None:
    """The request's proof, checked; None while dpop_bound_tokens is off."""
    return dpop_proof.validate(_dpop_values(request), method=request.method, uri=request.uri,
                               errors=ERRORS, nonces=NONCES)


def sender_constraint(request: Any, bound_jkt: str | None) -> dict[str, str] | None:
    """The cnf for this token request, or a refusal. FAPI2 §5.3.2.1: the AS "shall only issue
    sender-constrained access tokens" using "MTLS ... or DPoP"."""
    cnf = dict(mtls_binding.cnf_for(request) or {})
    if not DPOP.on():
        return cnf or None  # weak: DPoP headers are ignored; the token is a bearer token
    # A request over mutual TLS with the certificate binding on needs no proof; one that
    # carries a proof, or redeems a code bound with dpop_jkt, gets it checked anyway.
    if not JKT.on():
        bound_jkt = None  # weak: the code redeems with any key (it still remembers dpop_jkt)
    if _dpop_values(request) or not cnf or bound_jkt:
        proof = check_proof(request)
        if proof is None:
            return cnf or None
        # RFC 9449 §10: the AS "MUST ensure that the dpop_jkt value matches the JWK Thumbprint
        # of the public key in the DPoP proof" of the token request.
        if bound_jkt and proof.jkt != bound_jkt and JKT.on():
            raise JKT.refuse(InvalidDPoPProofError(),
                             reason="proof key is not the authorization request's dpop_jkt")
        # RFC 9449 §6.1: "the jkt (JWK SHA-256 Thumbprint) confirmation method".
        cnf["jkt"] = proof.jkt
    return cnf or None


class SenderConstraint:
    """Grant extension: checks after validate_token_request, shapes after create_token_response."""

    def __call__(self, grant: Any) -> None:
        # A per-request copy, so the DPoP-Nonce header never lands in Authlib's shared default.
        grant.TOKEN_RESPONSE_HEADER = list(default_json_headers)
        grant.register_hook("after_validate_token_request", self.check_token_request)
        grant.register_hook("after_create_token_response", self.shape_response)

    @staticmethod
    def check_token_request(grant: Any, _result: Any) -> None:
        request = grant.request
        code = getattr(request, "authorization_code", None)
        bound = getattr(code, "dpop_jkt", None)
        request.lab_cnf = sender_constraint(request, bound if isinstance(bound, str) else None)

    @staticmethod
    def shape_response(grant: Any, result: Any) -> None:
        _status, body, headers = result
        cnf = getattr(grant.request, "lab_cnf", None) or {}
        # RFC 9449 §5: "the token_type ... MUST be DPoP" for a DPoP-bound access token.
        if "jkt" in cnf and isinstance(body, dict) and body.get("access_token"):
            body["token_type"] = "DPoP"
        # RFC 9449 §8: the AS may supply a new nonce "in the DPoP-Nonce HTTP header" of any
        # response, and does on every success while nonces are required.
        if DPOP.on() and NONCE.on() and isinstance(headers, list) \
                and headers is not default_json_headers:
            headers.append(("DPoP-Nonce", NONCES.current()))


EXTENSION = SenderConstraint()


class SenderConstrainedGrant:
    """Mixed into the code and refresh grants: the extension on every grant Authlib builds, and
    the access token's cnf threaded through generate_token."""

    request: Any

    def __init__(self, request: Any, server: Any) -> None:
        super().__init__(request, server)  # type: ignore[call-arg]
        EXTENSION(self)

    def generate_token(self, user: Any = None, scope: str | None = None,
                       grant_type: str | None = None, expires_in: int | None = None,
                       include_refresh_token: bool = True) -> dict[str, Any]:
        cnf = getattr(self.request, "lab_cnf", None)
        if cnf and isinstance(user, EndUser):
            user = dataclasses.replace(user, cnf=dict(cnf))
        token: dict[str, Any] = super().generate_token(  # type: ignore[misc]
            user=user, scope=scope, grant_type=grant_type, expires_in=expires_in,
            include_refresh_token=include_refresh_token)
        return token


def par_dpop_jkt(request: Any) -> str | None:
    """The key a pushed authorization request binds its code to (RFC 9449 §10.1), or None.

    A DPoP header at PAR is checked like one at the token endpoint (htu = the PAR URL); if
    dpop_jkt is sent too, both must name the same key. Off: both are ignored."""
    if not DPOP.on():
        return None
    payload = getattr(request, "payload", None)
    data = getattr(payload, "data", None) or getattr(request, "form", None) or {}
    sent = data.get("dpop_jkt") if hasattr(data, "get") else None
    if sent is not None and (not isinstance(sent, str) or not 0 < len(sent) <= MAX_JKT):
        raise DPOP.refuse(InvalidDPoPProofError(), reason="malformed dpop_jkt")
    if not _dpop_values(request):
        return sent
    proof = check_proof(request)
    if proof is None:
        return None
    # RFC 9449 §10.1: "if both ... are present, the authorization server MUST check that the
    # dpop_jkt parameter value matches the JWK Thumbprint of the proof's public key".
    if sent is not None and sent != proof.jkt and JKT.on():
        raise JKT.refuse(InvalidDPoPProofError(), reason="dpop_jkt differs from the proof's key")
    return proof.jkt


def bind_code_jkt(data: Any) -> str | None:
    """The dpop_jkt of an authorization request (RFC 9449 §10), for the code to remember."""
    value = data.get("dpop_jkt") if hasattr(data, "get") else None
    return value if isinstance(value, str) and 0 < len(value) <= MAX_JKT else None
