"""Signed introspection responses (RFC 9701): the AS half and the resource server's check.

A caller that sends `Accept: application/token-introspection+jwt` (§4), or registered
`introspection_signed_response_alg` (§6), gets the RFC 7662 answer inside a JWT: header
`typ: token-introspection+jwt`, claims `iss`, `aud` (the calling client), `iat` and
`token_introspection` (§5), signed with the AS's current key. Anyone else gets plain JSON.
There is no top-level `sub` or `exp` (§5: the response must not pass for an access token).

`verify` is what a resource server or gateway runs on such a response (§8.1): the signature
against the AS's published keys, `typ`, `iss`, `aud`, a recent `iat`. It is strict whatever
the switches say: a caller that asked for a signed answer and gets a bad one refuses it.

ES256 only: the AS's keys are EC (lab.keys) and FAPI 2.0 §5.4 does not allow RS256, the
RFC's default when a client registers nothing — so the lab signs ES256 and says so in
`introspection_signing_alg_values_supported`; encryption (§6's *_encrypted_* metadata) is not
offered and refused at registration.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import jwt
from joserfc import jwt as jose_jwt

from lab import clock
from lab.jose.jws import verify_with
from lab.keys import key_set

MEDIA_TYPE = "application/token-introspection+jwt"
TYP = "token-introspection+jwt"
ALGS = ("ES256",)
MAX_ACCEPT = 2048        # longer Accept headers are read only this far
MAX_RESPONSE = 65536     # a signed response longer than this is refused unread
MAX_AGE = 300            # seconds an iat may lie in the past (§8.1: the RS decides)
SKEW = 30                # seconds an iat may lie in the future (clock skew)
ENCRYPTION_FIELDS = ("introspection_encrypted_response_alg",
                     "introspection_encrypted_response_enc")


class IntrospectionResponseError(ValueError):
    """A signed introspection response that must not be believed; the message says why."""


def wants_jwt(accept: str | None, metadata: dict[str, Any] | None = None) -> bool:
    """RFC 9701 §4 (the Accept header names the JWT type, q not 0) or §6 (the caller
    registered introspection_signed_response_alg)."""
    if metadata and metadata.get("introspection_signed_response_alg") in ALGS:
        return True
    if not isinstance(accept, str):
        return False
    for item in accept[:MAX_ACCEPT].split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if media.lower() != MEDIA_TYPE:
            continue
        quality = [p.split("=", 1)[1].strip() for p in params
                   if p.lower().startswith("q=") and "=" in p]
        if not quality or _positive(quality[0]):
            return True
    return False


def _positive(value: str) -> bool:
    try:
        return float(value) > 0
    except ValueError:
        return True    # RFC 9110 §12.4.2: a malformed weight; the type is still named


def check_registration(metadata: dict[str, Any]) -> str | None:
    """Why the introspection metadata of a registration is refused, or None (§6)."""
    alg = metadata.get("introspection_signed_response_alg")
    if alg is not None and alg not in ALGS:
        return f"introspection_signed_response_alg must be one of {list(ALGS)}"
    if any(name in metadata for name in ENCRYPTION_FIELDS):
        return "encrypted introspection responses are not supported"
    return None


def sign(key: dict[str, Any], issuer: str, audience: str, body: dict[str, Any]) -> str:
    """RFC 9701 §5: the introspection answer as a JWT for `audience`, signed with `key`."""
    claims = {"iss": issuer, "aud": audience, "iat": clock.now_int(),
              "token_introspection": body}
    header = {"alg": ALGS[0], "kid": key["kid"], "typ": TYP}
    return jose_jwt.encode(header, claims, key_set([key]).keys[0], algorithms=list(ALGS))


def verify(token: object, keys: Iterable[dict[str, Any]], issuer: str,
           audience: str) -> dict[str, Any]:
    """The `token_introspection` object of a signed response, once §8.1's checks pass;
    IntrospectionResponseError otherwise (an unsigned, tampered, misaddressed or stale one)."""
    if not isinstance(token, str) or len(token) > MAX_RESPONSE or token.count(".") != 2:
        raise IntrospectionResponseError("not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.PyJWTError, ValueError, RecursionError):
        raise IntrospectionResponseError("undecodable JWS header") from None
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ALGS:
        raise IntrospectionResponseError(f"alg {str(alg)[:20]!r} is not one of {list(ALGS)}")
    if header.get("typ") != TYP:
        raise IntrospectionResponseError(f"typ is not {TYP}")
    candidates = [k for k in keys if isinstance(k, dict) and (kid is None or k.get("kid") == kid)]
    claims = None
    for jwk in candidates:
        try:
            claims = verify_with(token, {k: v for k, v in jwk.items() if k != "d"}, alg)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue
        break
    if claims is None:
        raise IntrospectionResponseError("the signature does not verify with the AS's keys")
    payload = _payload(claims)
    return _checked(payload, issuer, audience)


def _payload(decoded: Any) -> dict[str, Any]:
    try:
        payload = json.loads(decoded["payload"])
    except (KeyError, TypeError, ValueError, RecursionError):
        raise IntrospectionResponseError("the payload is not a JSON object") from None
    if not isinstance(payload, dict):
        raise IntrospectionResponseError("the payload is not a JSON object")
    return payload


def _checked(claims: dict[str, Any], issuer: str, audience: str) -> dict[str, Any]:
    if claims.get("iss") != issuer:
        raise IntrospectionResponseError("iss is not the AS")
    aud = claims.get("aud")
    if not (aud == audience or isinstance(aud, list) and audience in aud):
        raise IntrospectionResponseError("aud does not name this caller")
    iat = claims.get("iat")
    now = clock.now()
    if not isinstance(iat, int | float) or not clock.is_time(iat) \
            or not now - MAX_AGE <= iat <= now + SKEW:
        raise IntrospectionResponseError("iat is missing, stale or in the future")
    body = claims.get("token_introspection")
    if not isinstance(body, dict) or not isinstance(body.get("active"), bool):
        raise IntrospectionResponseError("token_introspection is missing or has no active")
    return body

