"""JWT-secured authorization requests (JAR, RFC 9101): the `request` parameter, by value or pushed.

`apply` runs in the authorization endpoint's resolver (lab/protocol/authorization_request.py),
after a PAR request_uri has been turned back into the pushed parameters, and at the PAR
endpoint while a pushed request is validated. When a request object is present, only its
parameters count from then on (RFC 9101 §5).

Authlib 1.9 has `rfc9101.JWTAuthenticationRequest`, but it is not registered here: its hook
also claims `request_uri` (the lab's PAR resolver owns it), it answers a missing or unsigned
object with invalid_request (attacks.md: invalid_request_object, recorded per control), it
has no aud/iss/lifetime checks and no weak mode for the lessons. Its error classes are used;
the signature is verified by joserfc (the library under Authlib) against the client's
registered JWKS only, never a key from the JWS header.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from authlib.oauth2.rfc9101 import errors as rfc9101
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from lab import clock
from lab.controls import guard
from lab.jose import algs, b64, jws

from .errors import InvalidRequestError

JAR = guard("jar_required")
LIFETIME = guard("request_object_lifetime")
ALGS = guard("alg_allow_list")

MAX_LENGTH = 8192       # as a PAR value (lab/protocol/par.py MAX_VALUE)
MAX_CLAIMS = 64
# Claims about the JWT itself (RFC 7519 §4.1), not authorization request parameters.
JWT_CLAIMS = frozenset({"iss", "aud", "exp", "nbf", "iat", "jti", "sub"})
# Parameters whose value is JSON (OIDC §5.5 claims, RFC 9396 authorization_details): an
# object or array in the request object, a JSON string as a query parameter.
JSON_PARAMS = frozenset({"claims", "authorization_details"})


class InvalidRequestObjectError(rfc9101.InvalidRequestObjectError):
    """RFC 9101 §6.2-6.3: the request object is invalid (constant description)."""

    description = "The request object is missing, unsigned, wrongly signed, expired or " \
                  "does not match this request."


class RequestUriNotSupportedError(rfc9101.RequestUriNotSupportedError):
    """RFC 9101 §5.2: the AS fetches no request object from a URL; only PAR request_uris."""

    description = "This server accepts request_uri values only from its PAR endpoint."


def apply(server: Any, request: Any) -> None:
    """Resolve the request object of `request`, if any; jar_required refuses its absence."""
    data = request.payload.data
    raws = request.payload.datalist.get("request", [])
    if not raws:
        if JAR.on():
            # RFC 9101 §10.5 require_signed_request_object: the AS "MUST reject" a request
            # that does not use a request object.
            raise JAR.refuse(InvalidRequestObjectError(),
                             reason="authorization request without a request object")
        return
    if len(raws) != 1:
        raise InvalidRequestError()
    client_id = data.get("client_id")
    client = server.query_client(client_id) if isinstance(client_id, str) else None
    if client is None:
        raise InvalidRequestObjectError()
    claims = verify(raws[0], client, server.config.issuer)
    params = as_params(claims, client_id)
    if getattr(request, "lab_request_uri", None) and "dpop_jkt" in data:
        # RFC 9449 §10.1: the DPoP key proven at PAR (the AS put it among the pushed params).
        params = [(k, v) for k, v in params if k != "dpop_jkt"] + [("dpop_jkt", data["dpop_jkt"])]
    check_outside(data, params)
    request.use_request_object(params)


def _decode_json(part: str) -> Any:
    try:
        return json.loads(b64.decode(part))
    except (ValueError, UnicodeDecodeError, RecursionError, TypeError):
        raise InvalidRequestObjectError() from None


def verify(raw: str, client: Any, issuer: str) -> dict[str, Any]:
    """The claims of a request object the switches accept; InvalidRequestObjectError else."""
    if not isinstance(raw, str) or len(raw) > MAX_LENGTH or raw.count(".") != 2:
        raise InvalidRequestObjectError()   # oversized, or not a compact JWS (a JWE has 5 parts)
    head, body, signature = raw.split(".")
    header = _decode_json(head)
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
        raise InvalidRequestObjectError()
    alg = header["alg"]
    claims = _unsigned(body, signature) if alg.lower() == "none" else _signed(raw, alg, client)
    if not isinstance(claims, dict):
        raise InvalidRequestObjectError()
    check_claims(claims, client.get_client_id(), issuer)
    return claims


def _unsigned(body: str, signature: str) -> Any:
    # RFC 9101 §10.5 / F1P2 §5.2.2: a signed request object is required; RFC 8725 §3.1: the
    # verifier, not the JWT, decides the algorithm.
    if JAR.on():
        raise JAR.refuse(InvalidRequestObjectError(), reason="request object with alg none")
    if ALGS.on():
        raise ALGS.refuse(InvalidRequestObjectError(),
                          reason="request object alg 'none' is not on the allow-list")
    if signature:
        raise InvalidRequestObjectError()
    return _decode_json(body)     # weak path: an unsigned object taken at its word


def _signed(raw: str, alg: str, client: Any) -> Any:
    allowed = jws.allow_list() if ALGS.on() else list(algs.ASYMMETRIC)
    if alg not in allowed:
        if ALGS.on():
            raise ALGS.refuse(InvalidRequestObjectError(),
                              reason=f"request object alg {alg[:20]!r} is not in {allowed}")
        raise InvalidRequestObjectError()   # HMAC or unknown: the lab registers no secrets
    registered = getattr(client, "jwks", None)
    if not registered:
        raise InvalidRequestObjectError()   # only keys registered for the client count
    try:
        keys = _client_keys(json.dumps(registered, sort_keys=True))
        token = jwt.decode(raw, keys, algorithms=[alg])
    except (JoseError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
        raise InvalidRequestObjectError() from None
    return dict(token.claims)


@functools.lru_cache(maxsize=256)
def _client_keys(jwks_json: str) -> KeySet:
    """A registered JWKS as key objects, once per distinct JWKS (bounded)."""
    return KeySet.import_key_set(json.loads(jwks_json))


def _refuse(reason: str) -> BaseException:
    """A claim the switches on demand: refused by jar_required, or by the lifetime check."""
    if JAR.on():
        return JAR.refuse(InvalidRequestObjectError(), reason=reason)
    return LIFETIME.refuse(InvalidRequestObjectError(), reason=reason)


def check_claims(claims: dict[str, Any], client_id: str, issuer: str) -> None:
    if len(claims) > MAX_CLAIMS:
        raise InvalidRequestObjectError()
    # RFC 9101 §4: "request and request_uri parameters MUST NOT be included in Request Objects".
    if "request" in claims or "request_uri" in claims:
        raise InvalidRequestObjectError()
    # RFC 9101 §5: the client_id inside "MUST" be the one of the request.
    if "client_id" in claims and claims["client_id"] != client_id:
        raise InvalidRequestObjectError()
    if JAR.on() and claims.get("iss") != client_id:
        # RFC 9101 §4 / F1P2 §5.2.2: iss is the client that signed it.
        raise JAR.refuse(InvalidRequestObjectError(), reason="request object iss is not the "
                         "client_id")
    if JAR.on() or LIFETIME.on():
        aud = claims.get("aud")
        # F1P2 §5.2.2: "aud ... to be, or to be an array containing, the OP's Issuer
        # Identifier URL".
        if not (aud == issuer or (isinstance(aud, list) and issuer in aud)):
            raise _refuse(f"request object aud {str(aud)[:80]} does not name this issuer")
    if LIFETIME.on():
        check_lifetime(claims)


def check_lifetime(claims: dict[str, Any]) -> None:
    """F1P2 §5.2.2 / MS §5.3.1: exp and nbf present, nbf <= 60 min old, exp - nbf <= 60 min."""
    now, leeway = clock.now(), float(LIFETIME.param("leeway", 10))
    if not clock.is_time(claims.get("exp")) or not clock.is_time(claims.get("nbf")):
        raise LIFETIME.refuse(InvalidRequestObjectError(),
                              reason="request object without numeric exp and nbf")
    exp, nbf = float(claims["exp"]), float(claims["nbf"])
    if exp + leeway < now:
        raise LIFETIME.refuse(InvalidRequestObjectError(),
                              reason=f"request object expired {now - exp:.0f} s ago")
    if nbf > now + leeway:
        raise LIFETIME.refuse(InvalidRequestObjectError(),
                              reason="request object not valid yet (nbf in the future)")
    max_age = float(LIFETIME.param("max_age", 3600))
    if now - nbf > max_age:
        raise LIFETIME.refuse(InvalidRequestObjectError(), reason=f"request object nbf is "
                              f"{now - nbf:.0f} s old (limit {max_age:.0f} s)")
    max_lifetime = float(LIFETIME.param("max_lifetime", 3600))
    if exp - nbf > max_lifetime:
        raise LIFETIME.refuse(InvalidRequestObjectError(), reason=f"request object lives "
                              f"{exp - nbf:.0f} s (limit {max_lifetime:.0f} s)")


def as_params(claims: dict[str, Any], client_id: str) -> list[tuple[str, str]]:
    """The authorization request parameters a request object carries (RFC 9101 §4)."""
    params: list[tuple[str, str]] = [("client_id", client_id)]
    for name, value in claims.items():
        if name in JWT_CLAIMS or name == "client_id":
            continue
        if len(name) > 100:
            raise InvalidRequestObjectError()
        if isinstance(value, str):
            text = value
        elif isinstance(value, int) and not isinstance(value, bool):
            text = str(value)       # max_age (OIDC §3.1.2.1) as a number
        elif name in JSON_PARAMS and isinstance(value, dict | list):
            text = json.dumps(value, separators=(",", ":"))
        else:
            raise InvalidRequestObjectError()
        if len(text) > MAX_LENGTH:
            raise InvalidRequestObjectError()
        params.append((name, text))
    return params


def check_outside(outside: Any, params: list[tuple[str, str]]) -> None:
    """RFC 9101 §5: parameters outside the object are not used; F1P2 §5.2.2 / attacks.md:
    with jar_required on, one contradicting the object is refused."""
    inside = dict(params)
    clashes = sorted(str(k)[:40] for k in outside if k not in ("request", "client_id")
                     and k in inside and outside.getlist(k) != [inside[k]])
    if clashes and JAR.on():
        raise JAR.refuse(InvalidRequestObjectError(), reason="parameters outside the request "
                         "object contradict it: " + ", ".join(clashes[:8]))
