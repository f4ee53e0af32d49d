"""JWKs: the RFC 7638 thumbprint, public members, and key objects (PyJWT, cached).

The thumbprint is written out (a sorted JSON of the required members, hashed) rather than
taken from joserfc, which builds the whole key object first: a DPoP proof at every bank
request needs the thumbprint, and tests/test_tpp_fapi2_units.py checks it against joserfc's.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

from . import b64

# RFC 7638 §3.2: the required members of each key type, in lexicographic order.
THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"),
                      "OKP": ("crv", "kty", "x")}
# RFC 7517/7518 §6: the members that are a private key (or a symmetric one).
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")


def public(jwk: dict[str, Any]) -> dict[str, Any]:
    """Only the members RFC 7638 hashes: the public key, nothing private, no kid or alg."""
    return {m: jwk[m] for m in THUMBPRINT_MEMBERS[jwk["kty"]]}


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 §3: SHA-256 over the required members, sorted, no whitespace.

    KeyError for an unknown key type, ValueError when a required member is not a string."""
    members = THUMBPRINT_MEMBERS[jwk["kty"]]
    if not all(isinstance(jwk.get(m), str) for m in members):
        raise ValueError("thumbprint member missing")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64.sha256(canonical.encode())


@functools.lru_cache(maxsize=256)
def _load(alg: str, jwk_json: str) -> jwt.PyJWK:
    return jwt.PyJWK(json.loads(jwk_json), algorithm=alg)


def loaded_key(jwk: dict[str, Any], alg: str) -> jwt.PyJWK:
    """The JWK as a key object for `alg`, parsed once and then kept: parsing a JWK costs about
    half a signature verification. The whole JWK is the cache key, so what PyJWK accepts or
    refuses is unchanged; the cache is bounded, so a flood of made-up keys cannot grow it."""
    return _load(alg, json.dumps(jwk, sort_keys=True, separators=(",", ":")))


def public_pem(jwk: dict[str, Any]) -> bytes:
    """The public key as PEM: what a verifier confused into HMAC (RFC 8725 §2.1) keys it with.
    KeyError/ValueError/TypeError/PyJWTError for a JWK that is no key."""
    loaders: dict[str, Any] = {"RSA": RSAAlgorithm, "EC": ECAlgorithm, "OKP": OKPAlgorithm}
    key = loaders[jwk["kty"]].from_jwk(json.dumps(jwk))
    public_key = key.public_key() if hasattr(key, "private_bytes") else key
    return bytes(public_key.public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo))
