"""Kept trails: a lab's audit trail moved out of its store into a directory of its own, so it
outlives the lab (the matrix's private labs are deleted when they stop) and an auditor can
verify it later with `fapi-lab audit verify --trail DIR`.

A kept trail is a small data directory: `lab.sqlite3` holding only the `audit_log` rows,
`audit/checkpoints.jsonl` as signed, and `keys/audit.jwks.json` with the PUBLIC half of the
audit key (what verifying needs, nothing that could sign), plus `trail.json` saying where it
comes from. Moving (not copying) starts the lab's next trail from the genesis hash, so every
kept trail is a whole chain that verifies on its own.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from lab import keys

from . import checkpoints
from .readonly import DB_NAME, ReadOnlyStore, StoreUnreadable
from .verify import Report, verify

MANIFEST = "trail.json"


def move(data_dir: Path, dest: Path, about: dict[str, Any]) -> int:
    """Move the trail of the lab in `data_dir` to the new kept trail `dest`; return how many
    records it holds.

    Under the store's write lock (BEGIN IMMEDIATE, the lock every append takes), so no
    record is half moved; the checkpoint file goes with the rows it signs."""
    dest.mkdir(parents=True, exist_ok=False)
    conn = sqlite3.connect(data_dir / DB_NAME, timeout=30, isolation_level=None)
    try:
        ddl = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' "
                           "AND name = 'audit_log'").fetchone()[0]
        conn.execute("ATTACH DATABASE ? AS kept", (str(dest / DB_NAME),))
        # a new file nobody reads until the move is over: no journal, no fsync per cell (the
        # matrix moves a trail after every run; closing the connection writes it out)
        conn.execute("PRAGMA kept.journal_mode = OFF")
        conn.execute("PRAGMA kept.synchronous = OFF")
        conn.execute("PRAGMA kept.page_size = 1024")   # a run's trail is a few KiB: small pages
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(ddl.replace("audit_log", "kept.audit_log", 1))
            conn.execute("INSERT INTO kept.audit_log SELECT * FROM main.audit_log")
            moved = int(conn.execute("SELECT COUNT(*) FROM kept.audit_log").fetchone()[0])
            conn.execute("DELETE FROM main.audit_log")
            _move_checkpoints(data_dir, dest)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("DETACH DATABASE kept")
    finally:
        conn.close()
    (dest / MANIFEST).write_text(json.dumps({**about, "records": moved}, indent=1))
    return moved


def _move_checkpoints(data_dir: Path, dest: Path) -> None:
    source = checkpoints.path(data_dir)
    if source.exists():
        checkpoints.path(dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, checkpoints.path(dest))
        source.unlink()
    key = checkpoints.key_path(data_dir)
    if key.exists():
        public = [{f: v for f, v in k.items() if f in keys.PUBLIC_FIELDS}
                  for k in json.loads(key.read_text())["keys"]]
        checkpoints.key_path(dest).parent.mkdir(parents=True, exist_ok=True)
        checkpoints.key_path(dest).write_text(json.dumps({"keys": public}, indent=1))


def is_kept(path: Path) -> bool:
    return (path / MANIFEST).is_file()


def find(root: Path) -> list[Path]:
    """Every kept trail at or under `root`, in path order."""
    if is_kept(root):
        return [root]
    return sorted(p.parent for p in root.rglob(MANIFEST))


def about(path: Path) -> dict[str, Any]:
    """What the manifest says ({} when it is unreadable: the trail is still verified)."""
    try:
        found = json.loads((path / MANIFEST).read_text())
        return found if isinstance(found, dict) else {}
    except (OSError, ValueError):
        return {}


def check(path: Path) -> Report:
    """Verify one kept trail, whatever the switch was (its chained records carry hashes)."""
    try:
        reader = ReadOnlyStore(path)
    except StoreUnreadable as error:
        return Report(ok=False, problem=str(error))
    try:
        return verify(reader, path)
    except sqlite3.DatabaseError as error:
        return Report(ok=False, problem=f"{path / DB_NAME} cannot be read: {error}")
    finally:
        reader.close()


def clear(root: Path) -> None:
    """Remove the kept trails under `root` left by an earlier run (only directories with a
    manifest, and the folders they leave empty): a rerun into the same --out starts clean."""
    if not root.is_dir():
        return
    for path in find(root):
        shutil.rmtree(path)
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
