"""RFC 9421 HTTP message signatures as FAPI 2.0 HTTP Signatures profiles them (no Flask).

The `http-message-signatures` package does the RFC 9421 work: the signature base, component
resolution (`;req`, `;key`), the structured fields, Content-Digest (RFC 9530). Three things the
profile needs it does not do, added here:

- JWS algorithms (RFC 9421 §3.3.7): the algorithm is the registered key's (ES256 or PS256),
  never the message's, so the `alg` parameter is never sent, and one in a message is refused
  (the package checks it against `_JWSAlgorithm.algorithm_id`). PyJWT does the crypto, with the
  raw r||s ECDSA signatures JWS and RFC 9421 share.
- Time from the caller (the lab clock), not `datetime.now()`: `created` at most 60 s old.
- Size bounds on the fields before the structured-field parser sees them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureAlgorithm,
    HTTPSignatureKeyResolver,
    InvalidSignature,
)

REQUEST_TAG = "fapi-2-request"
RESPONSE_TAG = "fapi-2-response"
LABEL = "fapi"
MAX_AGE = 60            # attacks.md §2.5: `created` at most 60 s old on the lab clock
FUTURE_SKEW = 5         # a signer's clock a little ahead
MAX_FIELD = 8192        # Signature, Signature-Input, Content-Digest: bounded before parsing
SIGNATURE_FIELDS = ("signature", "signature-input", "content-digest")
ALGS = ("ES256", "PS256")


class SignatureError(Exception):
    """A message signature that is missing, malformed, stale, wrongly signed or incomplete;
    the text is the reason an event records, never an error description."""


@dataclass(frozen=True)
class JWSKey:
    """One JWK with the JWS algorithm it signs with (ES256 or PS256)."""

    kid: str
    alg: str
    key: Any
    algorithm: Any

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> JWSKey:
        """ValueError for a key that is not an ES256 or PS256 key with a kid."""
        kid, alg = jwk.get("kid"), jwk.get("alg")
        if alg is None:
            alg = {"EC": "ES256", "RSA": "PS256"}.get(str(jwk.get("kty")))
        if not isinstance(kid, str) or not kid or alg not in ALGS:
            raise ValueError("not an ES256/PS256 key with a kid")
        try:
            parsed = jwt.PyJWK(dict(jwk), algorithm=alg)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError) as exc:
            raise ValueError(str(exc)) from None
        return cls(kid, alg, parsed.key, parsed.Algorithm)


def key_set(jwks: object) -> dict[str, JWSKey]:
    """The usable keys of a JWK Set by kid (others are skipped: they cannot verify)."""
    found: dict[str, JWSKey] = {}
    keys = jwks.get("keys") if isinstance(jwks, dict) else None
    for jwk in keys if isinstance(keys, list) else []:
        if isinstance(jwk, dict) and jwk.get("use", "sig") == "sig":
            try:
                key = JWSKey.from_jwk(jwk)
            except ValueError:
                continue
            found.setdefault(key.kid, key)
    return found


class _JWSAlgorithm(HTTPSignatureAlgorithm):
    """RFC 9421 §3.3.7: a JWS algorithm, taken from the resolved key."""

    algorithm_id = "jws"   # never sent (include_alg=False); an `alg` in a message mismatches it

    def __init__(self, public_key: Any = None, private_key: Any = None) -> None:
        chosen = private_key if private_key is not None else public_key
        if not isinstance(chosen, JWSKey):
            raise HTTPMessageSignaturesException("not a JWS key")
        self.jws = chosen

    def sign(self, message: bytes) -> bytes:
        return bytes(self.jws.algorithm.sign(message, self.jws.key))

    def verify(self, signature: bytes, message: bytes) -> None:
        if not self.jws.algorithm.verify(message, self.jws.key, signature):
            raise InvalidSignature("the signature does not verify")


class _Keys(HTTPSignatureKeyResolver):
    def __init__(self, keys: Mapping[str, JWSKey]) -> None:
        self.keys = dict(keys)

    def resolve_public_key(self, key_id: str) -> Any:
        return self.keys.get(key_id)

    def resolve_private_key(self, key_id: str) -> Any:
        return self.keys[key_id]


class Fields:
    """Header field lines in order, as the package reads and writes them."""

    def __init__(self, lines: Iterable[tuple[str, str]] = ()) -> None:
        self.lines = list(lines)

    def items(self) -> list[tuple[str, str]]:
        return list(self.lines)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self.lines))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(n.lower() == name.lower() for n, _ in self.lines)

    def __setitem__(self, name: str, value: str) -> None:
        self.lines = [(n, v) for n, v in self.lines if n.lower() != name.lower()]
        self.lines.append((name, value))

    def __delitem__(self, name: str) -> None:
        self.lines = [(n, v) for n, v in self.lines if n.lower() != name.lower()]

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def get(self, name: str) -> str | None:
        values = [v for n, v in self.lines if n.lower() == name.lower()]
        return ", ".join(values) if values else None


@dataclass
class Request:
    method: str
    url: str
    headers: Any = field(default_factory=Fields)


@dataclass
class Response:
    status_code: int
    request: Request
    headers: Any = field(default_factory=Fields)


class _Verifier(HTTPMessageVerifier):
    """The package's verifier with `created` judged on the caller's clock."""

    def __init__(self, keys: Mapping[str, JWSKey], now: float) -> None:
        super().__init__(signature_algorithm=_JWSAlgorithm, key_resolver=_Keys(keys))
        self.now = now

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        created, expires = sig_input.params.get("created"), sig_input.params.get("expires")
        if type(created) is not int:
            raise InvalidSignature("no created parameter")
        if created > self.now + FUTURE_SKEW:
            raise InvalidSignature("created is in the future")
        if self.now - created > MAX_AGE:
            raise InvalidSignature(f"created is {self.now - created:.0f} s old (max {MAX_AGE})")
        if expires is not None and (type(expires) is not int or expires < self.now):
            raise InvalidSignature("expired")


def _bounded(headers: Any) -> None:
    for name, value in headers.items():
        if name.lower() in SIGNATURE_FIELDS and len(value) > MAX_FIELD:
            raise SignatureError(f"{name} longer than {MAX_FIELD} characters")


def _verify(message: Request | Response, keys: Mapping[str, JWSKey], now: float, tag: str,
            required: list[str], body: bytes) -> dict[str, str]:
    _bounded(message.headers)
    try:
        results = _Verifier(keys, now).verify(message, max_age=None, expect_tag=tag,
                                              require_components=required, body=body)
    except HTTPMessageSignaturesException as exc:
        raise SignatureError(str(exc)[:200] or type(exc).__name__) from None
    except (ValueError, TypeError, KeyError, IndexError, RecursionError, OverflowError,
            UnicodeError) as exc:   # a parser's own error on hostile input
        raise SignatureError(f"malformed: {type(exc).__name__}") from None
    return {"keyid": str(results[0].parameters.get("keyid")), "label": results[0].label}


def request_components(headers: Any, body: bytes | None) -> list[str]:
    """HTTPSig: @method, @target-uri, authorization, dpop when sent, content-digest with a body."""
    names = ["@method", "@target-uri"]
    names += [h for h in ("authorization", "dpop") if h in headers]
    if body:
        names.append("content-digest")
    return names


def verify_request(message: Request, body: bytes, keys: Mapping[str, JWSKey],
                   now: float) -> dict[str, str]:
    """The request's `fapi-2-request` signature, by one of `keys`, covering what the profile
    names; returns its keyid and label, or raises SignatureError."""
    if "signature" not in message.headers or "signature-input" not in message.headers:
        raise SignatureError("no Signature / Signature-Input")
    return _verify(message, keys, now, REQUEST_TAG,
                   request_components(message.headers, body), body)


def _at(now: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(int(now), datetime.UTC)


def sign_request(message: Any, body: bytes | None, key: JWSKey, now: float) -> None:
    """Add Signature, Signature-Input (and Content-Digest with a body) to `message`: anything
    with method, url and a mutable headers mapping, such as a requests PreparedRequest."""
    try:
        HTTPMessageSigner(signature_algorithm=_JWSAlgorithm,
                          key_resolver=_Keys({key.kid: key})).sign(
            message, key_id=key.kid, created=_at(now), label=LABEL, tag=REQUEST_TAG,
            include_alg=False, covered_component_ids=request_components(message.headers, body),
            body=body or None)
    except (HTTPMessageSignaturesException, ValueError, TypeError, KeyError) as exc:
        raise SignatureError(str(exc)[:200]) from None   # a URL or field RFC 9421 cannot carry


def response_components(request_headers: Any, request_label: str | None) -> list[str]:
    """@status, the request's method and target (;req), its Authorization, and its signature
    (`"signature";req;key=…`), which binds the response to that one signed request."""
    names = ["@status", '"@method";req', '"@target-uri";req']
    if "authorization" in request_headers:
        names.append('"authorization";req')
    if request_label:
        names.append(f'"signature";req;key="{request_label}"')
    return names


def sign_response(message: Response, body: bytes, key: JWSKey, now: float,
                  request_label: str | None) -> dict[str, str]:
    """Sign a response (tag fapi-2-response, content-digest of `body`); the header fields to
    add to it."""
    components = response_components(message.request.headers, request_label)
    try:
        HTTPMessageSigner(signature_algorithm=_JWSAlgorithm,
                          key_resolver=_Keys({key.kid: key})).sign(
            message, key_id=key.kid, created=_at(now), label=LABEL, tag=RESPONSE_TAG,
            include_alg=False, covered_component_ids=components, body=body)
    except (HTTPMessageSignaturesException, ValueError, TypeError, KeyError) as exc:
        raise SignatureError(str(exc)[:200]) from None
    headers = message.headers
    return {name: str(headers[name]) for name in ("Signature", "Signature-Input",
                                                  "Content-Digest") if name in headers}


def verify_response(message: Response, body: bytes, keys: Mapping[str, JWSKey],
                    now: float) -> dict[str, str]:
    """The response's `fapi-2-response` signature, bound to the request it answers."""
    if "signature" not in message.headers or "signature-input" not in message.headers:
        raise SignatureError("no Signature / Signature-Input")
    label = LABEL if "signature" in message.request.headers else None
    required = response_components(message.request.headers, label) + ["content-digest"]
    return _verify(message, keys, now, RESPONSE_TAG, required, body)
