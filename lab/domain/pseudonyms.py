"""Which customer a pairwise `sub` stands for (OIDC Core §8), per sector.

The AS records each pseudonym it hands out (lab/protocol/subjects.py); the bank, which shares
this store with the AS, reads it back to find the customer behind a token's `sub`. A real OP
keeps the same table: the pseudonym is a keyed hash, so only a lookup turns it back.
"""

from __future__ import annotations

from lab.store.base import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS pairwise_subjects (
    sector TEXT NOT NULL,
    subject TEXT NOT NULL,
    username TEXT NOT NULL,
    PRIMARY KEY (sector, subject)
);
"""


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def remember(store: Store, sector: str, subject: str, username: str) -> None:
    store.execute("INSERT OR IGNORE INTO pairwise_subjects(sector, subject, username) "
                  "VALUES (?, ?, ?)", (sector, subject, username))


def username_of(store: Store, sector: str, subject: str) -> str | None:
    row = store.query_one("SELECT username FROM pairwise_subjects WHERE sector = ? AND "
                          "subject = ?", (sector, subject))
    return str(row["username"]) if row else None
