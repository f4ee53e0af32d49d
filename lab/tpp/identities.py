"""FinLens accounts reached by "Sign in with your bank": one per (issuer, sub).

OIDC Core §2: sub is "locally unique and never reassigned within the Issuer", and only
the pair (iss, sub) identifies a person; with pairwise identifiers (§8.1) the same person
has a different sub per client. So the account is keyed by issuer and sub, never by an
email or a name, and a bank that switches to PPIDs simply gives new pairs.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from lab import clock
from lab.store.base import Store

from . import links
from .links import User

SCHEMA = """
CREATE TABLE IF NOT EXISTS tpp_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL,
    institution_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_sign_in REAL NOT NULL,
    PRIMARY KEY (issuer, subject)
);
"""
MAX_SUBJECT = 255   # OIDC §2: "It MUST NOT exceed 255 ASCII characters in length"


@dataclass(frozen=True)
class Identity:
    """Who signed in: the bank's pair, and the FinLens account it leads to."""

    issuer: str
    subject: str
    institution_id: str
    user: User


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def _username(subject: str, institution_id: str) -> str:
    """A readable name that the typed sign-in (letters, digits, . _ -) can never produce."""
    shown = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_"
                    for c in subject[:40])
    return f"{shown}@{institution_id}"


def _new_user(store: Store, user_id: str, name: str, now: float) -> None:
    """The account; a name already taken (another issuer's same sub) gets a suffix."""
    for candidate in (name, f"{name}~{secrets.token_hex(3)}"):
        store.execute("INSERT OR IGNORE INTO tpp_users(id, username, guest, created_at) "
                      "VALUES (?, ?, 0, ?)", (user_id, candidate, now))
        if links.get_user(store, user_id) is not None:
            return


def sign_in(store: Store, *, issuer: str, subject: str, institution_id: str) -> Identity:
    """The FinLens account of (issuer, subject), made on its first sign-in."""
    now = clock.now(store)
    row = store.query_one("SELECT user_id FROM tpp_identities WHERE issuer = ? AND subject = ?",
                          (issuer, subject))
    user = links.get_user(store, row["user_id"]) if row else None
    if user is None:
        user_id = "u-" + hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()[:16]
        _new_user(store, user_id, _username(subject, institution_id), now)
        store.execute("INSERT OR REPLACE INTO tpp_identities(issuer, subject, user_id, "
                      "institution_id, created_at, last_sign_in) VALUES (?, ?, ?, ?, ?, ?)",
                      (issuer, subject, user_id, institution_id, now, now))
        user = links.get_user(store, user_id)
        assert user is not None
    else:
        store.execute("UPDATE tpp_identities SET last_sign_in = ? WHERE issuer = ? AND "
                      "subject = ?", (now, issuer, subject))
    return Identity(issuer, subject, institution_id, user)


def of_user(store: Store, user_id: str) -> Identity | None:
    """The bank identity a FinLens account signs in with, if any (for its pages)."""
    row = store.query_one("SELECT * FROM tpp_identities WHERE user_id = ? "
                          "ORDER BY last_sign_in DESC", (user_id,))
    user = links.get_user(store, user_id)
    if row is None or user is None:
        return None
    return Identity(row["issuer"], row["subject"], row["institution_id"], user)
