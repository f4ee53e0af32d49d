"""SQLite store: one file in the data directory, one connection per thread, WAL mode."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .base import Once, Params

CORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    control TEXT NOT NULL,
    request_id TEXT,
    component TEXT,
    endpoint TEXT,
    error TEXT,
    reason TEXT
);
CREATE INDEX IF NOT EXISTS events_request ON events(request_id);
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    kind TEXT NOT NULL,
    component TEXT,
    request_id TEXT,
    data TEXT NOT NULL,
    prev TEXT,
    hash TEXT
);
"""


class SQLiteStore:
    """The lab's default store. Safe across threads and processes on one host."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self.ensure_schema(CORE_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL: a commit survives the process (each single-use write is one
            # commit) without an fsync per request; only a power cut can lose the last ones.
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @property
    def data_dir(self) -> Path:
        return self.path.parent

    def in_transaction(self) -> bool:
        return self._conn().in_transaction

    def execute(self, sql: str, params: Params = ()) -> int:
        return self._conn().execute(sql, params).rowcount

    def insert(self, sql: str, params: Params = ()) -> int:
        return self._conn().execute(sql, params).lastrowid or 0

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self._conn().execute(sql, params).fetchall()]

    def query_one(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        row = self._conn().execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def iter_rows(self, sql: str, params: Params = ()) -> Iterator[dict[str, Any]]:
        for row in self._conn().execute(sql, params):
            yield dict(row)

    def consume(self, sql: str, params: Params = (), once: Once | None = None) -> bool:
        # On one host the conditional statement alone decides; `once` is for shared stores.
        return self._conn().execute(sql, params).rowcount == 1

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self._conn()
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def ensure_schema(self, ddl: str) -> None:
        self._conn().executescript(ddl)

    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self.query_one("SELECT value FROM settings WHERE key = ?", (key,))
        return json.loads(row["value"]) if row else default

    def set_setting(self, key: str, value: Any) -> None:
        self.execute(
            "INSERT INTO settings(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)),
        )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
