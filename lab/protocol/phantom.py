"""The phantom-token gateway's decisions (docs/gateway.md), framework-free.

Outside, FinLens holds an opaque reference token. The gateway introspects it at the AS
(RFC 7662; cached, bounded in entries and in time, never past the token's exp), verifies
proof of possession with the same DPoP / mTLS checks and guards as the bank
(lab/protocol/sender_binding.py), and hands the bank a short-lived JWT signed by the
gateway's key, with the key it confirmed. Inside, the bank trusts only that JWT, and only
over the gateway's mutual-TLS connection.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from lab import clock, context, keys
from lab.config import LabConfig
from lab.domain import consent
from lab.jose import b64
from lab.jose.jws import JwksSource

from . import introspection_jwt
from .issuer_keys import KeysUnavailable
from .resource_errors import BankError, InvalidTokenError, MissingTokenError
from .sender_binding import DPOP, MTLS, DPoPTokenValidator, ResourceRequest, dpop_scheme_allowed

log = logging.getLogger("fapi_lab.gateway")

CONFIRMED_HEADER = "X-Lab-Confirmed-Key"
# The client's address as the gateway saw it, for token_usage_monitoring at the bank; believed
# only on the gateway's mutual-TLS connection (the bank's _from_gateway checked it).
FORWARDED_FOR_HEADER = "X-Lab-Forwarded-For"
GATEWAY_CLIENT_ID = "honestbank-gateway"
GATEWAY_OWNER = "gateway"
GATEWAY_CERT = "gateway"  # pki client-gateway.pem: the gateway's mutual TLS to the bank
# How long the gateway may believe an introspection answer, and how long its JWT lives.
CACHE_SECONDS = 30.0
CACHE_ENTRIES = 1024
INNER_LIFETIME = 60
# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
# (a reference is 43 characters, a JWT the AS issues well under MAX_TOKEN).
B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
MAX_TOKEN = 8192
# What the inner JWT carries over from introspection (RFC 9068 §2.2, RFC 9470 §6.2, RFC 9396).
CARRIED = ("iss", "sub", "aud", "client_id", "scope", "jti", "auth_time", "acr", "amr",
           "authorization_details", "cnf")


class GatewayUnavailableError(BankError):
    """The AS did not answer the introspection: not the client's fault, so not invalid_token."""

    error = "temporarily_unavailable"
    description = "The API gateway cannot check access tokens right now; try again shortly."
    status_code = 503
    challenge = False


@dataclass
class IntrospectionCache:
    """Introspection answers by the token's SHA-256: at most `entries`, each believed until
    min(now + `seconds`, the token's exp) on the lab clock; the oldest goes first."""

    seconds: float = CACHE_SECONDS
    entries: int = CACHE_ENTRIES
    _rows: OrderedDict[str, tuple[float, dict[str, Any]]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str, now: float) -> dict[str, Any] | None:
        with self._lock:
            found = self._rows.get(self.key(token))
            if found is None:
                return None
            until, body = found
            if now >= until:
                del self._rows[self.key(token)]
                return None
            return body

    def put(self, token: str, body: dict[str, Any], now: float) -> None:
        until = now + self.seconds
        exp = body.get("exp")
        if body.get("active") is True and isinstance(exp, (int, float)):
            until = min(until, float(exp))  # never believe a token past its own exp
        if until <= now:
            return
        with self._lock:
            self._rows[self.key(token)] = (until, body)
            self._rows.move_to_end(self.key(token))
            while len(self._rows) > self.entries:
                self._rows.popitem(last=False)

    def __len__(self) -> int:
        return len(self._rows)


@dataclass(frozen=True)
class Admitted:
    """A request the gateway lets through: the JWT for the bank and the key it confirmed."""

    inner_jwt: str
    confirmed: str | None
    claims: dict[str, Any]


