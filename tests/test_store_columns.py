"""Columns added after a table shipped reach older data directories, once, from any worker."""

from __future__ import annotations

from pathlib import Path

from lab.store import columns
from lab.store.sqlite import SQLiteStore


def test_a_missing_column_is_added_and_a_second_call_changes_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "old.db")
    store.ensure_schema("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY);")
    store.execute("INSERT INTO t(id) VALUES ('kept')")
    columns.add_missing(store, "t", [("extra", "TEXT"), ("id", "TEXT")])
    columns.add_missing(store, "t", [("extra", "TEXT")])
    assert columns.present(store, "t") == {"id", "extra"}
    assert store.query("SELECT id, extra FROM t") == [{"id": "kept", "extra": None}]
