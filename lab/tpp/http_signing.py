"""FinLens's half of http_message_signing: sign each bank call, check each bank answer.

FAPI 2.0 HTTP Signatures: the client signs its resource requests (RFC 9421, tag fapi-2-request)
with a key it registered at the AS (its client-assertion key, already in its registered JWKS),
and verifies the resource server's response signature (tag fapi-2-response), bound to the
request it sent, with the bank's published keys. A bad answer is dropped: the page says the
bank's answer failed its signature check, and the event names the control.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import requests

from lab import clock
from lab.config import LabConfig
from lab.controls import guard
from lab.jose import http_signatures as sig

from . import keyring

SIGNING = guard("http_message_signing")
JWKS_PATH = "/.well-known/jwks.json"
MAX_CACHED = 16
TIMEOUT = 15

_bank_keys: dict[str, dict[str, sig.JWSKey]] = {}
_lock = threading.Lock()


class BadResponseSignatureError(requests.RequestException):
    """The bank's answer has no valid fapi-2-response signature for FinLens's request: as
    unusable as no answer, so callers that handle an unreachable bank handle it too."""

    error = "bad_response_signature"


class SignRequest(requests.auth.AuthBase):
    """requests' last step before sending: every header and the body are final."""

    def __init__(self, key: sig.JWSKey) -> None:
        self.key = key

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        # a URL RFC 9421 cannot carry: sent unsigned, and the bank says so
        with contextlib.suppress(sig.SignatureError):
            sig.sign_request(prepared, body if isinstance(body, bytes) else None, self.key,
                             clock.now())
        return prepared


def attach(config: LabConfig, http: requests.Session, api_base: str) -> None:
    """With the control on, sign every request of this bank session and check every answer."""
    if not SIGNING.on():
        return
    http.auth = SignRequest(sig.JWSKey.from_jwk(keyring.assertion_key(config, "ES256")))

    def check(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        verify(http, api_base, response)
        return response

    http.hooks["response"].append(check)


def _fetch(http: requests.Session, api_base: str) -> dict[str, sig.JWSKey]:
    try:
        response = requests.get(api_base.rstrip("/") + JWKS_PATH, timeout=TIMEOUT,
                                verify=http.verify, allow_redirects=False)
        found = sig.key_set(response.json()) if response.status_code == 200 else {}
    except (requests.RequestException, ValueError):
        found = {}
    with _lock:
        if len(_bank_keys) >= MAX_CACHED:
            _bank_keys.clear()
        _bank_keys[api_base] = found
    return found


def verify(http: requests.Session, api_base: str, response: requests.Response) -> None:
    """Raise BadResponseSignatureError (recorded as the control's refusal) unless the answer
    carries the bank's signature over itself and FinLens's signed request."""
    sent = response.request
    request = sig.Request(str(sent.method), str(sent.url), sig.Fields(sent.headers.items()))
    message = sig.Response(response.status_code, request,
                           sig.Fields(response.headers.items()))
    with _lock:
        known = _bank_keys.get(api_base)
    for attempt in range(2):   # unknown or rotated key: fetch the bank's JWKS once more
        if known is None or attempt:
            known = _fetch(http, api_base)
        try:
            sig.verify_response(message, response.content, known, clock.now())
            return
        except sig.SignatureError as exc:
            reason = str(exc)
    raise SIGNING.refuse(BadResponseSignatureError(
        "the bank's answer failed its signature check"), reason=f"bank response: {reason}")
