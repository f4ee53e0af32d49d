"""The AS's client directory table, and what the bank reads from it: an app's name and keys.

The AS (lab/authserver/clients.py) registers clients and wraps rows for Authlib; the
bank's "connected apps" page only needs the name the app registered with, so it
reads it here rather than importing the AS.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from lab.store.base import Store

MAX_NAME = 200           # client_name and other short text
# Unicode "Bidi_Control" characters (UAX #9): they reorder what a page shows.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")

SCHEMA = """
CREATE TABLE IF NOT EXISTS as_clients (
    client_id TEXT PRIMARY KEY,
    client_secret TEXT,
    metadata TEXT NOT NULL,                 -- JSON, RFC 7591 client metadata
    extra_auth_methods TEXT NOT NULL DEFAULT '[]',
    client_id_issued_at INTEGER NOT NULL,
    client_secret_expires_at INTEGER NOT NULL DEFAULT 0,
    registration_token_hash TEXT
);
-- Secrets an RFC 7592 update replaced, each with the expiry it was issued with: a client
-- with several instances keeps working while they pick up the new one (lab/authserver).
CREATE TABLE IF NOT EXISTS as_client_old_secrets (
    client_id TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    replaced_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS as_client_old_secrets_client ON as_client_old_secrets (client_id);
"""


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def client_name(store: Store, client_id: str) -> str:
    """RFC 7591 `client_name`, else the client_id (also for an unknown client)."""
    row = store.query_one("SELECT metadata FROM as_clients WHERE client_id = ?", (client_id,))
    metadata = json.loads(row["metadata"]) if row else {}
    return shown_name(metadata.get("client_name"), client_id)


def metadata_of(store: Store, client_id: object) -> dict[str, Any] | None:
    """A registered client's metadata (the bank reads its redirect URIs' sector, OIDC §8.1)."""
    if not isinstance(client_id, str) or not client_id or len(client_id) > 200:
        return None
    row = store.query_one("SELECT metadata FROM as_clients WHERE client_id = ?", (client_id,))
    metadata = json.loads(row["metadata"]) if row else None
    return metadata if isinstance(metadata, dict) else None


def shown_name(client_name: object, client_id: str) -> str:
    """The name a page shows for an app: its client_name, else its client_id, made safe."""
    return display_text(client_name, display_text(client_id, "unnamed app"))


def display_text(value: object, fallback: str, limit: int = MAX_NAME) -> str:
    """`value` made safe to show whatever is stored: lone surrogates become U+FFFD, control and
    bidi characters are dropped, the length is bounded. Pages call this, never trust storage."""
    if not isinstance(value, str) or not value:
        return fallback
    text = "".join("\ufffd" if unicodedata.category(c) == "Cs" else c for c in value
                   if c not in BIDI_CONTROLS and unicodedata.category(c) != "Cc")
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return text or fallback


def registered_jwks(store: Store, client_id: str) -> dict[str, object] | None:
    """The JWK Set (RFC 7591 `jwks`) the client registered, or None. The bank verifies the
    client's signed resource requests (RFC 9421) with it: the institution's one client
    registry, read here like the name, rather than a copy of the keys at the bank."""
    row = store.query_one("SELECT metadata FROM as_clients WHERE client_id = ?", (client_id,))
    try:
        jwks = json.loads(row["metadata"]).get("jwks") if row else None
    except (ValueError, AttributeError):
        return None
    return jwks if isinstance(jwks, dict) else None
