"""Pending authorizations: a validated request waiting for login, second factor and consent.

Kept server-side (the browser holds only the id, bound to its AS session), so
the request a user approves is exactly the one the AS validated.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from lab import clock
from lab.store.base import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS as_pending (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    request TEXT NOT NULL,                -- JSON, LabAuthorizationServer.stored_request()
    created_at REAL NOT NULL,
    stage TEXT NOT NULL,                  -- login, mfa, consent
    username TEXT,
    auth_time INTEGER,
    acr TEXT,
    amr TEXT NOT NULL DEFAULT '[]',
    done_at REAL
);
"""

# Time a user gets from the authorization request to the consent decision.
LIFETIME = 600
SESSION_KEY = "pending"


@dataclass
class Pending:
    id: str
    client_id: str
    request: dict[str, Any]
    created_at: float
    stage: str
    username: str | None = None
    auth_time: int | None = None
    acr: str | None = None
    amr: list[str] = field(default_factory=list)
    done_at: float | None = None

    def param(self, name: str) -> str | None:
        for key, value in self.request["params"]:
            if key == name:
                return str(value)
        return None


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def create(store: Store, client_id: str, request: dict[str, Any]) -> Pending:
    pending_id = "authz-" + secrets.token_urlsafe(16)
    store.execute("INSERT INTO as_pending(id, client_id, request, created_at, stage) "
                  "VALUES (?, ?, ?, ?, 'login')",
                  (pending_id, client_id, json.dumps(request), clock.now(store)))
    found = get(store, pending_id)
    assert found is not None
    return found


def get(store: Store, pending_id: object) -> Pending | None:
    """The pending authorization, if it exists, is unfinished and not expired."""
    if not isinstance(pending_id, str) or len(pending_id) > 100:
        return None
    row = store.query_one("SELECT * FROM as_pending WHERE id = ? AND done_at IS NULL",
                          (pending_id,))
    if row is None or clock.now(store) - row["created_at"] > LIFETIME:
        return None
    row["request"] = json.loads(row["request"])
    row["amr"] = json.loads(row["amr"])
    return Pending(**row)


def signed_in(store: Store, pending: Pending, *, username: str, stage: str,
              auth_time: int | None = None, acr: str | None = None,
              amr: list[str] | None = None) -> None:
    store.execute("UPDATE as_pending SET username = ?, stage = ?, auth_time = ?, acr = ?, "
                  "amr = ? WHERE id = ?",
                  (username, stage, auth_time, acr, json.dumps(amr or []), pending.id))


def finish(store: Store, pending: Pending) -> bool:
    """Single use: only one decision per pending authorization."""
    return store.consume("UPDATE as_pending SET done_at = ? WHERE id = ? AND done_at IS NULL",
                         (clock.now(store), pending.id))


def bind(session: Any, pending: Pending) -> None:
    ids = [i for i in session.get(SESSION_KEY, []) if isinstance(i, str)][-4:]
    session[SESSION_KEY] = ids + [pending.id]


def bound(session: Any, pending_id: object) -> bool:
    return isinstance(pending_id, str) and pending_id in session.get(SESSION_KEY, [])
