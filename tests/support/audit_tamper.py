"""The three ways an audit trail is tampered with in the Done-when of issue 16 (one record
edited, one deleted, the tail truncated), shared by the tests that verify a lab's trail
(tests/attacks/test_audit_trail.py) and a matrix's kept trails (test_matrix_audit.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.store import SQLiteStore

TAMPERS = [
    pytest.param("UPDATE audit_log SET data = '{}' WHERE seq = (SELECT MIN(seq) + 5 FROM "
                 "audit_log WHERE hash IS NOT NULL)", "edited", id="one-edited"),
    pytest.param("DELETE FROM audit_log WHERE seq = (SELECT MIN(seq) + 5 FROM audit_log "
                 "WHERE hash IS NOT NULL)", "missing", id="one-deleted"),
    pytest.param("DELETE FROM audit_log WHERE seq > (SELECT MAX(seq) - 3 FROM audit_log)",
                 "deleted from its end", id="tail-truncated"),
]


def tamper(data_dir: Path, sql: str) -> None:
    """Do it as the log insider would: straight into the SQLite file, nothing else touched."""
    SQLiteStore(data_dir / "lab.sqlite3").execute(sql)
