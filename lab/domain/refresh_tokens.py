"""Opaque refresh tokens (RFC 6749 §6), stored as SHA-256 hashes in one family per grant chain.

A family is every refresh token descended from one authorization; rotation
supersedes a token within its family, and reuse detection revokes the family.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import TokenMixin

from lab import clock
from lab.domain.consent import revoked
from lab.store.base import Once, Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,          -- SHA-256 of the token; the token itself is not stored
    grant_id TEXT,
    client_id TEXT NOT NULL,
    username TEXT,
    scope TEXT NOT NULL,
    family TEXT NOT NULL,
    issued_at REAL NOT NULL,
    superseded_at REAL,
    revoked TEXT                          -- NULL, 'direct', 'cascade', 'reuse'
);
CREATE INDEX IF NOT EXISTS refresh_tokens_grant ON refresh_tokens(grant_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens(family);
"""

# How long a shared store remembers a rotated-out refresh token (they do not expire here).
ROTATION_REMEMBERED = 30 * 86400.0


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class RefreshToken(TokenMixin):
    token_hash: str
    grant_id: str | None
    client_id: str
    username: str | None
    scope: str
    family: str
    issued_at: float
    superseded_at: float | None
    revoked: str | None

    def check_client(self, client: Any) -> bool:
        return bool(self.client_id == client.get_client_id())

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return 0

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return self.revoked is not None or self.superseded_at is not None

    def get_client_id(self) -> str:
        return self.client_id


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def new_family() -> str:
    return "fam-" + secrets.token_hex(8)


def save(store: Store, token: str, *, grant_id: str | None, client_id: str,
         username: str | None, scope: str, family: str) -> None:
    store.execute(
        "INSERT INTO refresh_tokens(token_hash, grant_id, client_id, username, scope, family, "
        "issued_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (token_hash(token), grant_id, client_id, username, scope, family, clock.now(store)))


def find(store: Store, token: object) -> RefreshToken | None:
    if not isinstance(token, str) or not token or len(token) > 512:
        return None
    row = store.query_one("SELECT * FROM refresh_tokens WHERE token_hash = ?",
                          (token_hash(token),))
    return RefreshToken(**row) if row else None


def supersede(store: Store, token: RefreshToken) -> bool:
    """Rotation: the presented token stops being current. False if someone beat us to it."""
    return store.consume("UPDATE refresh_tokens SET superseded_at = ? WHERE token_hash = ? "
                         "AND superseded_at IS NULL AND revoked IS NULL",
                         (clock.now(store), token.token_hash),
                         once=Once("refresh_token", token.token_hash, ROTATION_REMEMBERED))


def revoke(store: Store, token: RefreshToken, reason: str = "direct") -> bool:
    done = store.consume("UPDATE refresh_tokens SET revoked = ? WHERE token_hash = ? "
                         "AND revoked IS NULL", (reason, token.token_hash))
    return revoked(store, "refresh_token", token.token_hash, int(done), reason) > 0


def revoke_family(store: Store, family: str, reason: str) -> int:
    """Used by reuse detection: every token of the family stops working."""
    return revoked(store, "refresh_family", family, store.execute(
        "UPDATE refresh_tokens SET revoked = ?, superseded_at = COALESCE(superseded_at, ?) "
        "WHERE family = ? AND revoked IS NULL", (reason, clock.now(store), family)), reason)


def revoke_of_grant(store: Store, grant_id: str) -> int:
    """The cascade of a withdrawn grant: its live refresh tokens stop working."""
    return revoked(store, "refresh_tokens_of_grant", grant_id, store.execute(
        "UPDATE refresh_tokens SET revoked = 'cascade' WHERE grant_id = ? AND revoked IS NULL",
        (grant_id,)), "cascade")
