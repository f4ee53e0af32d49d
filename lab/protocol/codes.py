"""Authorization codes (RFC 6749 §4.1.2): stored hashed, consumed atomically on redemption.

A code remembers what the token endpoint must check: its client and redirect_uri
(code_client_binding), its PKCE challenge, its age, whether it was already used,
and which tokens its first redemption minted (revoked if it is replayed).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from authlib.oidc.core import AuthorizationCodeMixin

from lab import clock
from lab.domain import consent, refresh_tokens
from lab.store import columns
from lab.store.base import Once, Store

# How long a shared store remembers a redeemed code: past any lifetime a code can be given.
USE_REMEMBERED = 3600.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS as_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    redirect_uri TEXT,                    -- as sent in the authorization request, or NULL
    scope TEXT NOT NULL,
    username TEXT NOT NULL,
    grant_id TEXT,
    nonce TEXT,
    auth_time INTEGER,
    acr TEXT,
    amr TEXT,
    code_challenge TEXT,
    code_challenge_method TEXT,
    issued_at REAL NOT NULL,
    used_at REAL,
    tokens TEXT NOT NULL DEFAULT '[]'     -- JSON [{"jti": …} | {"family": …}] minted from it
);
CREATE INDEX IF NOT EXISTS as_codes_nonce ON as_codes(client_id, nonce);
"""


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code_hash: str
    client_id: str
    redirect_uri: str | None
    scope: str
    username: str
    grant_id: str | None
    nonce: str | None
    auth_time: int | None
    acr: str | None
    amr: list[str] = field(default_factory=list)
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    issued_at: float = 0.0
    used_at: float | None = None
    tokens: list[dict[str, str]] = field(default_factory=list)
    dpop_jkt: str | None = None           # RFC 9449 §10: the key the code is bound to

    def get_redirect_uri(self) -> str | None:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int | None:
        return self.auth_time

    def get_acr(self) -> str | None:  # type: ignore[override]
        return self.acr

    def get_amr(self) -> list[str]:
        return self.amr


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)
    # RFC 9449 §10 code binding; added to data directories created before it existed.
    columns.add_missing(store, "as_codes", [("dpop_jkt", "TEXT")])


def save(store: Store, code: str, *, client_id: str, redirect_uri: str | None, scope: str,
         username: str, grant_id: str | None, nonce: str | None, auth_time: int | None,
         acr: str | None, amr: list[str], code_challenge: str | None,
         code_challenge_method: str | None, dpop_jkt: str | None = None) -> None:
    store.execute(
        "INSERT INTO as_codes(code_hash, client_id, redirect_uri, scope, username, grant_id, "
        "nonce, auth_time, acr, amr, code_challenge, code_challenge_method, issued_at, "
        "dpop_jkt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (code_hash(code), client_id, redirect_uri, scope, username, grant_id, nonce, auth_time,
         acr, json.dumps(amr), code_challenge, code_challenge_method, clock.now(store),
         dpop_jkt))


def find(store: Store, code: object) -> AuthorizationCode | None:
    if not isinstance(code, str) or not code or len(code) > 512:
        return None
    return find_by_hash(store, code_hash(code))


def find_by_hash(store: Store, hashed: str) -> AuthorizationCode | None:
    row = store.query_one("SELECT * FROM as_codes WHERE code_hash = ?", (hashed,))
    if row is None:
        return None
    data: dict[str, Any] = dict(row)
    data["amr"] = json.loads(data["amr"] or "[]")
    data["tokens"] = json.loads(data["tokens"])
    return AuthorizationCode(**data)


def consume(store: Store, code: AuthorizationCode) -> bool:
    """RFC 6749 §4.1.2: "The client MUST NOT use the authorization code more than once."
    One conditional UPDATE: True only for the first redemption."""
    return store.consume("UPDATE as_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
                         (clock.now(store), code.code_hash),
                         once=Once("code", code.code_hash, USE_REMEMBERED))


def remember_tokens(store: Store, code: AuthorizationCode, minted: list[dict[str, str]]) -> None:
    with store.transaction():
        row = store.query_one("SELECT tokens FROM as_codes WHERE code_hash = ?", (code.code_hash,))
        tokens = json.loads(row["tokens"]) if row else []
        store.execute("UPDATE as_codes SET tokens = ? WHERE code_hash = ?",
                      (json.dumps(tokens + minted), code.code_hash))


def revoke_tokens_of(store: Store, code: AuthorizationCode) -> int:
    """RFC 6749 §4.1.2: the AS "SHOULD revoke (when possible) all tokens previously issued
    based on that authorization code"."""
    count = 0
    for item in code.tokens:
        if "jti" in item:
            count += int(consent.revoke_access_token(store, item["jti"]))
        if "family" in item:
            count += refresh_tokens.revoke_family(store, item["family"], "reuse")
    return count

