"""Columns added to a table after it first shipped, added to older data directories.

SQLite has no `ADD COLUMN IF NOT EXISTS`: the column is added when missing, and an
`ALTER` that fails because another worker added it meanwhile is not an error.
"""

from __future__ import annotations

from collections.abc import Iterable

from .base import Store


def add_missing(store: Store, table: str, columns: Iterable[tuple[str, str]]) -> None:
    """Add each (name, type) `table` lacks. Table and column names are the lab's own
    literals, never input."""
    for column, ddl in columns:
        if column in present(store, table):
            continue
        try:
            store.execute(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")
        except Exception:
            if column not in present(store, table):   # another worker may have added it
                raise


def present(store: Store, table: str) -> set[str]:
    return {row["name"] for row in store.query(f"PRAGMA table_info({table})")}
