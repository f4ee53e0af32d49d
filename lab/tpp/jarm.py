"""JARM at FinLens (JARM §4.4): unpack a JWT authorization response, and check it.

`unpack` reads the response parameters out of the JWT for every flow (JARM §4.4 step 2 binds
the state first, before the other checks); `check` is the `jarm` control's TPP half: only a
JWT response, signed by a key of the flow's AS (never `none`, an HMAC or a key in its own
header), with iss = the flow's issuer, aud = FinLens's client_id there, and exp not past.
With `jarm` off the JWT is read without any check, as a client that base64-decodes it does.
"""

from __future__ import annotations

from typing import Any

import jwt
from requests import RequestException

from lab import clock
from lab.config import LabConfig
from lab.controls import guard
from lab.jose import algs
from lab.jose.jws import verify

from . import client, institutions
from .client import PendingFlow
from .errors import InstitutionUnavailableError, InvalidJarmError
from .id_token import numeric_date
from .institutions import Institution

JARM = guard("jarm")

# The parameters an authorization response may carry inside the JWT (JARM §2.1).
RESPONSE_PARAMS = ("code", "state", "iss", "error", "error_description", "error_uri",
                   "access_token", "id_token", "token_type", "expires_in", "scope",
                   "refresh_token", "session_state")
MAX_VALUE = 8192
LEEWAY = 30          # seconds of clock skew tolerated on exp


def too_large() -> InvalidJarmError:
    """A `response` parameter beyond MAX_VALUE (or repeated): refused before any decoding."""
    if JARM.on():
        return JARM.refuse(InvalidJarmError(), reason="response parameter oversized or repeated")
    return InvalidJarmError()


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(header, claims) as they stand; None for anything that is not a decodable JWS."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
        return None
    return (header, claims) if isinstance(header, dict) and isinstance(claims, dict) else None


def unpack(token: str) -> dict[str, str]:
    """The response parameters the JWT carries (strings only), with `response` itself."""
    decoded = _unverified(token)
    params = {"response": token}
    if decoded is None:
        return params
    for name in RESPONSE_PARAMS:
        value = decoded[1].get(name)
        if isinstance(value, str) and len(value) <= MAX_VALUE:
            params[name] = value
        elif isinstance(value, int | float) and not isinstance(value, bool) \
                and name == "expires_in":
            params[name] = str(value)
    return params


def _claim_problem(claims: dict[str, Any], issuer: str, client_id: str) -> str | None:
    """The first JARM §4.4 rule the claims break, or None."""
    # 3. "checks whether its value ... identifies the expected issuer of the authorization
    # process in examination".
    if claims.get("iss") != issuer:
        return f"iss {str(claims.get('iss'))[:200]!r} is not {issuer!r}"
    # 4. "checks whether it matches the client id the client used to identify itself".
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        return f"aud {str(aud)[:200]!r} is not {client_id!r}"
    # 5. "checks the JWT's exp element to determine if the JWT is still valid".
    exp = numeric_date(claims.get("exp"))
    if exp is None:
        return "no exp"
    if clock.now() > exp + LEEWAY:
        return f"expired {int(clock.now() - exp)} s ago"
    return None


def check(config: LabConfig, inst: Institution, flow: PendingFlow | None,
          params: dict[str, str]) -> None:
    """The `jarm` control at the redirect endpoint: refuse anything but a valid JARM response."""
    if not JARM.on():
        return
    token = params.get("response")
    if token is None:
        raise JARM.refuse(InvalidJarmError(), reason="plain authorization response, no JWT")
    decoded = _unverified(token)
    if decoded is None:
        raise JARM.refuse(InvalidJarmError(), reason="response is not a decodable JWS")
    header = decoded[0]
    alg = header.get("alg")
    # 6. "the algorithm "none" ("alg":"none") MUST NOT be accepted"; nor an HMAC, which
    # could only be keyed with something public; nor a key the JWT brings along.
    if alg not in algs.ASYMMETRIC:
        raise JARM.refuse(InvalidJarmError(), reason=f"alg {str(alg)[:40]!r} is not asymmetric")
    embedded = [h for h in algs.EMBEDDED_KEY_HEADERS if h in header]
    if embedded:
        raise JARM.refuse(InvalidJarmError(), reason=f"key in the {embedded[0]!r} header")
    ca = institutions.ca_for(str(config.ca_cert_path), inst)
    try:
        source = institutions.jwks(institutions.metadata(inst, ca), ca)
        claims = verify(token, source, InvalidJarmError)
    except InvalidJarmError:
        raise JARM.refuse(InvalidJarmError(), reason=f"signature does not verify with "
                          f"{inst.issuer}'s keys") from None
    except (RequestException, ValueError, InstitutionUnavailableError):
        raise JARM.refuse(InvalidJarmError(), reason="issuer keys unavailable") from None
    expected = flow.issuer if flow else inst.issuer
    problem = _claim_problem(claims, expected, client.credentials(config, inst).client_id)
    if problem:
        raise JARM.refuse(InvalidJarmError(), reason=problem)
