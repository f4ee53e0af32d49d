"""Idempotency keys for POST /payments (the IETF `Idempotency-Key` header field).

`Idempotency-Key` rather than UK Open Banking's `x-idempotency-key`: the IETF HTTPAPI
draft names it without the deprecated X- prefix (RFC 6648) and says what to answer — the
same key with another body is 422, a key whose first request is still running is 409 —
and the lab's API is not UK OB's. Keys are scoped per client. The first request claims the
key with one conditional INSERT into the shared SQL store (no Redis SET NX: a refused
first request releases its key, and a SET NX cannot be taken back); its result is kept
and returned again for the same key and body.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from lab import clock
from lab.store.base import Store

HEADER = "Idempotency-Key"
KEY = re.compile(r"[\x21-\x7e]{1,64}")   # printable ASCII, e.g. a UUID
TTL = 86400.0                              # a key is remembered for a day

SCHEMA = """
CREATE TABLE IF NOT EXISTS payment_idempotency (
    client_id TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    result TEXT,                          -- JSON of the first answer, once there is one
    created_at REAL NOT NULL,
    PRIMARY KEY (client_id, key_hash)
);
"""


@dataclass(frozen=True)
class Claim:
    """What a request with a key may do: go on (first), get the first answer (replay),
    or be refused (conflict: another body; running: the first is not finished)."""

    state: str            # "first" | "replay" | "conflict" | "running"
    result: dict[str, Any] | None = None


def ensure_schema(store: Store) -> None:
    store.ensure_schema(SCHEMA)


def valid_key(value: str) -> bool:
    return bool(KEY.fullmatch(value))


def body_hash(body: dict[str, Any]) -> str:
    """The same JSON body whatever its spacing or key order."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def claim(store: Store, client_id: str, key: str, digest: str) -> Claim:
    now = clock.now(store)
    hashed = _key_hash(key)
    store.execute("DELETE FROM payment_idempotency WHERE created_at < ?", (now - TTL,))
    if store.consume("INSERT INTO payment_idempotency(client_id, key_hash, body_hash, "
                     "created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                     (client_id, hashed, digest, now)):
        return Claim("first")
    row = store.query_one("SELECT body_hash, result FROM payment_idempotency "
                          "WHERE client_id = ? AND key_hash = ?", (client_id, hashed))
    if row is None:
        return Claim("running")   # released by a refused first request a moment ago
    if row["body_hash"] != digest:
        return Claim("conflict")
    if row["result"] is None:
        return Claim("running")
    return Claim("replay", json.loads(row["result"]))


def finish(store: Store, client_id: str, key: str, result: dict[str, Any]) -> None:
    store.execute("UPDATE payment_idempotency SET result = ? WHERE client_id = ? AND "
                  "key_hash = ?", (json.dumps(result), client_id, _key_hash(key)))


def release(store: Store, client_id: str, key: str) -> None:
    """The first request was refused: the key may be used again (nothing was booked)."""
    store.execute("DELETE FROM payment_idempotency WHERE client_id = ? AND key_hash = ? "
                  "AND result IS NULL", (client_id, _key_hash(key)))
