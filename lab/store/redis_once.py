"""Single use decided in Redis: the lab's SQLite store, with one SET NX before each consumption.

For labs served by several hosts (`fapi-lab up --store redis://...`): whichever process
on whichever host sets the key first owns the code, request_uri, jti or refresh token;
everyone else is told it was used. The rest of the state stays in the SQLite store this
wraps. Keys carry a digest of the value, never the value, and expire once the value could
no longer be accepted anyway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis

from .base import Once, Params, Store

SCHEMES = ("redis", "rediss", "unix")


class StoreUrlError(ValueError):
    """A --store URL that names no Redis server."""


def redacted(url: str) -> str:
    """The URL without its credentials, for messages and status."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}{parts.path}"


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise StoreUrlError(f"--store takes redis://host:port[/db], not {redacted(url)!r}")
    if parts.scheme != "unix" and not parts.hostname:
        raise StoreUrlError("--store names no Redis host")
    return url


class RedisOnceStore:
    """A Store: everything from `inner`, single-use decisions from Redis."""

    def __init__(self, inner: Store, client: redis.Redis, namespace: str) -> None:
        self.inner, self.redis, self.namespace = inner, client, namespace

    def _key(self, once: Once) -> str:
        return f"fapi-lab:{self.namespace}:{once.kind}:{once.key}"

    def claim(self, once: Once) -> bool:
        """One SET NX with an expiry: True for exactly one caller across every host."""
        ttl_ms = max(int(once.ttl * 1000), 1000)
        return bool(self.redis.set(self._key(once), b"1", nx=True, px=ttl_ms))

    def consume(self, sql: str, params: Params = (), once: Once | None = None) -> bool:
        if once is not None and not self.claim(once):
            return False
        return self.inner.consume(sql, params)

    def execute(self, sql: str, params: Params = ()) -> int:
        return self.inner.execute(sql, params)

    def insert(self, sql: str, params: Params = ()) -> int:
        return self.inner.insert(sql, params)

    def query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return self.inner.query(sql, params)

    def query_one(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        return self.inner.query_one(sql, params)

    def iter_rows(self, sql: str, params: Params = ()) -> Iterator[dict[str, Any]]:
        return self.inner.iter_rows(sql, params)

    def transaction(self) -> AbstractContextManager[None]:
        return self.inner.transaction()

    def in_transaction(self) -> bool:
        return self.inner.in_transaction()

    @property
    def data_dir(self) -> Path:
        return self.inner.data_dir

    def ensure_schema(self, ddl: str) -> None:
        self.inner.ensure_schema(ddl)

    def get_setting(self, key: str, default: Any = None) -> Any:
        return self.inner.get_setting(key, default)

    def set_setting(self, key: str, value: Any) -> None:
        self.inner.set_setting(key, value)

    def close(self) -> None:
        self.inner.close()


def with_redis(inner: Store, url: str, namespace: str) -> RedisOnceStore:
    """Wrap `inner`; fails now, with the server's answer, if Redis cannot be reached."""
    client = redis.Redis.from_url(check_url(url), socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        raise StoreUrlError(f"cannot reach Redis at {redacted(url)}: {error}") from None
    digest = hashlib.sha256(namespace.encode()).hexdigest()[:12]
    return RedisOnceStore(inner, client, digest)
