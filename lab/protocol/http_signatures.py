"""http_message_signing at the bank: signed resource requests in, signed responses out (no Flask).

FAPI 2.0 HTTP Signatures: the client signs each resource request (RFC 9421, tag
`fapi-2-request`: @method, @target-uri, authorization, dpop, content-digest, created) with a key
it registered; the resource server verifies it and signs its response (tag `fapi-2-response`:
@status, content-digest, and the request's components with `;req`, its signature included). The
bank reads the client's keys from the institution's client registry (lab/domain/clients.py),
the way it reads the consent store; its own key is published at /.well-known/jwks.json.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from lab import clock, keys
from lab.controls import guard
from lab.domain import clients
from lab.jose import http_signatures as sig
from lab.protocol.resource_errors import InvalidRequestError
from lab.store.base import Store

SIGNING = guard("http_message_signing")
BANK_KEYS = "bank"          # <data dir>/keys/bank.jwks.json


class InvalidSignatureError(InvalidRequestError):
    """attacks.md §2.5: 401 invalid_request. No WWW-Authenticate error: the token is fine, and
    a client must not take this for a token to refresh."""

    status_code = 401
    challenge = False
    description = "The request needs a valid HTTP message signature (RFC 9421, fapi-2-request)."


def check_request(store: Store, client_id: str | None, message: sig.Request,
                  body: bytes) -> str | None:
    """With the control on, the request's signature by a key `client_id` registered; returns
    its label (the response signature covers it), None while the control is off."""
    if not SIGNING.on():
        return None
    jwks = clients.registered_jwks(store, client_id) if client_id else None
    known = sig.key_set(jwks)
    if not known:
        raise SIGNING.refuse(InvalidSignatureError(),
                             reason=f"client {str(client_id)[:60]!r} registered no ES256/PS256 key")
    try:
        return sig.verify_request(message, body, known, clock.now())["label"]
    except sig.SignatureError as exc:
        raise SIGNING.refuse(InvalidSignatureError(), reason=str(exc)) from None


def signs_responses() -> bool:
    return SIGNING.on()


@functools.lru_cache(maxsize=8)
def _bank_keys(keys_dir: Path) -> tuple[sig.JWSKey, dict[str, Any]]:
    private = keys.ensure_keyset(keys_dir, BANK_KEYS, ("ES256",))
    return sig.JWSKey.from_jwk(keys.signing_key(private, "ES256")), keys.public_jwks(private)


def bank_jwks(keys_dir: Path) -> dict[str, Any]:
    """The bank's public keys, which clients verify its response signatures with."""
    return _bank_keys(keys_dir)[1]


def sign_response(keys_dir: Path, status: int, headers: list[tuple[str, str]], body: bytes,
                  request: sig.Request, request_label: str | None) -> dict[str, str]:
    """Signature, Signature-Input and Content-Digest for a bank response; none when the request
    cannot be covered (a URL or header field RFC 9421 cannot carry: not a client's request, so
    nothing a client could check against)."""
    message = sig.Response(status, request, sig.Fields(headers))
    try:
        return sig.sign_response(message, body, _bank_keys(keys_dir)[0], clock.now(),
                                 request_label)
    except sig.SignatureError:
        return {}
