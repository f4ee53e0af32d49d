"""The `captures` table: one row per exchange the capture proxy saw, bodies bounded.

`client_addr` is the peer address mitmproxy saw: the attacker's clients bind 127.0.0.2
(attacker/net.py), so a row says who sent it, not only where it went.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from lab.store import columns
from lab.store.base import Store

MAX_BODY = 64 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS captures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    label TEXT NOT NULL,
    leg TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    request_headers TEXT NOT NULL,
    request_body TEXT,
    status INTEGER,
    response_headers TEXT,
    response_body TEXT,
    request_id TEXT,
    client_addr TEXT
);
CREATE INDEX IF NOT EXISTS captures_leg ON captures(leg);
CREATE INDEX IF NOT EXISTS captures_request ON captures(request_id);
"""

SUMMARY_COLUMNS = "id, ts, label, leg, method, url, status, request_id, client_addr"

# Columns added after the table first shipped: (name, type), added to older data directories.
MIGRATIONS = (("client_addr", "TEXT"),)


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)
    columns.add_missing(store, "captures", MIGRATIONS)


def bounded_text(body: bytes | None, limit: int = MAX_BODY) -> str | None:
    """A body as text (undecodable bytes replaced), cut at `limit` bytes with a marker."""
    if body is None:
        return None
    cut = body[:limit].decode("utf-8", errors="replace")
    return cut + f"\n…[{len(body) - limit} more bytes not kept]" if len(body) > limit else cut


@dataclass
class Exchange:
    label: str
    leg: str
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes | None
    status: int | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: bytes | None = None
    request_id: str | None = None
    client_addr: str | None = None
    ts: float = field(default_factory=time.time)


def record(store: Store, exchange: Exchange) -> int:
    return store.insert(
        "INSERT INTO captures(ts, label, leg, method, url, request_headers, request_body, status,"
        " response_headers, response_body, request_id, client_addr)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (exchange.ts, exchange.label, exchange.leg, exchange.method, exchange.url,
         json.dumps(exchange.request_headers), bounded_text(exchange.request_body),
         exchange.status, json.dumps(exchange.response_headers),
         bounded_text(exchange.response_body), exchange.request_id, exchange.client_addr))


def list_captures(store: Store, *, leg: str | None = None, since_id: int = 0,
                  limit: int = 200) -> list[dict[str, Any]]:
    """Summaries (no headers or bodies), oldest first, after `since_id`."""
    sql = f"SELECT {SUMMARY_COLUMNS} FROM captures WHERE id > ?"
    params: list[Any] = [since_id]
    if leg:
        sql += " AND leg = ?"
        params.append(leg)
    sql += " ORDER BY id LIMIT ?"
    params.append(limit)
    return store.query(sql, tuple(params))


def newest_id(store: Store) -> int:
    """The id of the newest capture (0 when there is none)."""
    row = store.query_one("SELECT MAX(id) AS newest FROM captures")
    return int(row["newest"] or 0) if row else 0


def get_capture(store: Store, capture_id: int) -> dict[str, Any] | None:
    row = store.query_one("SELECT * FROM captures WHERE id = ?", (capture_id,))
    if row is None:
        return None
    for key in ("request_headers", "response_headers"):
        row[key] = [list(pair) for pair in json.loads(row[key] or "[]")]
    return row
