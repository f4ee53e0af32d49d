"""FinLens's signed request objects (JAR, RFC 9101 §4; F1P2 §5.2.3; MS §5.3.1).

Signed with FinLens's private_key_jwt key (lab/tpp/keyring.py), the one registered at the
AS as the client's JWKS. iss = client_id, aud = the issuer (a string), nbf and exp five
minutes apart: inside FAPI's 60 minutes, and short enough that a copy is stale soon.
"""

from __future__ import annotations

import secrets
from typing import Any

import jwt

from lab import clock
from lab.config import LabConfig

from . import keyring
from .institutions import Institution
from .session import credentials
from .settings import ASSERTION_ALGS, Effective

LIFETIME = 300
# RFC 9101 §4: "typ" oauth-authz-req+jwt is recommended (explicit typing, RFC 8725 §3.11).
TYP = "oauth-authz-req+jwt"


def request_object(config: LabConfig, inst: Institution, chosen: Effective,
                   params: dict[str, str]) -> str:
    """The authorization parameters as one JWS (RFC 9101 §4), with the JWT claims around."""
    alg = chosen.assertion_alg if chosen.assertion_alg in ASSERTION_ALGS else ASSERTION_ALGS[0]
    key = keyring.assertion_key(config, alg)
    client_id = credentials(config, inst).client_id
    now = clock.now_int()
    claims: dict[str, Any] = {**params, "client_id": client_id, "iss": client_id,
                              "aud": inst.issuer, "iat": now, "nbf": now,
                              "exp": now + LIFETIME, "jti": secrets.token_urlsafe(16)}
    signing_key = jwt.PyJWK(key, algorithm=alg).key
    return jwt.encode(claims, signing_key, algorithm=alg, headers={"kid": key["kid"], "typ": TYP})
