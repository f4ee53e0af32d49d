"""private_key_jwt client assertions (RFC 7523 §2.2, §3; OIDC Core §9) as an Authlib auth method.

tpp_assertion_aud_issuer decides the audience: the issuer identifier (FAPI2
§5.3.3.1), or — off — the token endpoint URL from the AS's metadata (RFC 7523 §3
"MAY be used"), on every assertion, the PAR one too: a rogue AS whose metadata
names the honest AS's token endpoint receives, at its own PAR endpoint, an
assertion the honest AS accepts (attacks.md client-assertion-audience-injection).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import jwt
from authlib.common.urls import add_params_to_qs, url_decode

from lab import clock
from lab.controls import guard

AUD_ISSUER = guard("tpp_assertion_aud_issuer")

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
LIFETIME = 60   # OIDC §9 / attacks.md §2.3: exp − iat ≤ 60 s

AuthMethod = Callable[[Any, str, str, dict[str, str], str], tuple[str, dict[str, str], str]]


def audience(issuer: str, endpoint_url: str, token_endpoint: str | None = None) -> str:
    if AUD_ISSUER.on():
        # FAPI2 §5.3.3.1: "shall use the authorization server's issuer identifier value ...
        # as the value of the aud claim" — a string, not an array.
        return issuer
    return token_endpoint or endpoint_url


class Signer:
    """One client's assertion key, loaded once (signing is the per-request cost)."""

    def __init__(self, client_id: str, private_jwk: dict[str, Any], alg: str,
                 now: Callable[[], int] = clock.now_int) -> None:
        self.client_id, self.alg, self._now = client_id, alg, now
        self._key = jwt.PyJWK(private_jwk, algorithm=alg).key
        self._kid = private_jwk["kid"]

    def make(self, aud: str) -> str:
        """RFC 7523 §3: iss and sub = client_id, aud, exp; jti for one-time use; iat."""
        now = self._now()
        claims = {"iss": self.client_id, "sub": self.client_id, "aud": aud,
                  "jti": secrets.token_urlsafe(24), "iat": now, "exp": now + LIFETIME}
        return jwt.encode(claims, self._key, algorithm=self.alg, headers={"kid": self._kid})


def make(client_id: str, private_jwk: dict[str, Any], alg: str, aud: str) -> str:
    return Signer(client_id, private_jwk, alg).make(aud)


def auth_method(issuer: str, private_jwk: dict[str, Any], alg: str,
                token_endpoint: str | None = None) -> AuthMethod:
    """An Authlib client auth method: a fresh assertion for each request it signs.

    token_endpoint: the AS's, from its metadata (the weak audience); None: the URL posted to.
    """

    def encode(auth: Any, method: str, uri: str, headers: dict[str, str], body: str
               ) -> tuple[str, dict[str, str], str]:
        token = make(auth.client_id, private_jwk, alg,
                     audience(issuer, uri.split("?")[0], token_endpoint))
        # RFC 7521 §4.2: client_assertion_type, client_assertion; client_id is optional but
        # lets the AS find the client before it parses the JWT (RFC 9126 PAR does the same).
        return _add(body, headers, uri, [*_client_id(auth, body),
                                         ("client_assertion_type", ASSERTION_TYPE),
                                         ("client_assertion", token)])

    return encode


def tls_client_auth(auth: Any, method: str, uri: str, headers: dict[str, str], body: str
                    ) -> tuple[str, dict[str, str], str]:
    """RFC 8705 §2: the certificate authenticates; "the client_id parameter ... MUST" be sent."""
    return _add(body, headers, uri, _client_id(auth, body))


def _client_id(auth: Any, body: str) -> list[tuple[str, str]]:
    """client_id once: a PAR body already carries it as an authorization parameter."""
    present = any(name == "client_id" for name, _ in url_decode(body or ""))
    return [] if present else [("client_id", auth.client_id)]


def _add(body: str, headers: dict[str, str], uri: str, params: list[tuple[str, str]]
         ) -> tuple[str, dict[str, str], str]:
    body = add_params_to_qs(body or "", params)
    if "Content-Length" in headers:
        headers["Content-Length"] = str(len(body))
    return uri, headers, body
