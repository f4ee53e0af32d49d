"""The audit trail: one append-only `audit_log` row per security-relevant event.

While `audit_chain` is on, each row is a link of a hash chain: `prev` is the hash of the
chained row before it (64 zeros for the first), `hash` is SHA-256 over the row's RFC 8785
canonical JSON (`canonical()`), and a signed checkpoint of the new head goes to a file
outside the store (lab.audit.checkpoints). While it is off the rows are still written, with
`prev` and `hash` left empty: the trail exists, but nothing can tell when it was changed.

Appends are serialised by the store's write lock (BEGIN IMMEDIATE on SQLite), so processes
sharing one store build one chain. A lab with `--store redis://` keeps its trail in the same
SQLite file (Redis only decides single use), so the same lock orders it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import rfc8785

from lab import clock, context
from lab.store.base import Store

if TYPE_CHECKING:
    from lab.controls.guard import Guard

Kind = Literal["authentication", "consent", "token_issued", "refresh", "revocation",
               "payment", "control_change", "control_fired"]
GENESIS = "0" * 64
VERSION = 1
COLUMNS = "seq, ts, kind, component, request_id, data, prev, hash"
# The chain's head (the newest chained record's hash) and the newest seq, chained or not.
_HEAD = ("SELECT (SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1) AS seq, "
         "(SELECT hash FROM audit_log WHERE hash IS NOT NULL ORDER BY seq DESC LIMIT 1) AS hash")


@dataclass(frozen=True)
class Record:
    """One row of the trail, as stored (prev/hash None: written while audit_chain was off)."""

    seq: int
    ts: float
    kind: str
    component: str | None
    request_id: str | None
    data: Any
    prev: str | None
    hash: str | None
    unreadable: str = ""     # why the stored row could not be read as a record, if it could not

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts, "kind": self.kind, "component": self.component,
                "request_id": self.request_id, "data": self.data, "prev": self.prev,
                "hash": self.hash}


def canonical(seq: int, ts: float, kind: str, component: str | None, request_id: str | None,
              data: Any, prev: str) -> bytes:
    """What a record's hash covers, as RFC 8785 (JCS) bytes: one byte string per content,
    whatever order or spacing the JSON had when it was stored or exported."""
    return rfc8785.dumps({"v": VERSION, "seq": seq, "ts": ts, "kind": kind,
                          "component": component, "request_id": request_id, "data": data,
                          "prev": prev})


def record_hash(seq: int, ts: float, kind: str, component: str | None,
                request_id: str | None, data: Any, prev: str) -> str:
    return hashlib.sha256(canonical(seq, ts, kind, component, request_id, data,
                                    prev)).hexdigest()


_AFTER_DATA = b',"kind":'
_INT_RANGE = 2**53 - 1   # RFC 8785 §3.2.2.3: I-JSON's integers (RFC 7493 §2.2)


def _in_range(literal: str) -> int:
    value = int(literal)
    if not -_INT_RANGE <= value <= _INT_RANGE:
        raise rfc8785.IntegerDomainError(value)
    return value


def canonical_data(data: Any) -> bytes:
    """A record's data as RFC 8785 bytes, refused (as before) when the verifier could not
    canonicalise it again once read back. Parsing canonical bytes and canonicalising again
    gives the same bytes, except for a float with an integral value beyond 2**53: written as
    an integer literal, it reads back as an integer outside I-JSON's range. The parse (C
    speed) checks exactly that, instead of a second pure-Python canonicalisation."""
    raw = rfc8785.dumps(data)
    json.loads(raw, parse_int=_in_range)
    return raw


def _spliced_hash(seq: int, ts: float, kind: str, component: str | None,
                  request_id: str | None, data_text: bytes, prev: str) -> str:
    """record_hash() from the data's canonical bytes the writer already has, without
    canonicalising the data a second time (the record's bytes are the same: RFC 8785 §3.2.3
    writes each member as its own canonical value, in key order, and "data" sorts between
    "component" and "kind"; a test holds the two equal). The envelope's `,"kind":` is the
    first one: inside a canonical string every quote is escaped."""
    envelope = rfc8785.dumps({"v": VERSION, "seq": seq, "ts": ts, "kind": kind,
                              "component": component, "request_id": request_id,
                              "prev": prev})
    cut = envelope.index(_AFTER_DATA)
    return hashlib.sha256(b"".join((envelope[:cut], b',"data":', data_text,
                                    envelope[cut:]))).hexdigest()


_guard: Guard | None = None


def _chain() -> Guard:
    # Imported on first use: guard → events → this module → guard would be a cycle.
    global _guard
    if _guard is None:
        from lab.controls.guard import guard

        _guard = guard("audit_chain")
    return _guard


def _chained(store: Store) -> tuple[bool, int]:
    """(chain on?, checkpoint_every), read through the control's guard."""
    ctx = context.current_or_none()
    if ctx is not None and ctx.store is store:
        return _chain().records(), int(_chain().param("checkpoint_every", 1) or 1)
    with context.bound(store, "audit"):
        return _chain().records(), int(_chain().param("checkpoint_every", 1) or 1)


