"""What every workload shares: the material `fapi-lab load` prepared, proofs and assertions.

`fapi-lab load` obtains real tokens from the running lab (lab/load/prepare.py),
writes them to a JSON file and names it in $FAPI_LAB_LOAD_MATERIAL. Proofs and
client assertions are timed by the lab clock (wall time + the lab's offset).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from typing import Any

import jwt

MATERIAL_ENV = "FAPI_LAB_LOAD_MATERIAL"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def load_material() -> dict[str, Any]:
    path = os.environ.get(MATERIAL_ENV)
    if not path:
        raise SystemExit(f"${MATERIAL_ENV} is not set: run these workloads with `fapi-lab load`")
    with open(path) as handle:
        data: dict[str, Any] = json.load(handle)
    return data


MATERIAL = load_material()


def lab_now() -> int:
    return int(time.time() + float(MATERIAL.get("clock_offset") or 0.0))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class DPoPSigner:
    """RFC 9449 §4.2 proofs with one key, loaded once (signing is the per-request cost)."""

    def __init__(self, private_jwk: dict[str, Any]) -> None:
        self.key = jwt.PyJWK(private_jwk, algorithm="ES256").key
        self.header = {"typ": "dpop+jwt",
                       "jwk": {k: private_jwk[k] for k in ("kty", "crv", "x", "y")}}

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        claims: dict[str, Any] = {"jti": secrets.token_urlsafe(16), "htm": method, "htu": url,
                                  "iat": lab_now()}
        if access_token is not None:
            claims["ath"] = _b64(hashlib.sha256(access_token.encode()).digest())
        return jwt.encode(claims, self.key, algorithm="ES256", headers=self.header)


class ClientAssertions:
    """private_key_jwt (RFC 7523): a fresh assertion, with a fresh jti, for every request."""

    def __init__(self, client_id: str, private_jwk: dict[str, Any], alg: str,
                 audience: str) -> None:
        self.client_id, self.alg, self.audience = client_id, alg, audience
        self.key = jwt.PyJWK(private_jwk, algorithm=alg).key
        self.kid = private_jwk["kid"]

    def form(self) -> dict[str, str]:
        now = lab_now()
        token = jwt.encode({"iss": self.client_id, "sub": self.client_id, "aud": self.audience,
                            "jti": secrets.token_urlsafe(24), "iat": now, "exp": now + 60},
                           self.key, algorithm=self.alg, headers={"kid": self.kid})
        return {"client_id": self.client_id, "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": token}


def trust_lab_ca(client: Any) -> None:
    """Locust's HttpSession is a requests.Session: trust only the lab CA, ignore env proxies."""
    client.verify = MATERIAL["ca_cert"]
    client.trust_env = False
