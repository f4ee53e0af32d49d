"""Withdrawing a grant (the user on the bank's "connected apps" page, or RFC 7009).

RFC 7009 §2.1: "If the particular token is a refresh token and the authorization
server supports the revocation of access tokens, then the authorization server
SHOULD also invalidate all access tokens based on the same authorization grant."
"""

from __future__ import annotations

from lab import clock
from lab.controls import guard
from lab.domain import consent
from lab.store.base import Store

CASCADE = guard("revocation_cascade")

REFRESH_TOKEN_SCHEMA = """
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


def revoke_grant(store: Store, grant_id: str) -> bool:
    """Withdraw the grant; with revocation_cascade on, kill its refresh and access tokens too."""
    withdrawn = consent.mark_grant_revoked(store, grant_id)
    if CASCADE.on():
        store.execute("UPDATE refresh_tokens SET revoked = 'cascade' "
                      "WHERE grant_id = ? AND revoked IS NULL", (grant_id,))
        consent.revoke_access_tokens_of_grant(store, grant_id)
    return withdrawn


def revoke_family_of_refresh_token(store: Store, family: str, reason: str) -> int:
    """Used by reuse detection: every token of the family stops working."""
    return store.execute("UPDATE refresh_tokens SET revoked = ?, superseded_at = "
                         "COALESCE(superseded_at, ?) WHERE family = ? AND revoked IS NULL",
                         (reason, clock.now(store), family))
