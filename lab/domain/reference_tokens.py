"""Opaque access tokens (the phantom-token pattern): a reference the client holds, the JWT the AS
keeps behind it.

With `access_tokens = opaque` the AS still mints its RFC 9068 JWT (the registry, revocation
and introspection keep working on its jti) but answers the client with a random reference.
Only the reference's SHA-256 is stored, so a copy of the database lends no usable token.
"""

from __future__ import annotations

import hashlib
import secrets

from lab import clock, context
from lab.store.base import Store

ACCESS_TOKENS_SETTING = "access_tokens"
MODES = ("jwt", "opaque")
# A reference is 32 random bytes in base64url (43 characters); nothing longer is looked up.
MAX_REFERENCE = 64

SCHEMA = """
CREATE TABLE IF NOT EXISTS reference_tokens (
    ref_hash TEXT PRIMARY KEY,
    jwt TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def set_mode(store: Store, mode: str) -> None:
    """Record the switch where every process (the AS's workers included) reads it."""
    if mode not in MODES:
        raise ValueError(f"access tokens: one of {', '.join(MODES)}")
    store.set_setting(ACCESS_TOKENS_SETTING, mode)
    ctx = context.current_or_none()
    if ctx is not None:
        ctx.forget(ACCESS_TOKENS_SETTING)   # the request that switched reads the new mode


def opaque(store: Store) -> bool:
    """Whether access tokens are references. A web request reads the switch once, like its
    controls and the clock offset (lab.context): a bank request asked it three to four
    times, a settings query each; the next request reads it again, so a switch made by
    another process counts from that request on."""
    ctx = context.current_or_none()
    if ctx is not None and ctx.store is store:
        return bool(ctx.cached(ACCESS_TOKENS_SETTING, lambda: _read(store)))
    return _read(store)


def _read(store: Store) -> bool:
    return bool(store.get_setting(ACCESS_TOKENS_SETTING) == "opaque")


def _hash(reference: str) -> str:
    return hashlib.sha256(reference.encode()).hexdigest()


def issue(store: Store, jwt: str, expires_at: float) -> str:
    """A new reference for `jwt`; expired rows are swept on the way (bounded table)."""
    reference = secrets.token_urlsafe(32)
    store.execute("DELETE FROM reference_tokens WHERE expires_at < ?", (clock.now(store) - 60,))
    store.execute("INSERT INTO reference_tokens(ref_hash, jwt, expires_at) VALUES (?, ?, ?)",
                  (_hash(reference), jwt, expires_at))
    return reference


def resolve(store: Store, reference: object) -> str | None:
    """The JWT behind a reference, or None (unknown, malformed or not a reference at all).

    Only in opaque mode: with JWTs the AS issues none, so the table is not even asked."""
    if not isinstance(reference, str) or not reference or len(reference) > MAX_REFERENCE \
            or "." in reference or not opaque(store):
        return None
    row = store.query_one("SELECT jwt FROM reference_tokens WHERE ref_hash = ?",
                          (_hash(reference),))
    return str(row["jwt"]) if row else None
