"""The state store contract: SQL tables plus atomic consumption of single-use things.

Single-use values (codes, request_uris, jti, refresh tokens) are consumed by one
conditional UPDATE/INSERT whose row count decides, so they stay single-use when
several workers share the store; with Redis (lab.store.redis_once), one SET NX
decides first, so they stay single-use across hosts too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

Params = Sequence[Any] | dict[str, Any]


@dataclass(frozen=True)
class Once:
    """A single-use value as a store shared between hosts names it.

    `key` is a digest of the value (never the value itself), `ttl` how long, in seconds,
    a use must be remembered: at least as long as the value could still be accepted.
    """

    kind: str
    key: str
    ttl: float


def once_key(*parts: str) -> str:
    """A digest naming a single-use value (or a pair such as client and jti) in a shared store."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


class Store(Protocol):
    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the affected row count."""

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT; return the new rowid."""

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]: ...

    def query_one(self, sql: str, params: Params = ()) -> dict[str, Any] | None: ...

    def consume(self, sql: str, params: Params = (), once: Once | None = None) -> bool:
        """Run a conditional UPDATE/INSERT; True only for the one caller whose row count is 1.

        `once` names the value being used up, for a store that decides single use elsewhere
        (Redis, shared by several hosts) before running the statement.
        """

    def transaction(self) -> AbstractContextManager[None]: ...

    def in_transaction(self) -> bool:
        """Inside a transaction not yet committed (what is written now may still roll back)."""

    @property
    def data_dir(self) -> Path:
        """The directory the store lives in: what must stay outside it (the audit trail's
        signed checkpoints and key) is kept there, beside it."""

    def ensure_schema(self, ddl: str) -> None: ...

    def get_setting(self, key: str, default: Any = None) -> Any: ...

    def set_setting(self, key: str, value: Any) -> None: ...

    def iter_rows(self, sql: str, params: Params = ()) -> Iterator[dict[str, Any]]: ...

    def close(self) -> None:
        """Close this thread's connection (the store opens a new one if used again)."""
