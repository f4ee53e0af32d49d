"""ID token validation at the TPP (OIDC Core §3.1.3.7), and the nonce check (§3.1.3.7 step 11).

With tpp_id_token_validation off the claims are read without any check, the
way a client that "just base64-decodes the middle part" does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jwt
from requests import RequestException

from lab import clock
from lab.controls import guard
from lab.jose.jws import JwksSource, verify

from .errors import IdTokenInvalidError, InstitutionUnavailableError, NonceMismatchError

ID_TOKEN_VALIDATION = guard("tpp_id_token_validation")
CHECKS_NONCE = guard("tpp_checks_nonce")

LEEWAY = 60          # seconds of clock skew tolerated on exp and iat
MAX_AGE = 600        # an ID token issued longer ago than this is stale


def unverified_claims(id_token: object) -> dict[str, Any]:
    """The payload as-is; {} when it cannot even be decoded."""
    if not isinstance(id_token, str):
        return {}
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def numeric_date(value: object) -> float | None:
    """A NumericDate (RFC 7519 §2) as a float; None for anything else, an integer past what a
    float holds included (10**400 raised OverflowError: a 500 found by the sign-in fuzz)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _claim_problem(claims: dict[str, Any], issuer: str, client_id: str) -> str | None:
    """The first OIDC §3.1.3.7 rule the claims break, or None."""
    # 2. "The Issuer Identifier for the OpenID Provider ... MUST exactly match the value of
    # the iss (issuer) Claim."
    if claims.get("iss") != issuer:
        return f"iss {claims.get('iss')!r} is not {issuer!r}"
    # 3. "The Client MUST validate that the aud (audience) Claim contains its client_id value".
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        return f"aud {aud!r} does not contain {client_id!r}"
    # 4./5. "If the ID Token contains multiple audiences, the Client SHOULD verify that an azp
    # Claim is present"; "If an azp Claim is present, the Client SHOULD verify that its
    # client_id is the Claim Value."
    if len(audiences) > 1 and "azp" not in claims:
        return "several audiences and no azp"
    if "azp" in claims and claims["azp"] != client_id:
        return f"azp {claims.get('azp')!r} is not {client_id!r}"
    now = clock.now()
    # 9. "The current time MUST be before the time represented by the exp Claim".
    exp = numeric_date(claims.get("exp"))
    if exp is None or now > exp + LEEWAY:
        return "expired (exp)" if exp is not None else "no exp"
    # 10. "The iat Claim can be used to reject tokens that were issued too far away from the
    # current time".
    iat = numeric_date(claims.get("iat"))
    if iat is None:
        return "no iat"
    if now - iat > MAX_AGE or iat - now > LEEWAY:
        return f"iat is {int(now - iat)} s from now (allowed {MAX_AGE} s)"
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        return "no sub"
    return None


def validate(id_token: object, *, issuer: str, client_id: str,
             keys: Callable[[], JwksSource]) -> dict[str, Any]:
    """The ID token's claims, validated when tpp_id_token_validation is on."""
    if not ID_TOKEN_VALIDATION.on():
        # Weak mode: whatever the token says is believed.
        return unverified_claims(id_token)
    if not isinstance(id_token, str) or not id_token:
        raise ID_TOKEN_VALIDATION.refuse(IdTokenInvalidError(), reason="no ID token")
    # 6. "The Client MUST validate the signature of all other ID Tokens according to JWS
    # using the algorithm specified in the JWT alg Header Parameter" — keys from jwks_uri.
    try:
        claims = verify(id_token, keys(), IdTokenInvalidError)
    except IdTokenInvalidError:
        raise ID_TOKEN_VALIDATION.refuse(IdTokenInvalidError(),
                                         reason="signature does not verify") from None
    except (RequestException, ValueError, InstitutionUnavailableError):
        raise ID_TOKEN_VALIDATION.refuse(IdTokenInvalidError(),
                                         reason="issuer keys unavailable") from None
    problem = _claim_problem(claims, issuer, client_id)
    if problem:
        raise ID_TOKEN_VALIDATION.refuse(IdTokenInvalidError(), reason=problem)
    return claims


def check_nonce(claims: dict[str, Any], expected: str | None) -> None:
    """OIDC §3.1.3.7 11: "If a nonce value was sent in the Authentication Request, a nonce
    Claim MUST be present and its value checked to verify that it is the same value as the
    one that was sent in the Authentication Request."""
    if not CHECKS_NONCE.on():
        return
    if expected is None:
        raise CHECKS_NONCE.refuse(NonceMismatchError(),
                                  reason="no authentication request pending in this session")
    if claims.get("nonce") != expected:
        got = "no nonce" if "nonce" not in claims else "a different nonce"
        raise CHECKS_NONCE.refuse(NonceMismatchError(), reason=f"ID token carries {got}")


def _half_hash_matches(value: str, claim: object, alg: str) -> bool:
    """OIDC §3.3.2.11: "the base64url encoding of the left-most half of the hash of the octets
    of the ASCII representation of the code", with the hash of the ID token's alg."""
    from authlib.oidc.core.util import create_half_hash

    expected = create_half_hash(value, alg)
    return isinstance(claim, str) and expected is not None and claim == expected.decode()


def check_hashes(claims: dict[str, Any], id_token: object, *, code: str | None,
                 access_token: str | None, front_channel: bool) -> None:
    """c_hash and at_hash (OIDC §3.3.2.10-11, §3.1.3.8), part of tpp_id_token_validation.

    front_channel: the ID token came with the authorization response of a hybrid request
    (response_type=code id_token), where c_hash is REQUIRED and binds the ID token to the
    code beside it. at_hash is checked wherever it is present with an access token."""
    if not ID_TOKEN_VALIDATION.on() or not isinstance(id_token, str):
        return
    try:
        alg = str(jwt.get_unverified_header(id_token).get("alg"))
    except jwt.PyJWTError:
        raise ID_TOKEN_VALIDATION.refuse(IdTokenInvalidError(), reason="no JOSE header") \
            from None
    if front_channel:
        if not code:
            raise ID_TOKEN_VALIDATION.refuse(IdTokenInvalidError(),
                                             reason="hybrid response without its code")
        if not _half_hash_matches(code, claims.get("c_hash"), alg):
            got = "no c_hash" if "c_hash" not in claims else "a c_hash of another code"
            raise ID_TOKEN_VALIDATION.refuse(IdTokenInvalidError(),
                                             reason=f"ID token carries {got}")
    if access_token and "at_hash" in claims \
            and not _half_hash_matches(access_token, claims.get("at_hash"), alg):
        raise ID_TOKEN_VALIDATION.refuse(IdTokenInvalidError(),
                                         reason="at_hash is not the access token's")
