"""A read-only view of a lab's store, for `fapi-lab audit` on a data directory.

Opened with SQLite's `mode=ro`: verifying or exporting the trail of a running lab can
neither write a row nor take the write lock its workers need, and no schema is created in a
directory that holds no lab.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

DB_NAME = "lab.sqlite3"


class StoreUnreadable(Exception):  # noqa: N818 - a state, said to the user as it is
    """The data directory holds no lab store, or not one with an audit trail."""


class ReadOnlyStore:
    """The reading half of the Store contract (query, query_one, iter_rows), nothing else."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        path = data_dir / DB_NAME
        if not path.is_file():
            raise StoreUnreadable(f"no lab store at {path} (is --data-dir right?)")
        try:
            self._conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True,
                                         timeout=30)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.execute("SELECT seq, ts, kind, component, request_id, data, prev, hash "
                               "FROM audit_log LIMIT 0")
        except sqlite3.DatabaseError as error:
            raise StoreUnreadable(f"{path} has no readable audit trail ({error}); a lab "
                                  f"that predates the trail gets one on its next start") \
                from None

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self._conn.execute(sql, params).fetchall()]

    def query_one(self, sql: str, params: Any = ()) -> dict[str, Any] | None:
        row = self._conn.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def iter_rows(self, sql: str, params: Any = ()) -> Iterator[dict[str, Any]]:
        for row in self._conn.execute(sql, params):
            yield dict(row)

    def close(self) -> None:
        self._conn.close()
