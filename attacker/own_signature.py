"""The attacker signs its bank calls with the key it holds, as any client does under FAPI 2.0
HTTP Signatures (RFC 9421, tag fapi-2-request).

Its own client's key (AttackContext.own_client, the `attacker` key set): a token of that client
passes http_message_signing like FinLens's own; a token of anybody else's (copied from FinLens,
forged) carries a signature the bank cannot match to that token's client, and is refused. A
FinLens insider (MT, attacks.md §1: all FinLens holds, keys included) signs with FinLens's key.
A call that carries a signature or digest already (one the attacker copied) goes as it is.
While the control is off the bank ignores the fields.
"""

from __future__ import annotations

import contextlib

import requests

from lab import clock, keys
from lab.config import LabConfig
from lab.jose import http_signatures as sig
from lab.store.base import Store

OWN_KEYS = "attacker"    # the key set registered as the attacker's own client's JWKS
FINLENS_KEYS = "tpp"     # FinLens's registered key set, which a FinLens insider holds


class SignsOwnBankCalls(requests.auth.AuthBase):
    def __init__(self, config: LabConfig, store: Store, attacker_type: str) -> None:
        self.bank = config.bank_url.rstrip("/") + "/"
        owner = FINLENS_KEYS if attacker_type == "MT" else OWN_KEYS
        self.key = sig.JWSKey.from_jwk(keys.signing_key(
            keys.ensure_keyset(config.keys_dir, owner, ("ES256",)), "ES256"))
        self.store = store

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        headers = request.headers
        if not str(request.url).startswith(self.bank) or "Authorization" not in headers \
                or "Signature" in headers or "Content-Digest" in headers:
            return request
        body = request.body.encode() if isinstance(request.body, str) else request.body
        # a malformed call the attacker sends on purpose goes unsigned
        with contextlib.suppress(sig.SignatureError):
            sig.sign_request(request, body if isinstance(body, bytes) else None, self.key,
                             clock.now(self.store))
        return request
