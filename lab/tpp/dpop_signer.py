"""DPoP proofs the TPP sends (RFC 9449 §4), and the server nonces it must echo (§8, §9).

Built with PyJWT and cryptography: the proof carries the public key in its
header, so the server can bind the token to it (cnf.jkt, §6.1).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import jwt
import requests

from lab import clock
from lab.jose import jwk
from lab.jose.dpop_proof import ath, htu

NONCE_HEADER = "DPoP-Nonce"

_nonces: dict[str, str] = {}
_lock = threading.Lock()


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class Signer:
    """One DPoP key (a private EC JWK from lab.keys) making proofs."""

    def __init__(self, private_jwk: dict[str, Any], alg: str = "ES256",
                 now: Callable[[], int] = clock.now_int) -> None:
        """`now`: the lab clock; a process without the lab's request context (Locust)
        passes its own reading of it."""
        self.alg = alg
        self._now = now
        self.public = jwk.public(private_jwk)
        self.jkt = jwk.thumbprint(self.public)
        self._key = jwt.PyJWK(private_jwk, algorithm=alg).key

    def proof(self, method: str, url: str, *, access_token: str | None = None,
              nonce: str | None = None, iat: int | None = None) -> str:
        """`iat`: another creation time than now (a proof signed in advance, attacks.md §3 B)."""
        # RFC 9449 §4.2: typ "dpop+jwt", alg, jwk (public only); claims jti, htm, htu, iat,
        # ath when presented with an access token, nonce when the server provided one.
        claims: dict[str, Any] = {"jti": secrets.token_urlsafe(16), "htm": method.upper(),
                                  "htu": htu(url), "iat": self._now() if iat is None else iat}
        if access_token is not None:
            claims["ath"] = ath(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode(claims, self._key, algorithm=self.alg,
                          headers={"typ": "dpop+jwt", "jwk": self.public})


def nonce_for(url: str) -> str | None:
    with _lock:
        return _nonces.get(origin(url))


def remember(url: str, response: requests.Response) -> None:
    """RFC 9449 §8.2: a server may send a new nonce with any response; keep the latest."""
    value = response.headers.get(NONCE_HEADER)
    if value:
        with _lock:
            _nonces[origin(url)] = value


def forget_nonces() -> None:
    with _lock:
        _nonces.clear()


def asks_for_nonce(response: requests.Response) -> bool:
    """RFC 9449 §8: the AS answers 400 error=use_dpop_nonce; §9: the RS answers 401 with
    WWW-Authenticate: DPoP error="use_dpop_nonce". Either carries a DPoP-Nonce header."""
    if NONCE_HEADER not in response.headers or response.status_code not in (400, 401):
        return False
    if "use_dpop_nonce" in response.headers.get("WWW-Authenticate", ""):
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("error") == "use_dpop_nonce"


def send(do: Callable[[dict[str, str]], requests.Response], signer: Signer, method: str,
         url: str, access_token: str | None = None) -> requests.Response:
    """Send with a proof; on use_dpop_nonce, once more with the server's nonce.

    FAPI2 §5.3.3.1: clients "shall support ... DPoP nonces". `do` sends the request with
    the extra headers it is given (a fresh client assertion each time, if any).
    """
    response = None
    for _ in range(2):
        proof = signer.proof(method, url, access_token=access_token, nonce=nonce_for(url))
        response = do({"DPoP": proof})
        remember(url, response)
        if not asks_for_nonce(response):
            break
    assert response is not None
    return response
