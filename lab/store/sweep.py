"""Sweep expired rows of a single-use table now and then, not before every use.

The single-use statements ignore expired rows (they take them over), so those rows only
take space: one DELETE every few seconds of lab time keeps the table small, and a use
costs one write instead of two.
"""

from __future__ import annotations

from .base import Store


class PeriodicSweep:
    """`run(store, now, cutoff)` deletes rows expired before `cutoff`, at most every `every`
    seconds per store in this process (a clock set back sweeps at once)."""

    def __init__(self, delete_sql: str, every: float = 10.0) -> None:
        self.delete_sql, self.every = delete_sql, every
        self._last: dict[int, float] = {}

    def run(self, store: Store, now: float, cutoff: float) -> None:
        last = self._last.get(id(store))
        if last is not None and 0 <= now - last < self.every:
            return
        self._last[id(store)] = now
        store.execute(self.delete_sql, (cutoff,))
