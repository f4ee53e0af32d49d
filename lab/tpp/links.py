"""FinLens users and their linked institutions, kept server-side (tokens never go in a cookie).

The fintech's own login is out of scope: a user is a name chosen on the home
page, or a guest profile made when somebody links accounts without signing in.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from typing import Any

from lab import clock
from lab.store import columns
from lab.store.base import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS tpp_users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    guest INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tpp_links (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    institution_id TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    access_token TEXT,
    refresh_token TEXT,
    token_type TEXT,
    expires_at REAL,
    scope TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',      -- 'active' or 'revoked'
    status_reason TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    grant_id TEXT,                              -- the token response's, when the AS says it
    UNIQUE(user_id, institution_id, subject)
);
CREATE INDEX IF NOT EXISTS tpp_links_user ON tpp_links(user_id);
CREATE TABLE IF NOT EXISTS tpp_spent_states (
    state TEXT PRIMARY KEY,
    spent_at REAL NOT NULL
);
"""

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


@dataclass(frozen=True)
class User:
    id: str
    username: str
    guest: bool


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)
    # grant_id: added to data directories created before it existed.
    columns.add_missing(store, "tpp_links", [("grant_id", "TEXT")])


def valid_username(name: object) -> bool:
    return isinstance(name, str) and bool(USERNAME.match(name))


def sign_in(store: Store, username: str) -> User:
    """The user called `username`, created on first sign-in."""
    store.execute("INSERT OR IGNORE INTO tpp_users(id, username, guest, created_at) "
                  "VALUES (?, ?, 0, ?)", ("u-" + secrets.token_hex(8), username,
                                          clock.now(store)))
    user = by_username(store, username)
    assert user is not None
    return user


def new_guest(store: Store) -> User:
    user = User("u-" + secrets.token_hex(8), "guest-" + secrets.token_hex(3), True)
    store.execute("INSERT INTO tpp_users(id, username, guest, created_at) VALUES (?, ?, 1, ?)",
                  (user.id, user.username, clock.now(store)))
    return user


def _user(row: dict[str, Any] | None) -> User | None:
    return User(row["id"], row["username"], bool(row["guest"])) if row else None


def get_user(store: Store, user_id: object) -> User | None:
    if not isinstance(user_id, str):
        return None
    return _user(store.query_one("SELECT * FROM tpp_users WHERE id = ?", (user_id,)))


def by_username(store: Store, username: str) -> User | None:
    return _user(store.query_one("SELECT * FROM tpp_users WHERE username = ?", (username,)))


def save_link(store: Store, *, user_id: str, institution_id: str, subject: str,
              token: dict[str, Any]) -> str:
    """Store (or replace, on re-link) the tokens of one institution login for this user."""
    now = clock.now(store)
    expires_at = expires_at_of(token, now)
    existing = store.query_one("SELECT id FROM tpp_links WHERE user_id = ? AND "
                               "institution_id = ? AND subject = ?",
                               (user_id, institution_id, subject))
    link_id = existing["id"] if existing else "link-" + secrets.token_hex(8)
    store.execute(
        "INSERT OR REPLACE INTO tpp_links(id, user_id, institution_id, subject, access_token, "
        "refresh_token, token_type, expires_at, scope, status, status_reason, created_at, "
        "updated_at, grant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', NULL, ?, ?, ?)",
        (link_id, user_id, institution_id, subject, token.get("access_token"),
         token.get("refresh_token"), token.get("token_type"), expires_at,
         str(token.get("scope") or ""), now, now, _grant_id(token)))
    return link_id


def _grant_id(token: dict[str, Any]) -> str | None:
    """The grant the tokens belong to (Grant Management's `grant_id` token response
    parameter), which a pushed SET names; an opaque access token does not show it."""
    grant_id = token.get("grant_id")
    return grant_id if isinstance(grant_id, str) and 0 < len(grant_id) <= 256 else None


def update_tokens(store: Store, link_id: str, token: dict[str, Any]) -> None:
    """After a refresh: RFC 6749 §6 — a new refresh token replaces the old, if one is issued."""
    now = clock.now(store)
    store.execute(
        "UPDATE tpp_links SET access_token = ?, refresh_token = COALESCE(?, refresh_token), "
        "token_type = COALESCE(?, token_type), expires_at = ?, scope = COALESCE(?, scope), "
        "updated_at = ? WHERE id = ?",
        (token.get("access_token"), token.get("refresh_token"), token.get("token_type"),
         expires_at_of(token, now), token.get("scope") or None, now, link_id))


def update_refresh_token(store: Store, link_id: str, refresh_token: str) -> None:
    """A rotated refresh token from a refresh made for another API (lab/tpp/rewards.py)."""
    store.execute("UPDATE tpp_links SET refresh_token = ?, updated_at = ? WHERE id = ?",
                  (refresh_token, clock.now(store), link_id))


def mark_revoked(store: Store, link_id: str, reason: str) -> None:
    store.execute("UPDATE tpp_links SET status = 'revoked', status_reason = ?, updated_at = ? "
                  "WHERE id = ?", (reason, clock.now(store), link_id))


def delete_link(store: Store, link_id: str) -> None:
    store.execute("DELETE FROM tpp_links WHERE id = ?", (link_id,))


def links_of(store: Store, user_id: str) -> list[dict[str, Any]]:
    return store.query("SELECT * FROM tpp_links WHERE user_id = ? ORDER BY created_at",
                       (user_id,))


def get_link(store: Store, user_id: str, link_id: object) -> dict[str, Any] | None:
    if not isinstance(link_id, str):
        return None
    return store.query_one("SELECT * FROM tpp_links WHERE id = ? AND user_id = ?",
                           (link_id, user_id))


def spend_state(store: Store, state: str) -> bool:
    """RFC 6749 §10.12 / BCP §4.7.1: a state value is good for one response only."""
    return store.execute("INSERT OR IGNORE INTO tpp_spent_states(state, spent_at) "
                         "VALUES (?, ?)", (state, clock.now(store))) == 1


def expires_at_of(token: dict[str, Any], now: float) -> float | None:
    """RFC 6749 §5.1 expires_in ("lifetime in seconds") as a lab-clock deadline; None if absent."""
    value = token.get("expires_in")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return now + seconds if math.isfinite(seconds) and seconds >= 0 else None
