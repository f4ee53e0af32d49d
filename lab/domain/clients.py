"""The AS's client directory table, and the one thing the bank reads from it: an app's name.

The AS (lab/authserver/clients.py) registers clients and wraps rows for Authlib; the
bank's "connected apps" page only needs the name the app registered with, so it
reads it here rather than importing the AS.
"""

from __future__ import annotations

import json

from lab.store.base import Store

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
"""


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def client_name(store: Store, client_id: str) -> str:
    """RFC 7591 `client_name`, else the client_id (also for an unknown client)."""
    row = store.query_one("SELECT metadata FROM as_clients WHERE client_id = ?", (client_id,))
    metadata = json.loads(row["metadata"]) if row else {}
    return str(metadata.get("client_name") or client_id)
