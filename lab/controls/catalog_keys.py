"""Controls of key and secret rotation (issue 16; attacks.md §2.4, §2.7): as_key_rotation,
client_secret_rotation. Marked for no FAPI profile; on in the adaptive overlay.
"""

from __future__ import annotations

from .model import Control, Refusal

R = Refusal

KEYS_CONTROLS: tuple[Control, ...] = (
    Control(
        "as_key_rotation", "AS key rotation honoured",
        "The bank trusts only the keys the AS publishes now: its JWKS cache ages on the lab "
        "clock, and a token signed by a key the AS retired after a rotation is refused, even "
        "though the bank once trusted that key.",
        ("AS", "bank"), R(401, "invalid_token"),
        "FAPI2 §6.8; OIDC §10.1.1",
        "`fapi-lab keys rotate` publishes a new AS signing key, signs with it once every "
        "verifier can have fetched it (12 s later: a refetch cooldown ahead), and keeps the "
        "old one in the JWKS only as long as a token it signed can live. Rotation is how a "
        "leaked key backup stops being worth anything, but only if resource servers let go of "
        "retired keys. A server "
        "that caches every key it ever fetched still accepts tokens forged with an old key.",
        params={"jwks_max_age": 60},
        off_behaviour="The bank trusts every AS key it has ever fetched, forever (a naive "
                      "resource server's key cache); retired keys still verify.",
    ),
    Control(
        "client_secret_rotation", "Client secrets expire",
        "The token endpoint refuses a client secret past its client_secret_expires_at; "
        "clients get a new one from the RFC 7592 management API (PUT on their registration).",
        ("AS",), R(401, "invalid_client"),
        "RFC 7591 §3.2.1; RFC 7592 §2.2; FAPI2 §6.8",
        "A shared secret copied into a config file, a log or a laptop lives as long as the "
        "client does. An expiry makes rotation a matter of course: a leaked secret stops "
        "working at its expiry, and a client that rotates keeps working.",
        params={"lifetime": 86400},
        off_behaviour="A secret past its client_secret_expires_at still authenticates the "
                      "client, and so does a secret an RFC 7592 update replaced (the AS keeps "
                      "each with its own expiry; FinLens rotates its own before expiry "
                      "whatever the switch, so a secret leaked before then still works).",
    ),
)
