"""AS signing-key rotation (FAPI2 §6.8; OIDC Core §10.1.1): publish, then sign, then retire.

The new key is published in the JWKS at once but signs only PUBLISH_AHEAD seconds later,
as panva's oidc-provider documents its rotation ("push new keys at the very end of the
keys array ... available for verification ... but not yet used for signing", reload, then
move it to the front) and as Keycloak does with a passive key made active later. Why: a
resource server refetches the JWKS for an unknown kid at most once per cooldown
(lab.jose.jws.JwksSource.REFRESH_COOLDOWN, Keycloak's minTimeBetweenRequests), so a
refetch caused by anyone's made-up kid just before a rotation would leave the new key's
tokens refused until the cooldown ends. With the new key published a cooldown ahead, any
refetch the cooldown blocks happened after the key was published: the verifier holds it.
No resource-server rule closes that gap alone: a budget of refetches can be spent by an
attacker's random kids right before the rotation.

OIDC Core §10.1.1: "The RP would then fetch the new keys from the jwks_uri ... signing
with the new key while the old key is still published", so the old key stays in the JWKS
for the longest lifetime of what it signed (access token, ID token, plus the bank's
expiry leeway) after its last signature, on the lab clock, then leaves it. One rotation at
a time: a second one while a key is still retiring is refused, as `fapi-lab keys rotate`
says.
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
# Seconds (lab clock) a new key is published before it signs: at least every verifier's
# unknown-kid refetch cooldown (JwksSource.REFRESH_COOLDOWN, 10 s), with a margin.
PUBLISH_AHEAD = 12
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
    active_at = now + PUBLISH_AHEAD
    new, old = keys.rotate_keyset(config.keys_dir, OWNER, ALG, now=now, active_at=active_at,
                                  retire_at=active_at + overlap)
    return {"new_kid": new["kid"], "old_kid": old["kid"], "alg": ALG, "rotated_at": now,
            "active_at": active_at, "publish_ahead_seconds": PUBLISH_AHEAD,
            "retire_at": active_at + overlap, "overlap_seconds": overlap,
            "keys": listing(config, store)}


def status(key: dict[str, Any], current_kid: str, now: float) -> str:
    """next (published, signs soon), current (signs), retiring (published, signs nothing or
    until the next key is active), retired (gone), published."""
    if keys.retired(key, now):
        return "retired"
    if not keys.active(key, now):
        return "next"
    if keys.RETIRE_AT in key:
        return "current" if key.get("kid") == current_kid else "retiring"
    return "current" if key.get("kid") == current_kid else "published"


def listing(config: LabConfig, store: Store) -> list[dict[str, Any]]:
    """Every AS key the lab holds, newest first, with its status at lab time."""
    now = clock.now(store)
    private = keys.KeyFile(config.keys_dir, OWNER).read()
    current = keys.signing_key(keys.published(private, now), ALG, now)["kid"]
    return [{"kid": key.get("kid"), "alg": key.get("alg"),
             "status": status(key, current, now),
             "created_at": key.get(keys.CREATED_AT), "active_at": key.get(keys.ACTIVE_AT),
             "retire_at": key.get(keys.RETIRE_AT),
             "in_jwks": not keys.retired(key, now)} for key in private]
