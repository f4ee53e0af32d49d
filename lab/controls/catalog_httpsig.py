"""HTTP message signatures (issue 17; attacks.md §2.5, §2.1 "FAPI 2.0 Message Signing").

Marked ◐ only in fapi2-message-signing (FAPI 2.0 HTTP Signatures, which that profile turns on
in the lab); off in every other profile.
"""

from __future__ import annotations

from .model import Control, Refusal

R = Refusal

HTTPSIG_CONTROLS: tuple[Control, ...] = (
    Control(
        "http_message_signing", "Signed resource requests",
        "FinLens signs each resource request (RFC 9421, tag fapi-2-request) over @method, "
        "@target-uri, authorization, dpop when sent, content-digest (RFC 9530) when there is a "
        "body, and created, with a key it registered at the AS; the bank verifies it against "
        "that client's registered keys and refuses a missing, malformed, wrongly signed, "
        "incomplete or stale (created more than 60 s ago) signature. The bank signs its "
        "responses (tag fapi-2-response: @status, content-digest and the request's method, "
        "target, authorization and signature with ;req) with the key at its "
        "/.well-known/jwks.json; FinLens verifies them and drops an answer that fails (its page "
        "says the bank's answer failed its signature check).",
        ("TPP", "bank"), R(401, "invalid_request", "bank; TPP abort bad_response_signature"),
        "HTTPSig; RFC 9421 §2, §3.2, §7.2.2; RFC 9530; FAPI2 §6.2",
        "A DPoP proof signs the method, the URL and the token, never the body (RFC 9449 §11.7): "
        "whoever copies a payment request can send the same headers with another amount and "
        "creditor. A message signature covers the body through its digest and is made by a "
        "key the client registered, so a copied request can only be replayed as it was, for "
        "60 seconds; the bank's signed answer, bound to that request, is evidence for both "
        "sides of what was asked and what was answered.",
        off_behaviour="FinLens sends unsigned requests and the bank neither checks nor sends "
                      "signatures; a captured request's headers work with any body.",
    ),
)