def append(store: Store, kind: Kind, data: dict[str, Any]) -> int:
    """Write one record of `kind`; the request's component and id come from the context.

    Chained: the previous head is read and the new row written in one write transaction;
    the checkpoint is signed once that transaction commits (inside a caller's transaction,
    which may still roll back, it is left to the next append outside one)."""
    ctx = context.current_or_none()
    component = ctx.component if ctx and ctx.store is store else None
    request_id = ctx.request_id if ctx and ctx.store is store else None
    ts = clock.now(store)
    # Canonicalised once: stored as is, and hashed as is. What a reader gets back is the
    # parse of these bytes, whose canonical form is these bytes again (tests hold it).
    raw = canonical_data(data)
    text = raw.decode()
    chained, every = _chained(store)
    if not chained:
        return store.insert(
            "INSERT INTO audit_log(ts, kind, component, request_id, data) VALUES (?, ?, ?, ?, ?)",
            (ts, kind, component, request_id, text))
    outer = store.in_transaction()
    with store.transaction():
        # The head and the last seq in one statement, inside the write transaction: no other
        # process can append between this read and the INSERT.
        head = store.query_one(_HEAD)
        prev = head["hash"] if head and head["hash"] else GENESIS
        seq = (int(head["seq"]) if head and head["seq"] is not None else 0) + 1
        digest = _spliced_hash(seq, ts, kind, component, request_id, raw, prev)
        store.insert("INSERT INTO audit_log(seq, ts, kind, component, request_id, data, prev, "
                     "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (seq, ts, kind, component, request_id, text, prev, digest))
    if not outer and seq % max(every, 1) == 0:
        from . import checkpoints  # signing (joserfc, cryptography) only when the chain is on

        checkpoints.write(store.data_dir, seq, digest, ts)
    return seq


def _decode(row: dict[str, Any]) -> Record:
    """A row as stored; one that is not a record says why in `unreadable` (verify reports it)."""
    why = ""
    try:
        data: Any = json.loads(row["data"])
    except (TypeError, ValueError):
        data, why = row["data"], "its data is not JSON"
    if not isinstance(row["ts"], int | float) or isinstance(row["ts"], bool):
        why = why or "its time is not a number"
    for name in ("kind", "component", "request_id", "prev", "hash"):
        if row[name] is not None and not isinstance(row[name], str):
            why = why or f"its {name} is not text"
    return Record(int(row["seq"]), row["ts"], row["kind"], row["component"], row["request_id"],
                  data, row["prev"], row["hash"], why)


def records(reader: Any, *, since: int = 0, limit: int | None = None) -> Iterator[Record]:
    """Every record in chain order (by seq), streamed: the trail can outgrow memory."""
    sql = f"SELECT {COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq"
    params: tuple[Any, ...] = (since,)
    if limit is not None:
        sql += " LIMIT ?"
        params = (since, limit)
    for row in reader.iter_rows(sql, params):
        yield _decode(row)


def count(reader: Any) -> int:
    row = reader.query_one("SELECT COUNT(*) AS n FROM audit_log")
    return int(row["n"]) if row else 0


def recent(reader: Any, limit: int = 200) -> list[Record]:
    """The newest `limit` records, oldest first (the dashboard's view)."""
    rows = reader.query(f"SELECT {COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT ?", (limit,))
    return [_decode(r) for r in reversed(rows)]