def credentials(authorization: str | None) -> tuple[str, str]:
    """(scheme, token) as the bank and the gateway read them (RFC 6750 §2.1, RFC 9449 §7.1)."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    scheme = scheme.lower()
    # RFC 7235 §2.1: the scheme is case-insensitive. Another scheme (Basic; DPoP while it is
    # off) is "an unsupported authentication method": a challenge with no error code.
    if scheme != "bearer" and not (scheme == "dpop" and dpop_scheme_allowed()):
        raise MissingTokenError()
    token = token.strip()
    if not token or len(token) > MAX_TOKEN or not B64TOKEN.fullmatch(token):
        raise InvalidTokenError()
    return scheme, token


def active_claims(body: object, issuer: str) -> dict[str, Any]:
    """An introspection answer the gateway can act on: an active access token of this AS."""
    if not isinstance(body, dict) or body.get("active") is not True:
        raise InvalidTokenError()
    # A refresh token is active too (RFC 7662 §2.2), but it is no access token.
    if body.get("token_type") not in ("Bearer", "DPoP") or body.get("iss") != issuer:
        raise InvalidTokenError()
    if not isinstance(body.get("sub"), str) or not isinstance(body.get("jti"), str) \
            or not clock.is_time(body.get("exp")):
        raise InvalidTokenError()
    return body


def signed_answer(content_type: str, body: str, source: Callable[[], JwksSource],
                  issuer: str) -> dict[str, Any]:
    """FAPI 2.0 Message Signing §5.5 / RFC 9701 §8.1: the gateway asked for a signed answer, so
    it believes only one signed by a key the AS publishes (the bank's key source, rotation
    included), for the gateway, recent. An unsigned or badly signed answer says nothing about
    the token: invalid_token, not cached. AS keys out of reach: 503, as at the bank."""
    if content_type.split(";")[0].strip().lower() != introspection_jwt.MEDIA_TYPE:
        raise InvalidTokenError()
    try:
        jwks = source()
        kid = _kid(body)
        known = jwks.keys()
        if kid is not None and not any(k.get("kid") == kid for k in known):
            known = jwks.refresh()       # a key the AS rotated in since the last fetch
            if not any(k.get("kid") == kid for k in known):
                retired = jwks.not_published(kid, InvalidTokenError)  # as_key_rotation decides
                known = [*known, retired] if retired else known
        return introspection_jwt.verify(body, known, issuer, GATEWAY_CLIENT_ID)
    except KeysUnavailable:
        raise GatewayUnavailableError() from None
    except introspection_jwt.IntrospectionResponseError as exc:
        raise _refused(str(exc)) from None


def _refused(reason: str) -> InvalidTokenError:
    log.warning("introspection answer refused: %s", reason)
    return InvalidTokenError()


def _kid(token: str) -> str | None:
    header = b64.json_segment(token, 0) if token.count(".") == 2 else {}
    kid = header.get("kid")
    return kid if isinstance(kid, str) and len(kid) <= 200 else None


def confirm(claims: dict[str, Any], request: ResourceRequest, scheme: str,
            token: str) -> str | None:
    """Proof of possession at the gateway, through the bank's own validator and guards
    (dpop_bound_tokens, mtls_bound_tokens): the key the request proved, or None."""
    DPoPTokenValidator().validate_token(claims, None, request, scheme=scheme, access_token=token)
    cnf = _cnf(claims)
    if DPOP.on() and isinstance(cnf.get("jkt"), str):
        return f"jkt={cnf['jkt']}"
    if MTLS.on() and isinstance(cnf.get("x5t#S256"), str):
        return f"x5t#S256={cnf['x5t#S256']}"
    return None


def mint_inner(claims: dict[str, Any], private_keys: list[dict[str, Any]]) -> str:
    """The JWT the bank sees: the introspected claims, the grant from the consent store (the
    gateway is HonestBank's), living INNER_LIFETIME seconds at most and never past exp."""
    now = clock.now_int()
    inner = {name: claims[name] for name in CARRIED if claims.get(name) is not None}
    inner.update(iat=now, exp=min(int(claims["exp"]), now + INNER_LIFETIME))
    status = consent.access_token_status(context.current().store, claims["jti"])
    if status is not None and status.get("grant_id"):
        inner["grant_id"] = status["grant_id"]
    key = keys.signing_key(private_keys, "ES256")
    header = {"alg": "ES256", "typ": "at+jwt", "kid": key["kid"]}
    return jwt.encode(header, inner, keys.key_set([key]).keys[0], algorithms=["ES256"])


def verify_inner(token: str, private_keys: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The bank's check of a gateway JWT: ES256 by the gateway's key, typ at+jwt, else None."""
    if token.count(".") != 2 or len(token) > MAX_TOKEN:
        return None
    try:
        key_set = KeySet.import_key_set(keys.public_jwks(private_keys))  # type: ignore[arg-type]
        decoded = jwt.decode(token, key_set, algorithms=["ES256"])
    except (JoseError, ValueError, TypeError, KeyError):
        return None
    if decoded.header.get("typ") != "at+jwt":
        return None
    return dict(decoded.claims)


def forwarded_key_matches(claims: dict[str, Any], confirmed: str | None) -> None:
    """The bank's half of proof of possession in opaque mode: the gateway verified the proof,
    and the key it names must be the token's cnf (each check under its own control)."""
    cnf = _cnf(claims)
    jkt, x5t = cnf.get("jkt"), cnf.get("x5t#S256")
    if DPOP.on() and isinstance(jkt, str) and confirmed != f"jkt={jkt}":
        raise DPOP.refuse(InvalidTokenError(), reason="the gateway confirmed no proof of cnf.jkt")
    if MTLS.on() and isinstance(x5t, str) and not isinstance(jkt, str) \
            and confirmed != f"x5t#S256={x5t}":
        raise MTLS.refuse(InvalidTokenError(),
                          reason="the gateway confirmed no certificate of cnf.x5t#S256")


def client_assertion(config: LabConfig, private_keys: list[dict[str, Any]]) -> str:
    """private_key_jwt (RFC 7523 §3) for the introspection endpoint, aud the issuer."""
    now = clock.now_int()
    key = keys.signing_key(private_keys, "ES256")
    claims = {"iss": GATEWAY_CLIENT_ID, "sub": GATEWAY_CLIENT_ID, "aud": config.issuer,
              "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + 60}
    return jwt.encode({"alg": "ES256", "kid": key["kid"]}, claims,
                      keys.key_set([key]).keys[0], algorithms=["ES256"])


def admit(authorization: str | None, request: ResourceRequest, *,
          introspect: Callable[[str], object], cache: IntrospectionCache, issuer: str,
          private_keys: list[dict[str, Any]]) -> Admitted:
    """All the gateway decides for one API request; refusals are the bank's RFC 6750 errors."""
    scheme, token = credentials(authorization)
    now = clock.now()
    body: object = cache.get(token, now)
    if body is None:
        body = introspect(token)
        if isinstance(body, dict):
            cache.put(token, body, now)
    claims = active_claims(body, issuer)
    confirmed = confirm(claims, request, scheme, token)
    return Admitted(mint_inner(claims, private_keys), confirmed, claims)


def _cnf(claims: dict[str, Any]) -> dict[str, Any]:
    cnf = claims.get("cnf")
    return cnf if isinstance(cnf, dict) else {}

