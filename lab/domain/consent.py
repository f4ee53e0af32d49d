"""The bank's consent store: what a user granted to which app, per account and permission.

The AS writes a grant when the user approves; the bank reads it on every API call
(consent_per_account) and the user revokes it on the bank's "connected apps" page.
Access-token ids are listed here too, so the bank can check revocation status.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from typing import Any

from lab import clock
from lab.audit import trail
from lab.store.base import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS grants (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    accounts TEXT NOT NULL,               -- JSON {account_id: [permission, ...]}
    created_at REAL NOT NULL,
    auth_time REAL,
    acr TEXT,
    revoked_at REAL
);
CREATE INDEX IF NOT EXISTS grants_user ON grants(username);
-- a user's grants to one app newest first (the consent page lists the newest few of them)
CREATE INDEX IF NOT EXISTS grants_user_client ON grants(username, client_id, created_at);
CREATE TABLE IF NOT EXISTS access_tokens (
    jti TEXT PRIMARY KEY,
    grant_id TEXT,
    client_id TEXT NOT NULL,
    username TEXT,
    scope TEXT,
    audience TEXT,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS access_tokens_grant ON access_tokens(grant_id);
"""

# Permission (what the user grants per account) → the words the consent and bank pages show.
PERMISSIONS: dict[str, str] = {
    "balances": "See the balance of this account",
    "transactions": "See the transactions of this account (payees, amounts, dates)",
    "payments": "Initiate payments from this account",
}
# ... and → the OAuth scope that carries it.
PERMISSION_SCOPES: dict[str, str] = {
    "balances": "accounts:read",
    "transactions": "transactions:read",
    "payments": "payments:write",
}


def permissions_in(scope: Iterable[str]) -> list[str]:
    """The per-account permissions a list of scope words asks for, in PERMISSIONS order."""
    words = set(scope)
    return [p for p, s in PERMISSION_SCOPES.items() if s in words]


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def create_grant(store: Store, *, username: str, client_id: str, scope: str,
                 accounts: dict[str, list[str]], auth_time: float | None = None,
                 acr: str | None = None) -> str:
    grant_id = "grant-" + secrets.token_hex(8)
    store.execute(
        "INSERT INTO grants(id, username, client_id, scope, accounts, created_at, auth_time, acr) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (grant_id, username, client_id, scope, json.dumps(accounts), clock.now(store),
         auth_time, acr))
    trail.append(store, "consent", {"grant_id": grant_id, "username": username,
                                    "client_id": client_id, "scope": scope,
                                    "accounts": accounts})
    return grant_id


def decode(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A grants row as the lab uses it: accounts as a dict, and whether it is active."""
    if row is None:
        return None
    row = dict(row)
    row["accounts"] = json.loads(row["accounts"])
    row["active"] = row["revoked_at"] is None
    return row


def get_grant(store: Store, grant_id: str) -> dict[str, Any] | None:
    return decode(store.query_one("SELECT * FROM grants WHERE id = ?", (grant_id,)))


def grants_of(store: Store, username: str, *, active_only: bool = True) -> list[dict[str, Any]]:
    sql = "SELECT * FROM grants WHERE username = ?"
    if active_only:
        sql += " AND revoked_at IS NULL"
    rows = store.query(sql + " ORDER BY created_at DESC", (username,))
    return [g for g in (decode(r) for r in rows) if g]


def mark_grant_revoked(store: Store, grant_id: str) -> bool:
    """The grant itself is withdrawn; what happens to its tokens is revocation_cascade's call."""
    done = store.consume("UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                         (clock.now(store), grant_id))
    return revoked(store, "grant", grant_id, int(done), "withdrawn") > 0


def withdraw_all(store: Store) -> int:
    """End every active grant at once; how many. Not a customer's "stop" (no trail record, no
    event, tokens untouched): a throwaway lab's reset between attack runs, so each run's
    victim starts with no links earlier runs left her (attacker.runner)."""
    ensure_schema(store)
    return store.execute("UPDATE grants SET revoked_at = ? WHERE revoked_at IS NULL",
                         (clock.now(store),))


def permitted(grant: dict[str, Any], account_id: str, permission: str) -> bool:
    return permission in grant["accounts"].get(account_id, [])


def record_access_token(store: Store, *, jti: str, grant_id: str | None, client_id: str,
                        username: str | None, scope: str, audience: str | None,
                        issued_at: float, expires_at: float) -> None:
    store.execute(
        "INSERT OR REPLACE INTO access_tokens(jti, grant_id, client_id, username, scope, "
        "audience, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (jti, grant_id, client_id, username, scope, audience, issued_at, expires_at))


def revoked(store: Store, what: str, ident: str, count: int, reason: str) -> int:
    """The one audit record of a revocation (grant, access or refresh tokens), if any changed."""
    if count:
        trail.append(store, "revocation", {"what": what, "id": ident, "count": count,
                                           "reason": reason})
    return count


def revoke_access_token(store: Store, jti: str) -> bool:
    done = store.consume("UPDATE access_tokens SET revoked = 1 WHERE jti = ? AND revoked = 0",
                         (jti,))
    return revoked(store, "access_token", jti, int(done), "direct") > 0


def revoke_access_tokens_of_grant(store: Store, grant_id: str) -> int:
    return revoked(store, "access_tokens_of_grant", grant_id, store.execute(
        "UPDATE access_tokens SET revoked = 1 WHERE grant_id = ? AND revoked = 0", (grant_id,)),
        "cascade")


def access_token_status(store: Store, jti: str) -> dict[str, Any] | None:
    """The token's own record, with `grant_active` — what a revocation check looks at."""
    row = store.query_one(
        "SELECT t.*, g.revoked_at AS grant_revoked_at FROM access_tokens t "
        "LEFT JOIN grants g ON g.id = t.grant_id WHERE t.jti = ?", (jti,))
    if row is None:
        return None
    row["grant_active"] = row["grant_revoked_at"] is None
    return row
