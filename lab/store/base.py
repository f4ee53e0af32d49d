"""The state store contract: SQL tables plus atomic consumption of single-use things.

Single-use values (codes, request_uris, jti, refresh tokens) are consumed by one
conditional UPDATE/DELETE whose row count decides, so they stay single-use when
several workers share the store.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

Params = Sequence[Any] | dict[str, Any]


class Store(Protocol):
    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the affected row count."""

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT; return the new rowid."""

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]: ...

    def query_one(self, sql: str, params: Params = ()) -> dict[str, Any] | None: ...

    def consume(self, sql: str, params: Params = ()) -> bool:
        """Run a conditional UPDATE/DELETE; True only for the one caller whose row count is 1."""

    def transaction(self) -> AbstractContextManager[None]: ...

    def ensure_schema(self, ddl: str) -> None: ...

    def get_setting(self, key: str, default: Any = None) -> Any: ...

    def set_setting(self, key: str, value: Any) -> None: ...

    def iter_rows(self, sql: str, params: Params = ()) -> Iterator[dict[str, Any]]: ...

    def close(self) -> None:
        """Close this thread's connection (the store opens a new one if used again)."""
