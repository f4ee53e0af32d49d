"""Request objects (JAR, RFC 9101) for tests: signed by the TPP's registered key, or not."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

from lab import clock
from lab.serving.in_process import RunningLab
from tests.support.oauth import pushed_params, tpp_key


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def body(lab: RunningLab, *, lifetime: int = 300, age: int = 0, aud: Any = "issuer",
         **params: Any) -> dict[str, Any]:
    """TPP-like parameters plus iss, aud, nbf, exp (nbf `age` seconds ago); None drops one."""
    now = clock.now_int(lab.store)
    claims: dict[str, Any] = {"iss": "tpp", "aud": lab.config.issuer if aud == "issuer" else aud,
                              "nbf": now - age, "exp": now - age + lifetime,
                              **pushed_params(lab)}
    claims.update(params)
    return {k: v for k, v in claims.items() if v is not None}


def signed(lab: RunningLab, claims: dict[str, Any], *, key: Any = None, alg: str = "ES256",
           header: dict[str, Any] | None = None) -> str:
    from joserfc import jwt as jose_jwt

    key = key if key is not None else tpp_key(lab, alg)
    return jose_jwt.encode({"alg": alg, "kid": key.thumbprint(), **(header or {})}, claims,
                           key, algorithms=[alg])


def unsigned(claims: dict[str, Any]) -> str:
    """RFC 7519 §6: an Unsecured JWT, alg none and an empty signature."""
    return f"{_b64({'alg': 'none'})}.{_b64(claims)}."


def url(lab: RunningLab, request: str, **extra: str) -> str:
    return lab.config.as_url + "/authorize?" + urlencode(
        {"client_id": "tpp", "request": request, **extra})
