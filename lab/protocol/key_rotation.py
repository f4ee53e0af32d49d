"""AS signing-key rotation (FAPI2 §6.8; OIDC Core §10.1.1): new key signs, old one retires.

OIDC Core §10.1.1: "The RP would then fetch the new keys from the jwks_uri ... signing
with the new key while the old key is still published", so the old key stays in the JWKS
for the longest lifetime of what it signed (access token, ID token, plus the bank's
expiry leeway) on the lab clock, then leaves it. One rotation at a time: a second one while
a key is still retiring is refused, as `fapi-lab keys rotate` says.
"""

from __future__ import annotations

from typing import Any

from lab import clock, keys
from lab.config import LabConfig
from lab.controls import guard
from lab.store import Store

from .oidc import ID_TOKEN_LIFETIME
from .tokens import access_token_lifetime

OWNER = "as"
ALG = "ES256"
EXPIRY = guard("token_expiry_check")


def longest_token_lifetime() -> int:
    """Seconds a token signed now may still be accepted: the longer of the access token's
    and the ID token's lifetime, plus the bank's expiry leeway."""
    leeway = int(EXPIRY.param("leeway", 10)) if EXPIRY.on() else 0
    return max(access_token_lifetime(), ID_TOKEN_LIFETIME) + leeway


def rotate(config: LabConfig, store: Store) -> dict[str, Any]:
    """Rotate the AS's ES256 signing key; raises keys.RotationInProgress while one retires."""
    now = clock.now(store)
    overlap = longest_token_lifetime()
    new, old = keys.rotate_keyset(config.keys_dir, OWNER, ALG, now=now, retire_at=now + overlap)
    return {"new_kid": new["kid"], "old_kid": old["kid"], "alg": ALG, "rotated_at": now,
            "retire_at": now + overlap, "overlap_seconds": overlap,
            "keys": listing(config, store)}


def status(key: dict[str, Any], current_kid: str, now: float) -> str:
    """current (signs), retiring (published, signs nothing), retired (gone), published."""
    if keys.retired(key, now):
        return "retired"
    if keys.RETIRE_AT in key:
        return "retiring"
    return "current" if key.get("kid") == current_kid else "published"


def listing(config: LabConfig, store: Store) -> list[dict[str, Any]]:
    """Every AS key the lab holds, newest first, with its status at lab time."""
    now = clock.now(store)
    private = keys.KeyFile(config.keys_dir, OWNER).read()
    current = keys.signing_key(keys.published(private, now), ALG)["kid"]
    return [{"kid": key.get("kid"), "alg": key.get("alg"),
             "status": status(key, current, now),
             "created_at": key.get(keys.CREATED_AT), "retire_at": key.get(keys.RETIRE_AT),
             "in_jwks": not keys.retired(key, now)} for key in private]
